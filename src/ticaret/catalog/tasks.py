"""The catalog's jobs: writing a large import, and finding imports whose job was lost."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.catalog.repository import imports as repository
from ticaret.catalog.service.import_run import run_import
from ticaret.core.jobs import JobContext, Lost, cron_job, job, requeue_lost
from ticaret.settings import get_settings

# An import that is queued or running yet has not moved this long lost its job (a chunk
# commits its progress every few seconds even on a slow machine).
IDLE_BEFORE_REQUEUE = timedelta(minutes=5)


def import_job_id(import_id: uuid.UUID | str) -> str:
    return f"catalog_import:{import_id}"


@job("run_product_import", max_tries=5, timeout=3600)
async def run_product_import(ctx: JobContext, import_id: str) -> str:
    return await run_import(uuid.UUID(import_id), get_settings())


async def _idle_imports(session: AsyncSession) -> list[Lost]:
    ids = await repository.open_imports_idle_since(
        session, datetime.now(UTC) - IDLE_BEFORE_REQUEUE, 100
    )
    return [Lost(str(import_id), import_job_id(import_id)) for import_id in ids]


@cron_job("sweep_product_imports", second={40})
async def sweep_product_imports(ctx: JobContext) -> int:
    return await requeue_lost(run_product_import, _idle_imports)
