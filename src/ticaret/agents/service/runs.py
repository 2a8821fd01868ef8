"""An agent run's life, and reading runs.

    pending --> running --> completed          (the reply is posted into the conversation)
       ^           |   \\-> handed_off         (a handoff rule matched; a short note is posted)
       |           |   \\-> max_steps_reached  (no final answer within the agent's steps)
       +- retry ---+   \\-> failed             (the provider failed for good)
    pending/running --> superseded | cancelled (a person answered / AI turned off)

A run is queued by the consumer of `conversation.message.created` (a customer message that
asked for an agent, or arrived where an agent answers on its own) or by the test route. Its
job claims it: the partial unique index "one running run per conversation" is the lock, so
runs of one conversation never overlap, across workers. A run that finds its conversation
taken stays pending; the run that holds it queues the next one when it ends.

No transaction stays open during a model call: claim and load, call, record the step (and run
the tools it asked for, each in a savepoint) in one transaction, call again... Before each
call and before posting, the run checks that it may still answer: a person's reply after the
run's message supersedes it, and `aiEnabled=false` cancels it (unless the run handed the
conversation off itself). The final check and the post run with the conversation row locked,
so a person's reply that commits first is always seen.

A step and the functions it ran commit together, so a run taken up again (its worker died, the
provider asked it to wait) rebuilds its conversation with the model from its recorded steps and
goes on from the next one: no function runs twice. A worker whose lease ran out and whose run
was claimed again records nothing more (each claim counts an attempt; the plan holds its own).

Nothing here queues a job: functions return `Dispatch`es and the job or route queues them.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.agents.errors import AgentNotFound, AgentProviderNotConfigured, AgentRunNotFound
from ticaret.agents.events import RUN_COMPLETED, RUN_FAILED, AgentRunEnded
from ticaret.agents.repository import agents as agents_repository
from ticaret.agents.repository import runs as repository
from ticaret.agents.schemas import FunctionCallOut, RunOut, StepOut, TokenUsage
from ticaret.agents.service import conversations as port
from ticaret.agents.service import prompts
from ticaret.agents.service.tools import ToolContext, call_tool, not_run, tool_specs
from ticaret.ai.providers.base import ChatRequest, ChatResult, ProviderError, Usage
from ticaret.ai.providers.factory import provider_for, uses_llm
from ticaret.ai.repository import settings as settings_repository
from ticaret.ai.service.results import cost_estimate, record_usage, this_month
from ticaret.ai.service.settings import default_settings
from ticaret.conversations.events import MESSAGE_CREATED
from ticaret.conversations.schemas.messages import MessageCreated
from ticaret.core.auth import AccountContext
from ticaret.core.db import unit_of_work
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.events import Actor, emit, events_by_id
from ticaret.core.ids import new_id
from ticaret.models import (
    AccountAiSettings,
    AiAgent,
    AiAgentRun,
    AiAgentRunStep,
    ConversationStatus,
    ConversationType,
    Event,
    MessageRole,
)
from ticaret.models.agents import FINISHED, RunStatus, RunTrigger
from ticaret.settings import get_settings

logger = logging.getLogger("ticaret.agents")

# A run's job may take this long (arq cancels it after); its lease outlives it a little, so a
# run whose worker died frees its conversation once the lease is over.
RUN_TIMEOUT_SECONDS = 300
LEASE = timedelta(seconds=RUN_TIMEOUT_SECONDS + 30)
# Pending runs older than this without a job in Redis are queued again by the sweeper.
SWEEP_GRACE = timedelta(seconds=60)
ENDED_OK = frozenset({RunStatus.completed, RunStatus.handed_off})


@dataclass(frozen=True)
class Dispatch:
    """A run job to queue: the run, the job id it goes under, and when."""

    run_id: uuid.UUID
    job_id: str
    defer: timedelta | None = None


def _job_id(run_id: uuid.UUID) -> str:
    # A fresh id per queueing: arq refuses an id whose earlier job left a result behind.
    return f"run_agent:{run_id}:{time.time_ns() // 1000}"


def _dispatch(run: AiAgentRun, defer: timedelta | None = None) -> Dispatch:
    run.job_id = _job_id(run.id)
    return Dispatch(run.id, run.job_id, defer)


# Starting runs ------------------------------------------------------------------------------


async def start_run(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    agent: AiAgent,
    conversation_id: uuid.UUID,
    trigger: RunTrigger,
    trigger_message_id: uuid.UUID | None,
    trigger_at: datetime,
) -> tuple[AiAgentRun, Dispatch] | None:
    """A pending run for this message; None when the message already has one."""
    run = await repository.add_run(
        session,
        {
            "id": new_id(),
            "account_id": account_id,
            "agent_id": agent.id,
            "conversation_id": conversation_id,
            "trigger": trigger,
            "trigger_message_id": trigger_message_id,
            "trigger_at": trigger_at,
            "status": RunStatus.pending,
            "job_id": "",
        },
    )
    if run is None:
        return None
    dispatch = _dispatch(run)
    await session.flush()
    return run, dispatch


async def _channel_agent(
    session: AsyncSession, conversation: port.ConversationView
) -> AiAgent | None:
    """The agent that answers this conversation's inbox on its own (the oldest, if several)."""
    candidates = await agents_repository.channel_agents(
        session, conversation.account_id, conversation.type
    )
    if not candidates:
        return None
    inbox = await port.inbox_of(session, conversation)
    for agent in candidates:
        for channel in agent.channels:
            if channel.get("type") == conversation.type and channel.get("channelId") in (
                None,
                inbox,
            ):
                return agent
    return None


