"""Operator feedback on analyses."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import AiAnalysisFeedback


async def add_feedback(session: AsyncSession, feedback: AiAnalysisFeedback) -> None:
    session.add(feedback)
    await session.flush()
