"""GET /wa/chats/{remoteJid}/messages latency on a chat with 100k messages (1M in the account).

Loads the rows with INSERT ... SELECT generate_series (one session, one big chat of 100k and
900 chats of 1,000), then times the list endpoint in-process over ASGI (auth, SQL, labels,
serialization; no network): first page, a deep cursor page, and both with a `q` full-text
filter. Prints p50/p99 in milliseconds.

    PYTHONPATH=src:. python bench/wa_messages_bench.py [--total N] [--big N] [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from bench._servers import bench_servers, percentile

BIG_CHAT = "905550000000@s.whatsapp.net"

LOAD_SQL = """
INSERT INTO wa_messages (
    id, session_id, remote_jid, message_id, from_me, chat_type, type, text, mentions,
    has_media, reactions, status, receipt, is_forwarded, edited, deleted_for_me,
    deleted_for_everyone, source_timestamp, version, created_at, updated_at,
    sender_jid, sender_jid_resolved, push_name
)
SELECT
    gen_random_uuid(), CAST(:session_id AS uuid),
    CASE WHEN g <= CAST(:big AS bigint) THEN CAST(:big_chat AS text)
         ELSE '9055'
              || lpad(((g - CAST(:big AS bigint) - 1) / CAST(:per_chat AS bigint))::text, 8, '0')
              || '@s.whatsapp.net' END,
    'BENCH' || g, g % 3 = 0, 'individual', 'text',
    (ARRAY['fiyat nedir', 'kargo ne zaman gelir', 'beden tablosu var mı', 'kırmızı renk stokta mı',
           'indirim kodu çalışmıyor', 'teşekkürler'])[1 + g % 6] || ' siparis ' || g,
    '[]'::jsonb, false, '{}'::jsonb, 3, '{}'::jsonb, false, false, false, false,
    timestamptz '2026-01-01' + make_interval(secs => g), 1, now(), now(),
    '905551112233@s.whatsapp.net', '905551112233@s.whatsapp.net', 'Bench'
FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint)) AS g
"""


async def load(session_id: str, total: int, big: int) -> float:
    from ticaret.core.db import get_engine

    per_chat = 1000
    started = time.perf_counter()
    batch = 100_000
    for start in range(1, total + 1, batch):
        stop = min(total, start + batch - 1)
        async with get_engine().begin() as conn:
            await conn.execute(
                text(LOAD_SQL),
                {
                    "session_id": session_id,
                    "big": big,
                    "big_chat": BIG_CHAT,
                    "per_chat": per_chat,
                    "start": start,
                    "stop": stop,
                },
            )
        print(f"  loaded {stop:,} messages", flush=True)
    async with get_engine().begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO wa_chats (id, session_id, remote_jid, type, unread_count, archived,"
                " last_message_at, created_at, updated_at)"
                " SELECT gen_random_uuid(), CAST(:sid AS uuid), remote_jid, 'individual', 0, false,"
                " max(source_timestamp), now(), now() FROM wa_messages"
                " WHERE session_id = :sid GROUP BY remote_jid"
            ),
            {"sid": session_id},
        )
        await conn.execute(text("ANALYZE wa_messages"))
        await conn.execute(text("ANALYZE wa_chats"))
    return time.perf_counter() - started


async def timed(
    client: httpx.AsyncClient, url: str, params: dict[str, Any], headers: dict[str, str], n: int
) -> tuple[float, float, int]:
    samples: list[float] = []
    rows = 0
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get(url, params=params, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        rows = len(response.json()["data"]["rows"])
    return percentile(samples, 50), percentile(samples, 99), rows


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
            token = reg.json()["data"]["accessToken"]
            account = reg.json()["data"]["accounts"][0]["accountId"]
            headers = {"Authorization": f"Bearer {token}", "x-account-id": account}
            created = await client.post(
                f"/accounts/{account}/wa-sessions",
                json={"name": "Bench", "provider": "sandbox"},
                headers={"Authorization": f"Bearer {token}"},
            )
            session = created.json()["data"]
            print(f"loading {args.total:,} messages ({args.big:,} in one chat) ...", flush=True)
            seconds = await load(session["id"], args.total, args.big)
            print(f"loaded in {seconds:.1f}s ({args.total / seconds:,.0f} rows/s)")

            url = f"/wa/chats/{BIG_CHAT}/messages"
            base = {"providerSessionId": session["providerSessionId"], "limit": 50}
            deep_offset = args.big // 2
            from ticaret.core.db import get_engine
            from ticaret.core.envelope import encode_cursor

            async with get_engine().connect() as conn:
                row = (
                    await conn.execute(
                        text(
                            "SELECT source_timestamp, id FROM wa_messages WHERE session_id = :sid"
                            " AND remote_jid = :jid ORDER BY source_timestamp DESC, id DESC"
                            " OFFSET :off LIMIT 1"
                        ),
                        {"sid": session["id"], "jid": BIG_CHAT, "off": deep_offset},
                    )
                ).one()
            deep = encode_cursor([row[0], row[1]])
            cases = [
                ("first page", base),
                (f"cursor page at {deep_offset:,}", {**base, "cursor": deep}),
                ("first page, q=kargo", {**base, "q": "kargo"}),
                (
                    f"cursor page at {deep_offset:,}, q=kargo",
                    {**base, "q": "kargo", "cursor": deep},
                ),
                ("first page, type=text", {**base, "type": "text"}),
            ]
            await timed(client, url, base, headers, 20)  # warm-up
            print(f"\nGET {url}  ({args.requests} requests each, limit 50)")
            for name, params in cases:
                p50, p99, rows = await timed(client, url, params, headers, args.requests)
                print(f"  {name:<40} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   rows {rows}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with bench_servers("messages"):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