def _asks_for_agent(event: Event) -> MessageCreated | None:
    """The event's message, when it may start a run: a customer's message, or any message
    whose sender asked an agent to answer (Connect360's `ai.agentId` on a workspace send:
    "can you help this customer?")."""
    if event.type != MESSAGE_CREATED.name:
        return None
    try:
        data = MessageCreated.model_validate(event.data)
    except ValidationError:
        logger.warning("event %s: not a message.created payload; no run", event.id)
        return None
    if data.role != MessageRole.user and data.ai_trigger != "requested":
        return None
    return data


async def consume_messages_created(session: AsyncSession, event_ids: list[str]) -> list[Dispatch]:
    """`conversation.message.created` events (one commit's) -> a run for each message that
    asked for an agent (`aiAgentId`) or arrived where an agent answers on its own. Once per
    message. The common case, an account with no agent on the message's channel, is settled
    by one query for the whole batch."""
    asking = [
        (event, data)
        for event in await events_by_id(session, event_ids)
        if (data := _asks_for_agent(event)) is not None
    ]
    if not asking:
        return []
    channels = await agents_repository.answered_channels(
        session, {event.account_id for event, data in asking if data.ai_agent_id is None}
    )
    dispatches: list[Dispatch] = []
    for event, data in asking:
        if data.ai_agent_id is None and data.conversation_type not in channels.get(
            event.account_id, ()
        ):
            continue  # no agent answers this channel of the account
        started = await _start_for_message(session, event.account_id, data)
        if started is not None:
            dispatches.append(started)
    return dispatches


async def _start_for_message(
    session: AsyncSession, account_id: uuid.UUID, data: MessageCreated
) -> Dispatch | None:
    conversation = await port.load(session, account_id, data.conversation_id)
    if conversation is None:
        return None
    agent: AiAgent | None = None
    trigger = RunTrigger.message
    if data.ai_agent_id is not None:
        agent = await agents_repository.agent(session, account_id, data.ai_agent_id)
        if data.ai_trigger == "auto":
            trigger = RunTrigger.channel
    elif conversation.ai_enabled and conversation.status == ConversationStatus.open:
        agent = await _channel_agent(session, conversation)
        trigger = RunTrigger.channel
    if agent is None:
        return None
    if conversation.type == ConversationType.test:
        trigger = RunTrigger.test
    started = await start_run(
        session,
        account_id=account_id,
        agent=agent,
        conversation_id=conversation.id,
        trigger=trigger,
        trigger_message_id=data.id,
        trigger_at=data.created_at,
    )
    return started[1] if started is not None else None


async def lost_runs(session: AsyncSession) -> list[Dispatch]:
    """Runs whose job Redis lost: pending ones past the grace, running ones past their lease.
    The sweeper queues each under its recorded job id (the job finds a finished or busy run
    and does nothing)."""
    rows = await repository.unfinished_before(session, _now() - SWEEP_GRACE, limit=500)
    return [Dispatch(row.id, row.job_id or _job_id(row.id)) for row in rows]


