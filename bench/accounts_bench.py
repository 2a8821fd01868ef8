"""Authenticated reads against the raw baseline, side by side in the same run.

Starts embedded Postgres and Redis, one `ticaret serve` process (uvloop, httptools) and one
`bench/raw_baseline.py` process (Starlette + asyncpg + orjson, same queries), checks that both
answer every request with the same bytes, then loads each with wrk (32 connections), the two
interleaved round by round. Per path it prints requests per second, p50/p99 and the server's CPU
time per request (the steady figure on a shared machine), and the ratio to the baseline.

    PYTHONPATH=src:. python -m bench.accounts_bench [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from bench.stack import Stack, cpu_seconds, free_port, stop, wait_for_port, wrk


@dataclass
class Side:
    label: str
    pid: int
    base: str
    rps: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)

    def load(self, path: str, headers: dict[str, str], seconds: int) -> None:
        before = cpu_seconds(self.pid)
        result = wrk(f"{self.base}{path}", headers, seconds=seconds)
        used = cpu_seconds(self.pid) - before
        if result.non_2xx:
            raise SystemExit(f"{self.label} {path}: {result.non_2xx} non-2xx answers")
        self.rps.append(result.requests_per_second)
        self.p99.append(result.p99_ms)
        self.cpu_us.append(used / max(result.requests, 1) * 1e6)


def same_bytes(ours: str, raw: str, path: str, headers: dict[str, str]) -> None:
    a = httpx.get(f"{ours}{path}", headers=headers)
    b = httpx.get(f"{raw}{path}", headers=headers)
    if a.status_code != 200 or a.content != b.content:
        at = next(
            (i for i, (x, y) in enumerate(zip(a.content, b.content, strict=False)) if x != y),
            min(len(a.content), len(b.content)),
        )
        raise SystemExit(
            f"{path}: the two servers answer differently (statuses {a.status_code}, "
            f"{b.status_code}; first difference at byte {at})\n"
            f" ours ...{a.content[max(0, at - 80) : at + 80]!r}\n"
            f" raw  ...{b.content[max(0, at - 80) : at + 80]!r}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Stack() as stack:
        base = stack.base_url
        registered = httpx.post(
            f"{base}/auth/register",
            json={"email": "bench@example.com", "password": "bench password", "name": "Bench"},
        ).json()["data"]
        token = registered["accessToken"]
        account_id = registered["accounts"][0]["accountId"]
        api = httpx.post(
            f"{base}/accounts/{account_id}/api-accounts",
            json={"name": "bench", "role": "admin"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]

        port = free_port()
        raw_process = subprocess.Popen(
            [sys.executable, "-m", "bench.raw_baseline", "--port", str(port)],
            env={**stack.env, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            wait_for_port(port)
            raw_base = f"http://127.0.0.1:{port}"
            cases = [
                ("GET /health", "/health", {}),
                ("GET /accounts (JWT)", "/accounts", {"Authorization": f"Bearer {token}"}),
                (
                    "GET /accounts (API key)",
                    "/accounts",
                    {"x-api-key": api["key"], "x-api-secret": api["secret"]},
                ),
            ]
            for _, path, headers in cases:
                same_bytes(base, raw_base, path, headers)
            print(
                f"machine: {os.cpu_count()} cores; one process each (uvloop, httptools); wrk 32 "
                f"connections, {args.seconds} s per run, {args.rounds} interleaved rounds; "
                "bodies checked identical first"
            )
            print(
                f"{'path':<26} {'ours req/s':>10} {'CPU/req':>9} {'p99':>8} | "
                f"{'raw req/s':>9} {'CPU/req':>9} {'p99':>8} | {'ratio':>5} {'CPU ratio':>9}"
            )
            for label, path, headers in cases:
                ours = Side("ours", stack.pid, base)
                raw = Side("raw", raw_process.pid, raw_base)
                for _ in range(args.rounds):
                    ours.load(path, headers, args.seconds)
                    time.sleep(0.5)
                    raw.load(path, headers, args.seconds)
                    time.sleep(0.5)
                o_rps, r_rps = statistics.median(ours.rps), statistics.median(raw.rps)
                o_cpu, r_cpu = statistics.median(ours.cpu_us), statistics.median(raw.cpu_us)
                print(
                    f"{label:<26} {o_rps:>10.0f} {o_cpu:>7.0f}µs {statistics.median(ours.p99):>6.1f}ms"
                    f" | {r_rps:>9.0f} {r_cpu:>7.0f}µs {statistics.median(raw.p99):>6.1f}ms"
                    f" | {o_rps / r_rps:>5.2f} {r_cpu / o_cpu:>9.2f}",
                    flush=True,
                )
        finally:
            stop(raw_process)


if __name__ == "__main__":
    main()
