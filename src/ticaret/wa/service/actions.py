"""Message actions: one unit per `MessageAction`, each whole in one place.

A unit says, for its action:

* `draft`: what is stored when the action is asked for (in the request's transaction): the
  outgoing message row with its `origin` (or the existing message acted on) and the request the
  operation keeps;
* `call`: the gateway call the operation's job makes;
* `apply`: what the gateway's yes changes on our rows, and the events that say so.

`service.messages.request_action` runs the first part, `service.operations.perform` the other
two (with retries and failure handling shared by all). Adding an action is one unit here plus
its `MessageAction` member (and, for an API action, its request body in `wa/schemas.py`).
"""

from __future__ import annotations

import abc
import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.events import Actor, EventType
from ticaret.core.ids import new_id
from ticaret.models import (
    Ack,
    MessageAction,
    MessageType,
    OperationStatus,
    WaMessage,
    WaMessageOperation,
    WaSession,
)
from ticaret.settings import get_settings
from ticaret.wa.errors import (
    FileTooLarge,
    InvalidJid,
    InvalidMedia,
    InvalidMediaData,
    MessageNotFound,
    NotOwnMessage,
)
from ticaret.wa.events import CHAT_UPDATED, MESSAGE_DELETED, MESSAGE_SENT, MESSAGE_UPDATED
from ticaret.wa.gateways import (
    GatewayError,
    MediaInput,
    MessageRef,
    SentMessage,
    WhatsAppGateway,
)
from ticaret.wa.gateways._jid import bare_number, canonical_jid, chat_type_of
from ticaret.wa.gateways.base import Capability, MediaKind
from ticaret.wa.repository import chats as chat_repository
from ticaret.wa.repository import messages as message_repository
from ticaret.wa.schemas import (
    Delete,
    Edit,
    Forward,
    MessageData,
    React,
    Reply,
    SendMedia,
    SendText,
)
from ticaret.wa.service.access import WaContext, emit_to_session
from ticaret.wa.service.views import chat_data, message_data, message_deleted, preview_of

B = TypeVar("B")

_JID = re.compile(
    r"^[0-9A-Za-z._:+-]{1,100}@(s\.whatsapp\.net|c\.us|g\.us|lid|broadcast|newsletter)$"
)


def normalize_jid(value: str) -> str:
    """A chat JID in its canonical spelling, or a phone number turned into one."""
    value = value.strip()
    if "@" not in value:
        digits = bare_number(value)
        if not 6 <= len(digits) <= 15:
            raise InvalidJid()
        return f"{digits}@s.whatsapp.net"
    if not _JID.match(value):
        raise InvalidJid()
    return canonical_jid(value)


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None
    user_agent: str | None


@dataclass
class Draft:
    """What asking for an action stores: the message it is about, and the operation's request."""

    message: WaMessage | None
    request: dict[str, Any]
    new_message: bool = True
    upload: bytes | None = None


class Builder:
    """What a unit's `draft` works with: the chat, the caller, and rows naming the operation."""

    def __init__(
        self,
        session: AsyncSession,
        wa_ctx: WaContext,
        remote_jid: str,
        request: dict[str, Any],
        meta: RequestMeta,
    ) -> None:
        self.session = session
        self.wa_ctx = wa_ctx
        self.remote_jid = remote_jid
        self.request = request
        self.meta = meta
        self.operation_id = new_id()

    async def message(self, message_id: str, remote_jid: str | None = None) -> WaMessage:
        found = await message_repository.message(
            self.session, self.wa_ctx.wa.id, remote_jid or self.remote_jid, message_id
        )
        if found is None:
            raise MessageNotFound()
        return found

    def _origin(self) -> dict[str, Any]:
        principal = self.wa_ctx.ctx.principal
        api_account = principal.api_account
        return {
            "source": "api"
            if api_account is not None
            else "user"
            if principal.user is not None
            else principal.actor.type,
            "actorType": self.wa_ctx.ctx.actor.type,
            "actorId": self.wa_ctx.ctx.actor.id,
            "apiAccountId": str(api_account.id) if api_account is not None else None,
            "userId": str(principal.user_id) if principal.user_id is not None else None,
            "operationId": str(self.operation_id),
            "ip": self.meta.ip,
            "userAgent": (self.meta.user_agent or "")[:300] or None,
        }

    def outgoing(
        self, type_: MessageType | str, *, remote_jid: str | None = None, **fields: Any
    ) -> Draft:
        """A new message of ours, pending until the gateway takes it."""
        wa = self.wa_ctx.wa
        chat = remote_jid or self.remote_jid
        message = WaMessage(
            id=new_id(),
            session_id=wa.id,
            remote_jid=chat,
            message_id=f"local:{uuid.uuid4().hex}",
            from_me=True,
            sender_jid=wa.me_jid,
            sender_jid_resolved=wa.me_jid,
            sender_phone=wa.me_phone,
            sender_name=wa.me_name,
            chat_type=chat_type_of(chat),
            type=type_,
            mentions=fields.pop("mentions", []),
            reactions={},
            receipt={},
            status=Ack.PENDING,
            origin=self._origin(),
            source_timestamp=datetime.now(UTC),
            version=1,
            **fields,
        )
        return Draft(message, self.request)


