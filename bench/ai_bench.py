"""AI analysis throughput and latency, end to end, with one `ticaret serve` and one `ticaret
worker` (arq, max_jobs=50) on embedded PostgreSQL and Redis. Loopback only.

    PYTHONPATH=src:. python -m bench.ai_bench --mode deterministic [--products 10000] [--messages 1000]
    PYTHONPATH=src:. python -m bench.ai_bench --mode llm [--messages 300] [--latency-ms 800]

deterministic: a 10k-product catalog imported through /products/import, customers' messages
(the labelled set's phrasings over the catalog's words) injected through the sandbox gateway.
  1. ingest (the baseline): the worker turns N stored gateway events into messages and their
     `wa.message.received` events (analysis off: each gets a skipped row, nothing analysed);
  2. analyses: with the worker stopped, every message's analysis is queued (retry), then the
     worker starts and runs them: analyses/s per worker, and the ratio to the ingest rate;
  3. latency: with the worker idle, messages one at a time; the time from the message's
     `wa.message.received` to its `ai.analysis.completed` (event timestamps), beside the
     time from the gateway event stored to `wa.message.received`.

llm: an OpenAI-compatible server on 127.0.0.1 that answers every chat completion after
`--latency-ms`, the account's concurrency limit at 20: analyses/s per worker beside the
ceiling the limit allows (limit / latency), and how many calls were in flight at the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench._servers import bench_servers, percentile

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "ai" / "fixtures"

TYPES = [
    ("Elbise", "Elbise"), ("Gömlek", "Gömlek"), ("Tişört", "Tişört"), ("Kazak", "Kazak"),
    ("Pantolon", "Pantolon"), ("Etek", "Etek"), ("Ceket", "Ceket"), ("Mont", "Mont"),
    ("Spor Ayakkabı", "Ayakkabı"), ("Bot", "Ayakkabı"), ("Omuz Çantası", "Çanta"),
    ("Kemer", "Aksesuar"), ("Şapka", "Aksesuar"), ("Atkı", "Aksesuar"), ("Kolye", "Takı"),
    ("Küpe", "Takı"), ("Çorap", "Çorap"), ("Pijama Takımı", "Pijama"), ("Hırka", "Hırka"),
    ("Bluz", "Bluz"), ("Şort", "Şort"), ("Sweatshirt", "Sweatshirt"), ("Yelek", "Yelek"),
    ("Tulum", "Tulum"), ("Eşofman Altı", "Eşofman"),
]  # fmt: skip
COLOURS = [
    "Kırmızı", "Siyah", "Beyaz", "Lacivert", "Mavi", "Yeşil", "Sarı", "Mor", "Pembe", "Gri",
    "Bej", "Bordo", "Haki", "Kahverengi", "Ekru", "Turuncu", "Krem", "Füme", "Vizon", "Lila",
]  # fmt: skip
STYLES = [
    "Keten", "Saten", "Deri", "Pamuklu", "Triko", "Kot", "Süet", "Yün", "İpek", "Şifon",
    "Kadife", "Oversize", "Slim Fit", "Basic", "Çizgili", "Desenli", "Örgü", "Polar",
    "Nakışlı", "Dantelli",
]  # fmt: skip
BRANDS = ["Nevra", "Kuzey", "Moda Lina", "Denim Co", "Adımlar", "Sportif", "Çantacı", "Takı Evi"]
SIZES = "S, M, L, XL"
ASKS = [
    "{c} {s} {t} {z} beden var mı",
    "{s} {t} {c} {z} kaldı mı",
    "{t} {c} fiyatı ne kadar",
    "{c} renkli {s} {t}iniz var mı? {z} lazım",
    "2 tane {c} {t} istiyorum {z}",
    "{z} beden {c} {s} {t}",
]
NAMING = [ask for ask in ASKS if "{s}" in ask]  # the others leave the style out


def catalog(count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    rng = random.Random(7)
    combos = [(t, c, s) for t in TYPES for c in COLOURS for s in STYLES]
    rng.shuffle(combos)
    for n, ((kind, category), colour, style) in enumerate(combos[:count]):
        rows.append(
            {
                "sku": f"B-{n:05d}",
                "name": f"{colour} {style} {kind}",
                "brand": BRANDS[n % len(BRANDS)],
                "category": category,
                "price": f"{rng.randint(99, 3999)}.90",
                "stockQuantity": rng.randint(0, 40),
                "renk": colour.lower(),
                "beden": SIZES,
            }
        )
    return rows


def messages_for(rows: list[dict[str, Any]], count: int) -> list[str]:
    return [text_ for text_, _ in labelled_for(rows, count)]


def labelled_for(rows: list[dict[str, Any]], count: int) -> list[tuple[str, str]]:
    """Messages about random products of the catalog, each with the sku it means."""
    rng = random.Random(11)
    texts: list[tuple[str, str]] = []
    fold = str.maketrans("ıİşŞğĞçÇöÖüÜ", "iIsSgGcCoOuU")
    for n in range(count):
        row = rows[rng.randrange(len(rows))]
        colour, rest = row["name"].split(" ", 1)
        words = rest.split(" ")
        style, kind = " ".join(words[:-1]), words[-1]
        text_ = ASKS[n % len(ASKS)].format(
            c=colour.lower(), s=style.lower(), t=kind.lower(), z=rng.choice(["S", "M", "L"])
        )
        # Half without diacritics, as many customers type.
        texts.append((text_.translate(fold) if n % 2 else text_, row["sku"]))
    return texts


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ticaret.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the API did not start")


async def scalar(sql: str, **params: Any) -> Any:
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def wait_until(sql: str, target: int, limit_s: float, **params: Any) -> float:
    started = time.perf_counter()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if int(await scalar(sql, **params) or 0) >= target:
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {target}: {sql}")


class Shop:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.headers: dict[str, str] = {}
        self.psid = ""

    async def open(self) -> None:
        reg = await self.client.post(
            "/auth/register",
            json={"email": "ai-bench@example.com", "password": "bench password 1", "name": "B"},
        )
        data = reg.json()["data"]
        account = data["accounts"][0]["accountId"]
        self.headers = {"Authorization": f"Bearer {data['accessToken']}", "x-account-id": account}
        created = await self.client.post(
            f"/accounts/{account}/wa-sessions",
            json={"name": "Bench", "provider": "sandbox"},
            headers=self.headers,
        )
        self.psid = created.json()["data"]["providerSessionId"]

    async def settings(self, **fields: Any) -> None:
        response = await self.client.put("/ai/settings", json=fields, headers=self.headers)
        assert response.status_code == 200, response.text

    async def import_rows(self, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 5000):
            response = await self.client.post(
                "/products/import", json={"rows": rows[start : start + 5000]}, headers=self.headers
            )
            assert response.status_code in (200, 201, 202), response.text
            result = response.json()["data"]
            while result["status"] in ("queued", "running"):
                await asyncio.sleep(0.5)
                result = (
                    await self.client.get(
                        f"/products/imports/{result['importId']}", headers=self.headers
                    )
                ).json()["data"]
            assert result["status"] == "completed" and result["failed"] == 0, result

    async def say(self, texts: list[str], concurrency: int = 16) -> list[tuple[str, str]]:
        said: list[tuple[str, str]] = [("", "")] * len(texts)
        queue = list(enumerate(texts))

        async def poster() -> None:
            while queue:
                n, text_ = queue.pop()
                phone = f"90555{n:07d}"
                response = await self.client.post(
                    f"/wa/sandbox/{self.psid}/inbound",
                    json={"from": phone, "text": text_},
                    headers=self.headers,
                )
                assert response.status_code == 200, response.text
                said[n] = (f"{phone}@s.whatsapp.net", response.json()["data"]["messageId"])

        await asyncio.gather(*(poster() for _ in range(concurrency)))
        return said

    async def retry(self, said: list[tuple[str, str]], concurrency: int = 16) -> None:
        queue = list(said)

        async def poster() -> None:
            while queue:
                jid, message_id = queue.pop()
                response = await self.client.post(
                    f"/wa/chats/{jid}/messages/{message_id}/ai-analysis/retry",
                    json={"providerSessionId": self.psid},
                    headers=self.headers,
                )
                assert response.status_code == 200, response.text

        await asyncio.gather(*(poster() for _ in range(concurrency)))


COMPLETED = "SELECT count(*) FROM ai_analyses WHERE status = 'completed'"
ROWS = "SELECT count(*) FROM ai_analyses"
STEADY = (
    "SELECT count(*), extract(epoch FROM max(completed_at) - min(completed_at))"
    " FROM ai_analyses WHERE status = 'completed'"
)


async def steady_rate() -> float:
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        count, span = (await conn.execute(text(STEADY))).one()
    return (int(count) - 1) / float(span) if span else 0.0


async def run_deterministic(args: argparse.Namespace, env: dict[str, str]) -> None:
    from ticaret.core.db import init_engine
    from ticaret.core.embedded import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env = {
        **os.environ,
        **env,
        "PYTHONPATH": str(REPO / "src"),
        "TICARET_PUBLIC_BASE_URL": base,
    }
    api = spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    worker: subprocess.Popen[bytes] | None = None
    try:
        await wait_ready(base)
        init_engine(env["TICARET_DATABASE_URL"])
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            shop = Shop(client)
            await shop.open()
            worker = spawn(["worker"], child_env)  # the import of a large catalog is a job
            rows = catalog(args.products)
            started = time.perf_counter()
            await shop.import_rows(rows)
            print(
                f"catalog                  {len(rows):,} products imported in "
                f"{time.perf_counter() - started:.1f}s"
            )
            stop(worker)
            worker = None

            # 1. Ingest alone (analysis off): the baseline.
            await shop.settings(autoAnalyzeInbound=False)
            labelled = labelled_for(rows, args.messages)
            said = await shop.say([text_ for text_, _ in labelled])
            worker = spawn(["worker"], child_env)
            ingest = await wait_until(ROWS, len(said), args.timeout)
            stop(worker)
            worker = None

            # 2. Analyses alone: queued with the worker stopped, then one worker runs them.
            await shop.settings(autoAnalyzeInbound=True)
            await shop.retry(said)
            worker = spawn(["worker"], child_env)
            analysed = await wait_until(COMPLETED, len(said), args.timeout)
            steady = await steady_rate()
            ingest_rate = len(said) / ingest
            rate = len(said) / analysed
            print(
                f"ingest (baseline)        {ingest_rate:8.1f} messages/s  "
                f"({len(said):,} gateway events -> messages + skipped analyses, one worker)"
            )
            print(
                f"deterministic analyses   {rate:8.1f} analyses/s  "
                f"(steady {steady:.1f}/s; {len(said):,} at {len(rows):,} products, one worker)"
                f"  = {rate / ingest_rate:.2f}x ingest"
            )
            await accuracy(labelled, said)

            # 3. Latency, one message at a time on an idle worker.
            latency_texts = messages_for(rows, args.latency_messages)
            for n, text_ in enumerate(latency_texts):
                await client.post(
                    f"/wa/sandbox/{shop.psid}/inbound",
                    json={"from": f"90556{n:07d}", "text": text_},
                    headers=shop.headers,
                )
                await asyncio.sleep(args.latency_gap)
            await wait_until(COMPLETED, len(said) + len(latency_texts), args.timeout)
            analysis_ms, ingest_ms = await latencies(len(latency_texts))
            print(
                f"received -> completed    p50 {percentile(analysis_ms, 50):6.1f} ms  "
                f"p95 {percentile(analysis_ms, 95):6.1f} ms  p99 {percentile(analysis_ms, 99):6.1f}"
                f" ms  ({len(analysis_ms)} messages, one at a time)"
            )
            print(
                f"stored -> received       p50 {percentile(ingest_ms, 50):6.1f} ms  "
                f"p95 {percentile(ingest_ms, 95):6.1f} ms  (the ingest before it, baseline)  "
                f"= {percentile(analysis_ms, 50) / percentile(ingest_ms, 50):.2f}x at p50"
            )
    finally:
        stop(worker)
        stop(api)


TOP_MATCHES = """
SELECT message_id, coalesce(jsonb_path_query_array(product_matches, '$[*].sku'), '[]'),
       match_status
