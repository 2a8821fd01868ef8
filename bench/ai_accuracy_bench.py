"""Product-matching accuracy of the deterministic analyser on the labelled sets, beside a plain
keyword (ILIKE) search of the same catalog, and the time each takes per message.

The fixture catalog (tests/ai/fixtures/catalog.json, 60 products) is imported through
/products/import; every labelled message goes through the sandbox gateway, the worker and the
analysis pipeline, as in production. Top-1: the first match is a product the message means;
top-3: one of the first three is.

    PYTHONPATH=src:. python -m bench.ai_accuracy_bench
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from bench._servers import bench_servers


async def run() -> None:
    from tests.ai.helpers import open_shop
    from tests.ai.labelled import (
        confident,
        ilike_ranked,
        labelled_messages,
        ranked_skus,
        run_pipeline,
        score,
    )

    from ticaret.core.queue import get_redis
    from ticaret.main import create_app
    from ticaret.settings import get_settings
    from ticaret.worker import build_worker

    async def run_jobs() -> Any:
        worker = build_worker(get_redis(), burst=True, with_cron=False)
        await worker.async_run()
        return worker

    app = create_app(get_settings())
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, label in (
                ("labelled_messages.json", "tuning set"),
                ("labelled_holdout.json", "held-out set"),
            ):
                shop = await open_shop(client)
                items = labelled_messages(name)
                started = time.perf_counter()
                analyses = await run_pipeline(client, shop, items, run_jobs)
                pipeline_s = time.perf_counter() - started
                ours = score(
                    items,
                    ranked_skus(analyses),
                    [a["intent"] for a in analyses],
                    confident(analyses),
                )
                started = time.perf_counter()
                keyword = score(items, await ilike_ranked(shop.owner.account_id, items))
                keyword_s = time.perf_counter() - started
                print(f"== {label} ({len(items)} messages)")
                print(ours.line("analyser"))
                print(keyword.line("keyword ILIKE"))
                print(
                    f"{'':<22} {pipeline_s / len(items) * 1000:.0f} ms per message end to end "
                    f"(inbox, consumer, analysis; in-process worker) vs "
                    f"{keyword_s / len(items) * 1000:.1f} ms per keyword query"
                )
                for miss in ours.misses:
                    print("  miss", miss)


def main() -> None:
    with bench_servers("ai-accuracy"):
        asyncio.run(run())


if __name__ == "__main__":
    main()