# Reading runs -------------------------------------------------------------------------------


def _usage(row: AiAgentRun | AiAgentRunStep) -> TokenUsage:
    return TokenUsage(
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        total_tokens=row.total_tokens,
    )


def _step_out(step: AiAgentRunStep) -> StepOut:
    return from_row(
        StepOut,
        step,
        usage=_usage(step),
        function_calls=[FunctionCallOut.model_validate(call) for call in step.function_calls],
    )


def run_out(run: AiAgentRun, steps: list[AiAgentRunStep] | None = None) -> RunOut:
    return from_row(
        RunOut,
        run,
        usage=_usage(run),
        steps=[_step_out(step) for step in steps] if steps is not None else None,
    )


async def get_run(session: AsyncSession, ctx: AccountContext, run_id: uuid.UUID) -> RunOut:
    run = await repository.run(session, ctx.account_id, run_id)
    if run is None:
        raise AgentRunNotFound()
    return run_out(run, await repository.steps_of(session, ctx.account_id, run.id))


async def list_runs(
    session: AsyncSession,
    ctx: AccountContext,
    agent_id: uuid.UUID,
    status: RunStatus | None,
    page: PageParams,
) -> Page[RunOut]:
    if await agents_repository.agent(session, ctx.account_id, agent_id) is None:
        raise AgentNotFound()
    rows = await repository.runs_page(
        session, ctx.account_id, agent_id, status=status, after=page.after_id(), limit=page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda r: [r.id])
    return Page[RunOut](rows=[run_out(r) for r in kept], next_cursor=cursor, has_more=more)


# Running ------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the run needs outside a transaction: the provider, the request, the tools."""

    account_id: uuid.UUID
    model: str
    temperature: float | None
    language: str
    tools: list[str]
    max_steps: int
    messages: list[dict[str, Any]]
    first_position: int = 0
    handoff_keyword: str | None = None
    # The claim this plan is for (the run's `attempts` after it): a worker whose lease ran out
    # and whose run was claimed again must not record anything more.
    attempt: int = 0


@dataclass
class Ran:
    status: str
    dispatches: list[Dispatch] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


async def _stop_reason(
    session: AsyncSession,
    run: AiAgentRun,
    conversation: port.ConversationView | None,
    agent: AiAgent | None,
) -> tuple[RunStatus, str] | None:
    if conversation is None:
        return RunStatus.cancelled, "The conversation was deleted."
    if agent is None:
        return RunStatus.cancelled, "The agent was deleted."
    if not conversation.ai_enabled and not run.handed_off:
        return RunStatus.cancelled, "AI was turned off on the conversation."
    if run.trigger_message_id is not None and await port.operator_replied_after(
        session, conversation, run.trigger_message_id
    ):
        return (
            RunStatus.superseded,
            "A person answered the conversation after the message this run was for.",
        )
    return None


async def _finish(
    session: AsyncSession,
    run: AiAgentRun,
    status: RunStatus,
    reason: str | None,
    *,
    error: dict[str, Any] | None = None,
) -> list[Dispatch]:
    """End the run, emit its event, and hand the conversation to the next pending run."""
    run.status = status
    run.reason = reason
    run.error = error
    run.finished_at = _now()
    run.lease_until = None
    await session.flush()
    if run.step_count:
        # The account's monthly meter, once per run and last in its transaction: the meter's
        # row is shared by every run of the account, so it is held only until the commit.
        usage = Usage(run.prompt_tokens, run.completion_tokens, run.total_tokens)
        await record_usage(session, run.account_id, usage, run.model or "", run.step_count)
    emit(
        session,
        RUN_COMPLETED if status in ENDED_OK else RUN_FAILED,
        AgentRunEnded(
            run_id=run.id,
            agent_id=run.agent_id,
            conversation_id=run.conversation_id,
            trigger=RunTrigger(run.trigger),
            status=status,
            reason=reason,
            step_count=run.step_count,
            total_tokens=run.total_tokens,
            cost=run.cost,
            handed_off=run.handed_off,
            reply_message_id=run.reply_message_id,
        ),
        account_id=run.account_id,
        actor=Actor("ai", str(run.id)),
    )
    following = await repository.next_pending(session, run.conversation_id)
    return [_dispatch(following)] if following is not None else []


