"""Authenticated `GET /accounts` with a JWT and with an API key, and `/health` as the ceiling.

Runs `ticaret serve` (uvloop + httptools, one process) against embedded Postgres and Redis and
loads it with wrk over loopback. Usage: `python bench/accounts_bench.py [seconds]`.
"""

from __future__ import annotations

import os
import sys

import httpx

from bench.stack import Stack, wrk


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
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
        print(
            f"machine: {os.cpu_count()} cores; one API process (uvloop, httptools); wrk 32 connections, {seconds}s each"
        )
        print(wrk(f"{base}/health", {}, seconds=seconds).line("GET /health (framework ceiling)"))
        print(
            wrk(f"{base}/accounts", {"Authorization": f"Bearer {token}"}, seconds=seconds).line(
                "GET /accounts with JWT"
            )
        )
        print(
            wrk(
                f"{base}/accounts",
                {"x-api-key": api["key"], "x-api-secret": api["secret"]},
                seconds=seconds,
            ).line("GET /accounts with API key")
        )


if __name__ == "__main__":
    main()
