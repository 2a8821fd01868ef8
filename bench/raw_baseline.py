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
from starlette.requests import ClientDisconnect, Request
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


# WhatsApp lists: the same statements as the API's (labels, CRM assignment and link lookups
# included), for data without labels, assignments or customer links; the bench checks bytes.

SESSION_SQL = (
    "SELECT id, provider_session_id FROM wa_sessions WHERE provider_session_id = $1"
    " AND deleted_at IS NULL AND (account_id = $2 OR EXISTS (SELECT * FROM wa_session_shares"
    " WHERE wa_session_shares.session_id = wa_sessions.id AND wa_session_shares.account_id = $2))"
)
CHAT_SQL = (
    "SELECT id, type, remote_jid, alt_jid FROM wa_chats WHERE session_id = $1 AND remote_jid = $2"
)
MESSAGE_COLUMNS = (
    "id, remote_jid, message_id, from_me, participant, sender_jid_resolved, sender_phone,"
    " sender_name, push_name, chat_type, type, text, emoji, reaction_target, mentions,"
    " quoted_message, has_media, mimetype, media, location, contacts, reactions, status, receipt,"
    " is_forwarded, edited, edited_at, deleted_for_me, deleted_for_everyone, origin,"
    " source_timestamp, created_at, updated_at, version"
)
MESSAGES_SQL = (
    f"SELECT {MESSAGE_COLUMNS} FROM wa_messages WHERE session_id = $1 AND remote_jid = $2"
    " ORDER BY source_timestamp DESC, id DESC LIMIT $3"
)
MESSAGES_AFTER_SQL = (
    f"SELECT {MESSAGE_COLUMNS} FROM wa_messages WHERE session_id = $1 AND remote_jid = $2"
    " AND (source_timestamp, id) < ($4, $5) ORDER BY source_timestamp DESC, id DESC LIMIT $3"
)
MESSAGE_LABELS_SQL = (
    "SELECT wa_message_labels.message_id, wa_labels.id FROM wa_message_labels JOIN wa_labels"
    " ON wa_labels.id = wa_message_labels.label_id WHERE wa_message_labels.account_id = $1"
    " AND wa_message_labels.message_id = ANY($2) ORDER BY wa_labels.name"
)
MESSAGE_ASSIGNMENTS_SQL = (
    "SELECT message_pk FROM crm_message_assignments WHERE account_id = $1 AND message_pk = ANY($2)"
)
CHAT_ASSIGNMENTS_SQL = (
    "SELECT chat_id FROM crm_chat_assignments WHERE account_id = $1 AND chat_id = ANY($2)"
)
IDENTITIES_SQL = (
    "SELECT value FROM crm_identities WHERE account_id = $1 AND channel = 'whatsapp'"
    " AND scope = '' AND value = ANY($2) AND EXISTS (SELECT crm_customers.id FROM crm_customers"
    " WHERE crm_customers.id = crm_identities.customer_id AND crm_customers.deleted_at IS NULL)"
    " ORDER BY created_at, id"
)
INBOX_LINKS_SQL = (
    "SELECT session_id FROM crm_inbox_links WHERE account_id = $1 AND session_id = ANY($2)"
    " AND EXISTS (SELECT crm_customers.id FROM crm_customers WHERE crm_customers.id ="
    " crm_inbox_links.customer_id AND crm_customers.deleted_at IS NULL)"
)
CHATS_SQL = (
    "SELECT id, remote_jid, alt_jid, type, name, last_message_at, last_message_preview,"
    " last_message_from_me, unread_count, archived, created_at, updated_at FROM wa_chats"
    " WHERE session_id = $1 ORDER BY coalesce(last_message_at, 'epoch'::timestamptz) DESC,"
    " id DESC LIMIT $2"
)
CHAT_LABELS_SQL = (
    "SELECT wa_chat_labels.chat_id, wa_labels.id FROM wa_chat_labels JOIN wa_labels"
    " ON wa_labels.id = wa_chat_labels.label_id WHERE wa_chat_labels.account_id = $1"
    " AND wa_chat_labels.chat_id = ANY($2) ORDER BY wa_labels.name"
)


def ots(value: datetime | None) -> str | None:
    return None if value is None else ts(value)


