"""`perform_wa_operation`: make the gateway call an operation row describes.

Three short steps so no database transaction stays open during the HTTP call: claim the row
(queued -> sending), call the gateway, record the answer. `GatewayUnavailable` is retried
with exponential backoff up to `wa.operation_max_attempts`; a refusal fails at once. The
sweeper re-queues rows whose job got lost; one stuck in `sending` (the worker died
mid-call) is retried too, which may send twice, the usual at-least-once trade.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, D, EventType
from ticaret.models import Ack, OperationStatus, WaMessage, WaMessageOperation, WaSession
from ticaret.settings import get_settings
from ticaret.wa.access import emit_to_session
from ticaret.wa.events import MESSAGE_DELETED, MESSAGE_SENT, MESSAGE_UPDATED, MessageDeleted
from ticaret.wa.gateways import (
    GatewayError,
    GatewayUnavailable,
    MediaInput,
    MessageRef,
    SentMessage,
    WhatsAppGateway,
)
from ticaret.wa.gateways.base import MediaKind
from ticaret.wa.gateways.factory import session_gateway
from ticaret.wa.gateways.sandbox import PendingWebhook, SandboxGateway
from ticaret.wa.views import message_data

logger = logging.getLogger("ticaret.wa.operations")

STUCK_SENDING = timedelta(minutes=5)
STUCK_QUEUED = timedelta(minutes=2)


@dataclass(frozen=True)
class Call:
    """What the gateway call needs, read in the claim transaction."""

    action: str
    request: dict[str, Any]
    upload: bytes | None
    wa: WaSession
    message: WaMessage | None
    target: WaMessage | None
    attempt: int


async def _target(
    session: AsyncSession, wa: WaSession, request: dict[str, Any]
) -> WaMessage | None:
    target_id = request.get("messageId") or request.get("quotedMessageId")
    if not isinstance(target_id, str):
        return None
    return await session.scalar(
        select(WaMessage).where(
            WaMessage.session_id == wa.id,
            WaMessage.remote_jid == request["remoteJid"],
            WaMessage.message_id == target_id,
        )
    )


async def _claim(operation_id: uuid.UUID) -> Call | None:
    async with unit_of_work() as session:
        operation = await session.scalar(
            select(WaMessageOperation)
            .where(
                WaMessageOperation.id == operation_id,
                WaMessageOperation.status == OperationStatus.queued,
            )
            .with_for_update(skip_locked=True)
        )
        if operation is None:
            return None
        wa = await session.get(WaSession, operation.session_id)
        if wa is None or wa.deleted_at is not None:
            operation.status = OperationStatus.failed
            operation.last_error = "the session was removed"
            operation.completed_at = datetime.now(UTC)
            return None
        operation.status = OperationStatus.sending
        operation.attempts += 1
        operation.next_attempt_at = None
        message = (
            await session.get(WaMessage, operation.message_pk) if operation.message_pk else None
        )
        return Call(
            action=operation.action,
            request=dict(operation.request),
            upload=operation.upload,
            wa=wa,
            message=message,
            target=await _target(session, wa, operation.request),
            attempt=operation.attempts,
        )


def _ref(message: WaMessage) -> str:
    return message.provider_message_id or message.message_id


async def _call_gateway(gateway: WhatsAppGateway, call: Call) -> SentMessage | None:
    request, chat = call.request, call.request["remoteJid"]
    message, target = call.message, call.target
    if call.action == "send_text":
        return await gateway.send_text(chat, request["text"], mentions=request.get("mentions"))
    if call.action == "reply":
        if target is None:
            raise GatewayError("the quoted message no longer exists")
        return await gateway.send_text(
            chat, request["text"], reply_to=_ref(target), mentions=request.get("mentions")
        )
    if call.action == "send_media":
        assert message is not None
        media = request["media"]
        kinds: dict[str, MediaKind] = {"image": "image", "video": "video", "audio": "audio"}
        kind = kinds.get(message.type, "document")
        return await gateway.send_media(
            chat,
            MediaInput(
                kind=kind,
                mimetype=media["mimetype"],
                url=media.get("url"),
                data=call.upload,
                filename=media.get("filename"),
                caption=request.get("caption"),
            ),
            reply_to=_ref(target) if target is not None else None,
        )
    if target is None and call.action != "read":
        raise GatewayError("the target message no longer exists")
    if call.action == "react":
        assert target is not None
        await gateway.send_reaction(
            chat, _ref(target), request.get("emoji") or "", target.from_me, target.participant
        )
        return None
    if call.action == "edit":
        assert target is not None
        await gateway.edit_message(chat, _ref(target), request["text"])
        return None
    if call.action == "delete":
        assert target is not None
        await gateway.delete_for_everyone(chat, _ref(target), target.from_me, target.participant)
        return None
    if call.action == "forward":
        assert target is not None
        return await gateway.forward_message(
            request["toRemoteJid"], chat, _ref(target), target.from_me, target.participant
        )
    if call.action == "read":
        refs = [
            MessageRef(m["messageId"], bool(m["fromMe"]), m.get("participant"))
            for m in request.get("messages", [])
        ]
        await gateway.mark_read(chat, refs)
        return None
    raise GatewayError(f"unknown action {call.action}")


async def _emit_all(session: AsyncSession, wa: WaSession, type: EventType[D], data: D) -> None:
    await emit_to_session(session, wa, type, data, actor=Actor.system())


async def _adopt_provider_id(session: AsyncSession, message: WaMessage, sent: SentMessage) -> None:
    """Give our row the gateway's id; if the gateway's echo webhook got in first, drop it."""
    echo = await session.scalar(
        select(WaMessage).where(
            WaMessage.session_id == message.session_id,
            WaMessage.remote_jid == message.remote_jid,
            WaMessage.message_id == sent.message_id,
            WaMessage.id != message.id,
        )
    )
    if echo is not None:
        message.status = max(message.status, echo.status)
        message.receipt = {**echo.receipt, **message.receipt}
        await session.execute(delete(WaMessage).where(WaMessage.id == echo.id))
    message.message_id = sent.message_id
    message.provider_message_id = sent.provider_message_id
    if sent.timestamp is not None:
        message.source_timestamp = sent.timestamp


async def _succeed(call: Call, operation_id: uuid.UUID, sent: SentMessage | None) -> None:
    async with unit_of_work() as session:
        operation = await session.get(WaMessageOperation, operation_id, with_for_update=True)
        if operation is None:
            return
        wa = call.wa
        operation.status = OperationStatus.sent
        operation.last_error = None
        operation.upload = None
        operation.completed_at = datetime.now(UTC)
        operation.result = {"messageId": sent.message_id} if sent else {}
        message = (
            await session.get(WaMessage, operation.message_pk) if operation.message_pk else None
        )
        if message is not None and sent is not None:
            await _adopt_provider_id(session, message, sent)
        target = None
        if call.target is not None:
            target = await session.get(WaMessage, call.target.id, with_for_update=True)
        if call.action == "react" and target is not None:
            reactions = dict(target.reactions)
            emoji = call.request.get("emoji") or ""
            if emoji:
                reactions["me"] = emoji
            else:
                reactions.pop("me", None)
            target.reactions = reactions
            if message is not None:
                message.status = max(message.status, int(Ack.SERVER))
        elif call.action == "edit" and target is not None:
            target.text = call.request["text"]
            target.edited = True
            target.edited_at = datetime.now(UTC)
        elif call.action == "delete" and target is not None:
            target.deleted_for_everyone = True
        await session.flush()
        psid = wa.provider_session_id
        if call.action in ("edit", "delete"):
            if target is not None and call.action == "edit":
                await _emit_all(session, wa, MESSAGE_UPDATED, message_data(target, psid))
            elif target is not None:
                deleted = MessageDeleted(
                    **message_data(target, psid).model_dump(), scope="everyone"
                )
                await _emit_all(session, wa, MESSAGE_DELETED, deleted)
        elif call.action != "read" and message is not None:
            await _emit_all(session, wa, MESSAGE_SENT, message_data(message, psid))
        if call.action == "react" and target is not None:
            await _emit_all(session, wa, MESSAGE_UPDATED, message_data(target, psid))


@dataclass(frozen=True)
class Performed:
    """How a run ended, and the work it leaves for the job to queue."""

    status: str
    # The next try after a gateway outage: (attempts so far, delay).
    retry: tuple[int, timedelta] | None = None
    # What the sandbox "gateway" would post back to our receiver (acks), with their delays.
    follow_ups: tuple[PendingWebhook, ...] = ()
    provider_session_id: str = ""


async def _fail(
    call: Call, operation_id: uuid.UUID, error: GatewayError, retry: bool
) -> tuple[int, timedelta] | None:
    settings = get_settings().wa
    async with unit_of_work() as session:
        operation = await session.get(WaMessageOperation, operation_id, with_for_update=True)
        if operation is None:
            return None
        operation.last_error = error.message[:1000]
        if retry and operation.attempts < settings.operation_max_attempts:
            delay = timedelta(
                seconds=settings.operation_retry_base_seconds * 2 ** (operation.attempts - 1)
            )
            operation.status = OperationStatus.queued
            operation.next_attempt_at = datetime.now(UTC) + delay
            return operation.attempts, delay
        operation.status = OperationStatus.failed
        operation.completed_at = datetime.now(UTC)
        if call.action in ("send_text", "send_media", "reply", "forward", "react"):
            message = (
                await session.get(WaMessage, operation.message_pk) if operation.message_pk else None
            )
            if message is not None:
                message.status = int(Ack.ERROR)
                await session.flush()
                await _emit_all(
                    session,
                    call.wa,
                    MESSAGE_UPDATED,
                    message_data(message, call.wa.provider_session_id),
                )
    return None


async def perform_operation(operation_id: uuid.UUID) -> Performed:
    call = await _claim(operation_id)
    if call is None:
        return Performed("skipped")
    gateway = session_gateway(call.wa)
    try:
        sent = await _call_gateway(gateway, call)
    except GatewayUnavailable as exc:
        retry = await _fail(call, operation_id, exc, retry=True)
        return Performed("retry" if retry else "failed", retry=retry)
    except GatewayError as exc:
        await _fail(call, operation_id, exc, retry=False)
        return Performed("failed")
    await _succeed(call, operation_id, sent)
    if isinstance(gateway, SandboxGateway):
        return Performed(
            "sent",
            follow_ups=tuple(gateway.pending_webhooks),
            provider_session_id=call.wa.provider_session_id,
        )
    return Performed("sent")


async def lost_operations(session: AsyncSession, limit: int = 200) -> list[tuple[uuid.UUID, int]]:
    """Operations whose job was lost, or that died while sending, put back in the queue:
    (id, attempts so far)."""
    now = datetime.now(UTC)
    rows = (
        await session.execute(
            update(WaMessageOperation)
            .where(
                WaMessageOperation.id.in_(
                    select(WaMessageOperation.id)
                    .where(
                        (
                            (WaMessageOperation.status == OperationStatus.sending)
                            & (WaMessageOperation.updated_at < now - STUCK_SENDING)
                        )
                        | (
                            (WaMessageOperation.status == OperationStatus.queued)
                            & (
                                func.coalesce(
                                    WaMessageOperation.next_attempt_at,
                                    WaMessageOperation.updated_at,
                                )
                                < now - STUCK_QUEUED
                            )
                        )
                    )
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            .values(status=OperationStatus.queued, updated_at=now)
            .returning(WaMessageOperation.id, WaMessageOperation.attempts)
        )
    ).all()
    return [(operation_id, attempts) for operation_id, attempts in rows]
