"""Running an operation: the gateway call an operation row describes, by its action's unit.

Three short steps so no database transaction stays open during the HTTP call: claim the row
(queued -> sending), call the gateway (`unit.call`), record the answer (`unit.apply`).
`GatewayUnavailable` is retried with exponential backoff up to `wa.operation_max_attempts`; a
refusal fails at once, and a message of ours that will not go out gets the error status. The
sweeper re-queues rows whose job got lost; one stuck in `sending` (the worker died mid-call) is
retried too, which may send twice, the usual at-least-once trade.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor
from ticaret.models import Ack, MessageAction, OperationStatus, WaMessage, WaSession
from ticaret.settings import get_settings
from ticaret.wa.errors import OperationNotFound
from ticaret.wa.events import MESSAGE_UPDATED
from ticaret.wa.gateways import GatewayError, GatewayUnavailable, SentMessage
from ticaret.wa.gateways.base import FollowUp
from ticaret.wa.gateways.factory import session_gateway
from ticaret.wa.repository import messages as message_repository
from ticaret.wa.repository import operations as repository
from ticaret.wa.repository import sessions as session_repository
from ticaret.wa.schemas import OperationOut
from ticaret.wa.service.access import WaContext, emit_to_session
from ticaret.wa.service.actions import Call, Rows, unit_for
from ticaret.wa.service.views import message_data, operation_out

logger = logging.getLogger("ticaret.wa.operations")

STUCK_SENDING = timedelta(minutes=5)
STUCK_QUEUED = timedelta(minutes=2)
SWEEP_BATCH = 200


async def get_operation(
    session: AsyncSession, wa_ctx: WaContext, operation_id: uuid.UUID
) -> OperationOut:
    operation = await repository.operation(session, wa_ctx.account_id, wa_ctx.wa.id, operation_id)
    if operation is None:
        raise OperationNotFound()
    return operation_out(operation)


@dataclass(frozen=True)
class Performed:
    """How a run ended, and the work it leaves for the job to queue."""

    status: str
    # The next try after a gateway outage: (attempts so far, delay).
    retry: tuple[int, timedelta] | None = None
    # What the gateway will post back to our receiver by itself (the sandbox's acks).
    follow_ups: Sequence[FollowUp] = ()
    provider_session_id: str = ""


async def _target(
    session: AsyncSession, wa: WaSession, request: dict[str, Any]
) -> WaMessage | None:
    target_id = request.get("messageId") or request.get("quotedMessageId")
    if not isinstance(target_id, str):
        return None
    return await message_repository.message(session, wa.id, request["remoteJid"], target_id)


async def _claim(operation_id: uuid.UUID) -> Call | None:
    async with unit_of_work() as session:
        operation = await repository.claim_queued(session, operation_id)
        if operation is None:
            return None
        wa = await session_repository.session_by_id(session, operation.session_id)
        if wa is None or wa.deleted_at is not None:
            operation.status = OperationStatus.failed
            operation.last_error = "the session was removed"
            operation.completed_at = datetime.now(UTC)
            return None
        operation.status = OperationStatus.sending
        operation.attempts += 1
        operation.next_attempt_at = None
        message = (
            await message_repository.message_by_pk(session, operation.message_pk)
            if operation.message_pk
            else None
        )
        return Call(
            action=MessageAction(operation.action),
            request=dict(operation.request),
            upload=operation.upload,
            wa=wa,
            message=message,
            target=await _target(session, wa, operation.request),
            attempt=operation.attempts,
        )


async def _succeed(call: Call, operation_id: uuid.UUID, sent: SentMessage | None) -> None:
    async with unit_of_work() as session:
        operation = await repository.locked(session, operation_id)
        if operation is None:
            return
        operation.status = OperationStatus.sent
        operation.last_error = None
        operation.upload = None
        operation.completed_at = datetime.now(UTC)
        operation.result = {"messageId": sent.message_id} if sent else {}
        message = (
            await message_repository.message_by_pk(session, operation.message_pk)
            if operation.message_pk
            else None
        )
        target = (
            await message_repository.message_by_pk(session, call.target.id, lock=True)
            if call.target is not None
            else None
        )
        await unit_for(call.action).apply(Rows(session, call.wa, message, target), call, sent)


async def _fail(
    call: Call, operation_id: uuid.UUID, error: GatewayError, retry: bool
) -> tuple[int, timedelta] | None:
    settings = get_settings().wa
    async with unit_of_work() as session:
        operation = await repository.locked(session, operation_id)
        if operation is None:
            return None
        operation.last_error = error.public[:1000]
        if retry and operation.attempts < settings.operation_max_attempts:
            delay = timedelta(
                seconds=settings.operation_retry_base_seconds * 2 ** (operation.attempts - 1)
            )
            operation.status = OperationStatus.queued
            operation.next_attempt_at = datetime.now(UTC) + delay
            return operation.attempts, delay
        operation.status = OperationStatus.failed
        operation.completed_at = datetime.now(UTC)
        if unit_for(call.action).creates_message and operation.message_pk:
            message = await message_repository.message_by_pk(session, operation.message_pk)
            if message is not None:
                message.status = Ack.ERROR
                await session.flush()
                await emit_to_session(
                    session,
                    call.wa,
                    MESSAGE_UPDATED,
                    message_data(message, call.wa.provider_session_id),
                    actor=Actor.system(),
                )
    return None


async def perform(operation_id: uuid.UUID) -> Performed:
    call = await _claim(operation_id)
    if call is None:
        return Performed("skipped")
    gateway = session_gateway(call.wa)
    unit = unit_for(call.action)
    try:
        sent = await unit.call(gateway, call)
    except GatewayUnavailable as exc:
        retry = await _fail(call, operation_id, exc, retry=True)
        return Performed("retry" if retry else "failed", retry=retry)
    except GatewayError as exc:
        await _fail(call, operation_id, exc, retry=False)
        return Performed("failed")
    await _succeed(call, operation_id, sent)
    return Performed(
        "sent", follow_ups=gateway.follow_ups(), provider_session_id=call.wa.provider_session_id
    )


async def lost_operations(session: AsyncSession) -> list[tuple[uuid.UUID, int]]:
    """Operations whose job was lost, or that died while sending, put back in the queue:
    (id, attempts so far)."""
    return await repository.requeue_lost(
        session,
        datetime.now(UTC),
        sending_for=STUCK_SENDING,
        queued_for=STUCK_QUEUED,
        limit=SWEEP_BATCH,
    )