async def _account_settings(session: AsyncSession, account_id: uuid.UUID) -> AccountAiSettings:
    row = await settings_repository.settings_of(session, account_id)
    return row if row is not None else default_settings(account_id)


def resolved_model(agent: AiAgent, settings: AccountAiSettings) -> str:
    return agent.model or settings.model


async def _claim(run_id: uuid.UUID) -> tuple[Plan | None, Ran]:
    """Take the run (and its conversation) or say why not; load what the calls need."""
    async with unit_of_work() as session:
        run = await repository.run_by_id(session, run_id, for_update=True)
        if run is None or run.status in FINISHED:
            return None, Ran(run.status if run is not None else "missing")
        conversation = await port.load(
            session, run.account_id, run.conversation_id, with_customer=True
        )
        agent = await agents_repository.agent(session, run.account_id, run.agent_id)
        stop = await _stop_reason(session, run, conversation, agent)
        if stop is not None:
            return None, Ran(stop[0], await _finish(session, run, *stop))
        assert conversation is not None
        if await repository.newer_taken_up(session, run):
            # Its message was written before one that is answered already (the runs were
            # created out of order): answering it now would answer the past.
            reason = "A later message of the customer was answered first."
            return None, Ran(
                RunStatus.superseded,
                await _finish(session, run, RunStatus.superseded, reason),
            )
        now = _now()
        await repository.release_stale(session, run.conversation_id, now)
        # Runs of a conversation answer in the order their messages came: an older one that
        # still waits goes first (whoever ends before it hands the conversation to it).
        if await repository.older_pending(session, run) or not await repository.claim(
            session, run, lease_until=now + LEASE
        ):
            return None, Ran("waiting")
        assert agent is not None
        settings = await _account_settings(session, run.account_id)
        if not uses_llm(settings):
            reason = AgentProviderNotConfigured.default_message
            return None, Ran(
                RunStatus.failed, await _finish(session, run, RunStatus.failed, reason)
            )
        budget = settings.monthly_token_budget
        if budget is not None:
            used = await settings_repository.month_usage(session, run.account_id, this_month())
            if used is not None and used.total_tokens >= budget:
                return None, Ran(
                    RunStatus.failed,
                    await _finish(
                        session,
                        run,
                        RunStatus.failed,
                        "The account's monthly token budget is spent.",
                    ),
                )
        if run.step_count >= agent.max_steps:
            # Taken up again after its last step was recorded (or its steps were lowered).
            reason = (
                f"The agent used its {agent.max_steps} step(s) without a final answer; "
                "nothing was posted."
            )
            return None, Ran(
                RunStatus.max_steps_reached,
                await _finish(session, run, RunStatus.max_steps_reached, reason),
            )
        run.model = resolved_model(agent, settings)
        language = conversation.language or agent.language or settings.language
        history = await port.history(session, conversation, limit=agent.context_messages)
        keyword = prompts.handoff_match(agent.handoff_rules, history)
        plan = Plan(
            account_id=run.account_id,
            model=run.model,
            temperature=agent.temperature
            if agent.temperature is not None
            else settings.temperature,
            language=language,
            tools=list(agent.tools),
            max_steps=agent.max_steps,
            messages=[
                {"role": "system", "content": prompts.system_prompt(agent, conversation, language)},
                *history,
                *replayed(await repository.steps_of(session, run.account_id, run.id)),
            ],
            handoff_keyword=keyword,
            # A run taken up again (its worker died, or the provider asked it to wait) goes on
            # from its next step: the model is shown the steps it took, with their results, so
            # no call it paid for and no function it ran happens twice.
            first_position=run.step_count,
            attempt=run.attempts,
        )
        return plan, Ran(RunStatus.running)


async def _hand_off_at_once(run_id: uuid.UUID, plan: Plan) -> Ran:
    """A handoff rule matched: no model call, the team takes over, the customer is told."""
    async with unit_of_work() as session:
        run, agent, conversation = await _reload(session, run_id, plan.attempt)
        if run is None or agent is None or conversation is None:
            return Ran("missing")
        reason = f"Handoff rule: {plan.handoff_keyword}"
        await port.hand_off(session, conversation, agent, run, reason=reason)
        run.handed_off = True
        note = prompts.handoff_note(plan.language)
        call = {
            "id": "rule",
            "name": "handoff_to_human",
            "arguments": {"reason": reason},
            "result": {"handed_off": True},
            "error": False,
        }
        session.add(
            AiAgentRunStep(
                account_id=run.account_id,
                run_id=run.id,
                position=plan.first_position,
                content=note,
                function_calls=[call],
                finish_reason="handoff_rule",
                model=None,
            )
        )
        run.step_count = plan.first_position + 1
        locked = await port.load(session, run.account_id, run.conversation_id, lock=True)
        assert locked is not None
        message_id = await port.post_reply(
            session,
            locked,
            run,
            {plan.language: note},
            [{k: call[k] for k in ("name", "arguments", "result")}],
        )
        run.reply_message_id = message_id
        return Ran(RunStatus.handed_off, await _finish(session, run, RunStatus.handed_off, reason))