@dataclass(frozen=True)
class Call:
    """What the gateway call needs, read when the job claims the operation."""

    action: MessageAction
    request: dict[str, Any]
    upload: bytes | None
    wa: WaSession
    message: WaMessage | None  # our row: the outgoing message, or the one acted on
    target: WaMessage | None  # the message the request names (replied to, reacted to, ...)
    attempt: int

    @property
    def chat(self) -> str:
        return str(self.request["remoteJid"])

    def target_or_fail(self, what: str = "the target message") -> WaMessage:
        if self.target is None:
            raise GatewayError(f"{what} no longer exists")
        return self.target


@dataclass
class Rows:
    """Our rows as the success transaction sees them (locked where they change)."""

    session: AsyncSession
    wa: WaSession
    message: WaMessage | None
    target: WaMessage | None


def ref(message: WaMessage) -> str:
    return message.provider_message_id or message.message_id


class ActionUnit(abc.ABC, Generic[B]):
    action: ClassVar[MessageAction]
    # The draft is a new outgoing row: when the gateway refuses for good, its status says so.
    creates_message: ClassVar[bool] = True
    # The new row is a message of the chat's timeline: the chat's last message moves.
    updates_chat: ClassVar[bool] = True
    # A gateway capability not every gateway has (refused up front when the session's lacks it).
    needs: ClassVar[Capability | None] = None
    # Doing it twice changes nothing (a read, the same reaction, the same edit): a call whose
    # worker died mid-way is simply made again. Anything else is reconciled, never re-sent blind.
    resend_safe: ClassVar[bool] = False

    @abc.abstractmethod
    async def draft(self, build: Builder, body: B) -> Draft: ...

    @abc.abstractmethod
    async def call(self, gateway: WhatsAppGateway, call: Call) -> SentMessage | None: ...

    async def apply(self, rows: Rows, call: Call, sent: SentMessage | None) -> None:
        """The gateway took our message: it gets the gateway's id, and `wa.message.sent`."""
        if rows.message is None:
            return
        if sent is not None:
            await _adopt_provider_id(rows.session, rows.message, sent)
        await _emit(rows, MESSAGE_SENT, rows.message)


async def _emit(rows: Rows, type: EventType[MessageData], message: WaMessage) -> None:
    await rows.session.flush()
    await emit_to_session(
        rows.session,
        rows.wa,
        type,
        message_data(message, rows.wa.provider_session_id),
        actor=Actor.system(),
    )


async def _adopt_provider_id(session: AsyncSession, message: WaMessage, sent: SentMessage) -> None:
    """Give our row the gateway's id; if the gateway's echo webhook got in first, drop it."""
    echo = await message_repository.other_row_with_id(session, message, sent.message_id)
    if echo is not None:
        message.status = max(message.status, echo.status)
        message.receipt = {**echo.receipt, **message.receipt}
        await message_repository.delete_row(session, echo.id)
    message.message_id = sent.message_id
    message.provider_message_id = sent.provider_message_id
    if sent.timestamp is not None:
        message.source_timestamp = sent.timestamp
    # Acks the gateway posted before its answer to our send reached us.
    await session.flush()
    await message_repository.apply_early_acks(session, message.session_id, sent.message_id)


# The units ----------------------------------------------------------------------------------


class SendTextUnit(ActionUnit[SendText]):
    action = MessageAction.send_text

    async def draft(self, build: Builder, body: SendText) -> Draft:
        return build.outgoing(MessageType.text, text=body.text, mentions=body.mentions)

    async def call(self, gateway: WhatsAppGateway, call: Call) -> SentMessage | None:
        request = call.request
        return await gateway.send_text(call.chat, request["text"], mentions=request.get("mentions"))