FROM ai_analyses
"""
KEYWORD = """
SELECT sku FROM (
  SELECT sku, id, (
    SELECT count(*) FROM unnest(CAST(:words AS text[])) AS w
    WHERE name ILIKE '%' || w || '%' OR coalesce(category, '') ILIKE '%' || w || '%'
  ) AS hits FROM products
) AS ranked WHERE hits > 0 ORDER BY hits DESC, id LIMIT 3
"""


async def accuracy(labelled: list[tuple[str, str]], said: list[tuple[str, str]]) -> None:
    """Messages that name the product fully (colour, material or style, type): how often it
    comes first (or in the first three), beside a keyword ILIKE search of the same catalog.
    Messages that leave the style out fit twenty products: the right answer is `ambiguous`
    (the reply asks which one), a confident single product is wrong."""
    import re

    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        rows = (await conn.execute(text(TOP_MATCHES))).all()
        ranked = {r[0]: (list(r[1]), r[2]) for r in rows}
        keyword: list[list[str]] = []
        started = time.perf_counter()
        for text_, _ in labelled:
            words = re.findall(r"\w{3,}", text_.lower())
            found = await conn.execute(text(KEYWORD), {"words": words})
            keyword.append([r[0] for r in found])
        keyword_ms = (time.perf_counter() - started) / len(labelled) * 1000
    ours = [ranked.get(message_id, ([], None)) for _, message_id in said]
    full = [n for n in range(len(labelled)) if ASKS[n % len(ASKS)] in NAMING]
    for name, lists in (("analyser", [o[0] for o in ours]), ("keyword ILIKE", keyword)):
        top1 = sum(bool(lists[n]) and lists[n][0] == labelled[n][1] for n in full)
        top3 = sum(labelled[n][1] in lists[n][:3] for n in full)
        print(
            f"{name:<24} top-1 {top1 / len(full):6.1%}  top-3 {top3 / len(full):6.1%}"
            f"  ({len(full):,} messages naming one product fully)"
        )
    vague = [n for n in range(len(labelled)) if n not in set(full)]
    asked = sum(ours[n][1] == "ambiguous" for n in vague)
    wrong = sum(
        ours[n][1] == "high_confidence" and ours[n][0][:1] != [labelled[n][1]] for n in vague
    )
    print(
        f"{'':<24} {len(vague):,} messages without the style (20 products fit): "
        f"{asked / len(vague):.1%} ambiguous, {wrong / len(vague):.1%} confidently wrong"
    )
    print(f"{'':<24} keyword query {keyword_ms:.1f} ms per message")


LATENCIES = r"""
SELECT extract(epoch FROM done.created_at - received.created_at) * 1000,
       extract(epoch FROM received.created_at - inbox.received_at) * 1000
