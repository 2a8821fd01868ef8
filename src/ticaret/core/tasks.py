"""Core jobs: the outbox sweeper."""

from __future__ import annotations

from typing import Any

from ticaret.core.events import sweep_unrelayed


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    return await sweep_unrelayed()