class ReplyUnit(ActionUnit[Reply]):
    action = MessageAction.reply

    async def draft(self, build: Builder, body: Reply) -> Draft:
        quoted = await build.message(body.quoted_message_id)
        return build.outgoing(
            MessageType.text,
            text=body.text,
            mentions=body.mentions,
            quoted_message={
                "messageId": quoted.message_id,
                "participant": quoted.participant or quoted.sender_jid,
                "text": quoted.text,
            },
        )

    async def call(self, gateway: WhatsAppGateway, call: Call) -> SentMessage | None:
        quoted = call.target_or_fail("the quoted message")
        return await gateway.send_text(
            call.chat,
            call.request["text"],
            reply_to=ref(quoted),
            mentions=call.request.get("mentions"),
        )


def _media_type(media_kind: str | None, mimetype: str) -> MessageType:
    if media_kind:
        return MessageType(media_kind)
    for prefix, kind in (
        ("image/", MessageType.image),
        ("video/", MessageType.video),
        ("audio/", MessageType.audio),
    ):
        if mimetype.startswith(prefix):
            return kind
    return MessageType.document


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


class SendMediaUnit(ActionUnit[SendMedia]):
    action = MessageAction.send_media

    async def draft(self, build: Builder, body: SendMedia) -> Draft:
        source = body.media
        if (source.url is None) == (source.data is None):
            raise InvalidMedia()
        if source.url is not None and not source.url.startswith(("http://", "https://")):
            raise InvalidMedia("media.url must be an http(s) URL.")
        upload: bytes | None = None
        if source.data is not None:
            # The file waits in the operation row, not in the request it keeps.
            upload = _decode_upload(source.data)
            build.request["media"].pop("data", None)
            build.request["media"]["size"] = len(upload)
        quoted_message = None
        if body.quoted_message_id:
            quoted = await build.message(body.quoted_message_id)
            quoted_message = {"messageId": quoted.message_id, "text": quoted.text}
        draft = build.outgoing(
            _media_type(source.kind, source.mimetype),
            text=body.caption,
            has_media=True,
            mimetype=source.mimetype,
            media={"url": source.url, "filename": source.filename, "mimetype": source.mimetype},
            quoted_message=quoted_message,
        )
        draft.upload = upload
        return draft

    async def call(self, gateway: WhatsAppGateway, call: Call) -> SentMessage | None:
        assert call.message is not None
        media = call.request["media"]
        kinds: dict[str, MediaKind] = {"image": "image", "video": "video", "audio": "audio"}
        return await gateway.send_media(
            call.chat,
            MediaInput(
                kind=kinds.get(call.message.type, "document"),
                mimetype=media["mimetype"],
                url=media.get("url"),
                data=call.upload,
                filename=media.get("filename"),
                caption=call.request.get("caption"),
            ),
            reply_to=ref(call.target) if call.target is not None else None,
        )


class ReactUnit(ActionUnit[React]):
    action = MessageAction.react
    resend_safe = True
    # The reaction is a row of the timeline, but not the chat's last message.
    updates_chat = False

    async def draft(self, build: Builder, body: React) -> Draft:
        target = await build.message(body.message_id)
        return build.outgoing(
            MessageType.reaction, emoji=body.emoji or None, reaction_target=target.message_id
        )

    async def call(self, gateway: WhatsAppGateway, call: Call) -> SentMessage | None:
        target = call.target_or_fail()
        await gateway.send_reaction(
            call.chat,
            ref(target),
            call.request.get("emoji") or "",
            target.from_me,
            target.participant,
        )
        return None

    async def apply(self, rows: Rows, call: Call, sent: SentMessage | None) -> None:
        if rows.message is not None and rows.target is not None:
            rows.message.status = max(rows.message.status, int(Ack.SERVER))
        await super().apply(rows, call, sent)
        if rows.target is None:
            return
        reactions = dict(rows.target.reactions)
        emoji = call.request.get("emoji") or ""
        if emoji:
            reactions["me"] = emoji
        else:
            reactions.pop("me", None)
        rows.target.reactions = reactions
        await _emit(rows, MESSAGE_UPDATED, rows.target)


class EditUnit(ActionUnit[Edit]):
    action = MessageAction.edit
    resend_safe = True
    creates_message = False
    updates_chat = False
    needs = "edit"

    async def draft(self, build: Builder, body: Edit) -> Draft:
        message = await build.message(body.message_id)
        if not message.from_me:
            raise NotOwnMessage()
        return Draft(message, build.request, new_message=False)

    async def call(self, gateway: WhatsAppGateway, call: Call) -> SentMessage | None:
        await gateway.edit_message(call.chat, ref(call.target_or_fail()), call.request["text"])
        return None

    async def apply(self, rows: Rows, call: Call, sent: SentMessage | None) -> None:
        if rows.target is None:
            return
        rows.target.text = call.request["text"]
        rows.target.edited = True
        rows.target.edited_at = datetime.now(UTC)
        await _emit(rows, MESSAGE_UPDATED, rows.target)


