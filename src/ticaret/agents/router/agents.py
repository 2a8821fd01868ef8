"""`/ai/agents`: an account's AI agents (admins shape them; everyone reads them) and their
test chat."""

from __future__ import annotations

from fastapi import APIRouter, status

from ticaret.agents.router.deps import AgentId
from ticaret.agents.schemas import (
    AgentCreate,
    AgentOut,
    AgentTest,
    AgentTestOut,
    AgentUpdate,
    Deleted,
)
from ticaret.agents.service import agents as service
from ticaret.agents.tasks import queue_runs_after_commit
from ticaret.core.db import DbSession
from ticaret.core.deps import Admin, Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version

router = APIRouter(prefix="/ai/agents", tags=["AI agents"])


@router.get(
    "",
    summary="List the account's AI agents",
    description="AI agent listesini getirir (newest first, cursor pages).",
    response_model=Envelope[Page[AgentOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_agents(ctx: Viewer, session: DbSession, page: Paging) -> Envelope[Page[AgentOut]]:
    return ok(await service.list_agents(session, ctx, page))


@router.post(
    "",
    summary="Create an AI agent (admin)",
    description="AI agent oluşturur. `model`, `temperature` and `language` left null follow "
    "the account's AI settings. `channels` (default none) are where it answers customers on "
    "its own; elsewhere it answers only a send that asks for it (`ai.agentId`). Tools are "
    "OpenAI functions: search_products, get_product, check_stock, create_order_draft, "
    "get_order_status, lookup_customer, handoff_to_human.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[AgentOut],
    responses=error_responses(401, 403, 404, 422),
)
async def create_agent(body: AgentCreate, ctx: Admin, session: DbSession) -> Envelope[AgentOut]:
    return ok(await service.create_agent(session, ctx, body))


@router.get(
    "/{agentId}",
    summary="Get an AI agent",
    description="AI agent detayını getirir; `resolvedModel` is the model a run would use now.",
    response_model=Envelope[AgentOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_agent(agent_id: AgentId, ctx: Viewer, session: DbSession) -> Envelope[AgentOut]:
    return ok(await service.get_agent(session, ctx, agent_id))


@router.patch(
    "/{agentId}",
    summary="Change an AI agent (admin)",
    description="AI agent günceller. Fields left out keep their value; null puts model, "
    "temperature and language back to the AI settings' and clears the handoff group. "
    "`entityVersion` (or If-Match) guards against lost updates.",
    response_model=Envelope[AgentOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_agent(
    agent_id: AgentId,
    body: AgentUpdate,
    ctx: Admin,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[AgentOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_agent(session, ctx, agent_id, body, version))


@router.delete(
    "/{agentId}",
    summary="Delete an AI agent (admin)",
    description="AI agent siler (soft delete): its runs stay readable, runs not started yet "
    "are cancelled.",
    response_model=Envelope[Deleted],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_agent(agent_id: AgentId, ctx: Admin, session: DbSession) -> Envelope[Deleted]:
    await service.delete_agent(session, ctx, agent_id)
    return ok(Deleted(deleted=True))


@router.post(
    "/{agentId}/test",
    summary="Test chat: a customer message to the agent in a `test` conversation",
    description="Agent test sohbeti. Creates a `test` conversation (or goes on with "
    "`conversationId`), posts `content` as the customer's and queues a run: 202 with the "
    "pending run; follow it at `GET /ai/runs/{runId}` and read the answer in the "
    "conversation's history.",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Envelope[AgentTestOut],
    responses=error_responses(401, 403, 404, 422),
)
async def test_agent(
    agent_id: AgentId, body: AgentTest, ctx: Agent, session: DbSession
) -> Envelope[AgentTestOut]:
    answer, dispatch = await service.test_agent(session, ctx, agent_id, body)
    queue_runs_after_commit(session, [dispatch])
    return ok(answer)
