"""Test harness: real PostgreSQL and Redis, the app over HTTP, jobs run by a real arq worker.

The embedded servers start once per run (or `TICARET_TEST_DATABASE_URL` /
`TICARET_TEST_REDIS_URL` point at existing ones). The schema is built by the Alembic
migrations; every test starts from empty tables and an empty Redis.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet

from tests.helpers import REPO, Mailbox, ScriptedDns, Servers
from tests.social.helpers import APPS_ENV

# The Meta and Instagram apps are configured for every test, not only when a file that needs them
# happens to be collected: a run of one file must see the settings the whole suite sees.
os.environ.update(APPS_ENV)
os.environ.update(
    {
        "TICARET_ENVIRONMENT": "test",
        "TICARET_AUTH__JWT_SECRET": "test-secret-" + "x" * 40,
        "TICARET_AUTH__FERNET_KEYS": Fernet.generate_key().decode(),
        "TICARET_WEBHOOKS__ALLOW_PRIVATE_TARGETS": "true",
        "TICARET_PUBLIC_BASE_URL": "http://testserver",
        "TICARET_DATA_DIR": str(REPO / ".test-data"),
        "TICARET_LOG_LEVEL": "WARNING",
    }
)
for key in [k for k in os.environ if k.startswith("TICARET_SMTP__")]:
    del os.environ[key]


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    from ticaret.cli import run_migrations
    from ticaret.core.embedded import EmbeddedPostgres, EmbeddedRedis

    data = REPO / ".test-data"
    database_url = os.environ.get("TICARET_TEST_DATABASE_URL", "")
    if not database_url:
        postgres = EmbeddedPostgres(data / "postgres")
        postgres.start()
        postgres.ensure_database("ticaret_test", recreate=True)
        database_url = postgres.url("ticaret_test")
    redis_url = os.environ.get("TICARET_TEST_REDIS_URL", "")
    redis = None
    if not redis_url:
        redis = EmbeddedRedis(data / f"redis-{uuid.uuid4().hex[:8]}")
        redis.start()
        redis_url = redis.url
    run_migrations(database_url)
    os.environ["TICARET_DATABASE_URL"] = database_url
    os.environ["TICARET_REDIS_URL"] = redis_url
    from ticaret.settings import get_settings

    get_settings.cache_clear()
    yield Servers(database_url, redis_url, redis)
    if redis is not None:
        redis.stop()
        import shutil

        shutil.rmtree(redis.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def app(servers: Servers) -> AsyncIterator[Any]:
    from ticaret.main import create_app
    from ticaret.settings import get_settings

    application = create_app(get_settings())
    async with LifespanManager(application):
        yield application


@pytest.fixture(autouse=True)
async def clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    from sqlalchemy import text

    from ticaret.core.cache import clear_caches
    from ticaret.core.db import get_engine
    from ticaret.core.inbox import forget_queued_drains
    from ticaret.core.queue import get_redis
    from ticaret.models import Base

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with get_engine().begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await get_redis().flushdb()
    # The drains this process queued went with Redis.
    forget_queued_drains()
    # The rows behind every in-process cache were just truncated.
    clear_caches()
    yield
    await check_emitted_events()


async def check_emitted_events() -> None:
    """Every event a test made the code emit has a declared type and fits its payload model.

    Cheap, and it catches a payload that drifted from what `GET /events/types` documents.
    """
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.core.events import declared_event_type
    from ticaret.models import Event

    async with get_sessionmaker()() as session:
        rows = (await session.execute(select(Event.type, Event.data))).tuples().all()
    for event_type, data in rows:
        declared = declared_event_type(event_type)
        assert declared is not None, f"{event_type} was emitted but is not a declared type"
        declared.payload.model_validate(data)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def run_jobs(app: Any) -> Any:
    """Run every queued job to completion with a real arq worker (burst mode)."""
    from ticaret.core.queue import get_redis
    from ticaret.worker import build_worker

    async def run() -> Any:
        worker = build_worker(get_redis(), burst=True, with_cron=False)
        await worker.async_run()
        return worker

    return run


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1, with the app configured to use it."""
    from ticaret.core.embedded import free_port
    from ticaret.settings import get_settings

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    smtp = get_settings().smtp
    monkeypatch.setattr(smtp, "host", "127.0.0.1")
    monkeypatch.setattr(smtp, "port", port)
    monkeypatch.setattr(smtp, "starttls", False)
    yield mailbox
    controller.stop()


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(script: dict[str, list[list[str]]]) -> ScriptedDns:
        loop = asyncio.get_running_loop()
        scripted = ScriptedDns(loop.getaddrinfo, script)
        monkeypatch.setattr(loop, "getaddrinfo", scripted.getaddrinfo)
        return scripted

    return install