class DeleteUnit(ActionUnit[Delete]):
    action = MessageAction.delete
    creates_message = False
    updates_chat = False

    async def draft(self, build: Builder, body: Delete) -> Draft:
        message = await build.message(body.message_id)
        return Draft(message, build.request, new_message=False)

    async def call(self, gateway: WhatsAppGateway, call: Call) -> SentMessage | None:
        target = call.target_or_fail()
        await gateway.delete_for_everyone(
            call.chat, ref(target), target.from_me, target.participant
        )
        return None

    async def apply(self, rows: Rows, call: Call, sent: SentMessage | None) -> None:
        if rows.target is None:
            return
        rows.target.deleted_for_everyone = True
        await rows.session.flush()
        psid = rows.wa.provider_session_id
        await emit_to_session(
            rows.session,
            rows.wa,
            MESSAGE_DELETED,
            message_deleted(rows.target, psid, "everyone"),
            actor=Actor.system(),
        )


class ForwardUnit(ActionUnit[Forward]):
    action = MessageAction.forward
    needs = "forward"

    async def draft(self, build: Builder, body: Forward) -> Draft:
        source = await build.message(body.message_id)
        destination = normalize_jid(body.to_remote_jid)
        build.request["toRemoteJid"] = destination
        return build.outgoing(
            source.type,
            remote_jid=destination,
            text=source.text,
            has_media=source.has_media,
            mimetype=source.mimetype,
            media=source.media,
            location=source.location,
            is_forwarded=True,
        )

    async def call(self, gateway: WhatsAppGateway, call: Call) -> SentMessage | None:
        target = call.target_or_fail()
        return await gateway.forward_message(
            call.request["toRemoteJid"], call.chat, ref(target), target.from_me, target.participant
        )


class ReadUnit(ActionUnit[list[WaMessage]]):
    """Tells the gateway what `POST .../read` marked read here (no message row of its own)."""

    action = MessageAction.read
    resend_safe = True
    creates_message = False
    updates_chat = False

    async def draft(self, build: Builder, body: list[WaMessage]) -> Draft:
        build.request["messages"] = [
            {"messageId": m.message_id, "fromMe": m.from_me, "participant": m.participant}
            for m in body
        ]
        return Draft(None, build.request, new_message=False)

    async def call(self, gateway: WhatsAppGateway, call: Call) -> SentMessage | None:
        refs = [
            MessageRef(m["messageId"], bool(m["fromMe"]), m.get("participant"))
            for m in call.request.get("messages", [])
        ]
        await gateway.mark_read(call.chat, refs)
        return None

    async def apply(self, rows: Rows, call: Call, sent: SentMessage | None) -> None:
        return None


UNITS: dict[MessageAction, ActionUnit[Any]] = {
    unit.action: unit
    for unit in (
        SendTextUnit(),
        ReplyUnit(),
        SendMediaUnit(),
        ReactUnit(),
        EditUnit(),
        DeleteUnit(),
        ForwardUnit(),
        ReadUnit(),
    )
}


def unit_for(action: MessageAction | str) -> ActionUnit[Any]:
    return UNITS[MessageAction(action)]


async def store(
    session: AsyncSession, unit: ActionUnit[B], build: Builder, body: B
) -> tuple[WaMessage | None, WaMessageOperation]:
    """Draft the action and store what it leaves for its job: the operation row and, for a
    send, the pending message (with the chat's last message moved to it)."""
    wa_ctx = build.wa_ctx
    draft = await unit.draft(build, body)
    if draft.new_message and draft.message is not None:
        session.add(draft.message)
        await session.flush()
        if unit.updates_chat:
            # Our message is the chat's last one now (and answers the customer: unread 0).
            chat = await chat_repository.record_message_in_chat(
                session,
                draft.message,
                name=None,
                preview=preview_of(draft.message.type, draft.message.text),
            )
            await emit_to_session(
                session,
                wa_ctx.wa,
                CHAT_UPDATED,
                chat_data(chat, wa_ctx.wa.provider_session_id),
                actor=wa_ctx.ctx.actor,
            )
    operation = WaMessageOperation(
        id=build.operation_id,
        account_id=wa_ctx.account_id,
        session_id=wa_ctx.wa.id,
        message_pk=draft.message.id if draft.message is not None else None,
        action=unit.action,
        status=OperationStatus.queued,
        attempts=0,
        request=draft.request,
        upload=draft.upload,
        actor_type=wa_ctx.ctx.actor.type,
        actor_id=wa_ctx.ctx.actor.id,
    )
    session.add(operation)
    await session.flush()
    return draft.message, operation
