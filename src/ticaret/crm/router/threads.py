"""The CRM's routes on a Page or Instagram DM thread: its customer link, under
`/meta/assets/{assetId}/threads/{threadId}` and `/instagram/accounts/{igAccountId}/threads/
{threadId}` (the same definition for both, in the platform's words)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Path, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Viewer
from ticaret.core.envelope import Envelope, ok
from ticaret.core.openapi import error_responses
from ticaret.crm.schemas.identities import (
    CustomerFromThread,
    CustomerFromThreadOut,
    ThreadLinkOut,
    ThreadLinkSet,
)
from ticaret.crm.service import threads as service
from ticaret.social.router.flavor import FACEBOOK, INSTAGRAM, Flavor

router = APIRouter(tags=["CRM threads"])


def _add_routes(f: Flavor) -> None:
    path = f"{f.prefix}{f.asset_path}/threads/{{threadId}}/customer-link"
    asset_id_param = Path(alias=f.asset_param, description=f"The {f.asset_word}'s id (ours).")
    thread_id_param = Path(alias="threadId")
    what = "Meta" if f.platform == "facebook" else "Instagram"
    person = "PSID" if f.platform == "facebook" else "IGSID"

    async def get_link(
        ctx: Viewer,
        session: DbSession,
        asset_id: uuid.UUID = asset_id_param,
        thread_id: uuid.UUID = thread_id_param,
    ) -> Envelope[ThreadLinkOut]:
        return ok(await service.get_customer_link(session, ctx, f.platform, asset_id, thread_id))

    router.add_api_route(
        path,
        get_link,
        methods=["GET"],
        summary="The customer a thread belongs to in this account",
        description=f"{what} thread customer link bilgisini getirir: by the person's {person} "
        f"mapping, else by the {f.asset_word}'s inbox link.",
        response_model=Envelope[ThreadLinkOut],
        responses=error_responses(401, 403, 404, 422),
        name=f"{f.platform}_get_thread_customer_link",
    )

    async def set_link(
        body: ThreadLinkSet,
        ctx: Agent,
        session: DbSession,
        asset_id: uuid.UUID = asset_id_param,
        thread_id: uuid.UUID = thread_id_param,
    ) -> Envelope[ThreadLinkOut]:
        return ok(
            await service.set_customer_link(session, ctx, f.platform, asset_id, thread_id, body)
        )

    router.add_api_route(
        path,
        set_link,
        methods=["PUT"],
        summary="Link the thread's person to an existing customer (or contact)",
        description=f"{what} thread mevcut customer/contact ile eslestirilir. The {person} is "
        f"mapped within its {f.asset_word} (`crm.identity.linked`); a mapping of another "
        "customer moves, with its audit entries.",
        response_model=Envelope[ThreadLinkOut],
        responses=error_responses(401, 403, 404, 409, 422),
        name=f"{f.platform}_set_thread_customer_link",
    )

    async def clear_link(
        ctx: Agent,
        session: DbSession,
        asset_id: uuid.UUID = asset_id_param,
        thread_id: uuid.UUID = thread_id_param,
    ) -> Envelope[ThreadLinkOut]:
        return ok(await service.clear_customer_link(session, ctx, f.platform, asset_id, thread_id))

    router.add_api_route(
        path,
        clear_link,
        methods=["DELETE"],
        summary="Unlink the thread's person",
        description=f"{what} thread customer link kaldirilir. A {f.asset_word} bound to a "
        "customer keeps the thread that customer's: clear its inbox link for that.",
        response_model=Envelope[ThreadLinkOut],
        responses=error_responses(401, 403, 404, 422),
        name=f"{f.platform}_clear_thread_customer_link",
    )

    async def create_customer(
        body: CustomerFromThread,
        ctx: Agent,
        session: DbSession,
        asset_id: uuid.UUID = asset_id_param,
        thread_id: uuid.UUID = thread_id_param,
    ) -> Envelope[CustomerFromThreadOut]:
        return ok(
            await service.create_customer_from_thread(
                session, ctx, f.platform, asset_id, thread_id, body
            )
        )

    router.add_api_route(
        path,
        create_customer,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        summary="Create a customer (and contact) from the thread's person and link it",
        description=f"{what} thread uzerinden customer/contact olusturup eslestirir. Named "
        "after the person (as a sync learnt them); 409 `chat_already_linked` when the person "
        "is mapped already.",
        response_model=Envelope[CustomerFromThreadOut],
        responses=error_responses(401, 403, 404, 409, 422),
        name=f"{f.platform}_create_customer_from_thread",
    )


for _flavor in (FACEBOOK, INSTAGRAM):
    _add_routes(_flavor)
