"""CRM benchmarks, each figure beside a baseline measured in the same run.

1. search: `GET /crm/customers?q=` and `GET /crm/contacts?q=` with 100k customers and 200k
   contacts, Turkish queries (`şahin`, `sahin`, `ŞAHİN`) and a partial phone (`555 11`).
   Baseline: the same search statement on raw asyncpg (no ORM, no HTTP, no JSON).
2. timeline: `GET /crm/customers/{id}/timeline`, first page and a deep page (25,000 items in),
   for a customer with 50k messages over 3 chats, 1k notes and 500 tasks. Baseline: the
   message part alone (the three chats merged) on raw asyncpg.
3. message list: `GET /wa/chats/{remoteJid}/messages` with `assignedToMe=true` at 1M messages
   against the same list unfiltered (the requirement: p99 within 20 % of it), for a chat
   assigned to the caller (a few messages reassigned to others) and for a chat where only
   single messages are the caller's.

Everything runs in-process over ASGI (auth, SQL, serialization; no network).

    PYTHONPATH=src:. python bench/crm_bench.py [--part search|timeline|messages|all]
        [--requests N] [--messages N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from bench._servers import bench_servers, percentile
from bench.wa_messages_bench import BIG_CHAT
from bench.wa_messages_bench import load as load_messages

SURNAMES = [
    "Şahin",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Çelik",
    "Öztürk",
    "Aydın",
    "Arslan",
    "Doğan",
    "Kılıç",
]
TRADES = ["Tekstil", "Gıda", "İnşaat", "Otomotiv", "Ticaret", "Lojistik", "Mobilya", "Kozmetik"]
FIRST = ["Ayşe", "Mehmet", "Zeynep", "Ahmet", "Elif", "Mustafa", "Gülşen", "İsmail", "Şule", "Ömer"]


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v + "'" for v in values) + "]"


CUSTOMERS_SQL = f"""
INSERT INTO crm_customers (id, account_id, title, type, phones, emails, tags, status,
    custom_fields, created_by_type, version, created_at, updated_at, city, tax_number)
SELECT gen_random_uuid(), CAST(:account AS uuid),
    ({_sql_array(SURNAMES)})[1 + g % 10] || ' ' || ({_sql_array(TRADES)})[1 + (g / 10) % 8]
        || ' ' || g,
    'company',
    ARRAY['+905' || lpad(((g::bigint * 7919) % 1000000000)::text, 9, '0')],
    ARRAY['info' || g || '@firma' || (g % 97) || '.example'],
    ARRAY[]::text[], 'active', '{{}}'::jsonb, 'user', 1, now(), now(), 'İstanbul',
    lpad(g::text, 10, '0')
FROM generate_series(1, CAST(:n AS int)) AS g
"""

CONTACTS_SQL = f"""
INSERT INTO crm_contacts (id, account_id, customer_id, display_name, phone, email, status,
    created_by_type, version, created_at, updated_at)
SELECT gen_random_uuid(), CAST(:account AS uuid), c.id,
    ({_sql_array(FIRST)})[1 + g % 10] || ' ' || ({_sql_array(SURNAMES)})[1 + (g / 10) % 10],
    '+905' || lpad(((g::bigint * 104729) % 1000000000)::text, 9, '0'),
    'kisi' || g || '@example.com', 'active', 'user', 1, now(), now()
FROM generate_series(1, CAST(:n AS int)) AS g
JOIN (SELECT id, row_number() OVER () AS rn FROM crm_customers) AS c
  ON c.rn = 1 + g % CAST(:customers AS int)
"""

# The statement the API runs for `q` (see crm/repository/__init__.py), on raw asyncpg.
RAW_SEARCH = """
SELECT id, title FROM crm_customers
WHERE account_id = $1 AND deleted_at IS NULL
  AND search_text LIKE '%' || crm_fold($2) || '%'
ORDER BY (search_text || '') <-> crm_fold($3), id DESC
LIMIT 51
"""

RAW_CONTACT_SEARCH = """
SELECT ct.id, ct.display_name FROM crm_contacts ct JOIN crm_customers c ON c.id = ct.customer_id
WHERE ct.account_id = $1 AND ct.deleted_at IS NULL AND c.deleted_at IS NULL
  AND ct.search_text LIKE '%' || crm_fold($2) || '%'
