"""Running an operation: the gateway call an operation row describes, by its action's unit.

Three short steps so no database transaction stays open during the HTTP call: claim the row
(queued -> sending), call the gateway (`unit.call`), record the answer (`unit.apply`).
`GatewayUnavailable` is retried with exponential backoff up to `wa.operation_max_attempts`; a
refusal fails at once, and a message of ours that will not go out gets the error status. The
sweeper re-queues rows whose job got lost.

A row stuck in `sending` means the worker died during the call: it may have gone out. It is
never re-sent blind. An action that is harmless twice (read, react, edit) is simply queued
again; a send is reconciled: the gateway's echo webhook may be in our inbox already, or the
gateway may list it (`WhatsAppGateway.find_sent`). If neither can tell, the operation becomes
`unknown` and waits for the operator: `POST /wa/operations/{operationId}/retry` sends it again.
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
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.events import Actor
from ticaret.models import (
    Ack,
    MessageAction,
    OperationStatus,
    WaMessage,
    WaMessageOperation,
    WaSession,
)
from ticaret.settings import get_settings
from ticaret.wa.errors import OperationNotFound, OperationNotRetryable
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
# How far before the draft a reconciled message's timestamp may be (clocks differ).
CLOCK_SKEW = timedelta(seconds=60)
UNKNOWN_OUTCOME = (
    "The worker stopped during the gateway call and the gateway cannot tell whether the "
    "message went out. Check the chat, then POST /wa/operations/{id}/retry to send it again."
)
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
    """Operations whose job was lost: (id, attempts so far)."""
    return await repository.requeue_lost(
        session, datetime.now(UTC), queued_for=STUCK_QUEUED, limit=SWEEP_BATCH
    )


async def stuck_operations(session: AsyncSession) -> list[uuid.UUID]:
    """Operations whose worker died during the gateway call (for `reconcile`)."""
    return await repository.stuck_sending(
        session, datetime.now(UTC), sending_for=STUCK_SENDING, limit=SWEEP_BATCH
    )


@dataclass(frozen=True)
class Reconciled:
    status: str
    # Queue the operation's job again under this many attempts (a resend-safe action).
    requeue_attempts: int | None = None


async def _claim_stuck(operation_id: uuid.UUID) -> tuple[Call, int] | Reconciled:
    async with unit_of_work() as session:
        operation = await repository.claim_stuck(
            session, operation_id, datetime.now(UTC), sending_for=STUCK_SENDING
        )
        if operation is None:
            return Reconciled("skipped")
        wa = await session_repository.session_by_id(session, operation.session_id)
        if wa is None or wa.deleted_at is not None:
            operation.status = OperationStatus.failed
            operation.last_error = "the session was removed"
            operation.completed_at = datetime.now(UTC)
            return Reconciled("failed")
        if unit_for(operation.action).resend_safe:
            operation.status = OperationStatus.queued
            return Reconciled("requeued", requeue_attempts=operation.attempts)
        message = (
            await message_repository.message_by_pk(session, operation.message_pk)
            if operation.message_pk
            else None
        )
        call = Call(
            action=MessageAction(operation.action),
            request=dict(operation.request),
            upload=None,
            wa=wa,
            message=message,
            target=await _target(session, wa, operation.request),
            attempt=operation.attempts,
        )
        return call, operation.attempts


async def _echo(call: Call) -> SentMessage | None:
    """The gateway's echo webhook of this send, if it is in our inbox already."""
    message = call.message
    if message is None or not unit_for(call.action).creates_message:
        return None
    async with unit_of_work() as session:
        echo = await message_repository.unclaimed_echo(
            session,
            message,
            since=message.created_at - CLOCK_SKEW,
            text=message.text,
            has_media=message.has_media,
        )
        if echo is None:
            return None
        return SentMessage(
            message_id=echo.message_id,
            timestamp=echo.source_timestamp,
            raw={},
            provider_message_id=echo.provider_message_id,
        )


async def reconcile(operation_id: uuid.UUID) -> Reconciled:
    """Settle an operation stuck in `sending` without sending anything twice."""
    claimed = await _claim_stuck(operation_id)
    if isinstance(claimed, Reconciled):
        return claimed
    call, _ = claimed
    sent = await _echo(call)
    if sent is None and call.message is not None and unit_for(call.action).creates_message:
        try:
            sent = await session_gateway(call.wa).find_sent(
                call.request.get("toRemoteJid") or call.chat,
                call.message.created_at,
                call.message.text,
                call.message.has_media,
            )
        except GatewayError as exc:
            # Unsupported, or the gateway is down: it cannot tell us now.
            logger.info("cannot reconcile operation %s: %s", operation_id, exc.message)
    if sent is not None:
        await _succeed(call, operation_id, sent)
        return Reconciled("sent")
    async with unit_of_work() as session:
        operation = await repository.locked(session, operation_id)
        if operation is not None and operation.status == OperationStatus.sending:
            operation.status = OperationStatus.unknown
            operation.last_error = UNKNOWN_OUTCOME
            operation.completed_at = datetime.now(UTC)
    return Reconciled("unknown")


async def list_operations(
    session: AsyncSession, wa_ctx: WaContext, status: OperationStatus | None, page: PageParams
) -> Page[OperationOut]:
    rows = await repository.operations_page(
        session,
        wa_ctx.account_id,
        wa_ctx.wa.id,
        status=status,
        after=page.after_id(),
        limit=page.limit,
    )
    kept, cursor, more = build_page(rows, page.limit, lambda op: [op.id])
    return Page[OperationOut](
        rows=[operation_out(op) for op in kept], next_cursor=cursor, has_more=more
    )


async def retry(
    session: AsyncSession, wa_ctx: WaContext, operation_id: uuid.UUID
) -> WaMessageOperation:
    """The operator's decision for an operation of unknown outcome (or one that failed): make
    the gateway call again. The caller queues the job once this commits."""
    operation = await repository.locked_for_account(
        session, wa_ctx.account_id, wa_ctx.wa.id, operation_id
    )
    if operation is None:
        raise OperationNotFound()
    if operation.status not in (OperationStatus.unknown, OperationStatus.failed):
        raise OperationNotRetryable(
            f"Only unknown or failed operations are retried; this one is {operation.status}."
        )
    operation.status = OperationStatus.queued
    operation.next_attempt_at = None
    operation.completed_at = None
    if unit_for(operation.action).creates_message and operation.message_pk:
        message = await message_repository.message_by_pk(session, operation.message_pk)
        if message is not None and message.status == Ack.ERROR:
            message.status = Ack.PENDING
            await session.flush()
            await emit_to_session(
                session,
                wa_ctx.wa,
                MESSAGE_UPDATED,
                message_data(message, wa_ctx.wa.provider_session_id),
                actor=wa_ctx.ctx.actor,
            )
    await session.flush()
    return operation
