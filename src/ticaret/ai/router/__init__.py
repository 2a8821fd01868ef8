"""The AI domain's HTTP surface: `/ai/settings` and, under `/wa`, each message's analysis,
its retry, operator feedback and the order made from it."""

from __future__ import annotations

from fastapi import APIRouter

from ticaret.ai.router import actions, analyses, feedback, settings

router = APIRouter()
for area in (settings, analyses, feedback, actions):
    router.include_router(area.router)