ORDER BY (ct.search_text || '') <-> crm_fold($3), ct.id DESC
LIMIT 51
"""


async def _samples(call: Callable[[], Awaitable[Any]], n: int) -> tuple[float, float]:
    for _ in range(min(10, n)):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 50), percentile(samples, 99)


async def _paired(
    first: Callable[[], Awaitable[Any]], second: Callable[[], Awaitable[Any]], n: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both calls timed alternately, so the machine's load drifts over both alike."""
    for _ in range(min(10, n)):
        await first()
        await second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(n):
        for call, samples in ((first, a), (second, b)):
            started = time.perf_counter()
            await call()
            samples.append((time.perf_counter() - started) * 1000)
    return (percentile(a, 50), percentile(a, 99)), (percentile(b, 50), percentile(b, 99))


def _row(name: str, api: tuple[float, float], base: tuple[float, float], base_name: str) -> None:
    print(
        f"  {name:<34} p50 {api[0]:7.2f} ms  p99 {api[1]:7.2f} ms   |  {base_name} p50 "
        f"{base[0]:7.2f} ms  p99 {base[1]:7.2f} ms   ratio p50 {api[0] / base[0]:5.2f} "
        f"p99 {api[1] / base[1]:5.2f}"
    )


class Bench:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], account: str) -> None:
        self.client = client
        self.headers = headers
        self.account = account

    async def get(self, url: str, params: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.get(url, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return dict(response.json()["data"])


def _raw_dsn() -> str:
    from ticaret.settings import get_settings

    return get_settings().database_url.replace("postgresql+asyncpg://", "postgresql://")


async def _execute(sql: str, params: dict[str, Any]) -> None:
    from ticaret.core.db import get_engine

    async with get_engine().begin() as conn:
        await conn.execute(text(sql), params)


async def _analyze(*tables: str) -> None:
    from ticaret.core.db import get_engine

    async with get_engine().begin() as conn:
        for table in tables:
            await conn.execute(text(f"ANALYZE {table}"))


# 1. Search ---------------------------------------------------------------------------------


async def search(bench: Bench, raw: asyncpg.Connection, n: int) -> None:
    started = time.perf_counter()
    await _execute(CUSTOMERS_SQL, {"account": bench.account, "n": 100_000})
    await _execute(CONTACTS_SQL, {"account": bench.account, "n": 200_000, "customers": 100_000})
    await _analyze("crm_customers", "crm_contacts")
    print(f"loaded 100,000 customers and 200,000 contacts in {time.perf_counter() - started:.1f}s")
    print(f"\nsearch ({n} requests each, limit 50; baseline: the same statement on raw asyncpg)")
    account = uuid.UUID(bench.account)
    # As the API does for a search: plans made for the searched text (see plan_for_these_values).
    await raw.execute("SET plan_cache_mode = force_custom_plan")
    for url, raw_sql, label in (
        ("/crm/customers", RAW_SEARCH, "customers"),
        ("/crm/contacts", RAW_CONTACT_SEARCH, "contacts"),
    ):
        for query, token in (
            ("şahin", "şahin"),
            ("sahin", "sahin"),
            ("ŞAHİN", "ŞAHİN"),
            ("555 11", "55511"),
        ):
            found = await bench.get(url, {"q": query, "limit": 50})
            api = await _samples(lambda u=url, q=query: bench.get(u, {"q": q, "limit": 50}), n)
            base = await _samples(lambda s=raw_sql, t=token: raw.fetch(s, account, t, t), n)
            rows = len(found["rows"])
            _row(f"{label} q={query!r} ({rows} rows)", api, base, "raw")


# 2. Timeline -------------------------------------------------------------------------------

TIMELINE_MESSAGES_SQL = """
INSERT INTO wa_messages (id, session_id, remote_jid, message_id, from_me, chat_type, type, text,
    mentions, has_media, reactions, status, receipt, is_forwarded, edited, deleted_for_me,
    deleted_for_everyone, source_timestamp, version, created_at, updated_at)
SELECT gen_random_uuid(), CAST(:session AS uuid),
    '9055599900' || lpad((g % 3)::text, 2, '0') || '@s.whatsapp.net',
    'TL' || g, g % 2 = 0, 'individual', 'text', 'mesaj ' || g, '[]'::jsonb, false, '{}'::jsonb,
    3, '{}'::jsonb, false, false, false, false,
    timestamptz '2026-01-01' + make_interval(secs => g * 60), 1, now(), now()
FROM generate_series(1, CAST(:n AS int)) AS g
"""

RAW_TIMELINE_MESSAGES = """
SELECT m.id, m.text, m.source_timestamp FROM wa_messages m WHERE m.id IN (
    SELECT id FROM (SELECT id FROM wa_messages WHERE session_id = $1 AND remote_jid = $2
                    AND (source_timestamp, id) < ($5, $6) ORDER BY source_timestamp DESC, id DESC
                    LIMIT 51) a
    UNION ALL
    SELECT id FROM (SELECT id FROM wa_messages WHERE session_id = $1 AND remote_jid = $3
                    AND (source_timestamp, id) < ($5, $6) ORDER BY source_timestamp DESC, id DESC
                    LIMIT 51) b
    UNION ALL
    SELECT id FROM (SELECT id FROM wa_messages WHERE session_id = $1 AND remote_jid = $4
                    AND (source_timestamp, id) < ($5, $6) ORDER BY source_timestamp DESC, id DESC
                    LIMIT 51) c)
ORDER BY m.source_timestamp DESC, m.id DESC LIMIT 51
"""


async def timeline(bench: Bench, raw: asyncpg.Connection, session: dict[str, Any], n: int) -> None:
    from ticaret.core.envelope import encode_cursor

    customer = await bench.client.post(
        "/crm/customers", json={"title": "Timeline A.Ş."}, headers=bench.headers
    )
    customer_id = customer.json()["data"]["id"]
    chats = [f"9055599900{i:02d}@s.whatsapp.net" for i in range(3)]
    started = time.perf_counter()
    await _execute(TIMELINE_MESSAGES_SQL, {"session": session["id"], "n": 50_000})
    await _execute(
        "INSERT INTO wa_chats (id, session_id, remote_jid, type, unread_count, archived,"
        " last_message_at, created_at, updated_at) SELECT gen_random_uuid(), CAST(:s AS uuid),"
        " remote_jid, 'individual', 0, false, max(source_timestamp), now(), now()"
        " FROM wa_messages WHERE session_id = CAST(:s AS uuid) AND remote_jid LIKE '9055599900%'"
        " GROUP BY remote_jid",
        {"s": session["id"]},
    )
    for jid in chats:
        response = await bench.client.post(
            "/crm/identity-mappings",
            json={"value": jid, "customerId": customer_id},
            headers=bench.headers,
        )
        assert response.status_code == 201, response.text
    # Notes and tasks spread over the same two-month span as the messages.
    await _execute(
        "INSERT INTO crm_notes (id, account_id, customer_id, body, pinned, author_type, version,"
        " created_at, updated_at) SELECT gen_random_uuid(), CAST(:a AS uuid), CAST(:c AS uuid),"
        " 'not ' || g, false, 'user', 1, timestamptz '2026-01-01' + make_interval(mins => g * 50),"
        " now() FROM generate_series(1, 1000) g",
        {"a": bench.account, "c": customer_id},
    )
    await _execute(
        "INSERT INTO crm_tasks (id, account_id, customer_id, title, status, priority,"
        " created_by_type, version, created_at, updated_at) SELECT gen_random_uuid(),"
        " CAST(:a AS uuid), CAST(:c AS uuid), 'görev ' || g, 'todo', 'normal', 'user', 1,"
        " timestamptz '2026-01-01' + make_interval(mins => g * 100), now()"
        " FROM generate_series(1, 500) g",
        {"a": bench.account, "c": customer_id},
    )
    await _analyze("wa_messages", "wa_chats", "crm_notes", "crm_tasks")
    print(f"\nloaded the timeline customer in {time.perf_counter() - started:.1f}s")
    deep_at, deep_id = await raw.fetchrow(
        "SELECT source_timestamp, id FROM wa_messages WHERE session_id = $1 AND remote_jid"
        " LIKE '9055599900%' ORDER BY source_timestamp DESC, id DESC OFFSET 25000 LIMIT 1",
        uuid.UUID(session["id"]),
    )
    url = f"/crm/customers/{customer_id}/timeline"
    deep = encode_cursor([deep_at.isoformat(), "message", deep_id])
    first_page = await bench.get(url, {"limit": 50})
    assert {i["kind"] for i in first_page["rows"]} >= {"message"}
    walked = await bench.get(url, {"limit": 50, "cursor": deep})
    assert len(walked["rows"]) == 50
    print(f"timeline ({n} requests each, limit 50; baseline: the 3 chats' messages, raw asyncpg)")
    sid = uuid.UUID(session["id"])
    far = datetime(9999, 1, 1).astimezone()
    for name, params, at, after_id in (
        ("first page", {"limit": 50}, far, uuid.UUID(int=2**128 - 1)),
        ("deep page (25,000 in)", {"limit": 50, "cursor": deep}, deep_at, deep_id),
    ):
        api = await _samples(lambda p=params: bench.get(url, p), n)
        base = await _samples(
            lambda a=at, i=after_id: raw.fetch(RAW_TIMELINE_MESSAGES, sid, *chats, a, i), n
        )
        _row(name, api, base, "raw")
    one_chat = await _samples(
        lambda: bench.get(
            f"/wa/chats/{chats[0]}/messages",
            {"providerSessionId": session["providerSessionId"], "limit": 50},
        ),
        n,
    )
    print(
        f"  (one chat's message list through the API in the same run: p50 {one_chat[0]:.2f} ms,"
        f" p99 {one_chat[1]:.2f} ms)"
    )


# 3. Message list with assignedToMe ---------------------------------------------------------


async def messages(
    bench: Bench, raw: asyncpg.Connection, session: dict[str, Any], user_id: str, n: int, total: int
) -> None:
    from ticaret.core.envelope import encode_cursor

    # A session of its own: the loader makes a chat of every JID of its session.
    created = await bench.client.post(
        f"/accounts/{bench.account}/wa-sessions",
        json={"name": "Bench 1M", "provider": "sandbox"},
        headers=bench.headers,
    )
    session = created.json()["data"]
    print(f"\nloading {total:,} messages (100,000 in one chat) ...", flush=True)
    seconds = await load_messages(session["id"], total, 100_000)
    print(f"loaded in {seconds:.1f}s")
    psid = session["providerSessionId"]
    other_chat = "905500000001@s.whatsapp.net"
    # The big chat is the caller's; every 500th message of it went to someone else.
    response = await bench.client.put(
        f"/wa/chats/{BIG_CHAT}/assignment",
        params={"providerSessionId": psid},
        json={"assigneeType": "user", "assigneeId": user_id},
        headers=bench.headers,
    )
    assert response.status_code == 200, response.text
    group = await bench.client.post(
        "/crm/groups", json={"name": "Başkaları"}, headers=bench.headers
    )
    group_id = group.json()["data"]["id"]
    await _execute(
        "INSERT INTO crm_message_assignments (id, account_id, session_id, remote_jid, message_pk,"
        " message_id, assignee_type, group_id, user_id, assigned_at, version, created_at,"
        " updated_at) SELECT gen_random_uuid(), CAST(:a AS uuid), session_id, remote_jid, id,"
        " message_id, CASE WHEN remote_jid = :big THEN 'group' ELSE 'user' END,"
        " CASE WHEN remote_jid = :big THEN CAST(:g AS uuid) END,"
        " CASE WHEN remote_jid = :big THEN NULL ELSE CAST(:u AS uuid) END, now(), 1, now(), now()"
        " FROM wa_messages WHERE session_id = CAST(:s AS uuid)"
        " AND ((remote_jid = :big AND right(message_id, 3) = '500') OR (remote_jid = :other AND"
        " right(message_id, 1) = '0'))",
        {
            "a": bench.account,
            "s": session["id"],
            "big": BIG_CHAT,
            "other": other_chat,
            "g": group_id,
            "u": user_id,
        },
    )
    await _analyze("crm_message_assignments", "crm_chat_assignments")
    sid = uuid.UUID(session["id"])
    deep_at, deep_id = await raw.fetchrow(
        "SELECT source_timestamp, id FROM wa_messages WHERE session_id = $1 AND remote_jid = $2"
        " ORDER BY source_timestamp DESC, id DESC OFFSET 50000 LIMIT 1",
        sid,
        BIG_CHAT,
    )
    deep = encode_cursor([deep_at, deep_id])
    print(
        f"message list ({n} requests each, limit 50; baseline: the same list unfiltered, in "
        "the same run; ratio = assignedToMe / unfiltered)"
    )
    for chat, label in ((BIG_CHAT, "chat assigned to me"), (other_chat, "my single messages")):
        url = f"/wa/chats/{chat}/messages"
        cases = [("first page", {"providerSessionId": psid, "limit": 50})]
        if chat == BIG_CHAT:
            cases.append(
                ("page 50,000 in", {"providerSessionId": psid, "limit": 50, "cursor": deep})
            )
        for name, params in cases:
            filtered_rows = len((await bench.get(url, {**params, "assignedToMe": "true"}))["rows"])
            mine, plain = await _paired(
                lambda u=url, p=params: bench.get(u, {**p, "assignedToMe": "true"}),
                lambda u=url, p=params: bench.get(u, p),
                n,
            )
            _row(f"{label}, {name} ({filtered_rows} rows)", mine, plain, "unfiltered")
    # Sparse: the big chat is nobody's now, and only 20 of its 100,000 messages are mine.
    response = await bench.client.delete(
        f"/wa/chats/{BIG_CHAT}/assignment",
        params={"providerSessionId": psid},
        headers=bench.headers,
    )
    assert response.status_code == 200, response.text
    await _execute(
        "INSERT INTO crm_message_assignments (id, account_id, session_id, remote_jid, message_pk,"
        " message_id, assignee_type, user_id, assigned_at, version, created_at, updated_at)"
        " SELECT gen_random_uuid(), CAST(:a AS uuid), session_id, remote_jid, id, message_id,"
        " 'user', CAST(:u AS uuid), now(), 1, now(), now() FROM wa_messages"
        " WHERE session_id = CAST(:s AS uuid) AND remote_jid = :big AND right(message_id, 4) = '5000'",
        {"a": bench.account, "s": session["id"], "big": BIG_CHAT, "u": user_id},
    )
    await _analyze("crm_message_assignments")
    url = f"/wa/chats/{BIG_CHAT}/messages"
    params = {"providerSessionId": psid, "limit": 50}
    filtered_rows = len((await bench.get(url, {**params, "assignedToMe": "true"}))["rows"])
    mine, plain = await _paired(
        lambda: bench.get(url, {**params, "assignedToMe": "true"}),
        lambda: bench.get(url, params),
        n,
    )
    _row(f"20 of 100,000 mine, first page ({filtered_rows} rows)", mine, plain, "unfiltered")
    raw_list = await _samples(
        lambda: raw.fetch(
            "SELECT * FROM wa_messages WHERE session_id = $1 AND remote_jid = $2"
            " ORDER BY source_timestamp DESC, id DESC LIMIT 51",
            sid,
            BIG_CHAT,
        ),
        n,
    )
    print(
        f"  (the list's own statement on raw asyncpg: p50 {raw_list[0]:.2f} ms, p99 {raw_list[1]:.2f} ms)"
    )


async def run(args: argparse.Namespace) -> None:
    from ticaret.main import create_app
    from ticaret.settings import get_settings

    app = create_app(get_settings())
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            reg = await client.post(
                "/auth/register",
                json={
                    "email": "bench@example.com",
                    "password": "bench password 1",
                    "name": "Bench",
                },
            )
            data = reg.json()["data"]
            token, account = data["accessToken"], data["accounts"][0]["accountId"]
            headers = {"Authorization": f"Bearer {token}", "x-account-id": account}
            created = await client.post(
                f"/accounts/{account}/wa-sessions",
                json={"name": "Bench", "provider": "sandbox"},
                headers={"Authorization": f"Bearer {token}"},
            )
            session = created.json()["data"]
            bench = Bench(client, headers, account)
            raw = await asyncpg.connect(_raw_dsn())
            try:
                if args.part in ("search", "all"):
                    await search(bench, raw, args.requests)
                if args.part in ("timeline", "all"):
                    await timeline(bench, raw, session, args.requests)
                if args.part in ("messages", "all"):
                    await messages(
                        bench, raw, session, data["user"]["id"], args.requests, args.messages
                    )
            finally:
                await raw.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["search", "timeline", "messages", "all"], default="all")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    with bench_servers("crm"):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