async def _reload(
    session: AsyncSession, run_id: uuid.UUID, attempt: int
) -> tuple[AiAgentRun | None, AiAgent | None, port.ConversationView | None]:
    run = await repository.run_by_id(session, run_id, for_update=True)
    if run is None or run.status != RunStatus.running or run.attempts != attempt:
        return None, None, None
    agent = await agents_repository.agent(session, run.account_id, run.agent_id)
    conversation = await port.load(session, run.account_id, run.conversation_id)
    return run, agent, conversation


def _cost(usage: Usage, model: str) -> tuple[Decimal, str | None]:
    cost = cost_estimate(usage, model)
    if cost is None:
        return Decimal(0), (
            f"No price is configured for the model {model!r} (TICARET_AI__MODEL_PRICES): "
            "its tokens are counted at 0."
        )
    return cost, None


def replayed(steps: list[AiAgentRunStep]) -> list[dict[str, Any]]:
    """The messages a run's recorded steps added to its conversation with the model: each
    step's function calls, as the model asked for them, and their recorded results."""
    messages: list[dict[str, Any]] = []
    for step in steps:
        if not step.function_calls:
            continue
        messages.append(
            {
                "role": "assistant",
                "content": step.content,
                "tool_calls": [
                    {
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": _raw(call["arguments"])},
                    }
                    for call in step.function_calls
                ],
            }
        )
        messages.extend(
            {
                "role": "tool",
                "tool_call_id": call["id"],
                "content": json.dumps(call["result"], ensure_ascii=False, default=str),
            }
            for call in step.function_calls
        )
    return messages


def _raw(arguments: Any) -> str:
    # Recorded parsed when they were JSON, as sent when they were not.
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def _assistant_message(result: ChatResult) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.content}
    if result.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in result.tool_calls
        ]
    return message


async def _failed_call(run_id: uuid.UUID, attempt: int, error: ProviderError) -> Ran:
    async with unit_of_work() as session:
        run = await repository.run_by_id(session, run_id, for_update=True)
        if run is None or run.status != RunStatus.running or run.attempts != attempt:
            return Ran("missing")
        config = get_settings().ai
        if error.retryable and run.attempts < config.max_attempts:
            wait = error.retry_after
            if wait is None:
                wait = min(
                    config.retry_base_seconds * 2 ** (run.attempts - 1), config.retry_max_seconds
                )
            run.status = RunStatus.pending
            run.lease_until = None
            run.error = error.as_record()
            return Ran(RunStatus.pending, [_dispatch(run, timedelta(seconds=wait))])
        return Ran(
            RunStatus.failed,
            await _finish(
                session,
                run,
                RunStatus.failed,
                f"The AI provider failed: {error.message}",
                error=error.as_record(),
            ),
        )


