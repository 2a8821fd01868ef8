"""An agent's runs and one run with every step."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ticaret.agents.router.deps import AgentId, RunId
from ticaret.agents.schemas import RunOut
from ticaret.agents.service import runs as service
from ticaret.core.db import DbSession
from ticaret.core.deps import Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.models.agents import RunStatus

router = APIRouter(tags=["AI agents"])


@router.get(
    "/ai/agents/{agentId}/runs",
    summary="An agent's runs, newest first",
    description="Agent çalıştırmalarını listeler: status, reason, tokens and cost of each "
    "(the steps are in the run's detail).",
    response_model=Envelope[Page[RunOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_runs(
    agent_id: AgentId,
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    status: Annotated[RunStatus | None, Query(description="Only runs in this status.")] = None,
) -> Envelope[Page[RunOut]]:
    return ok(await service.list_runs(session, ctx, agent_id, status, page))


@router.get(
    "/ai/runs/{runId}",
    summary="One agent run with every step",
    description="Agent çalıştırma detayı: each step's content, function calls (name, "
    "arguments, result), tokens and cost.",
    response_model=Envelope[RunOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_run(run_id: RunId, ctx: Viewer, session: DbSession) -> Envelope[RunOut]:
    return ok(await service.get_run(session, ctx, run_id))
