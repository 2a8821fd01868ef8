"""The WhatsApp chat and message lists against the raw baseline, side by side in the same run.

Starts embedded Postgres and Redis, one `ticaret serve` (uvloop, httptools) and one
`bench/raw_baseline.py` process (Starlette + asyncpg + orjson, the same statements), loads a
session of `--total` messages with one chat of `--big` (INSERT ... SELECT generate_series),
checks both servers answer every case with the same bytes, then loads each with wrk (32
connections), interleaved round by round: requests per second, p99 and the server's CPU time per
request (the steady figure on a shared machine), and the ratio to the baseline; PostgreSQL's CPU
time per request beside it (both servers share the database, loaded one after the other). Then one client
at a time against the API alone: p50/p99 per case (the 1M-message latency target).

`--baseline-ref main` also runs that commit's API (exported with `git archive`) on the same
data, loaded in the same rounds: before and after side by side, each with its ratio to the
raw baseline. `--cases chats` (or `messages`, `cursor`) measures only those cases.
`--statements` first counts each server's statements per request: every read runs outside a
transaction, so each statement is one PostgreSQL transaction (`pg_stat_database`).

    PYTHONPATH=src:. python -m bench.wa_lists_bench [--total 1000000] [--big 100000]
    PYTHONPATH=src:. python -m bench.wa_lists_bench --baseline-ref main --cases chats
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench._servers import source_tree
from bench.accounts_bench import Side, same_bytes
from bench.stack import Stack, free_port, server_cpu_seconds, stop, wait_for_port, wrk
from bench.wa_messages_bench import BIG_CHAT, load


async def _load(database_url: str, session_id: str, total: int, big: int) -> tuple[float, str]:
    from ticaret.core.db import dispose_engine, get_engine, init_engine
    from ticaret.core.envelope import encode_cursor

    init_engine(database_url)
    try:
        seconds = await load(session_id, total, big)
        async with get_engine().connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT source_timestamp, id FROM wa_messages WHERE session_id = :sid"
                        " AND remote_jid = :jid ORDER BY source_timestamp DESC, id DESC"
                        " OFFSET :off LIMIT 1"
                    ),
                    {"sid": session_id, "jid": BIG_CHAT, "off": big // 2},
                )
            ).one()
        return seconds, encode_cursor([row[0], row[1]])
    finally:
        await dispose_engine()


CASES = ["messages", "cursor", "chats"]
STATEMENT_REQUESTS = 200


async def _transactions(conn: Any) -> int:
    # Backends report their counts when a second has passed, or after 10 s idle. The
    # transaction ends at once: inside one, PostgreSQL shows the same snapshot of counts.
    counted = (
        await conn.execute(
            text(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database"
                " WHERE datname = current_database()"
            )
        )
    ).scalar_one()
    await conn.rollback()
    return int(counted)


async def _statements_per_request(
    database_url: str, servers: list[tuple[str, str]], path: str, headers: dict[str, str]
) -> dict[str, float]:
    """Each server's statements per request on `path`: one client, one server at a time, the
    database's transactions counted before and 11 s after (every read of these servers is
    one autocommit statement; the count read is one more, left in as noise)."""
    from ticaret.core.db import dispose_engine, get_engine, init_engine

    init_engine(database_url)
    found: dict[str, float] = {}
    try:
        async with get_engine().connect() as conn, httpx.AsyncClient() as client:
            for label, url in servers:
                await asyncio.sleep(11)
                before = await _transactions(conn)
                for _ in range(STATEMENT_REQUESTS):
                    (await client.get(f"{url}{path}", headers=headers)).raise_for_status()
                await asyncio.sleep(11)
                found[label] = (await _transactions(conn) - before) / STATEMENT_REQUESTS
    finally:
        await dispose_engine()
    return found


def _postmaster(database_url: str) -> int:
    """The embedded PostgreSQL's postmaster (its backends are its children), from the socket
    folder in the URL: PostgreSQL's CPU per request goes beside each server's own, since
    folding statements together moves work from the API into the database."""
    folder = urllib.parse.parse_qs(urllib.parse.urlsplit(database_url).query)["host"][0]
    return int((Path(folder) / "postmaster.pid").read_text().split()[0])


def _serve_ref(
    ref: str, exported: Path, env: dict[str, str], processes: list[subprocess.Popen[bytes]]
) -> tuple[str, int, str]:
    """`ticaret serve` of the commit `ref` (its `src` exported) on the same database: one
    process, uvloop and httptools, as the API under test."""
    src = source_tree(exported, None, ref)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ticaret.cli", "serve", "--port", str(port), "--workers", "1"],
        env={**env, "PYTHONPATH": str(src)},
        cwd=exported,
    )
    processes.append(process)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return ref, process.pid, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the API of {ref} did not become ready in 30 s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--single", type=int, default=10, help="seconds of one-client load")
    parser.add_argument("--baseline-ref", help="also this commit's API, exported (before/after)")
    parser.add_argument(
        "--cases", nargs="+", choices=["messages", "cursor", "chats"], default=CASES
    )
    parser.add_argument(
        "--statements", action="store_true", help="first count statements per request"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ticaret-lists-") as exported, Stack() as stack:
        base = stack.base_url
        registered = httpx.post(
            f"{base}/auth/register",
            json={"email": "bench@example.com", "password": "bench password", "name": "Bench"},
        ).json()["data"]
        token = registered["accessToken"]
        account_id = registered["accounts"][0]["accountId"]
        headers = {"Authorization": f"Bearer {token}", "x-account-id": account_id}
        session = httpx.post(
            f"{base}/accounts/{account_id}/wa-sessions",
            json={"name": "Bench", "provider": "sandbox"},
            headers=headers,
        ).json()["data"]
        psid = session["providerSessionId"]
        print(f"loading {args.total:,} messages ({args.big:,} in one chat) ...", flush=True)
        seconds, deep = asyncio.run(
            _load(stack.env["TICARET_DATABASE_URL"], session["id"], args.total, args.big)
        )
        print(f"loaded in {seconds:.0f} s", flush=True)

        messages = f"/wa/chats/{urllib.parse.quote(BIG_CHAT)}/messages"
        every = {
            "messages": (
                "messages, first page of 50",
                f"{messages}?providerSessionId={psid}&limit=50",
            ),
            "cursor": (
                f"messages, cursor page at {args.big // 2:,}",
                f"{messages}?providerSessionId={psid}&limit=50&cursor={deep}",
            ),
            "chats": ("chats, first page of 50", f"/wa/chats?providerSessionId={psid}&limit=50"),
        }
        cases = [every[name] for name in CASES if name in args.cases]
        port = free_port()
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.raw_baseline", "--port", str(port)],
                env={**stack.env, "PYTHONPATH": os.pathsep.join(sys.path)},
            )
        ]
        raw_base = f"http://127.0.0.1:{port}"
        servers = [("ours", stack.pid, base)]
        postgres = _postmaster(stack.env["TICARET_DATABASE_URL"])
        try:
            if args.baseline_ref:
                servers.append(_serve_ref(args.baseline_ref, Path(exported), stack.env, processes))
            wait_for_port(port)
            for _, path in cases:
                for _, _, server in servers:
                    same_bytes(server, raw_base, path, headers)
            if args.statements:
                print(
                    "statements per request (PostgreSQL transactions, one client, "
                    f"{STATEMENT_REQUESTS} requests):"
                )
                for label, path in cases:
                    counted = asyncio.run(
                        _statements_per_request(
                            stack.env["TICARET_DATABASE_URL"],
                            [*((name, url) for name, _, url in servers), ("raw", raw_base)],
                            path,
                            headers,
                        )
                    )
                    shown = "  ".join(f"{name} {count:.2f}" for name, count in counted.items())
                    print(f"  {label:<34} {shown}", flush=True)
            print(
                f"machine: {os.cpu_count()} cores; one process each; wrk 32 connections, "
                f"{args.seconds} s per run, {args.rounds} interleaved rounds; bodies identical"
            )
            print(
                f"{'case':<34} {'server':<12} {'req/s':>7} {'CPU/req':>9} {'p99':>8} | "
                f"{'raw req/s':>9} {'CPU/req':>9} {'p99':>8} | {'ratio':>5} {'CPU ratio':>9} | "
                f"{'PG/req':>8} {'raw':>8}"
            )
            for label, path in cases:
                sides = [Side(name, pid, url) for name, pid, url in servers]
                raw = Side("raw", processes[0].pid, raw_base)
                pg_us: dict[str, list[float]] = {side.label: [] for side in [*sides, raw]}
                for _ in range(args.rounds):
                    for side in [*sides, raw]:
                        before = server_cpu_seconds(postgres)
                        side.load(path, headers, args.seconds)
                        used = server_cpu_seconds(postgres) - before
                        pg_us[side.label].append(used / (side.rps[-1] * args.seconds) * 1e6)
                        time.sleep(0.5)
                r_rps, r_cpu = statistics.median(raw.rps), statistics.median(raw.cpu_us)
                r_pg = statistics.median(pg_us["raw"])
                for side in sides:
                    o_rps, o_cpu = statistics.median(side.rps), statistics.median(side.cpu_us)
                    print(
                        f"{label:<34} {side.label:<12} {o_rps:>7.0f} {o_cpu / 1000:>7.2f}ms "
                        f"{statistics.median(side.p99):>6.1f}ms | {r_rps:>9.0f} "
                        f"{r_cpu / 1000:>7.2f}ms {statistics.median(raw.p99):>6.1f}ms | "
                        f"{o_rps / r_rps:>5.2f} {r_cpu / o_cpu:>9.2f} | "
                        f"{statistics.median(pg_us[side.label]) / 1000:>6.2f}ms {r_pg / 1000:>6.2f}ms",
                        flush=True,
                    )
        finally:
            for process in processes:
                stop(process)
        print(f"\none client at a time, API alone, {args.single} s per case:")
        for label, path in cases:
            result = wrk(f"{base}{path}", headers, seconds=args.single, connections=1)
            print(
                f"  {label:<34} p50 {result.p50_ms:6.2f} ms   p99 {result.p99_ms:6.2f} ms"
                f"   ({result.requests_per_second:.0f} req/s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
