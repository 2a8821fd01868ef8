"""Declared jobs: a job is named once, on its function, with its tries and its timeout.

    @job("send_email", max_tries=6, timeout=60)
    async def send_email(ctx: JobContext, email_id: str) -> str: ...

    send_email.options(job_id=f"email:{email.id}").after_commit(session, str(email.id))

The decorator registers the job; the worker builds its function list from the registry
(`ticaret.wiring` imports every domain's tasks so both processes see the same jobs). Producers
hold the `Job` object, never its name: `enqueue` and `after_commit` take exactly the job's own
arguments (a `ParamSpec`), so mypy checks every call site. `after_commit` queues once the
session's transaction commits and drops the job on rollback.

Sweepers are `cron_job`s. Each finds rows whose job was lost (Redis restarted, a worker died)
and hands them to `requeue_lost`, which queues them again unless Redis still holds the job.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast

from arq import Retry
from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.cron import CronJob, cron
from arq.jobs import serialize_job
from arq.typing import WorkerCoroutine
from arq.worker import Function, func
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import after_commit, unit_of_work
from ticaret.core.observability import JOB_LATENCY, JOBS
from ticaret.core.queue import QUEUE_NAME, get_redis

logger = logging.getLogger("ticaret.jobs")

P = ParamSpec("P")
R = TypeVar("R")

# What arq hands every job first: the worker's context (redis pool, job id, try number).
JobContext = dict[str, Any]
JobFunction = Callable[Concatenate[JobContext, P], Awaitable[R]]

# How long arq keeps the result of an outbox consumer's batch job (one per relayed commit, many
# a second): a minute, not the worker's hour, so Redis does not hold an hour of them. The job's
# id dedupes it while it is queued or running (its job key), and the kept result a minute more;
# a redelivery after that runs it again, which changes nothing (consumers are idempotent).
CONSUMER_KEEP_RESULT = 60

_jobs: dict[str, Job[Any, Any]] = {}
_crons: dict[str, Sweeper] = {}


def instrumented(name: str, fn: Callable[..., Awaitable[Any]]) -> WorkerCoroutine:
    """Count every run by outcome and time it (the worker's Prometheus metrics)."""

    @functools.wraps(fn)
    async def run(ctx: JobContext, *args: Any, **kwargs: Any) -> Any:
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


# arq's own `enqueue_job` (WATCH the job key; EXISTS job key or result key; MULTI, PSETEX the
# job, ZADD the queue, EXEC) is three round trips. This script does the same in one: Redis runs
# it atomically, so no other producer can slip between the check and the write, and the job
# keeps arq's keys and format (arq's worker runs it as one of its own). The queue entry is
# written first: a script that fails midway is not undone, and a job key left without its
# queue entry would refuse the job's id until the key expired.
_ENQUEUE_SCRIPT = """
if redis.call('exists', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('zadd', KEYS[3], ARGV[3], ARGV[4])
redis.call('psetex', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


def enqueue_command(
    redis: ArqRedis,
    function: str,
    job_id: str | None,
    defer_by: timedelta | None,
    args: Sequence[Any],
    kwargs: dict[str, Any],
) -> tuple[Any, ...]:
    """The EVAL arguments that queue `function(*args, **kwargs)` as arq would, under `job_id`
    (a random one when None), unless arq holds a job or a kept result under it."""
    job_id = job_id or uuid.uuid4().hex
    now_ms = int(time.time() * 1000)
    score = now_ms + (int(defer_by.total_seconds() * 1000) if defer_by else 0)
    # arq's default expiry: a job not started within a day (plus its deferral) is dropped.
    expires_ms = score - now_ms + redis.expires_extra_ms
    payload = serialize_job(
        function, tuple(args), kwargs, None, now_ms, serializer=redis.job_serializer
    )
    return (
        _ENQUEUE_SCRIPT,
        3,
        job_key_prefix + job_id,
        result_key_prefix + job_id,
        redis.default_queue_name or QUEUE_NAME,
        expires_ms,
        payload,
        score,
        job_id,
    )


@dataclass(frozen=True)
class Scheduled(Generic[P]):
    """A job with its queueing options, ready to be queued with the job's own arguments."""

    job: Job[P, Any]
    job_id: str | None = None
    defer_by: timedelta | None = None

    async def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Queue now; False when arq already holds a job (or its result) under `job_id`."""
        redis = get_redis()
        command = enqueue_command(redis, self.job.name, self.job_id, self.defer_by, args, kwargs)
        queued = await cast(Awaitable[int], redis.eval(*command))
        return bool(queued)

    def queue_on(self, pipe: Any, *args: P.args, **kwargs: P.kwargs) -> None:
        """Add the queueing to a Redis pipeline (its reply: 1 queued, 0 held already), so a
        producer queueing several jobs pays one round trip for all of them."""
        pipe.eval(
            *enqueue_command(get_redis(), self.job.name, self.job_id, self.defer_by, args, kwargs)
        )

    def after_commit(self, session: AsyncSession, *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue once `session` commits; nothing is queued on rollback.

        Jobs take ids and re-read state, so a job queued for a row that a sweeper also
        re-queues runs idempotently; `job_id` stops arq from holding two copies at once.
        """

        async def _enqueue() -> None:
            await self.enqueue(*args, **kwargs)

        after_commit(session, _enqueue)


@dataclass(frozen=True)
class Job(Generic[P, R]):
    name: str
    fn: JobFunction[P, R]
    max_tries: int
    timeout: timedelta
    # Seconds arq keeps the result (None: the worker's default). 0 lets the same job id be
    # queued again as soon as a run ends.
    keep_result: float | None = None

    async def __call__(self, ctx: JobContext, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self.fn(ctx, *args, **kwargs)

    def options(
        self, *, job_id: str | None = None, defer_by: timedelta | None = None
    ) -> Scheduled[P]:
        return Scheduled(self, job_id, defer_by)

    async def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        return await Scheduled(self).enqueue(*args, **kwargs)

    def after_commit(self, session: AsyncSession, *args: P.args, **kwargs: P.kwargs) -> None:
        Scheduled(self).after_commit(session, *args, **kwargs)

    def arq_function(self) -> Function:
        return func(
            instrumented(self.name, self.fn),
            name=self.name,
            max_tries=self.max_tries,
            timeout=self.timeout,
            keep_result=self.keep_result,
        )


def job(
    name: str, *, max_tries: int = 5, timeout: float = 300, keep_result: float | None = None
) -> Callable[[JobFunction[P, R]], Job[P, R]]:
    """Declare `fn` as the job `name`: arq runs it at most `max_tries` times (a `Retry` or a
    worker that died mid-run count as tries) and cancels a run after `timeout` seconds."""

    def declare(fn: JobFunction[P, R]) -> Job[P, R]:
        if name in _jobs:
            raise ValueError(f"job {name!r} is declared twice")
        declared = Job(name, fn, max_tries, timedelta(seconds=timeout), keep_result)
        _jobs[name] = declared
        return declared

    return declare


@dataclass(frozen=True)
class Sweeper:
    """A periodic job (arq cron); one run at a time across every worker."""

    name: str
    fn: Callable[[JobContext], Awaitable[int]]
    second: frozenset[int] = field(default_factory=frozenset)
    minute: frozenset[int] | None = None
    timeout: timedelta = timedelta(seconds=120)

    async def __call__(self, ctx: JobContext | None = None) -> int:
        return await self.fn(ctx or {})

    def arq_cron(self) -> CronJob:
        return cron(
            instrumented(self.name, self.fn),
            name=self.name,
            second=set(self.second) or None,
            minute=set(self.minute) if self.minute is not None else None,
            unique=True,
            timeout=self.timeout,
        )


def cron_job(
    name: str,
    *,
    second: Iterable[int] = (0,),
    minute: Iterable[int] | None = None,
    timeout: float = 120,
) -> Callable[[Callable[[JobContext], Awaitable[int]]], Sweeper]:
    """Declare a periodic job that runs at these seconds (of these minutes) of the clock."""

    def declare(fn: Callable[[JobContext], Awaitable[int]]) -> Sweeper:
        if name in _crons:
            raise ValueError(f"cron job {name!r} is declared twice")
        declared = Sweeper(
            name,
            fn,
            frozenset(second),
            frozenset(minute) if minute is not None else None,
            timedelta(seconds=timeout),
        )
        _crons[name] = declared
        return declared

    return declare


def registered_jobs() -> list[Job[Any, Any]]:
    return list(_jobs.values())


def registered_sweepers() -> list[Sweeper]:
    return list(_crons.values())


# Sweepers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lost:
    """A row whose job may be gone: the job's argument and the job id it was queued under."""

    argument: str
    job_id: str


LostFinder = Callable[[AsyncSession], Awaitable[Sequence[Lost]]]


async def requeue(job: Job[[str], Any], lost: Iterable[Lost]) -> int:
    """Queue each lost row's job again, unless Redis still holds it (queued or running).

    A job id whose run finished but left the row undone (it lost a race for the row, or its
    worker died after arq recorded a result) is refused by arq; a fresh id gets it going.
    """
    redis = get_redis()
    requeued = 0
    stamp = int(time.time())
    for row in lost:
        if await redis.exists(job_key_prefix + row.job_id):
            continue  # the worker is behind, not the job lost
        if not await job.options(job_id=row.job_id).enqueue(row.argument):
            await job.options(job_id=f"{row.job_id}:swept:{stamp}").enqueue(row.argument)
        requeued += 1
    return requeued


async def requeue_lost(job: Job[[str], Any], find: LostFinder) -> int:
    """One sweep: `find` names the rows (in a unit of work of its own), then `requeue`."""
    async with unit_of_work() as session:
        lost = list(await find(session))
    requeued = await requeue(job, lost)
    if requeued:
        logger.info("re-queued %d lost %s job(s)", requeued, job.name)
    return requeued


async def requeue_batch(job: Job[[list[str]], Any], lost: Sequence[str]) -> int:
    """Queue a batch consumer's lost events again as one job (`job(ids)`), under the id the
    relay gives a batch (`name:first id`), unless Redis still holds that job; a finished job
    of that id left its result behind, so a fresh id gets the list going."""
    ids = list(dict.fromkeys(lost))
    if not ids:
        return 0
    job_id = f"{job.name}:{ids[0]}"
    if await get_redis().exists(job_key_prefix + job_id):
        return 0  # the worker is behind, not the job lost
    if not await job.options(job_id=job_id).enqueue(ids):
        await job.options(job_id=f"{job_id}:swept:{int(time.time())}").enqueue(ids)
    return len(ids)


def try_again(ctx: JobContext, error: Exception, *, tries: int) -> Exception:
    """What a job raises for a failure worth another try: arq retries only a `Retry` (any other
    exception fails the job for good), so a `Retry` while this was not yet try `tries`, then
    the error itself (the job fails; a sweeper takes what it left over)."""
    attempt = int(ctx.get("job_try") or 1)
    if attempt < tries:
        return Retry(defer=timedelta(seconds=5 * attempt))
    return error