async def viewer(request: Request) -> tuple[Any, ...] | None:
    """The caller (a user, by access token) and their role in `x-account-id`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = await user_principal(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        return None
    account = request.headers.get("x-account-id", "")
    now = time.monotonic()
    key = (str(user[0]), account)
    known = _roles.get(key)
    if known is None or known[0] < now:
        assert _pool is not None
        role = await _pool.fetchval(
            "SELECT role FROM memberships WHERE account_id = $1 AND user_id = $2"
            " AND status = 'active'",
            uuid.UUID(account),
            user[0],
        )
        known = (now + TTL, role)
        _roles[key] = known
    return (user[0], uuid.UUID(account)) if known[1] else None


def _no_crm_rows(*results: list[Any]) -> bool:
    return not any(results)


async def messages(request: Request) -> Response:
    who = await viewer(request)
    if who is None:
        return refused()
    account = who[1]
    params = request.query_params
    limit = int(params.get("limit", 50))
    remote_jid = request.path_params["jid"]
    assert _pool is not None
    async with _pool.acquire() as conn:
        wa = await conn.fetchrow(SESSION_SQL, params["providerSessionId"], account)
        if wa is None:
            return refused(404)
        chat = await conn.fetchrow(CHAT_SQL, wa[0], remote_jid)
        if chat is None:
            return refused(404)
        cursor_param = params.get("cursor")
        if cursor_param:
            raw = base64.urlsafe_b64decode(cursor_param + "=" * (-len(cursor_param) % 4))
            after_time, after_id = json.loads(raw)
            rows = await conn.fetch(
                MESSAGES_AFTER_SQL,
                wa[0],
                remote_jid,
                limit + 1,
                datetime.fromisoformat(after_time),
                uuid.UUID(after_id),
            )
        else:
            rows = await conn.fetch(MESSAGES_SQL, wa[0], remote_jid, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        ids = [r[0] for r in rows]
        labels = await conn.fetch(MESSAGE_LABELS_SQL, account, ids)
        own = await conn.fetch(MESSAGE_ASSIGNMENTS_SQL, account, ids)
        of_chat = await conn.fetch(CHAT_ASSIGNMENTS_SQL, account, [chat[0]])
        jids = [j for j in (chat[2], chat[3]) if j]
        identities = await conn.fetch(IDENTITIES_SQL, account, jids)
        inbox = await conn.fetch(INBOX_LINKS_SQL, account, [wa[0]])
    if not _no_crm_rows(labels, own, of_chat, identities, inbox):
        return refused(500)  # this baseline only knows data without labels or CRM links
    psid = wa[1]
    data = {
        "rows": [
            {
                "id": str(r[0]),
                "providerSessionId": psid,
                "remoteJid": r[1],
                "messageId": r[2],
                "fromMe": r[3],
                "participant": r[4],
                "senderJidResolved": r[5],
                "senderPhone": r[6],
                "senderName": r[7],
                "pushName": r[8],
                "chatType": r[9],
                "type": r[10],
                "text": None if r[28] else r[11],
                "emoji": r[12],
                "reactionTarget": r[13],
                "mentions": r[14],
                "quotedMessage": r[15],
                "hasMedia": r[16],
                "mimeType": r[17],
                "media": r[18],
                "location": r[19],
                "contacts": r[20],
                "reactions": r[21],
                "status": r[22],
                "receipt": r[23],
                "isForwarded": r[24],
                "edited": r[25],
                "editedAt": ots(r[26]),
                "deletedForMe": r[27],
                "deletedForEveryone": r[28],
                "origin": r[29],
                "sourceTimestamp": ts(r[30]),
                "createdAt": ts(r[31]),
                "updatedAt": ts(r[32]),
                "entityVersion": str(r[33]),
                "labels": [],
                "assignment": None,
                "customerLink": None,
            }
            for r in rows
        ],
        "nextCursor": cursor([rows[-1][30].isoformat(), str(rows[-1][0])]) if more else None,
        "hasMore": more,
    }
    return envelope(data)


async def chats(request: Request) -> Response:
    who = await viewer(request)
    if who is None:
        return refused()
    account = who[1]
    params = request.query_params
    limit = int(params.get("limit", 50))
    assert _pool is not None
    async with _pool.acquire() as conn:
        wa = await conn.fetchrow(SESSION_SQL, params["providerSessionId"], account)
        if wa is None:
            return refused(404)
        rows = await conn.fetch(CHATS_SQL, wa[0], limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        ids = [r[0] for r in rows]
        labels = await conn.fetch(CHAT_LABELS_SQL, account, ids)
        of_chats = await conn.fetch(CHAT_ASSIGNMENTS_SQL, account, ids)
        jids = [j for r in rows for j in (r[1], r[2]) if j]
        identities = await conn.fetch(IDENTITIES_SQL, account, jids)
        inbox = await conn.fetch(INBOX_LINKS_SQL, account, [wa[0]] * len(rows))
    if not _no_crm_rows(labels, of_chats, identities, inbox):
        return refused(500)
    psid = wa[1]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    data = {
        "rows": [
            {
                "id": str(r[0]),
                "providerSessionId": psid,
                "remoteJid": r[1],
                "altJid": r[2],
                "type": r[3],
                "name": r[4],
                "lastMessageAt": ots(r[5]),
                "lastMessagePreview": r[6],
                "lastMessageFromMe": r[7],
                "unreadCount": r[8],
                "archived": r[9],
                "createdAt": ts(r[10]),
                "updatedAt": ts(r[11]),
                "labels": [],
                "assignment": None,
                "customerLink": None,
            }
            for r in rows
        ],
        "nextCursor": cursor([(rows[-1][5] or epoch).isoformat(), str(rows[-1][0])])
        if more
        else None,
        "hasMore": more,
    }
    return envelope(data)


_receiving: dict[str, tuple[float, tuple[uuid.UUID, str] | None]] = {}


async def provider_event(request: Request) -> Response:
    """The WhatsApp receiver's work: the session's secret (kept TTL seconds, like the API),
    the body parsed, one row into inbox_items keyed by the WAHA envelope id. Not done here:
    the size limit, sanitizing, the kept headers and queueing the drain job in Redis."""
    assert _pool is not None
    psid = request.path_params["psid"]
    now = time.monotonic()
    known = _receiving.get(psid)
    if known is None or known[0] < now:
        row = await _pool.fetchrow(
            "SELECT id, webhook_secret_encrypted FROM wa_sessions"
            " WHERE provider_session_id = $1 AND deleted_at IS NULL",
            psid,
        )
        found = None
        if row is not None:
            from cryptography.fernet import Fernet

            fernet = Fernet(os.environ["TICARET_AUTH__FERNET_KEYS"].split(",")[0])
            found = (row[0], fernet.decrypt(row[1].encode()).decode())
        known = (now + TTL, found)
        _receiving[psid] = known
    session = known[1]
    given = request.headers.get("x-ticaret-webhook-secret", "")
    if session is None or not hmac.compare_digest(given.encode(), session[1].encode()):
        return refused()
    try:
        raw = await request.body()
    except ClientDisconnect:  # wrk closing its connections at the end of a run
        return Response(status_code=499)
    payload = orjson.loads(raw)
    item_id = await _pool.fetchval(
        "INSERT INTO inbox_items (id, source, scope, external_id, event_type, payload, headers,"
        " status, attempts, received_at) VALUES ($1, 'wa', $2, $3, $4, $5, '{}', 'received', 0,"
        " now()) ON CONFLICT ON CONSTRAINT uq_inbox_items_source_key DO NOTHING RETURNING id",
        uuid.uuid4(),
        str(session[0]),
        f"waha:{payload['id']}",
        payload.get("event"),
        payload,
    )
    return envelope(
        {
            "received": True,
            "duplicate": item_id is None,
            "eventId": str(item_id) if item_id else None,
        }
    )


async def _json_codecs(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=json.dumps, decoder=orjson.loads, format="text"
        )


async def _keep(conn: asyncpg.Connection) -> None:
    """No reset round trip on release (the API's read pool does the same)."""


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global _pool
    dsn = os.environ["TICARET_DATABASE_URL"].replace("+asyncpg", "")
    _pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20, reset=_keep, init=_json_codecs)
    try:
        yield
    finally:
        await _pool.close()


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/accounts", accounts),
        Route("/wa/chats", chats),
        Route("/wa/chats/{jid}/messages", messages),
        Route("/wa/provider-events/{psid}", provider_event, methods=["POST"]),
    ],
    lifespan=lifespan,
)


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
