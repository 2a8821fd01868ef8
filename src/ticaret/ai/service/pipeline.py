"""An analysis's life: created for a message, run by its job, retried, held back, finished.

    pending --> processing --> completed
       ^            |      \\-> failed    (attempts spent, or the provider refused for good)
       |            v
       +---- retry (backoff, or the provider's Retry-After)
    pending --> skipped (automation off, nothing to analyse, budget spent, message deleted)

The deterministic analyser runs inside one transaction (it calls no one). The LLM path takes a
slot of the account's concurrency limit first: claims are serialized per account, and a run
that finds every slot taken stays `pending` (held) and looks again later, while a run that
finishes hands its slot to the analysis held longest. No transaction stays open during the
LLM call: claim, call, record.

Nothing here queues a job: each step returns the `Dispatch`es it needs and the job (or the
route) queues them, so this module never imports the tasks module.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.analysis.llm import ChatLine
from ticaret.ai.analysis.matching import match_products
from ticaret.ai.analysis.understanding import by_rules
from ticaret.ai.events import ANALYSIS_COMPLETED, ANALYSIS_FAILED
from ticaret.ai.providers.base import ProviderError
from ticaret.ai.providers.factory import provider_for, uses_llm
from ticaret.ai.repository import analyses as repository
from ticaret.ai.repository import catalog as catalog_repository
from ticaret.ai.repository import settings as settings_repository
from ticaret.ai.repository.analyses import ANALYSABLE_TYPES
from ticaret.ai.schemas import AnalysisOut, VisualSearch
from ticaret.ai.service import auto_reply, results
from ticaret.ai.service.views import analysis_out
from ticaret.core.db import unit_of_work
from ticaret.core.envelope import format_timestamp
from ticaret.core.events import Actor, Emission, emit, emit_many
from ticaret.core.ids import new_id
from ticaret.crm.service.identities import accounts_with_customers
from ticaret.models import (
    AccountAiSettings,
    AiAnalysis,
    AnalysisProvider,
    AnalysisSource,
    AnalysisStatus,
    AnalysisTrigger,
    SkipReason,
    StructuredOutput,
    WaMessage,
    WaSession,
)
from ticaret.settings import get_settings
from ticaret.wa.repository import messages as message_repository
from ticaret.wa.repository import sessions as session_repository

logger = logging.getLogger("ticaret.ai")

AI_ACTOR = Actor("ai", None)
DEFAULT_CONTEXT = 10
RULES_CONTEXT = 5  # earlier messages the rules read
DEFAULT_CONCURRENCY = 5
MAX_HOLD = timedelta(seconds=60)


@dataclass(frozen=True)
class Dispatch:
    """A run of an analysis to queue: its own job id (arq keeps a finished job's id), and a
    delay for retries and held runs."""

    analysis_id: uuid.UUID
    job_id: str
    defer: timedelta | None = None


@dataclass(frozen=True)
class Ran:
    status: str
    dispatches: list[Dispatch] = field(default_factory=list)


def job_id(analysis_id: uuid.UUID, dispatches: int) -> str:
    return f"ai-analysis:{analysis_id}:{dispatches}"


def dispatch(row: AiAnalysis, defer: timedelta | None = None) -> Dispatch:
    row.dispatches += 1
    return Dispatch(row.id, job_id(row.id, row.dispatches), defer)


def source_of(message: WaMessage) -> AnalysisSource | None:
    """What of a message can be analysed: a customer's text, or a customer's image."""
    if message.from_me or message.type not in ANALYSABLE_TYPES:
        return None
    return AnalysisSource(message.type)


def engine_of(settings_row: AccountAiSettings | None) -> tuple[AnalysisProvider, str]:
    if settings_row is not None and uses_llm(settings_row):
        return AnalysisProvider(settings_row.provider), settings_row.model
    return AnalysisProvider.deterministic, results.RULES_MODEL


def _emit(session: AsyncSession, row: AiAnalysis, wa: WaSession, *, failed: bool) -> None:
    emit(
        session,
        ANALYSIS_FAILED if failed else ANALYSIS_COMPLETED,
        analysis_out(row, wa.provider_session_id),
        account_id=row.account_id,
        actor=AI_ACTOR,
        provider_session_id=wa.provider_session_id,
    )


def _skipped_columns(reason: SkipReason, now: datetime) -> dict[str, object]:
    return {
        "status": AnalysisStatus.skipped,
        "skip_reason": reason,
        "skipped_at": now,
        "next_attempt_at": None,
        "held_at": None,
    }


def _skip(row: AiAnalysis, reason: SkipReason, now: datetime) -> None:
    for name, value in _skipped_columns(reason, now).items():
        setattr(row, name, value)


# Creating -----------------------------------------------------------------------------------


def _new_values(
    account_id: uuid.UUID,
    wa: WaSession,
    message: WaMessage,
    trigger: AnalysisTrigger,
    settings_row: AccountAiSettings | None,
    now: datetime,
) -> tuple[dict[str, object], bool]:
    """A new analysis row's columns, pending with its first run counted (or skipped when
    automatic analysis is off: the second value)."""
    source = source_of(message)
    assert source is not None, "only a customer's text or image is analysed"
    automation_off = (
        trigger is AnalysisTrigger.auto
        and settings_row is not None
        and not settings_row.auto_analyze_inbound
    )
    provider, model = engine_of(settings_row)
    return {
        "id": new_id(),
        "account_id": account_id,
        "session_id": wa.id,
        "message_pk": message.id,
        "remote_jid": message.remote_jid,
        "message_id": message.message_id,
        "provider": provider,
        "model": model,
        "status": AnalysisStatus.skipped if automation_off else AnalysisStatus.pending,
        "skip_reason": SkipReason.automation_off if automation_off else None,
        "skipped_at": now if automation_off else None,
        "source_type": source,
        "trigger": trigger,
        "entities": {},
        "warnings": [],
        "result": {},
        "input": {},
        "usage": {},
        "product_matches": [],
        "applied_actions": [],
        "attempt_count": 0,
        "max_attempts": get_settings().ai.max_attempts,
        "dispatches": 0 if automation_off else 1,
        "next_attempt_at": None if automation_off else now,
        "version": 1,
    }, automation_off


async def new_analysis(
    session: AsyncSession,
    account_id: uuid.UUID,
    wa: WaSession,
    message: WaMessage,
    trigger: AnalysisTrigger,
    settings_row: AccountAiSettings | None,
) -> tuple[AiAnalysis | None, Dispatch | None]:
    """The message's analysis for the account, pending with its first run to queue (or
    skipped when automatic analysis is off); (None, None) when it has one already."""
    values, automation_off = _new_values(
        account_id, wa, message, trigger, settings_row, datetime.now(UTC)
    )
    row = await repository.insert_analysis(session, values)
    if row is None or automation_off:
        return row, None
    return row, Dispatch(row.id, job_id(row.id, 1))


def restart(row: AiAnalysis, trigger: AnalysisTrigger) -> Dispatch:
    """An operator asks again: a fresh round of attempts (the results stay until replaced)."""
    now = datetime.now(UTC)
    row.status = AnalysisStatus.pending
    row.trigger = trigger
    row.skip_reason = None
    row.attempt_count = 0
    row.max_attempts = get_settings().ai.max_attempts
    row.next_attempt_at = now
    row.held_at = None
    row.started_at = None
    row.completed_at = None
    row.failed_at = None
    row.skipped_at = None
    return dispatch(row)


@dataclass(frozen=True)
class _Received:
    wa: WaSession
    message: WaMessage
    settings_row: AccountAiSettings | None
    values: dict[str, object]  # the new row's columns, every one of them
    automation_off: bool

    @property
    def rules_at_once(self) -> bool:
        """Run by the rules before its row is written, and written finished: no LLM, and no
        automatic reply (which sends a message through the ordinary path, row in hand)."""
        settings_row = self.settings_row
        return (
            not self.automation_off
            and not uses_llm(settings_row)
            and not (settings_row is not None and settings_row.auto_reply)
        )


def _message_pk(message_id: str | None) -> uuid.UUID | None:
    """The message a `wa.message.received` event names (None: its data names no message)."""
    try:
        return uuid.UUID(str(message_id))
    except ValueError:
        return None


# Every column a new row is written with (the server sets the two timestamps): the rows of one
# batch, pending or finished, go in one multi-row statement, so each names them all.
_COLUMNS = tuple(
    column.key
    for column in AiAnalysis.__table__.columns
    if column.key not in ("created_at", "updated_at")
)


async def consume_received(session: AsyncSession, event_ids: list[str]) -> list[Dispatch]:
    """`wa.message.received` events (one commit's) -> each message's analysis for its account,
    made once: a redelivered event finds the row and does nothing. Events, messages, sessions
    and settings are read with one query each and the rows inserted with one statement.

    The rules (no LLM) call no one, so they run here, in this transaction, in event order,
    before the rows are written: each row goes in as its own run job would have left it,
    completed (its `ai.analysis.completed` emitted once the insert says it is new) or
    skipped, with no second write. An account with automatic replies has its rules run on
    the written row as a run job would (the reply is sent through the ordinary send path).
    An LLM analysis waits on a provider: its first run is returned, to be queued once this
    commits."""
    wanted: list[tuple[uuid.UUID, uuid.UUID]] = []  # (account, message)
    for event in await repository.received_messages(session, event_ids):
        message_pk = _message_pk(event.message_id)
        if message_pk is not None:
            wanted.append((event.account_id, message_pk))
    if not wanted:
        return []
    messages = await repository.messages_by_pk(session, {pk for _, pk in wanted})
    sessions = await repository.sessions_by_id(
        session, {message.session_id for message in messages.values()}
    )
    settings = await settings_repository.settings_of_accounts(
        session, {account_id for account_id, _ in wanted}
    )
    now = datetime.now(UTC)
    received: dict[tuple[uuid.UUID, uuid.UUID], _Received] = {}
    for account_id, message_pk in wanted:
        message = messages.get(message_pk)
        if message is None or source_of(message) is None:
            continue  # deleted before we got to it, or not a customer's text or image
        wa = sessions.get(message.session_id)
        if wa is None or wa.deleted_at is not None or (account_id, message.id) in received:
            continue
        settings_row = settings.get(account_id)
        values, automation_off = _new_values(
            account_id, wa, message, AnalysisTrigger.auto, settings_row, now
        )
        received[(account_id, message.id)] = _Received(
            wa, message, settings_row, dict.fromkeys(_COLUMNS) | values, automation_off
        )
    by_rules_here = [
        (key, item)
        for key, item in received.items()
        if not item.automation_off and not uses_llm(item.settings_row)
    ]
    # A chat can only be linked to a customer in an account that has one, and a product found
    # in an account that has one: the others' rules runs skip those queries.
    with_customers = await accounts_with_customers(session, {key[0] for key, _ in by_rules_here})
    with_products = await catalog_repository.accounts_with_live_products(
        session, [key[0] for key, item in received.items() if item.rules_at_once]
    )
    earlier = await repository.earlier_lines(
        session,
        [
            item.message
            for _, item in by_rules_here
            if not item.message.deleted_for_everyone and (item.message.text or "").strip()
        ],
        RULES_CONTEXT,
    )
    completed: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for key, item in received.items():
        if not item.rules_at_once:
            continue
        models = await _rules_values(
            session,
            item,
            earlier.get(item.message.id, []),
            now,
            has_customers=key[0] in with_customers,
            has_products=key[0] in with_products,
        )
        if models is not None:
            completed.add(key)
    made = await repository.insert_analysis_rows(
        session, [item.values for item in received.values()]
    )
    on_rows = await repository.analyses_by_pk(
        session,
        [
            made[key].id
            for key, item in received.items()
            if key in made
            and not item.automation_off
            and not item.rules_at_once
            and not uses_llm(item.settings_row)
        ],
    )
    first_runs: list[Dispatch] = []
    completions: list[Emission] = []
    for key, item in received.items():
        written = made.get(key)
        if written is None or item.automation_off:
            continue  # analysed already, or automatic analysis is off
        if item.rules_at_once:
            if key in completed:
                completions.append(_completed(item, written))
        elif uses_llm(item.settings_row):
            dispatches = item.values["dispatches"]
            assert isinstance(dispatches, int)
            first_runs.append(Dispatch(written.id, job_id(written.id, dispatches)))
        else:
            row = on_rows[written.id]
            if item.message.deleted_for_everyone:
                _skip(row, SkipReason.message_deleted, now)
            else:
                await _run_rules(
                    session,
                    row,
                    item.wa,
                    item.message,
                    item.settings_row,
                    now,
                    has_customers=key[0] in with_customers,
                    earlier=earlier.get(item.message.id, []),
                )
    await emit_many(session, completions, actor=AI_ACTOR)
    return first_runs


# The version a row has once written and then changed by its run in the same transaction (as
# the run job leaves it): what its `entityVersion` says.
_RAN_VERSION = 2


async def _rules_values(
    session: AsyncSession,
    item: _Received,
    earlier: Sequence[results.EarlierLine],
    now: datetime,
    *,
    has_customers: bool,
    has_products: bool,
) -> dict[str, Any] | None:
    """The rules' run on a row not yet written: its columns become what `_run_rules` leaves,
    skipped (None) or completed (then the findings' models, to publish)."""
    values, message = item.values, item.message
    values["version"] = _RAN_VERSION
    if message.deleted_for_everyone:
        values.update(_skipped_columns(SkipReason.message_deleted, now))
        return None
    if not (message.text or "").strip():
        values["visual_search"] = _dump(results.not_searched(message.type))
        values.update(_skipped_columns(SkipReason.nothing_to_analyse, now))
        return None
    earlier = [m for m in earlier[:RULES_CONTEXT] if not m.deleted_for_everyone]
    account_id = values["account_id"]
    assert isinstance(account_id, uuid.UUID)
    findings = await results.rules_findings(
        session,
        account_id,
        item.wa,
        message,
        earlier,
        item.settings_row,
        has_customers=has_customers,
        has_products=has_products,
    )
    findings.visual_search = results.not_searched(message.type)
    models = results.findings_models(findings)
    values.update(
        status=AnalysisStatus.processing,
        attempt_count=1,
        started_at=now,
        held_at=None,
        input=results.rules_input(message, earlier, item.settings_row),
    )
    values.update(results.findings_columns(findings, models))
    values.update(_completed_columns(datetime.now(UTC)))
    return models


# What `AnalysisOut` publishes beyond a row's own columns.
_PUBLISHED_COLUMNS = tuple(
    name for name in AnalysisOut.model_fields if name in _COLUMNS and name != "version"
)


# Each published field's name in the row or the run, and its key in the payload.
_PAYLOAD_KEYS = tuple((name, info.alias or name) for name, info in AnalysisOut.model_fields.items())


# How a column's value is written in the JSON dump, by its exact type (a dict lookup: this
# runs for each of the forty fields of every analysis of a batch). Types not listed are JSON
# already (str, numbers, None, the model-valued columns' stored dumps); an enum type is added
# the first time one is met.
_TO_JSON: dict[type, Callable[[Any], Any]] = {uuid.UUID: str, datetime: format_timestamp}
_AS_IS: set[type] = {str, int, float, bool, type(None), dict, list}


def _json_value(value: Any) -> Any:
    """A column's value as `AnalysisOut`'s JSON dump writes it (the model-valued columns are
    stored as that dump already)."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    convert = _TO_JSON.get(kind)
    if convert is None:
        if isinstance(value, enum.Enum):
            convert = _TO_JSON[kind] = _enum_value
        elif isinstance(value, datetime):
            convert = format_timestamp
        elif isinstance(value, uuid.UUID):
            convert = str
        else:
            return value
    return convert(value)


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _completed(item: _Received, written: repository.Written) -> Emission:
    """`ai.analysis.completed` of a row written completed, from the columns it was written
    with: the payload `analysis_out` makes of the row, built straight as JSON values (the
    findings' models were dumped once, for their columns; validating and dumping the whole
    `AnalysisOut` again cost more than the rules themselves). `tests/ai/test_rules_batch.py`
    holds it to the per-row path's validated model. The batch's completions are written by
    one `emit_many` (no ORM event objects)."""
    wa, values = item.wa, item.values
    fields: dict[str, Any] = {name: values[name] for name in _PUBLISHED_COLUMNS}
    fields.update(
        provider_session_id=wa.provider_session_id,
        created_at=written.created_at,
        updated_at=written.updated_at,
        entity_version=str(_RAN_VERSION),
    )
    data = {key: _json_value(fields[name]) for name, key in _PAYLOAD_KEYS}
    return Emission(ANALYSIS_COMPLETED, data, written.account_id, wa.provider_session_id)


# Running ------------------------------------------------------------------------------------


async def _earlier(
    session: AsyncSession, row: AiAnalysis, message: WaMessage, count: int
) -> list[WaMessage]:
    """The chat's messages before this one, newest first."""
    if count <= 0:
        return []
    rows = await message_repository.messages_page(
        session,
        row.session_id,
        row.account_id,
        message.remote_jid,
        after=(message.source_timestamp, message.id),
        limit=count,
        q=None,
        message_type=None,
        labels=None,
    )
    return [m for m in rows[:count] if not m.deleted_for_everyone]


async def _budget_spent(
    session: AsyncSession, account_id: uuid.UUID, settings_row: AccountAiSettings
) -> bool:
    budget = settings_row.monthly_token_budget
    if budget is None:
        return False
    usage = await settings_repository.month_usage(session, account_id, results.this_month())
    return usage is not None and usage.total_tokens >= budget


def _hold_delay(row: AiAnalysis, now: datetime) -> timedelta:
    """Held runs look again after the hold time, doubling while they stay held (finishing
    runs hand their slots on at once, so this is only the fallback)."""
    base = timedelta(seconds=get_settings().ai.hold_seconds)
    waited = now - row.held_at if row.held_at is not None else timedelta(0)
    return min(max(base, waited), MAX_HOLD)


async def _wake_held(
    session: AsyncSession, account_id: uuid.UUID, settings_row: AccountAiSettings | None
) -> list[Dispatch]:
    """Hand the slots free now to the analyses held longest."""
    limit = settings_row.max_concurrent_analyses if settings_row else DEFAULT_CONCURRENCY
    free = limit - await repository.processing_count(session, account_id)
    return [dispatch(row) for row in await repository.take_held(session, account_id, free)]


async def run(analysis_id: uuid.UUID) -> Ran:
    now = datetime.now(UTC)
    async with unit_of_work() as session:
        row = await repository.pending_to_run(session, analysis_id)
        if row is None:
            return Ran("not_pending")
        if row.next_attempt_at is not None and row.next_attempt_at > now + timedelta(seconds=1):
            return Ran("not_due")  # a retry's own deferred job comes later
        message = await message_repository.message_by_pk(session, row.message_pk)
        wa = await session_repository.session_by_id(session, row.session_id)
        if message is None or wa is None or message.deleted_for_everyone:
            _skip(row, SkipReason.message_deleted, now)
            return Ran("skipped")
        settings_row = await settings_repository.settings_of(session, row.account_id)
        text = (message.text or "").strip()
        if not uses_llm(settings_row):
            return await _run_rules(session, row, wa, message, settings_row, now)
        assert settings_row is not None
        if not text and message.type != "image":
            _skip(row, SkipReason.nothing_to_analyse, now)
            return Ran("skipped")
        if await _budget_spent(session, row.account_id, settings_row):
            _skip(row, SkipReason.token_budget_exhausted, now)
            return Ran("skipped")
        await repository.serialize_claims(session, row.account_id)
        if (
            await repository.processing_count(session, row.account_id)
            >= settings_row.max_concurrent_analyses
        ):
            delay = _hold_delay(row, now)
            row.held_at = row.held_at or now
            row.next_attempt_at = now
            return Ran("held", [dispatch(row, defer=delay)])
        question = await _claim(session, row, wa, message, settings_row, now)
    try:
        answer = await results.ask_llm(provider_for(settings_row), question)
    except ProviderError as error:
        return await _record_failure(question, error)
    return await _record_answer(question, answer)


async def _run_rules(
    session: AsyncSession,
    row: AiAnalysis,
    wa: WaSession,
    message: WaMessage,
    settings_row: AccountAiSettings | None,
    now: datetime,
    *,
    has_customers: bool = True,
    earlier: Sequence[results.EarlierLine] | None = None,
) -> Ran:
    """`earlier`: the chat's messages before this one, newest first, when the caller read
    them already (a batch reads every message's at once)."""
    row.provider, row.model = engine_of(settings_row)
    if not (message.text or "").strip():
        # A photo without a caption: the rules cannot look at it.
        row.visual_search = _dump(results.not_searched(message.type))
        _skip(row, SkipReason.nothing_to_analyse, now)
        return Ran("skipped")
    row.status = AnalysisStatus.processing
    row.attempt_count += 1
    row.started_at = now
    row.held_at = None
    context: Sequence[results.EarlierLine]
    if earlier is None:
        context = await _earlier(session, row, message, RULES_CONTEXT)
    else:
        context = [m for m in earlier[:RULES_CONTEXT] if not m.deleted_for_everyone]
    findings = await results.by_rules_now(
        session, row, wa, message, context, settings_row, has_customers=has_customers
    )
    findings.visual_search = results.not_searched(message.type)
    results.apply(row, findings)
    _complete(row, datetime.now(UTC))
    await auto_reply.send_if_enabled(session, row, wa, message, settings_row, findings)
    await session.flush()
    _emit(session, row, wa, failed=False)
    return Ran("completed")


def _dump(value: VisualSearch | None) -> dict[str, object] | None:
    return value.model_dump(mode="json", by_alias=True) if value is not None else None


def _completed_columns(now: datetime) -> dict[str, object]:
    return {
        "status": AnalysisStatus.completed,
        "completed_at": now,
        "failed_at": None,
        "skipped_at": None,
        "next_attempt_at": None,
    }


def _complete(row: AiAnalysis, now: datetime) -> None:
    for name, value in _completed_columns(now).items():
        setattr(row, name, value)


async def _claim(
    session: AsyncSession,
    row: AiAnalysis,
    wa: WaSession,
    message: WaMessage,
    settings_row: AccountAiSettings,
    now: datetime,
) -> results.LlmQuestion:
    """Take the slot and gather what the model will be asked (context, first candidates)."""
    row.status = AnalysisStatus.processing
    row.attempt_count += 1
    row.started_at = now
    row.held_at = None
    row.next_attempt_at = None
    row.provider, row.model = engine_of(settings_row)
    text = (message.text or "").strip()
    earlier = await _earlier(session, row, message, settings_row.context_messages)
    rules = by_rules(text, [m.text for m in earlier if not m.from_me and m.text])
    first_search = await match_products(session, row.account_id, rules.wanted)
    vision_model = settings_row.vision_model or settings_row.model
    row.input = {
        "text": text,
        "messageType": message.type,
        "contextMessages": len(earlier),
        "language": settings_row.language,
        "model": settings_row.model,
        "visionModel": vision_model if message.type == "image" else None,
        "candidates": [str(c.product.id) for c in first_search.candidates],
    }
    return results.LlmQuestion(
        analysis_id=row.id,
        attempt=row.attempt_count,
        account_id=row.account_id,
        model=settings_row.model,
        vision_model=vision_model,
        temperature=settings_row.temperature,
        language=settings_row.language,
        mode=StructuredOutput(settings_row.structured_output)
        if settings_row.structured_output
        else None,
        text=text,
        wa=wa,
        message=message,
        context=[
            ChatLine(not m.from_me, m.text)
            for m in reversed(earlier)
            if m.text and m.type != "reaction"
        ],
        rules=rules,
        candidates=first_search.candidates,
    )


async def _record_answer(question: results.LlmQuestion, answer: results.LlmAnswer) -> Ran:
    async with unit_of_work() as session:
        row = await repository.processing_run(session, question.analysis_id, question.attempt)
        if row is None:
            return Ran("lost")  # the sweeper took the run back; a newer run owns it
        findings = await results.llm_findings(session, row, question, answer)
        results.apply(row, findings)
        final = answer.analysis.final
        row.openai_response_id = final.response_id
        calls = 1 + (1 if answer.photo is not None else 0)
        row.usage = results.usage_record(answer.usage, question.model, calls)
        await results.record_usage(session, row.account_id, answer.usage, question.model, calls)
        if answer.analysis.mode != question.mode:
            await settings_repository.record_structured_output(
                session, row.account_id, answer.analysis.mode
            )
        _complete(row, datetime.now(UTC))
        settings_row = await settings_repository.settings_of(session, row.account_id)
        await auto_reply.send_if_enabled(
            session, row, question.wa, question.message, settings_row, findings
        )
        await session.flush()
        _emit(session, row, question.wa, failed=False)
        return Ran("completed", await _wake_held(session, row.account_id, settings_row))


def retry_delay(attempt: int, retry_after: float | None) -> timedelta:
    """The provider's Retry-After when it gave one, else exponential backoff."""
    config = get_settings().ai
    if retry_after is not None:
        return timedelta(seconds=min(retry_after, 3600.0))
    backoff = config.retry_base_seconds * 2 ** max(attempt - 1, 0)
    return timedelta(seconds=min(backoff, config.retry_max_seconds))


async def _record_failure(question: results.LlmQuestion, error: ProviderError) -> Ran:
    now = datetime.now(UTC)
    async with unit_of_work() as session:
        row = await repository.processing_run(session, question.analysis_id, question.attempt)
        if row is None:
            return Ran("lost")
        record = {**error.as_record(), "attempt": row.attempt_count, "at": now.isoformat()}
        settings_row = await settings_repository.settings_of(session, row.account_id)
        if error.retryable and row.attempt_count < row.max_attempts:
            delay = retry_delay(row.attempt_count, error.retry_after)
            row.status = AnalysisStatus.pending
            row.started_at = None
            row.next_attempt_at = now + delay
            row.last_error = {**record, "retryAt": (now + delay).isoformat()}
            retry = dispatch(row, defer=delay)
            await session.flush()
            return Ran("retry", [retry, *await _wake_held(session, row.account_id, settings_row)])
        row.status = AnalysisStatus.failed
        row.failed_at = now
        row.next_attempt_at = None
        row.last_error = record
        await session.flush()
        _emit(session, row, question.wa, failed=True)
        return Ran("failed", await _wake_held(session, row.account_id, settings_row))


# The sweeper --------------------------------------------------------------------------------

SWEEP_GRACE = timedelta(seconds=30)
SWEEP_BATCH = 200
RECEIVED_WINDOW = timedelta(hours=6)


async def lost_runs(session: AsyncSession) -> list[Dispatch]:
    """Runs to queue again: pending analyses whose job is gone, and runs that outlived their
    lease (the worker died mid-call), which count as a failed attempt."""
    now = datetime.now(UTC)
    lease = timedelta(seconds=get_settings().ai.processing_lease_seconds)
    found: list[Dispatch] = []
    for row in await repository.expired_processing(session, now - lease, SWEEP_BATCH):
        row.last_error = {
            "code": "run_lost",
            "message": "The run did not finish within its lease (its worker stopped).",
            "attempt": row.attempt_count,
            "at": now.isoformat(),
        }
        row.started_at = None
        if row.attempt_count < row.max_attempts:
            row.status = AnalysisStatus.pending
            row.next_attempt_at = now
            found.append(dispatch(row))
        else:
            row.status = AnalysisStatus.failed
            row.failed_at = now
            row.next_attempt_at = None
            wa = await session_repository.session_by_id(session, row.session_id)
            if wa is not None:
                await session.flush()
                _emit(session, row, wa, failed=True)
    for analysis_id, dispatches in await repository.stale_pending(
        session, now - SWEEP_GRACE, now - SWEEP_GRACE, SWEEP_BATCH
    ):
        # The job id it was last queued under: the sweep re-queues it unless Redis has it.
        found.append(Dispatch(analysis_id, job_id(analysis_id, dispatches)))
    return found


async def unconsumed_events(session: AsyncSession) -> list[str]:
    now = datetime.now(UTC)
    return await repository.received_without_analysis(
        session, since=now - RECEIVED_WINDOW, relayed_before=now - SWEEP_GRACE, limit=SWEEP_BATCH
    )