async def _record_step(
    run_id: uuid.UUID, plan: Plan, position: int, result: ChatResult
) -> tuple[Ran | None, list[dict[str, Any]]]:
    """Record one model answer, run the functions it asked for, and post the reply when it is
    final. Returns the run's end (or None to go on) and the messages to add for the next call."""
    async with unit_of_work() as session:
        run, agent, conversation = await _reload(session, run_id, plan.attempt)
        if run is None:
            return Ran("missing"), []
        model = result.model or plan.model
        cost, note = _cost(result.usage, model)
        # What the model said and spent is recorded whatever happens next.
        step = AiAgentRunStep(
            account_id=run.account_id,
            run_id=run.id,
            position=position,
            content=result.content,
            function_calls=[],
            finish_reason=result.finish_reason,
            response_id=result.response_id,
            model=result.model,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            total_tokens=result.usage.total_tokens,
            cost=cost,
            latency_ms=result.latency_ms,
        )
        session.add(step)
        run.step_count = position + 1
        run.prompt_tokens += result.usage.prompt_tokens
        run.completion_tokens += result.usage.completion_tokens
        run.total_tokens += result.usage.total_tokens
        run.cost += cost
        run.cost_note = note or run.cost_note
        run.lease_until = _now() + LEASE
        stop = await _stop_reason(session, run, conversation, agent)
        if stop is not None:
            if conversation is not None:
                await port.add_cost(session, conversation, run.cost)
            return Ran(stop[0], await _finish(session, run, *stop)), []
        assert conversation is not None and agent is not None
        if not result.tool_calls:
            return await _post(session, run, agent, plan, result), []
        last = position + 1 >= plan.max_steps
        calls: list[dict[str, Any]] = []
        follow_up: list[dict[str, Any]] = [_assistant_message(result)]
        context = ToolContext(session, run.account_id, agent, run, conversation)
        for index, call in enumerate(result.tool_calls):
            if last:
                # The run ends here: nothing it asked for on its last step is done.
                outcome = not_run(call.arguments, "The agent has no step left to use the result.")
            else:
                # Recorded in this step, in this transaction, with the function's effects:
                # a run taken up again replays the step instead of calling it again.
                keyed = replace(context, call_key=f"{position}:{index}")
                outcome = await call_tool(keyed, plan.tools, call.name, call.arguments)
            calls.append(
                {
                    "id": call.id,
                    "name": call.name,
                    "arguments": outcome.arguments,
                    "result": outcome.result,
                    "error": outcome.error,
                }
            )
            follow_up.append(outcome.as_tool_message(call.id))
        step.function_calls = calls
        if last:
            reason = (
                f"The agent used its {plan.max_steps} step(s) without a final answer; "
                "nothing was posted."
            )
            await port.add_cost(session, conversation, run.cost)
            return Ran(
                RunStatus.max_steps_reached,
                await _finish(session, run, RunStatus.max_steps_reached, reason),
            ), []
        return None, follow_up


async def _post(
    session: AsyncSession, run: AiAgentRun, agent: AiAgent, plan: Plan, result: ChatResult
) -> Ran:
    """The final answer: with the conversation locked, check once more and post it."""
    conversation = await port.load(session, run.account_id, run.conversation_id, lock=True)
    stop = await _stop_reason(session, run, conversation, agent)
    if stop is not None:
        if conversation is not None:
            await port.add_cost(session, conversation, run.cost)
        return Ran(stop[0], await _finish(session, run, *stop))
    assert conversation is not None
    text = (result.content or "").strip()
    if not text:
        await port.add_cost(session, conversation, run.cost)
        reason = f"The model gave no answer (finish reason {result.finish_reason!r})."
        return Ran(RunStatus.failed, await _finish(session, run, RunStatus.failed, reason))
    steps = await repository.steps_of(session, run.account_id, run.id)
    function_calls = [
        {"name": call["name"], "arguments": call["arguments"], "result": call["result"]}
        for step in steps
        for call in step.function_calls
    ]
    run.reply_message_id = await port.post_reply(
        session, conversation, run, {plan.language: text}, function_calls
    )
    return Ran(RunStatus.completed, await _finish(session, run, RunStatus.completed, None))


async def execute(run_id: uuid.UUID) -> Ran:
    """The run job's body: claim, then model → tools → model up to the agent's steps."""
    plan, ran = await _claim(run_id)
    if plan is None:
        return ran
    if plan.handoff_keyword is not None:
        return await _hand_off_at_once(run_id, plan)
    async with unit_of_work() as session:
        settings = await _account_settings(session, plan.account_id)
        provider = provider_for(settings)
    specs = tool_specs(plan.tools)
    messages = list(plan.messages)
    for position in range(plan.first_position, plan.max_steps):
        try:
            result = await provider.chat(
                ChatRequest(
                    model=plan.model,
                    messages=messages,
                    temperature=plan.temperature,
                    tools=specs,
                )
            )
        except ProviderError as error:
            return await _failed_call(run_id, plan.attempt, error)
        ended, follow_up = await _record_step(run_id, plan, position, result)
        if ended is not None:
            return ended
        messages.extend(follow_up)
    raise AssertionError("the last step ends the run")  # pragma: no cover
