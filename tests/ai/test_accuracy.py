"""The labelled sets through the whole pipeline (sandbox message -> worker -> analysis), scored
beside a plain keyword (ILIKE) search of the same catalog. The floors keep the analyser from
getting worse; bench/ai_accuracy_bench.py prints the figures."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ai.helpers import open_shop
from tests.ai.labelled import (
    confident,
    ilike_ranked,
    labelled_messages,
    ranked_skus,
    run_pipeline,
    score,
)


@pytest.mark.parametrize("name", ["labelled_messages.json", "labelled_holdout.json"])
async def test_the_analyser_finds_the_meant_product_more_often_than_keyword_search(
    client: httpx.AsyncClient, run_jobs: Any, name: str
) -> None:
    shop = await open_shop(client)
    items = labelled_messages(name)
    analyses = await run_pipeline(client, shop, items, run_jobs)
    assert all(a["status"] == "completed" for a in analyses)
    ours = score(items, ranked_skus(analyses), [a["intent"] for a in analyses], confident(analyses))
    keyword = score(items, await ilike_ranked(shop.owner.account_id, items))

    assert ours.top3 / ours.products >= 0.95, ours.misses
    assert ours.top1 / ours.products >= 0.9, ours.misses
    assert ours.top1 > keyword.top1
    assert ours.empty_right == ours.empty  # no confident match where none is meant
    assert ours.intent_right / ours.intents >= 0.9
