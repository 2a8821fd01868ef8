"""Messages of a chat: the timeline, one message, asking for an action, and media."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.db import reading
from ticaret.core.envelope import PageParams, build_page, page_json
from ticaret.crm.schemas.filters import CrmListFilter
from ticaret.crm.service import overlay
from ticaret.models import MessageType, WaMessage
from ticaret.wa.errors import (
    ChatNotFound,
    GatewayRefused,
    GatewayUnreachable,
    MediaNotFound,
    MessageNotFound,
    UnsupportedByProvider,
)
from ticaret.wa.gateways import GatewayError, GatewayNotFound, GatewayRejected, MediaStream
from ticaret.wa.gateways._jid import canonical_jid
from ticaret.wa.gateways.factory import session_gateway
from ticaret.wa.repository import chats as chats_repository
from ticaret.wa.repository import labels as label_repository
from ticaret.wa.repository import messages as repository
from ticaret.wa.schemas import ActionRequest, ActionResult, LabelFilter
from ticaret.wa.service import access, actions
from ticaret.wa.service.access import WaContext
from ticaret.wa.service.chats import chat_jid, chat_row
from ticaret.wa.service.views import message_json, message_json_raw, message_out, operation_out
from ticaret.wa.tasks import queue_operation


async def get_message(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str
) -> WaMessage:
    jid = await chat_jid(session, wa_ctx, remote_jid)
    message = await repository.message(session, wa_ctx.wa.id, jid, message_id)
    if message is None:
        raise MessageNotFound()
    return message


async def list_messages(
    session: AsyncSession,
    wa_ctx: WaContext,
    remote_jid: str,
    page: PageParams,
    *,
    q: str | None,
    message_type: MessageType | None,
    labels: LabelFilter | None,
    crm: CrmListFilter | None = None,
) -> dict[str, Any]:
    """The timeline page as `Page[MessageOut]` JSON (rows encoded straight, see views)."""
    chat = await chat_row(session, wa_ctx, remote_jid)
    rows = await repository.messages_page(
        session,
        wa_ctx.wa.id,
        wa_ctx.account_id,
        chat.remote_jid,
        after=page.after_time_and_id(),
        limit=page.limit,
        q=q,
        message_type=message_type,
        labels=labels,
        conditions=await overlay.message_conditions(session, wa_ctx.ctx, chat, crm),
    )
    kept, cursor, more = build_page(rows, page.limit, lambda m: [m.source_timestamp, m.id])
    by_message = await label_repository.labels_of_messages(
        session, wa_ctx.account_id, [m.id for m in kept]
    )
    extras = await overlay.for_messages(session, wa_ctx.account_id, chat, kept)
    psid = wa_ctx.wa.provider_session_id
    return page_json(
        [message_json(m, psid, by_message.get(m.id, []), extras[m.id]) for m in kept],
        cursor,
        more,
    )


async def list_messages_fast(
    ctx: AccountContext, provider_session_id: str | None, remote_jid: str, page: PageParams
) -> dict[str, Any] | None:
    """`list_messages` without filters, read outside a transaction by one statement compiled
    once (the session, the chat and the page with its labels and CRM overlay columns), rows to
    JSON directly. None when the page shows a customer link: `list_messages` builds that one."""
    after = page.after_time_and_id()
    # `chat_row`: by its JID, or by its `@lid` alternative.
    jid = canonical_jid(remote_jid)
    async with reading() as conn:
        if provider_session_id is None:
            wa = await access.visible_session_raw(conn, ctx, None)
            provider_session_id = wa["provider_session_id"]
        fetched = await repository.messages_page_with_overlay_raw(
            conn, ctx.account_id, provider_session_id, jid, after, page.limit
        )
        if not fetched:
            # An empty page, or no such session for this account or chat in it (404): ask which.
            wa = await access.visible_session_raw(conn, ctx, provider_session_id)
            if await chats_repository.chat_raw(conn, wa["id"], jid) is None:
                raise ChatNotFound()
        kept, cursor, more = build_page(
            fetched, page.limit, lambda m: [m["source_timestamp"], m["id"]]
        )
        assignments = await overlay.message_page_json_raw(conn, ctx.account_id, kept)
    if assignments is None:
        return None
    return page_json(
        [
            message_json_raw(m, provider_session_id, m["labels"] or (), assignments.get(m["id"]))
            for m in kept
        ],
        cursor,
        more,
    )


async def request_action(
    session: AsyncSession,
    wa_ctx: WaContext,
    remote_jid: str,
    body: ActionRequest,
    meta: actions.RequestMeta,
) -> ActionResult:
    """Store what the action will do (the pending message, its operation); a job does it."""
    remote_jid = await chat_jid(session, wa_ctx, actions.normalize_jid(remote_jid))
    unit = actions.unit_for(body.action)
    if unit.needs is not None and unit.needs not in session_gateway(wa_ctx.wa).capabilities:
        raise UnsupportedByProvider(
            f"The {wa_ctx.wa.provider} gateway cannot {unit.action.replace('_', ' ')} messages."
        )
    request = body.model_dump(mode="json", by_alias=True, exclude={"provider_session_id"})
    build = actions.Builder(session, wa_ctx, remote_jid, {**request, "remoteJid": remote_jid}, meta)
    message, operation = await actions.store(session, unit, build, body)
    queue_operation(session, operation.id)
    return ActionResult(
        message=message_out(message, wa_ctx.wa.provider_session_id) if message else None,
        operation=operation_out(operation),
    )


async def open_media(
    session: AsyncSession,
    wa_ctx: WaContext,
    remote_jid: str,
    message_id: str,
    range_header: str | None,
) -> tuple[WaMessage, MediaStream]:
    message = await get_message(session, wa_ctx, remote_jid, message_id)
    if not message.has_media or message.deleted_for_everyone:
        raise MediaNotFound()
    gateway = session_gateway(wa_ctx.wa)
    try:
        stream = await gateway.open_media(
            message.remote_jid,
            message.provider_message_id or message.message_id,
            message.media or {},
            range_header,
        )
    except GatewayNotFound:
        raise MediaNotFound("The gateway no longer has this file.") from None
    except GatewayRejected as exc:
        raise GatewayRefused(f"The gateway could not serve the file: {exc.public}") from None
    except GatewayError as exc:
        raise GatewayUnreachable(f"The gateway could not serve the file: {exc.public}") from None
    return message, stream
