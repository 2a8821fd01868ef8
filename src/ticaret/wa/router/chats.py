"""`/wa/chats`: the chat list, one chat, and marking a chat read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from ticaret.core.auth import account_from
from ticaret.core.db import DbSession, ReadSession
from ticaret.core.deps import Agent, Paging
from ticaret.core.envelope import Envelope, Page, ok, ok_json
from ticaret.core.fastlane import fast_get, plain_page
from ticaret.core.openapi import error_responses
from ticaret.crm.router.deps import CrmFilters
from ticaret.models import ChatType
from ticaret.wa.router.deps import (
    LabelIdQuery,
    LabelIdsQuery,
    LabelModeQuery,
    ListReader,
    ProviderSessionQuery,
    Reader,
    RemoteJid,
)
from ticaret.wa.schemas import ChatOut, LabelFilter, MarkRead, ReadResult
from ticaret.wa.service import chats as service
from ticaret.wa.service.access import resolve_wa

router = APIRouter(prefix="/wa", tags=["WhatsApp"])


@router.get(
    "/chats",
    summary="List chats, latest activity first",
    description="Sohbetleri listeler. The CRM filters (assignment, customer, contact, "
    "identity status) combine with `q`, `type`, `unread` and the label filters.",
    response_model=Envelope[Page[ChatOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_chats(
    wa_ctx: ListReader,
    session: ReadSession,
    page: Paging,
    crm: CrmFilters,
    q: Annotated[str | None, Query(max_length=200, description="Name or JID contains")] = None,
    unread: Annotated[bool, Query(description="Only chats with unread messages")] = False,
    chat_type: Annotated[ChatType | None, Query(alias="type")] = None,
    archived: Annotated[bool | None, Query()] = None,
    label_id: LabelIdQuery = None,
    label_ids: LabelIdsQuery = None,
    label_mode: LabelModeQuery = "any",
) -> Response:
    labels = LabelFilter.build(label_id, label_ids, label_mode)
    return ok_json(
        await service.list_chats(
            session,
            wa_ctx,
            page,
            q=q,
            unread_only=unread,
            chat_type=chat_type,
            labels=labels,
            archived=archived,
            crm=crm,
        )
    )


@fast_get("/wa/chats")
async def list_chats_fast(request: Request, _: dict[str, str]) -> Response | None:
    """`list_chats` for the common request (a page, no filter; see core.fastlane)."""
    page = plain_page(request, "providerSessionId")
    psid = request.query_params.get("providerSessionId")
    if page is None or (psid is not None and len(psid) > 100):
        return None
    data = await service.list_chats_fast(await account_from(request), psid, page)
    return None if data is None else ok_json(data)


@router.get(
    "/chats/{remoteJid}",
    summary="Chat detail",
    response_model=Envelope[ChatOut],
    responses=error_responses(400, 401, 403, 404),
)
async def get_chat(remote_jid: RemoteJid, wa_ctx: Reader, session: DbSession) -> Envelope[ChatOut]:
    return ok(await service.get_chat(session, wa_ctx, remote_jid))


@router.post(
    "/chats/{remoteJid}/read",
    summary="Mark a chat's messages read (all unread, or the given messageIds)",
    response_model=Envelope[ReadResult],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def mark_read(
    remote_jid: RemoteJid,
    ctx: Agent,
    session: DbSession,
    body: Annotated[MarkRead | None, Body()] = None,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[ReadResult]:
    body = body or MarkRead()
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    return ok(await service.mark_read(session, wa_ctx, remote_jid, body))
