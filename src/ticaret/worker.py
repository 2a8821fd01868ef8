"""The arq worker: every declared job and sweeper (`ticaret.wiring` loads them), metrics per job."""

from __future__ import annotations

import asyncio
import gc
import logging
import math
from collections.abc import Sequence
from typing import Any, cast

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms
from arq.worker import Function, Worker

from ticaret import wiring
from ticaret.core import queue
from ticaret.core.cache import start_cache_listener, stop_cache_listener
from ticaret.core.db import dispose_engine, init_engine
from ticaret.core.devsecrets import ensure_secrets
from ticaret.core.http import close_http_client, init_http_client
from ticaret.core.jobs import registered_jobs, registered_sweepers
from ticaret.core.observability import configure_logging
from ticaret.settings import get_settings

logger = logging.getLogger("ticaret.worker")

# arq's claim of a queued job (WATCH its in-progress key; EXISTS it; ZSCORE the job; MULTI,
# PSETEX the in-progress key, EXEC) as one atomic script: one round trip instead of three.
# It answers the job's score when claimed, else -1 (another worker runs it, it is gone or it
# is deferred).
_CLAIM_SCRIPT = """
if redis.call('exists', KEYS[1]) == 1 then return -1 end
local score = redis.call('zscore', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return -1 end
redis.call('psetex', KEYS[1], ARGV[3], '1')
return score
"""


# Allocations between the cyclic collector's young-generation passes (Python's default: 700).
WORKER_GC_THRESHOLD = 50_000


class TicaretWorker(Worker):
    """arq's worker with a cheaper poll. Every poll (every 50 ms) hands `start_jobs` the ids
    at the head of the queue, including those this worker is running (a job leaves the queue
    when it ends); arq checks each in Redis again, three round trips a job a poll. Here a job
    this worker runs is passed over without asking Redis (its in-progress key is ours), and
    any other is claimed by one script doing arq's own checks."""

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        for job_id_b in job_ids:
            job_id = job_id_b.decode()
            running = self.tasks.get(job_id)
            if running is not None and not running.done():
                continue
            await self.sem.acquire()
            if self.job_counter >= self.max_jobs:
                self.sem.release()
                return
            self.job_counter += 1
            claimed = await cast(
                Any,
                self.pool.eval(
                    _CLAIM_SCRIPT,
                    2,
                    in_progress_key_prefix + job_id,
                    self.queue_name,
                    job_id,
                    str(timestamp_ms()),
                    str(int(self.in_progress_timeout_s * 1000)),
                ),
            )
            if claimed == -1:
                self.job_counter -= 1
                self.sem.release()
                logger.debug("job %s already running elsewhere", job_id)
                continue
            task = self.loop.create_task(self.run_job(job_id, int(float(claimed))))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task


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
    wiring.load()
    return TicaretWorker(
        functions=[*(declared.arq_function() for declared in registered_jobs()), *extra_functions],
        cron_jobs=[sweeper.arq_cron() for sweeper in registered_sweepers()] if with_cron else None,
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
    init_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        autocommit_pool_size=settings.db_autocommit_pool_size,
    )
    redis = await queue.init_redis(settings.redis_url)
    await start_cache_listener()
    init_http_client()
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port, addr="127.0.0.1")
    worker = build_worker(
        redis,
        max_jobs=settings.worker_max_jobs,
        shutdown_grace_seconds=settings.worker_shutdown_grace_seconds,
    )
    # What is loaded now lives as long as the process: out of the collector's full passes.
    gc.collect()
    gc.freeze()
    # A batch job allocates tens of thousands of short-lived containers (rows, payloads);
    # Python's cyclic collector would run every 700 of them. Every 50,000 it costs a few per
    # cent less CPU per event in the end-to-end bench (the memory that holds is megabytes).
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    logger.info("worker started with %d job(s)", len(registered_jobs()))
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
        await stop_cache_listener()
        await worker.close()
        await close_http_client()
        await queue.close_redis()
        await dispose_engine()
