"""The message action endpoint: store what we are about to do, then let a job do it.

The outgoing message is written at once (status pending, with its `origin`), next to an
operation row; `perform_wa_operation` makes the gateway call with retries and moves both
along (see `ticaret.wa.operations`).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.ids import new_id
from ticaret.models import (
    MessageAction as Action,
)
from ticaret.models import (
    MessageType,
    OperationStatus,
    WaMessage,
    WaMessageOperation,
)
from ticaret.settings import get_settings
from ticaret.wa.access import WaContext, emit_to_session
from ticaret.wa.errors import (
    FileTooLarge,
    InvalidJid,
    InvalidMedia,
    InvalidMediaData,
    MessageNotFound,
    NotOwnMessage,
    UnsupportedByProvider,
)
from ticaret.wa.events import CHAT_UPDATED
from ticaret.wa.gateways._jid import bare_number, chat_type_of
from ticaret.wa.gateways.base import Capability
from ticaret.wa.gateways.factory import session_gateway
from ticaret.wa.ingest import Ingest
from ticaret.wa.queries import chat_row, get_message
from ticaret.wa.schemas import (
    ActionRequest,
    ActionResult,
    Delete,
    Edit,
    Forward,
    MarkRead,
    React,
    ReadResult,
    Reply,
    SendMedia,
    SendText,
)
from ticaret.wa.tasks import queue_operation
from ticaret.wa.views import chat_data, chat_labels, chat_out, message_out, operation_out

_JID = re.compile(
    r"^[0-9A-Za-z._:+-]{1,100}@(s\.whatsapp\.net|c\.us|g\.us|lid|broadcast|newsletter)$"
)
_SEND_ACTIONS = {"send_text", "send_media", "reply", "forward"}


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None
    user_agent: str | None


def normalize_jid(value: str) -> str:
    """A chat JID as given, or a phone number turned into one."""
    value = value.strip()
    if "@" not in value:
        digits = bare_number(value)
        if not 6 <= len(digits) <= 15:
            raise InvalidJid()
        return f"{digits}@s.whatsapp.net"
    if not _JID.match(value):
        raise InvalidJid()
    return value


def _origin(wa_ctx: WaContext, operation_id: uuid.UUID, meta: RequestMeta) -> dict[str, Any]:
    principal = wa_ctx.ctx.principal
    api_account = principal.api_account
    return {
        "source": "api" if api_account is not None else "user",
        "actorType": wa_ctx.ctx.actor.type,
        "actorId": wa_ctx.ctx.actor.id,
        "apiAccountId": str(api_account.id) if api_account is not None else None,
        "userId": str(principal.user_id) if principal.user_id is not None else None,
        "operationId": str(operation_id),
        "ip": meta.ip,
        "userAgent": (meta.user_agent or "")[:300] or None,
    }


def _require(wa_ctx: WaContext, capability: Capability, action: str) -> None:
    if capability not in session_gateway(wa_ctx.wa).capabilities:
        raise UnsupportedByProvider(f"The {wa_ctx.wa.provider} gateway cannot {action}.")


def _media_type(media_kind: str | None, mimetype: str) -> str:
    if media_kind:
        return media_kind
    for prefix, kind in (("image/", "image"), ("video/", "video"), ("audio/", "audio")):
        if mimetype.startswith(prefix):
            return kind
    return "document"


def _decode_upload(data: str) -> bytes:
    limit = get_settings().wa.max_upload_bytes
    if len(data) > limit * 4 // 3 + 8:
        raise FileTooLarge(f"The file is larger than {limit} bytes.")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidMediaData() from exc
    if not raw:
        raise InvalidMediaData("media.data is empty.")
    return raw


class _Builder:
    """Outgoing message rows that all name the operation about to be created."""

    def __init__(self, wa_ctx: WaContext, meta: RequestMeta) -> None:
        self.wa_ctx = wa_ctx
        self.meta = meta
        self.operation_id = new_id()

    def outgoing(self, remote_jid: str, type_: str, **fields: Any) -> WaMessage:
        wa = self.wa_ctx.wa
        return WaMessage(
            id=new_id(),
            session_id=wa.id,
            remote_jid=remote_jid,
            message_id=f"local:{uuid.uuid4().hex}",
            from_me=True,
            sender_jid=wa.me_jid,
            sender_jid_resolved=wa.me_jid,
            sender_phone=wa.me_phone,
            sender_name=wa.me_name,
            chat_type=chat_type_of(remote_jid),
            type=type_,
            mentions=fields.pop("mentions", []),
            reactions={},
            receipt={},
            status=0,
            origin=_origin(self.wa_ctx, self.operation_id, self.meta),
            source_timestamp=datetime.now(UTC),
            version=1,
            **fields,
        )


async def perform(
    session: AsyncSession,
    wa_ctx: WaContext,
    remote_jid: str,
    body: ActionRequest,
    meta: RequestMeta,
) -> ActionResult:
    remote_jid = normalize_jid(remote_jid)
    build = _Builder(wa_ctx, meta)
    request: dict[str, Any] = body.model_dump(
        mode="json", by_alias=True, exclude={"provider_session_id"}
    )
    upload: bytes | None = None
    message: WaMessage | None = None
    new_message = True

    if isinstance(body, SendText):
        message = build.outgoing(remote_jid, "text", text=body.text, mentions=body.mentions)
    elif isinstance(body, Reply):
        quoted = await get_message(session, wa_ctx, remote_jid, body.quoted_message_id)
        message = build.outgoing(
            remote_jid,
            "text",
            text=body.text,
            mentions=body.mentions,
            quoted_message={
                "messageId": quoted.message_id,
                "participant": quoted.participant or quoted.sender_jid,
                "text": quoted.text,
            },
        )
    elif isinstance(body, SendMedia):
        source = body.media
        if (source.url is None) == (source.data is None):
            raise InvalidMedia()
        if source.url is not None and not source.url.startswith(("http://", "https://")):
            raise InvalidMedia("media.url must be an http(s) URL.")
        if source.data is not None:
            upload = _decode_upload(source.data)
            request["media"].pop("data", None)
            request["media"]["size"] = len(upload)
        quoted_message = None
        if body.quoted_message_id:
            quoted = await get_message(session, wa_ctx, remote_jid, body.quoted_message_id)
            quoted_message = {"messageId": quoted.message_id, "text": quoted.text}
        message = build.outgoing(
            remote_jid,
            _media_type(source.kind, source.mimetype),
            text=body.caption,
            has_media=True,
            mimetype=source.mimetype,
            media={"url": source.url, "filename": source.filename, "mimetype": source.mimetype},
            quoted_message=quoted_message,
        )
    elif isinstance(body, React):
        target = await get_message(session, wa_ctx, remote_jid, body.message_id)
        message = build.outgoing(
            remote_jid, "reaction", emoji=body.emoji or None, reaction_target=target.message_id
        )
    elif isinstance(body, Edit):
        _require(wa_ctx, "edit", "edit messages")
        message = await get_message(session, wa_ctx, remote_jid, body.message_id)
        if not message.from_me:
            raise NotOwnMessage()
        new_message = False
    elif isinstance(body, Delete):
        message = await get_message(session, wa_ctx, remote_jid, body.message_id)
        new_message = False
    elif isinstance(body, Forward):
        _require(wa_ctx, "forward", "forward messages")
        source_message = await get_message(session, wa_ctx, remote_jid, body.message_id)
        destination = normalize_jid(body.to_remote_jid)
        request["toRemoteJid"] = destination
        message = build.outgoing(
            destination,
            source_message.type,
            text=source_message.text,
            has_media=source_message.has_media,
            mimetype=source_message.mimetype,
            media=source_message.media,
            location=source_message.location,
            is_forwarded=True,
        )
    assert message is not None

    if new_message:
        session.add(message)
        await session.flush()
        if body.action in _SEND_ACTIONS:
            await Ingest(session, wa_ctx.wa).chat_after_message(message, None)
    operation = WaMessageOperation(
        id=build.operation_id,
        account_id=wa_ctx.account_id,
        session_id=wa_ctx.wa.id,
        message_pk=message.id,
        action=body.action,
        status=OperationStatus.queued,
        attempts=0,
        request={**request, "remoteJid": remote_jid},
        upload=upload,
        actor_type=wa_ctx.ctx.actor.type,
        actor_id=wa_ctx.ctx.actor.id,
    )
    session.add(operation)
    await session.flush()
    queue_operation(session, operation.id)
    return ActionResult(
        message=message_out(message, wa_ctx.wa.provider_session_id),
        operation=operation_out(operation),
    )


async def mark_read(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, body: MarkRead
) -> ReadResult:
    chat = await chat_row(session, wa_ctx, remote_jid)
    stmt = select(WaMessage).where(
        WaMessage.session_id == wa_ctx.wa.id,
        WaMessage.remote_jid == remote_jid,
        WaMessage.from_me.is_(False),
        WaMessage.type != MessageType.reaction,
    )
    if body.message_ids:
        stmt = stmt.where(WaMessage.message_id.in_(body.message_ids))
    else:
        # The newest unread ones; marking the latest marks the chat read on WhatsApp.
        stmt = stmt.order_by(WaMessage.source_timestamp.desc()).limit(max(chat.unread_count, 1))
    messages = (await session.scalars(stmt)).all()
    if body.message_ids and len(messages) != len(set(body.message_ids)):
        raise MessageNotFound("Some of messageIds are not in this chat.")
    chat.unread_count = 0
    operation = None
    if messages:
        operation = WaMessageOperation(
            id=new_id(),
            account_id=wa_ctx.account_id,
            session_id=wa_ctx.wa.id,
            action=Action.read,
            status=OperationStatus.queued,
            attempts=0,
            request={
                "remoteJid": remote_jid,
                "messages": [
                    {"messageId": m.message_id, "fromMe": m.from_me, "participant": m.participant}
                    for m in messages
                ],
            },
            actor_type=wa_ctx.ctx.actor.type,
            actor_id=wa_ctx.ctx.actor.id,
        )
        session.add(operation)
    await session.flush()
    if operation is not None:
        queue_operation(session, operation.id)
    psid = wa_ctx.wa.provider_session_id
    await emit_to_session(
        session, wa_ctx.wa, CHAT_UPDATED, chat_data(chat, psid), actor=wa_ctx.ctx.actor
    )
    labels = await chat_labels(session, wa_ctx.account_id, [chat.id])
    return ReadResult(
        chat=chat_out(chat, psid, labels.get(chat.id, [])),
        operation=operation_out(operation) if operation is not None else None,
    )
