"""The agents' HTTP surface: `/ai/agents` (CRUD, test chat, runs) and `/ai/runs/{runId}`."""

from __future__ import annotations

from fastapi import APIRouter

from ticaret.agents.router import agents, runs

router = APIRouter()
for area in (agents, runs):
    router.include_router(area.router)
