"""The sweeps and claims that filter on a status find their rows through the status's partial
index in every plan PostgreSQL may choose, generic plans included.

asyncpg prepares each statement, and after five runs on a connection PostgreSQL may switch the
statement to a generic plan, made without the bound values. A partial index (`WHERE status =
'pending'`) is usable only when the statement proves its predicate: with `status = $1` a
generic plan cannot, and the sweep reads the whole table. Each repository function here runs as
the application runs it (through an `AsyncSession` on asyncpg), with the generic plan forced
and `auto_explain` sending the executed plan back as a notice. Sequential scans are switched
off, so that the only question is whether the partial index is usable: a statement that binds
the status falls back to a sequential scan (or another, larger index) even then.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from tests.helpers import Servers

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ACCOUNT = uuid.uuid4()


@dataclass(frozen=True)
class Sweep:
    """A repository call, the partial index it must read (`|` between two that both serve)
    and the table it must not scan."""

    run: Callable[[AsyncSession], Awaitable[Any]]
    index: str
    table: str


def _sweeps() -> dict[str, Sweep]:
    from ticaret.agents.repository import runs
    from ticaret.ai.repository import analyses
    from ticaret.catalog.repository import imports
    from ticaret.core import inbox
    from ticaret.crm.repository import customers
    from ticaret.notifications import repository as emails
    from ticaret.social.repository import operations as meta_operations
    from ticaret.wa.repository import operations as wa_operations
    from ticaret.webhooks import repository as webhooks

    hour = timedelta(hours=1)

    async def raw_connection(session: AsyncSession) -> Any:
        return (await (await session.connection()).get_raw_connection()).driver_connection

    async def stranded_scopes(session: AsyncSession) -> Any:
        # A `RawQuery`: run on the asyncpg connection itself, as `drain_inboxes` runs it.
        return await inbox._STRANDED_SCOPES.fetch(
            await raw_connection(session), before=NOW, limit=10
        )

    return {
        # The inbox's, fixed first (`_WAITING_STATUS`): kept here so they stay fixed.
        # Both partial indexes of waiting items serve; which one a tiny table's plan takes
        # depends on whether autovacuum has analysed it yet (a real inbox's takes the first).
        "inbox.claim_batch": Sweep(
            lambda s: s.execute(inbox._CLAIM_BATCH, {"source": "wa", "scope": "x", "limit": 100}),
            "ix_inbox_items_waiting|ix_inbox_items_received",
            "inbox_items",
        ),
        "inbox.stranded_scopes": Sweep(
            stranded_scopes, "ix_inbox_items_received|ix_inbox_items_waiting", "inbox_items"
        ),
        "webhooks.overdue_deliveries": Sweep(
            lambda s: webhooks.overdue_deliveries(s, NOW, 100),
            "ix_webhook_deliveries_due",
            "webhook_deliveries",
        ),
        "webhooks.held_delivery_ids": Sweep(
            lambda s: webhooks.held_delivery_ids(s, ACCOUNT, uuid.uuid4(), 100),
            "ix_webhook_deliveries_held",
            "webhook_deliveries",
        ),
        "webhooks.webhooks_with_unreleased_holds": Sweep(
            lambda s: webhooks.webhooks_with_unreleased_holds(s, NOW),
            "ix_webhook_deliveries_held",
            "webhook_deliveries",
        ),
        "ai.processing_count": Sweep(
            lambda s: analyses.processing_count(s, ACCOUNT),
            "ix_ai_analyses_processing",
            "ai_analyses",
        ),
        "ai.take_held": Sweep(
            lambda s: analyses.take_held(s, ACCOUNT, 10),
            "ix_ai_analyses_held",
            "ai_analyses",
        ),
        "ai.stale_pending": Sweep(
            lambda s: analyses.stale_pending(s, NOW, NOW, 100),
            "ix_ai_analyses_pending",
            "ai_analyses",
        ),
        "ai.expired_processing": Sweep(
            lambda s: analyses.expired_processing(s, NOW, 100),
            "ix_ai_analyses_processing",
            "ai_analyses",
        ),
        "agents.release_stale": Sweep(
            lambda s: runs.release_stale(s, uuid.uuid4(), NOW),
            "uq_ai_agent_runs_one_running",
            "ai_agent_runs",
        ),
        "agents.unfinished_before": Sweep(
            lambda s: runs.unfinished_before(s, NOW, 100),
            "ix_ai_agent_runs_unfinished",
            "ai_agent_runs",
        ),
        "emails.stale_pending_ids": Sweep(
            lambda s: emails.stale_pending_ids(s, NOW, 100),
            "ix_outgoing_emails_pending",
            "outgoing_emails",
        ),
        "catalog.open_imports_idle_since": Sweep(
            lambda s: imports.open_imports_idle_since(s, NOW, 100),
            "ix_catalog_imports_open",
            "catalog_imports",
        ),
        "wa.requeue_lost": Sweep(
            lambda s: wa_operations.requeue_lost(s, NOW, queued_for=hour, limit=100),
            "ix_wa_message_operations_pending",
            "wa_message_operations",
        ),
        "wa.stuck_sending": Sweep(
            lambda s: wa_operations.stuck_sending(s, NOW, sending_for=hour, limit=100),
            "ix_wa_message_operations_pending",
            "wa_message_operations",
        ),
        "social.lost": Sweep(
            lambda s: meta_operations.lost(s, NOW, hour, hour),
            "ix_meta_operations_pending",
            "meta_operations",
        ),
        "crm.open_task_counts": Sweep(
            lambda s: customers.open_task_counts(s, ACCOUNT, [uuid.uuid4(), uuid.uuid4()]),
            "ix_crm_tasks_open",
            "crm_tasks",
        ),
        "crm.customers_page(hasOpenTasks)": Sweep(
            lambda s: customers.customers_page(
                s, ACCOUNT, customers.CustomerFilter(has_open_tasks=True), after=None, limit=20
            ),
            "ix_crm_tasks_open",
            "crm_tasks",
        ),
    }


SWEEPS = list(_sweeps())


@pytest.fixture(scope="module")
async def generic_plans(servers: Servers) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """Runs a sweep on a connection of its own, under a forced generic plan, and returns the
    plan PostgreSQL executed."""
    from ticaret.core.db import to_async_url

    # A connection of its own (no pool): the settings below die with it.
    engine = create_async_engine(to_async_url(servers.database_url), poolclass=NullPool)
    sweeps = _sweeps()

    async def plan_of(name: str) -> str:
        notices: list[str] = []
        async with AsyncSession(engine) as session:
            conn = await session.connection()
            raw = await conn.get_raw_connection()
            raw.driver_connection.add_log_listener(  # type: ignore[union-attr]
                lambda _conn, message: notices.append(message.message)
            )
            try:
                await session.execute(text("LOAD 'auto_explain'"))
            except DBAPIError as error:  # an outside test database, without a superuser
                if "permission denied" not in str(error):
                    raise
                pytest.skip("LOAD 'auto_explain' needs a superuser")
            for setting in (
                "SET LOCAL plan_cache_mode = force_generic_plan",
                "SET LOCAL enable_seqscan = off",
                "SET LOCAL auto_explain.log_min_duration = 0",
                "SET LOCAL auto_explain.log_level = notice",
            ):
                await session.execute(text(setting))
            await sweeps[name].run(session)
            await session.rollback()
        await asyncio.sleep(0)  # asyncpg hands notices to listeners on the next loop turn
        plans = [notice for notice in notices if "Query Text:" in notice]
        assert plans, f"no plan came back for {name}: {notices}"
        return "\n".join(plans)

    yield plan_of
    await engine.dispose()


@pytest.mark.parametrize("name", SWEEPS)
async def test_the_generic_plan_reads_the_partial_index(
    generic_plans: Callable[[str], Awaitable[str]], name: str
) -> None:
    sweep = _sweeps()[name]
    plan = await generic_plans(name)
    assert re.search(rf"Scan (?:Backward )?(?:using|on) (?:{sweep.index})\b", plan), plan
    assert f"Seq Scan on {sweep.table}" not in plan, plan