FROM events AS received
JOIN events AS done ON done.type = 'ai.analysis.completed'
  AND done.data->>'messageId' = received.data->>'messageId'
JOIN inbox_items AS inbox ON inbox.source = :source
  AND inbox.payload->'payload'->>'id' LIKE '%\_' || (received.data->>'messageId')
WHERE received.type = 'wa.message.received'
ORDER BY received.seq DESC LIMIT :count
"""


async def latencies(count: int) -> tuple[list[float], list[float]]:
    from ticaret.core.db import get_engine
    from ticaret.wa.inbox import GATEWAY_EVENTS

    async with get_engine().connect() as conn:
        rows = (
            await conn.execute(text(LATENCIES), {"count": count, "source": GATEWAY_EVENTS.name})
        ).all()
    return [float(r[0]) for r in rows], [float(r[1]) for r in rows]


def fake_openai(latency: float, stats: dict[str, float]) -> Any:
    """An OpenAI-compatible server: every chat completion answers after `latency` seconds."""
    answer = json.dumps(
        {
            "intent": "stock_question",
            "action": "confirm_stock",
            "priority": "normal",
            "sentiment": "neutral",
            "summary": "Müşteri ürünün stokta olup olmadığını soruyor.",
            "suggested_reply": "Merhaba! Ürün stokta.",
            "confidence": 0.9,
            "entities": {
                "product_name": "elbise",
                "color": "kırmızı",
                "size": "M",
                "amount": None,
                "date": None,
            },
            "product_search": "kırmızı saten elbise",
            "quantity": None,
            "warnings": [],
        },
        ensure_ascii=False,
    )

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        stats["in_flight"] += 1
        stats["peak"] = max(stats["peak"], stats["in_flight"])
        stats["calls"] += 1
        await asyncio.sleep(latency)
        stats["in_flight"] -= 1
        body = json.dumps(
            {
                "id": f"chatcmpl-bench{int(stats['calls'])}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "bench-model",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 300, "completion_tokens": 80, "total_tokens": 380},
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


async def run_llm(args: argparse.Namespace, env: dict[str, str]) -> None:
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
    }
    api = spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    worker: subprocess.Popen[bytes] | None = None
    async with serve(fake_openai(args.latency_ms / 1000, stats)) as llm_url:
        try:
            await wait_ready(base)
            init_engine(env["TICARET_DATABASE_URL"])
            async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                shop = Shop(client)
                await shop.open()
                rows = json.loads((FIXTURES / "catalog.json").read_text())["rows"]
                await shop.import_rows(rows)
                await shop.settings(autoAnalyzeInbound=False)
                texts = [
                    m["text"]
                    for m in json.loads((FIXTURES / "labelled_messages.json").read_text())[
                        "messages"
                    ]
                ]
                said = await shop.say([texts[n % len(texts)] for n in range(args.messages)])
                worker = spawn(["worker"], child_env)
                await wait_until(ROWS, len(said), args.timeout)
                stop(worker)
                worker = None
                await shop.settings(
                    provider="openai_compatible",
                    baseUrl=f"{llm_url}/v1",
                    model="bench-model",
                    autoAnalyzeInbound=True,
                    maxConcurrentAnalyses=args.limit,
                )
                await shop.retry(said)
                samples: list[float] = []
                worker = spawn(["worker"], child_env)

                async def sample() -> None:
                    while True:
                        if stats["calls"]:
                            samples.append(stats["in_flight"])
                        await asyncio.sleep(0.05)

                sampler = asyncio.create_task(sample())
                await wait_until(COMPLETED, len(said), args.timeout)
                sampler.cancel()
                steady = await steady_rate()
                ceiling = args.limit / (args.latency_ms / 1000)
                busy = [s for s in samples if s > 0]
                print(
                    f"llm analyses             {steady:8.1f} analyses/s  ({len(said)} analyses, "
                    f"{args.latency_ms} ms per call, concurrency limit {args.limit}, one worker)"
                )
                print(
                    f"ceiling (limit/latency)  {ceiling:8.1f} analyses/s  = {steady / ceiling:.2f}x"
                    f" of the ceiling; calls in flight at the server: peak {int(stats['peak'])}, "
                    f"mean {sum(busy) / max(len(busy), 1):.1f} while busy"
                )
        finally:
            stop(worker)
            stop(api)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["deterministic", "llm"], default="deterministic")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--latency-messages", type=int, default=100)
    parser.add_argument("--latency-gap", type=float, default=0.25)
    parser.add_argument("--latency-ms", type=int, default=800)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    if args.mode == "llm" and args.messages == 1000:
        args.messages = 300
    with bench_servers(f"ai-{args.mode}") as servers:
        runner = run_deterministic if args.mode == "deterministic" else run_llm
        asyncio.run(runner(args, servers.env))


if __name__ == "__main__":
    main()
