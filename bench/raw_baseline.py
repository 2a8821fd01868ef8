"""The raw baseline the read benchmarks compare against: plain Starlette + asyncpg + orjson.

It answers the same requests as `ticaret serve` with the same bytes, doing the same work a
request needs in steady state and nothing else:

* credentials checked on every request the same way (the API key's secret hashed and compared,
  the access token's signature checked once per token and its expiry on every use), the
  principal and role kept in memory for the same TTL as the API's auth cache (5 s);
* the same SQL for the data itself, as prepared statements on one asyncpg pool;
* rows to JSON in one `orjson.dumps`.

No envelope models, no dependency injection, no middleware, no unit of work. Run it the way the
benchmarks do (`python -m bench.raw_baseline --port N`, with `TICARET_DATABASE_URL` and
`TICARET_AUTH__JWT_SECRET` set), under uvicorn with uvloop and httptools like `ticaret serve`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TTL = 5.0
_pool: asyncpg.Pool | None = None
_keys: dict[str, tuple[float, tuple[Any, ...] | None]] = {}
_users: dict[tuple[str, str | None], tuple[float, tuple[Any, ...] | None]] = {}
_roles: dict[tuple[str, str], tuple[float, str | None]] = {}
_tokens: dict[str, tuple[float, dict[str, Any]]] = {}


def ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def envelope(data: Any) -> Response:
    return Response(orjson.dumps({"status": True, "data": data}), media_type="application/json")


def refused(status: int = 401) -> Response:
    return Response(
        orjson.dumps({"status": False, "error": {"code": "unauthorized", "message": "no"}}),
        status_code=status,
        media_type="application/json",
    )


def cursor(values: list[str]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def api_principal(key: str, secret: str) -> tuple[Any, ...] | None:
    now = time.monotonic()
    known = _keys.get(key)
    if known is None or known[0] < now:
        assert _pool is not None
        row = await _pool.fetchrow(
            "SELECT id, account_id, role, secret_hash, revoked_at FROM api_accounts WHERE key = $1",
            key,
        )
        known = (now + TTL, tuple(row) if row else None)
        _keys[key] = known
    found = known[1]
    if found is None or found[4] is not None:
        return None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return found if hmac.compare_digest(digest, found[3]) else None


async def user_principal(token: str) -> tuple[Any, ...] | None:
    now = time.monotonic()
    claims_known = _tokens.get(token)
    if claims_known is None or claims_known[0] < time.time():
        try:
            claims = jwt.decode(
                token,
                os.environ["TICARET_AUTH__JWT_SECRET"],
                algorithms=["HS256"],
                issuer="ticaret",
                options={"require": ["exp", "iat", "jti", "sub", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        claims_known = (min(float(claims["exp"]), time.time() + 60), claims)
        _tokens[token] = claims_known
    claims = claims_known[1]
    key = (str(claims["sub"]), claims.get("sid"))
    known = _users.get(key)
    if known is None or known[0] < now:
        assert _pool is not None
        row = await _pool.fetchrow(
            "SELECT u.id, u.token_version, s.revoked_at, s.id FROM users u"
            " LEFT JOIN auth_sessions s ON s.user_id = u.id AND s.id = $2 WHERE u.id = $1",
            uuid.UUID(key[0]),
            uuid.UUID(key[1]) if key[1] else None,
        )
        known = (now + TTL, tuple(row) if row else None)
        _users[key] = known
    found = known[1]
    if found is None or found[1] != int(claims.get("ver", 0)):
        return None
    if key[1] is not None and (found[3] is None or found[2] is not None):
        return None
    return found


async def health(request: Request) -> Response:
    return envelope({"status": "ok"})


async def accounts(request: Request) -> Response:
    assert _pool is not None
    key = request.headers.get("x-api-key")
    if key:
        api = await api_principal(key, request.headers.get("x-api-secret", ""))
        if api is None:
            return refused()
        row = await _pool.fetchrow(
            "SELECT id, name, created_at, updated_at, version FROM accounts"
            " WHERE id = $1 AND deleted_at IS NULL",
            api[1],
        )
        rows = [(row, api[2])] if row else []
        page: list[Any] = []
        more = False
    else:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = await user_principal(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return refused()
        limit = int(request.query_params.get("limit", 50))
        fetched = await _pool.fetch(
            "SELECT a.id, a.name, a.created_at, a.updated_at, a.version, m.role FROM accounts a"
            " JOIN memberships m ON m.account_id = a.id WHERE m.user_id = $1"
            " AND m.status = 'active' AND a.deleted_at IS NULL ORDER BY a.id DESC LIMIT $2",
            user[0],
            limit + 1,
        )
        more = len(fetched) > limit
        page = list(fetched[:limit])
        rows = [(r, r[5]) for r in page]
    data = {
        "rows": [
            {
                "id": str(r[0]),
                "name": r[1],
                "role": role,
                "createdAt": ts(r[2]),
                "updatedAt": ts(r[3]),
                "entityVersion": str(r[4]),
            }
            for r, role in rows
        ],
        "nextCursor": cursor([str(page[-1][0])]) if more and page else None,
        "hasMore": more,
    }
    return envelope(data)


async def _keep(conn: asyncpg.Connection) -> None:
    """No reset round trip on release (the API's read pool does the same)."""


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global _pool
    dsn = os.environ["TICARET_DATABASE_URL"].replace("+asyncpg", "")
    _pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20, reset=_keep)
    try:
        yield
    finally:
        await _pool.close()


app = Starlette(routes=[Route("/health", health), Route("/accounts", accounts)], lifespan=lifespan)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
