"""`/wa/contacts`: people and groups the session has seen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from ticaret.core.db import DbSession
from ticaret.core.deps import Paging
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.wa.router.deps import Reader
from ticaret.wa.schemas import ContactOut
from ticaret.wa.service import contacts as service

router = APIRouter(prefix="/wa", tags=["WhatsApp"])


@router.get(
    "/contacts",
    summary="List people and groups the session has seen",
    response_model=Envelope[Page[ContactOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_contacts(
    wa_ctx: Reader,
    session: DbSession,
    page: Paging,
    q: Annotated[str | None, Query(max_length=200)] = None,
    is_group: Annotated[bool | None, Query(alias="isGroup")] = None,
) -> Envelope[Page[ContactOut]]:
    return ok(await service.list_contacts(session, wa_ctx, page, q=q, is_group=is_group))


@router.get(
    "/contacts/{jid}",
    summary="One person or group (by JID or LID)",
    response_model=Envelope[ContactOut],
    responses=error_responses(400, 401, 403, 404),
)
async def get_contact(
    jid: Annotated[str, Path(max_length=128)], wa_ctx: Reader, session: DbSession
) -> Envelope[ContactOut]:
    return ok(await service.get_contact(session, wa_ctx, jid))
