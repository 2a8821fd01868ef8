"""Chats of a session: the list, one chat, and marking a chat read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.db import reading
from ticaret.core.envelope import PageParams, build_page, page_json
from ticaret.crm.schemas.filters import CrmListFilter
from ticaret.crm.service import overlay
from ticaret.models import ChatType, MessageAction, WaChat
from ticaret.wa.errors import ChatNotFound, MessageNotFound
from ticaret.wa.events import CHAT_UPDATED
from ticaret.wa.gateways._jid import canonical_jid, is_lid
from ticaret.wa.repository import chats as repository
from ticaret.wa.repository import labels as label_repository
from ticaret.wa.repository import messages as message_repository
from ticaret.wa.schemas import ChatOut, LabelFilter, MarkRead, ReadResult
from ticaret.wa.service import access, actions
from ticaret.wa.service.access import WaContext, emit_to_session
from ticaret.wa.service.views import chat_data, chat_json, chat_json_raw, chat_out, operation_out
from ticaret.wa.tasks import queue_operation

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def chat_row(session: AsyncSession, wa_ctx: WaContext, remote_jid: str) -> WaChat:
    """The chat by its JID, or by its `@lid` alternative."""
    chat = await repository.chat(session, wa_ctx.wa.id, canonical_jid(remote_jid))
    if chat is None:
        raise ChatNotFound()
    return chat


async def chat_jid(session: AsyncSession, wa_ctx: WaContext, remote_jid: str) -> str:
    """The JID the chat is filed under (a known `@lid` names its phone chat)."""
    jid = canonical_jid(remote_jid)
    if is_lid(jid):
        chat = await repository.chat(session, wa_ctx.wa.id, jid)
        if chat is not None:
            return chat.remote_jid
    return jid


async def _out(session: AsyncSession, wa_ctx: WaContext, chat: WaChat) -> ChatOut:
    labels = await label_repository.labels_of_chats(session, wa_ctx.account_id, [chat.id])
    crm = await overlay.for_chats(session, wa_ctx.account_id, [chat])
    return chat_out(chat, wa_ctx.wa.provider_session_id, labels.get(chat.id, []), crm[chat.id])


async def get_chat(session: AsyncSession, wa_ctx: WaContext, remote_jid: str) -> ChatOut:
    return await _out(session, wa_ctx, await chat_row(session, wa_ctx, remote_jid))


async def list_chats(
    session: AsyncSession,
    wa_ctx: WaContext,
    page: PageParams,
    *,
    q: str | None,
    unread_only: bool,
    chat_type: ChatType | None,
    labels: LabelFilter | None,
    archived: bool | None,
    crm: CrmListFilter | None = None,
) -> dict[str, Any]:
    """The chat page as `Page[ChatOut]` JSON (rows encoded straight, see views)."""
    rows = await repository.chats_page(
        session,
        wa_ctx.wa.id,
        wa_ctx.account_id,
        after=page.after_time_and_id(),
        limit=page.limit,
        q=q,
        unread_only=unread_only,
        chat_type=chat_type,
        labels=labels,
        archived=archived,
        conditions=await overlay.chat_conditions(session, wa_ctx.ctx, crm),
    )
    kept, cursor, more = build_page(rows, page.limit, lambda c: [c.last_message_at or EPOCH, c.id])
    by_chat = await label_repository.labels_of_chats(
        session, wa_ctx.account_id, [c.id for c in kept]
    )
    extras = await overlay.for_chats(session, wa_ctx.account_id, kept)
    psid = wa_ctx.wa.provider_session_id
    return page_json(
        [chat_json(c, psid, by_chat.get(c.id, []), extras[c.id]) for c in kept], cursor, more
    )


async def list_chats_fast(
    ctx: AccountContext, provider_session_id: str | None, page: PageParams
) -> dict[str, Any] | None:
    """`list_chats` without filters, read outside a transaction by one statement compiled once
    (the page with its labels and CRM overlay columns), rows to JSON directly. None when a
    chat may show a customer link: `list_chats` builds that."""
    after = page.after_time_and_id()
    async with reading() as conn:
        if provider_session_id is None:
            wa = await access.visible_session_raw(conn, ctx, None)
            provider_session_id = wa["provider_session_id"]
        fetched = await repository.chats_page_raw(
            conn, ctx.account_id, provider_session_id, after, page.limit
        )
        if not fetched:
            # No chats, or no such session for this account (404): ask which.
            await access.visible_session_raw(conn, ctx, provider_session_id)
        kept, cursor, more = build_page(
            fetched, page.limit, lambda c: [c["last_message_at"] or EPOCH, c["id"]]
        )
        assignments = await overlay.chat_page_json_raw(conn, ctx.account_id, kept)
    if assignments is None:
        return None
    return page_json(
        [
            chat_json_raw(c, provider_session_id, c["labels"] or (), assignments.get(c["id"]))
            for c in kept
        ],
        cursor,
        more,
    )


async def mark_read(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, body: MarkRead
) -> ReadResult:
    """Unread goes to zero here; the gateway is told by a `read` operation."""
    chat = await chat_row(session, wa_ctx, remote_jid)
    remote_jid = chat.remote_jid
    messages = await message_repository.inbound_to_mark_read(
        session,
        wa_ctx.wa.id,
        remote_jid,
        message_ids=body.message_ids,
        # The newest unread ones; marking the latest marks the chat read on WhatsApp.
        newest=max(chat.unread_count, 1),
    )
    if body.message_ids and len(messages) != len(set(body.message_ids)):
        raise MessageNotFound("Some of messageIds are not in this chat.")
    chat.unread_count = 0
    operation = None
    if messages:
        unit = actions.unit_for(MessageAction.read)
        meta = actions.RequestMeta(None, None)
        build = actions.Builder(session, wa_ctx, remote_jid, {"remoteJid": remote_jid}, meta)
        _, operation = await actions.store(session, unit, build, messages)
        queue_operation(session, operation.id)
    await session.flush()
    psid = wa_ctx.wa.provider_session_id
    await emit_to_session(
        session, wa_ctx.wa, CHAT_UPDATED, chat_data(chat, psid), actor=wa_ctx.ctx.actor
    )
    return ReadResult(
        chat=await _out(session, wa_ctx, chat),
        operation=operation_out(operation) if operation is not None else None,
    )
