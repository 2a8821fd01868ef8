"""AI agent runs per second per worker, against a local OpenAI-compatible server that answers
every chat completion after `--latency-ms` (500 ms by default). Loopback only.

    PYTHONPATH=src:. python -m bench.agent_runs_bench [--runs 400] [--latency-ms 500]
                                                      [--max-jobs 50]

One `ticaret serve` and one `ticaret worker` (arq, `TICARET_WORKER_MAX_JOBS`) on embedded
PostgreSQL and Redis. Each run is two model calls: the fake model first asks for
`search_products` (a tool call, `finish_reason: "tool_calls"`), then answers; so every run is
claim, call, search the catalog, record the step, call, post the reply through the
conversations service, and the `ai.run.completed` event.

With the worker stopped, `--runs` api conversations each get a customer message that asks for
the agent (`ai.agentId`): the consumer jobs wait in Redis. Then one worker starts and the
benchmark waits until every run completed. Printed: runs/s per worker (steady rate: completed
runs over the span of their finish times), beside the ceiling the worker's concurrency allows:
`max_jobs / (latency × steps)` runs/s, as a ratio; and how many model calls were in flight at
the server (peak, mean while busy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench._servers import bench_servers
from bench.ai_bench import spawn, stop, wait_ready, wait_until

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "ai" / "fixtures"
STEPS = 2

COMPLETED = "SELECT count(*) FROM ai_agent_runs WHERE status = 'completed'"
UNFINISHED = "SELECT count(*) FROM ai_agent_runs WHERE status NOT IN ('pending', 'running')"
STEADY = (
    "SELECT count(*), extract(epoch FROM max(finished_at) - min(finished_at)),"
    " extract(epoch FROM max(finished_at) - min(created_at))"
    " FROM ai_agent_runs WHERE status = 'completed'"
)


def fake_openai(latency: float, stats: dict[str, float]) -> Any:
    """An OpenAI-compatible server: a tool call first, the answer once it saw the result."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(raw)
        stats["in_flight"] += 1
        stats["peak"] = max(stats["peak"], stats["in_flight"])
        stats["calls"] += 1
        await asyncio.sleep(latency)
        stats["in_flight"] -= 1
        asked = any(m.get("role") == "tool" for m in request["messages"])
        message_out: dict[str, Any] = {"role": "assistant", "refusal": None}
        if asked:
            message_out["content"] = "Kırmızı Saten Elbise stokta, fiyatı 1299.90 TRY."
            finish = "stop"
        else:
            message_out["content"] = None
            message_out["tool_calls"] = [
                {
                    "id": f"call_{int(stats['calls'])}",
                    "type": "function",
                    "function": {
                        "name": "search_products",
                        "arguments": json.dumps({"query": "kırmızı saten elbise"}),
                    },
                }
            ]
            finish = "tool_calls"
        body = json.dumps(
            {
                "id": f"chatcmpl-bench{int(stats['calls'])}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [
                    {"index": 0, "message": message_out, "logprobs": None, "finish_reason": finish}
                ],
                "usage": {"prompt_tokens": 400, "completion_tokens": 40, "total_tokens": 440},
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


async def scalar_row(sql: str) -> Any:
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        return (await conn.execute(text(sql))).one()


class Shop:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.headers: dict[str, str] = {}

    async def call(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, url, headers=self.headers, **kwargs)
        assert response.status_code < 300, (url, response.text)
        return response.json()["data"]

    async def open(self, llm_url: str) -> str:
        reg = await self.client.post(
            "/auth/register",
            json={"email": "agents-bench@example.com", "password": "bench password 1", "name": "B"},
        )
        data = reg.json()["data"]
        account = data["accounts"][0]["accountId"]
        self.headers = {"Authorization": f"Bearer {data['accessToken']}", "x-account-id": account}
        rows = json.loads((FIXTURES / "catalog.json").read_text())["rows"]
        await self.call("POST", "/products/import", json={"rows": rows})
        await self.call(
            "PUT",
            "/ai/settings",
            json={
                "provider": "openai_compatible",
                "baseUrl": f"{llm_url}/v1",
                "model": "gpt-4o-mini",
                "autoAnalyzeInbound": False,
            },
        )
        agent = await self.call("POST", "/ai/agents", json={"name": "Bench", "maxSteps": 4})
        return str(agent["id"])

    async def ask(self, agent_id: str, count: int, concurrency: int = 16) -> None:
        queue = list(range(count))

        async def poster() -> None:
            while queue:
                n = queue.pop()
                conversation = await self.call(
                    "POST",
                    "/conversations",
                    json={"type": "api", "channelIdentifier": f"bench-{n}", "language": "tr"},
                )
                await self.call(
                    "POST",
                    f"/conversations/{conversation['id']}/messages",
                    json={
                        "content": {"tr": "Kırmızı saten elbise var mı?"},
                        "sender": "customer",
                        "customer": {"externalId": f"bench-{n}", "name": f"Müşteri {n}"},
                        "ai": {"agentId": agent_id},
                    },
                )

        await asyncio.gather(*(poster() for _ in range(concurrency)))


async def run(args: argparse.Namespace, env: dict[str, str]) -> None:
    from tests.local_server import serve

    from ticaret.core.db import init_engine
    from ticaret.core.embedded import free_port

    stats = {"in_flight": 0.0, "peak": 0.0, "calls": 0.0}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env = {
        **os.environ,
        **env,
        "PYTHONPATH": str(REPO / "src"),
        "TICARET_PUBLIC_BASE_URL": base,
        "TICARET_AI__PRIVATE_ENDPOINT_HOSTS": "127.0.0.1",
        "TICARET_WORKER_MAX_JOBS": str(args.max_jobs),
        "TICARET_DB_POOL_SIZE": "20",
        "TICARET_DB_MAX_OVERFLOW": "20",
    }
    api = spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    worker = None
    async with serve(fake_openai(args.latency_ms / 1000, stats)) as llm_url:
        try:
            await wait_ready(base)
            init_engine(env["TICARET_DATABASE_URL"])
            async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                shop = Shop(client)
                agent_id = await shop.open(llm_url)
                # With no worker yet, the runs' consumer jobs wait in Redis.
                await shop.ask(agent_id, args.runs)
                samples: list[float] = []

                async def sample() -> None:
                    while True:
                        if stats["calls"]:
                            samples.append(stats["in_flight"])
                        await asyncio.sleep(0.05)

                sampler = asyncio.create_task(sample())
                worker = subprocess.Popen([sys.executable, "-m", "cProfile", "-o", "/tmp/agents_worker.prof", "-m", "ticaret.cli", "worker"], env=child_env)
                await wait_until(UNFINISHED, args.runs, args.timeout)
                sampler.cancel()
                completed = int((await scalar_row(COMPLETED))[0])
                count, span, whole = await scalar_row(STEADY)
                steady = (int(count) - 1) / float(span) if span else 0.0
                ceiling = args.max_jobs / (args.latency_ms / 1000 * STEPS)
                busy = [s for s in samples if s > 0]
                print(
                    f"agent runs               {steady:8.1f} runs/s  ({completed}/{args.runs} "
                    f"completed, {STEPS} model calls of {args.latency_ms} ms each, one worker, "
                    f"max_jobs {args.max_jobs}; first queued -> last done {float(whole):.1f} s)"
                )
                print(
                    f"ceiling                  {ceiling:8.1f} runs/s  (max_jobs / "
                    f"({args.latency_ms / 1000} s x {STEPS} steps)) -> {steady / ceiling:.2f}x of "
                    f"the ceiling; model calls in flight: peak {int(stats['peak'])}, mean "
                    f"{sum(busy) / max(len(busy), 1):.1f} while busy"
                )
        finally:
            (worker.send_signal(signal.SIGINT), worker.wait(60)) if worker else None
            stop(api)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--latency-ms", type=int, default=500)
    parser.add_argument("--max-jobs", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with bench_servers("agents") as servers:
        asyncio.run(run(args, servers.env))


if __name__ == "__main__":
    main()
