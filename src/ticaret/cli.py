"""`ticaret` command: dev, serve, worker, migrate, create-user."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ticaret.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def _alembic_config(database_url: str) -> object:
    from alembic.config import Config

    ini = Path.cwd() / "alembic.ini"
    if not ini.exists():
        ini = REPO_ROOT / "alembic.ini"
    config = Config(str(ini))
    config.attributes["database_url"] = database_url
    return config


def run_migrations(database_url: str) -> None:
    from alembic import command

    command.upgrade(_alembic_config(database_url), "head")  # type: ignore[arg-type]


def _start_embedded(data_dir: Path) -> tuple[str, str, object]:
    """Start embedded Postgres + Redis under `data_dir`; returns URLs and the Redis handle."""
    from ticaret.core.embedded import EmbeddedPostgres, EmbeddedRedis

    postgres = EmbeddedPostgres(data_dir / "postgres")
    postgres.start()
    postgres.ensure_database("ticaret")
    redis = EmbeddedRedis(data_dir / "redis")
    redis.start()
    return postgres.url("ticaret"), redis.url, redis


def _database_url_or_embedded() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    from ticaret.core.embedded import EmbeddedPostgres

    postgres = EmbeddedPostgres(Path(settings.data_dir).resolve() / "postgres")
    postgres.start()
    postgres.ensure_database("ticaret")
    return postgres.url("ticaret")


def cmd_migrate(_: argparse.Namespace) -> int:
    run_migrations(_database_url_or_embedded())
    print("migrations applied")
    return 0


def _worker_count(value: str) -> int:
    """`auto` is one API process per core: each runs one event loop on one core."""
    if value == "auto":
        return os.cpu_count() or 1
    try:
        count = int(value)
    except ValueError as exc:
        raise SystemExit(f"--workers takes a number or 'auto', not {value!r}") from exc
    if count < 1:
        raise SystemExit("--workers must be at least 1")
    return count


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "ticaret.main:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=_worker_count(args.workers),
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        reload=args.reload,
        reload_dirs=[str(REPO_ROOT / "src")] if args.reload else None,
        # X-Forwarded-* only from the proxies the operator listed. uvicorn's own default
        # trusts 127.0.0.1, wrong in both common setups: without a proxy a local caller could
        # choose its address; behind one, the proxy is rarely 127.0.0.1.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    return 0


def cmd_worker(_: argparse.Namespace) -> int:
    import uvloop

    from ticaret.worker import run_worker

    uvloop.run(run_worker())
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from ticaret.core.devsecrets import dev_meta_app, load_or_create

    settings = get_settings()
    data_dir = Path(settings.data_dir).resolve()
    env = dict(os.environ)
    redis_handle = None
    if settings.database_url and settings.redis_url:
        database_url, redis_url = settings.database_url, settings.redis_url
    else:
        print(f"starting embedded PostgreSQL and Redis (data in {data_dir}) ...", flush=True)
        database_url, redis_url, redis_handle = _start_embedded(data_dir)
        if settings.database_url:
            database_url = settings.database_url
        if settings.redis_url:
            redis_url = settings.redis_url
    run_migrations(database_url)
    env.update(load_or_create(data_dir))
    if settings.meta.app_secret is None and not settings.is_production:
        # A stand-in Meta app, so `ticaret meta-inject` can sign webhooks the API accepts.
        for key, value in dev_meta_app(data_dir).items():
            env.setdefault(key, value)
    env.update(
        {
            "TICARET_DATABASE_URL": database_url,
            "TICARET_REDIS_URL": redis_url,
            "TICARET_ENVIRONMENT": env.get("TICARET_ENVIRONMENT", "development"),
            # Local webhook receivers (127.0.0.1) are the common case in development.
            "TICARET_WEBHOOKS__ALLOW_PRIVATE_TARGETS": env.get(
                "TICARET_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"
            ),
            "TICARET_PUBLIC_BASE_URL": env.get(
                "TICARET_PUBLIC_BASE_URL", f"http://127.0.0.1:{args.port}"
            ),
        }
    )
    python = sys.executable
    serve = [python, "-m", "ticaret.cli", "serve", "--host", args.host, "--port", str(args.port)]
    workers = _worker_count(args.workers)
    if workers > 1:
        # uvicorn reloads a single process only; several workers run without reload.
        serve += ["--workers", str(workers)]
    elif not args.no_reload:
        serve.append("--reload")
    children = [
        subprocess.Popen(serve, env=env),  # noqa: S603 - our own interpreter and module
        subprocess.Popen([python, "-m", "ticaret.cli", "worker"], env=env),  # noqa: S603
    ]
    base = f"http://{args.host}:{args.port}"
    print(
        f"\n  Ticaret is running\n  API      {base}\n  Docs     {base}/docs\n"
        f"  Console  {base}/console\n  Postgres {database_url}\n  Redis    {redis_url}\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )

    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.3)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if redis_handle is not None:
            redis_handle.stop()  # type: ignore[attr-defined]
        print("stopped", flush=True)
    # The embedded Postgres stops when this process exits (its atexit handler).
    return 0


async def _create_user(email: str, password: str, name: str, account: str) -> str:
    from ticaret.auth import service
    from ticaret.core.db import dispose_engine, init_engine, unit_of_work
    from ticaret.core.devsecrets import ensure_secrets
    from ticaret.core.queue import close_redis, init_redis

    settings = get_settings()
    ensure_secrets(settings)
    init_engine(settings.database_url)
    await init_redis(settings.redis_url)
    try:
        async with unit_of_work() as session:
            result = await service.register(
                session, settings, email=email, password=password, name=name, account_name=account
            )
        return f"created {result.user.email} (owner of {result.accounts[0].account_name})"
    finally:
        await close_redis()
        await dispose_engine()


def cmd_create_user(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not settings.database_url or not settings.redis_url:
        print(
            "set TICARET_DATABASE_URL and TICARET_REDIS_URL (see `ticaret dev` output)",
            file=sys.stderr,
        )
        return 2
    password = args.password or getpass.getpass("password: ")
    if len(password) < 8:
        print("the password needs at least 8 characters", file=sys.stderr)
        return 2
    print(
        asyncio.run(
            _create_user(args.email, password, args.name or args.email, args.account or "My shop")
        )
    )
    return 0


async def _wa_inject(args: argparse.Namespace) -> str:
    from ticaret.core.db import dispose_engine, init_engine, unit_of_work
    from ticaret.core.devsecrets import ensure_secrets
    from ticaret.core.queue import close_redis, init_redis
    from ticaret.wa.gateways.sandbox import inbound_message_payload
    from ticaret.wa.service.receiver import inject, session_by_provider_id

    settings = get_settings()
    ensure_secrets(settings)
    init_engine(settings.database_url)
    await init_redis(settings.redis_url)
    try:
        async with unit_of_work() as session:
            wa = await session_by_provider_id(session, args.session)
            if wa.provider != "sandbox":
                return f"{args.session} is a {wa.provider} session, not a sandbox one"
            payload = inbound_message_payload(
                wa.provider_session_id,
                from_phone_or_jid=args.sender,
                text=args.text,
                push_name=args.name,
                with_media=args.media,
            )
            result = await inject(session, wa, payload)
        message = payload["payload"]
        return f"injected {message['id']} from {message['from']} (inbox event {result.event_id})"
    finally:
        await close_redis()
        await dispose_engine()


def cmd_wa_inject(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not settings.database_url or not settings.redis_url:
        print(
            "set TICARET_DATABASE_URL and TICARET_REDIS_URL (see `ticaret dev` output)",
            file=sys.stderr,
        )
        return 2
    if not settings.wa_sandbox_enabled:
        print("the WhatsApp sandbox is turned off (TICARET_WA__SANDBOX_ENABLED)", file=sys.stderr)
        return 2
    if not args.text and not args.media:
        print("give --text, --media or both", file=sys.stderr)
        return 2
    print(asyncio.run(_wa_inject(args)))
    return 0


def _meta_secret(platform: str) -> str | None:
    """The app secret webhooks are signed with: the configured one, or the dev stand-in."""
    from ticaret.core.devsecrets import dev_meta_app
    from ticaret.social.config import app_for
    from ticaret.social.errors import MetaNotConfigured

    settings = get_settings()
    try:
        return app_for(platform, settings).app_secret
    except MetaNotConfigured:
        if settings.is_production:
            return None
        return dev_meta_app(Path(settings.data_dir).resolve())["TICARET_META__APP_SECRET"]


async def _ensure_dev_asset(account: str, platform: str, external_id: str) -> str:
    import uuid

    from ticaret.core.db import dispose_engine, init_engine, unit_of_work
    from ticaret.core.devsecrets import ensure_secrets
    from ticaret.social.devtools import ensure_dev_asset

    settings = get_settings()
    ensure_secrets(settings)
    init_engine(settings.database_url)
    try:
        async with unit_of_work() as session:
            asset = await ensure_dev_asset(session, uuid.UUID(account), platform, external_id)
            return str(asset.id)
    finally:
        await dispose_engine()


def cmd_meta_inject(args: argparse.Namespace) -> int:
    import json

    import httpx

    from ticaret.social.devtools import DEV_INSTAGRAM_ID, DEV_PAGE_ID, comment_body, message_body
    from ticaret.social.graph.webhooks import sign

    settings = get_settings()
    if settings.is_production:
        print("meta-inject is a development tool; it does not run in production", file=sys.stderr)
        return 2
    platform = args.platform
    secret = _meta_secret(platform)
    if secret is None:
        print("no Meta app secret is configured (TICARET_META__APP_SECRET)", file=sys.stderr)
        return 2
    external_id = args.id or (DEV_PAGE_ID if platform == "facebook" else DEV_INSTAGRAM_ID)
    if args.account:
        if not settings.database_url:
            print(
                "--account needs TICARET_DATABASE_URL (see `ticaret dev` output)", file=sys.stderr
            )
            return 2
        asset_id = asyncio.run(_ensure_dev_asset(args.account, platform, external_id))
        print(f"{platform} asset {asset_id} ({external_id}) receives the webhook")
    build = comment_body if args.comment else message_body
    body = json.dumps(build(platform, external_id, args.sender, args.text)).encode()
    path = "/meta/webhook" if platform == "facebook" else "/instagram/webhook"
    url = args.api_url.rstrip("/") + path
    try:
        response = httpx.post(
            url,
            content=body,
            headers={"content-type": "application/json", "x-hub-signature-256": sign(body, secret)},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        print(f"could not reach {url}: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"{url} answered {response.status_code}: {response.text}", file=sys.stderr)
        return 1
    print(f"delivered a signed {platform} webhook to {url}: {response.json()['data']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ticaret", description="Ticaret backend")
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="embedded Postgres + Redis, migrations, API and worker")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--no-reload", action="store_true")
    dev.add_argument(
        "--workers",
        default="1",
        help="API processes: a number, or 'auto' for one per core (more than one: no reload)",
    )
    dev.set_defaults(handler=cmd_dev)

    serve = sub.add_parser("serve", help="run the API (uvicorn, uvloop, httptools)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", default="1", help="API processes: a number, or 'auto' for one per core"
    )
    serve.add_argument("--reload", action="store_true")
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run the arq worker")
    worker.set_defaults(handler=cmd_worker)

    migrate = sub.add_parser("migrate", help="apply Alembic migrations")
    migrate.set_defaults(handler=cmd_migrate)

    create_user = sub.add_parser("create-user", help="create a user and their account")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--password")
    create_user.add_argument("--name")
    create_user.add_argument("--account")
    create_user.set_defaults(handler=cmd_create_user)

    wa_inject = sub.add_parser(
        "wa-inject", help="sandbox: deliver a customer's WhatsApp message to a session"
    )
    wa_inject.add_argument("--session", required=True, help="providerSessionId")
    wa_inject.add_argument("--from", dest="sender", required=True, help="phone number or JID")
    wa_inject.add_argument("--text")
    wa_inject.add_argument("--name", help="the customer's WhatsApp display name")
    wa_inject.add_argument("--media", action="store_true", help="attach the sample image")
    wa_inject.set_defaults(handler=cmd_wa_inject)

    meta_inject = sub.add_parser(
        "meta-inject",
        help="development: post a signed Messenger / Instagram webhook to the running API",
    )
    meta_inject.add_argument("--platform", choices=["facebook", "instagram"], default="facebook")
    meta_inject.add_argument(
        "--account", help="account id: connects a stand-in Page / Instagram account to it"
    )
    meta_inject.add_argument("--id", help="the Page or Instagram account id (a dev one by default)")
    meta_inject.add_argument(
        "--from", dest="sender", default="24000000000000001", help="PSID/IGSID"
    )
    meta_inject.add_argument("--text", required=True)
    meta_inject.add_argument("--comment", action="store_true", help="a comment instead of a DM")
    meta_inject.add_argument("--api-url", default="http://127.0.0.1:8000")
    meta_inject.set_defaults(handler=cmd_meta_inject)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
