"""The arq worker: every domain's jobs, the sweepers, metrics per job."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from arq import Retry, cron
from arq.connections import ArqRedis
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker, func

from ticaret.core import queue
from ticaret.core.db import dispose_engine, init_engine
from ticaret.core.devsecrets import ensure_secrets
from ticaret.core.http import close_http_client, init_http_client
from ticaret.core.observability import JOB_LATENCY, JOBS, configure_logging
from ticaret.core.tasks import sweep_outbox
from ticaret.notifications.tasks import send_email, sweep_pending_emails
from ticaret.settings import get_settings
from ticaret.wa.tasks import (
    deliver_sandbox_webhook,
    perform_wa_operation,
    process_wa_inbox_event,
    purge_idempotency_keys,
    sweep_wa_inbox,
    sweep_wa_operations,
)
from ticaret.webhooks.tasks import (
    deliver_webhook,
    fan_out_event,
    release_held_deliveries,
    sweep_webhook_deliveries,
)

logger = logging.getLogger("ticaret.worker")

JobFunction = Callable[..., Awaitable[Any]]

# Every domain adds its jobs here (ids in, re-read state, idempotent).
JOBS_FUNCTIONS: list[JobFunction] = [
    send_email,
    fan_out_event,
    deliver_webhook,
    release_held_deliveries,
    process_wa_inbox_event,
    perform_wa_operation,
    deliver_sandbox_webhook,
]


def instrumented(fn: JobFunction) -> WorkerCoroutine:
    name = fn.__name__

    @functools.wraps(fn)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = await fn(ctx, *args, **kwargs)
        except Retry:
            JOBS.labels(name, "retry").inc()
            raise
        except Exception:
            JOBS.labels(name, "failure").inc()
            raise
        finally:
            JOB_LATENCY.labels(name).observe(time.perf_counter() - started)
        JOBS.labels(name, "success").inc()
        return result

    return cast(WorkerCoroutine, run)


def job_functions() -> list[Function]:
    return [func(instrumented(fn), name=fn.__name__, max_tries=8) for fn in JOBS_FUNCTIONS]


def cron_jobs() -> list[CronJob]:
    return [
        cron(
            instrumented(sweep_outbox),
            name="sweep_outbox",
            second=set(range(0, 60, 10)),
            unique=True,
        ),
        cron(
            instrumented(sweep_pending_emails),
            name="sweep_pending_emails",
            second={30},
            unique=True,
        ),
        cron(
            instrumented(sweep_webhook_deliveries),
            name="sweep_webhook_deliveries",
            second={15, 45},
            unique=True,
        ),
        cron(
            instrumented(sweep_wa_inbox),
            name="sweep_wa_inbox",
            second={15, 45},
            unique=True,
        ),
        cron(
            instrumented(sweep_wa_operations),
            name="sweep_wa_operations",
            second={5, 35},
            unique=True,
        ),
        cron(
            instrumented(purge_idempotency_keys),
            name="purge_idempotency_keys",
            minute={7},
            second={0},
            unique=True,
        ),
    ]


def build_worker(
    redis: ArqRedis,
    *,
    burst: bool = False,
    with_cron: bool = True,
    extra_functions: Sequence[Function] = (),
    max_jobs: int = 50,
    shutdown_grace_seconds: float = 0,
) -> Worker:
    """A worker on an existing pool (tests run it in-process in burst mode).

    On SIGTERM/SIGINT it stops taking jobs and waits up to `shutdown_grace_seconds` for the
    running ones; whatever still runs then is cancelled and queued again (jobs are idempotent).
    Cutting a job short on the signal instead could leave its side effect done but unrecorded
    (a mail sent, its row still pending, sent again later).
    """
    return Worker(
        functions=[*job_functions(), *extra_functions],
        cron_jobs=cron_jobs() if with_cron else None,
        redis_pool=redis,
        queue_name=queue.QUEUE_NAME,
        burst=burst,
        # arq starts new jobs only when it polls: at 0.5 s one worker would top out near
        # max_jobs / 0.5 jobs per second however fast the jobs are (webhooks: two per delivery).
        poll_delay=0.05,
        handle_signals=not burst,
        job_completion_wait=math.ceil(shutdown_grace_seconds),
        max_jobs=max_jobs,
        job_timeout=300,
        keep_result=3600,
    )


async def run_worker() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.json_logs)
    ensure_secrets(settings)
    init_engine(settings.database_url, pool_size=settings.db_pool_size)
    redis = await queue.init_redis(settings.redis_url)
    init_http_client()
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port, addr="127.0.0.1")
    worker = build_worker(redis, shutdown_grace_seconds=settings.worker_shutdown_grace_seconds)
    logger.info("worker started with %d job(s)", len(JOBS_FUNCTIONS))
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        # arq cancels its main task once the running jobs are done (or the grace period is
        # over) after SIGINT/SIGTERM: that is a normal stop.
        logger.info(
            "worker stopped: %d job(s) done, %d retried or handed back",
            worker.jobs_complete,
            worker.jobs_retried,
        )
    finally:
        await worker.close()
        await close_http_client()
        await queue.close_redis()
        await dispose_engine()
