"""Our analysis object against the published one (fixtures/published_analysis.json): every
field and nesting of it is there, and every enum value it shows is one of ours."""

from __future__ import annotations

import json
from typing import Any

import httpx
import respx

from tests.ai.helpers import (
    CUSTOMER,
    CUSTOMER_JID,
    FIXTURES,
    analysis,
    analysis_url,
    chat_completion,
    chat_route,
    completion_with,
    customer_says,
    open_shop,
    use_openai,
)

PUBLISHED: dict[str, Any] = json.loads((FIXTURES / "published_analysis.json").read_text())[
    "response"
]
# Published as numbers; amounts of money are decimal strings everywhere in this API.
MONEY_FIELDS = {"price", "unitPrice"}


def missing_fields(published: Any, ours: Any, path: str = "") -> list[str]:
    """Paths of the published object that ours lacks (or nests differently)."""
    if isinstance(published, dict):
        if not isinstance(ours, dict):
            return [f"{path}: not an object"]
        found: list[str] = []
        for key, value in published.items():
            if key not in ours:
                found.append(f"{path}.{key}")
            elif ours[key] is not None and value not in ({}, None):
                found.extend(missing_fields(value, ours[key], f"{path}.{key}"))
        return found
    if isinstance(published, list) and published:
        if not isinstance(ours, list):
            return [f"{path}: not a list"]
        return [p for item in ours[:1] for p in missing_fields(published[0], item, f"{path}[]")]
    if path.rsplit(".", 1)[-1] in MONEY_FIELDS:
        return [] if isinstance(ours, str) else [f"{path}: money not a decimal string"]
    if isinstance(published, bool) and not isinstance(ours, bool):
        return [f"{path}: not a boolean"]
    if isinstance(published, int | float) and not isinstance(ours, int | float):
        return [f"{path}: not a number"]
    if isinstance(published, str) and not isinstance(ours, str):
        return [f"{path}: not a string"]
    return []


async def test_a_completed_analysis_has_every_published_field(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    photo = {
        "visual_description": "A black leather belt.",
        "search_query": "siyah deri kemer",
        "attributes": {key: None for key in ("product_type", "color", "model", "pattern")}
        | {"material": "leather", "brand": None, "visible_text": None, "style": None}
        | {"shape": None, "other_features": None},
        "warnings": [],
    }
    answer = {
        "intent": "order",
        "action": "create_order",
        "priority": "high",
        "sentiment": "positive",
        "summary": "Müşteri 2 siyah deri kemer istiyor.",
        "suggested_reply": "Siparişinizi oluşturuyorum.",
        "confidence": 0.9,
        "entities": {
            "product_name": "kemer",
            "color": "siyah",
            "size": "95",
            "amount": "2",
            "date": "yarın",
        },
        "product_search": "siyah deri kemer",
        "quantity": 2,
        "warnings": ["Teslim tarihi yarın isteniyor."],
    }
    chat_route(openai_api).mock(
        side_effect=[
            completion_with(photo),
            httpx.Response(200, json=chat_completion(json.dumps(answer))),
        ]
    )
    customer = await client.post(
        "/crm/customers",
        json={"title": "Ayşe", "phones": [CUSTOMER], "address": "Moda"},
        headers=shop.headers,
    )
    assert customer.status_code == 201
    await customer_says(client, shop, "merhaba")
    await run_jobs()  # the CRM links the chat by phone
    await use_openai(client, shop, visionModel="gpt-4o")
    message_id = await customer_says(client, shop, "bundan 2 tane 95 lazım yarın", withMedia=True)
    await run_jobs()
    ordered = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages/{message_id}/ai-actions/create-order",
        json={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert ordered.status_code == 201, ordered.text
    retried = await client.post(
        f"{analysis_url(message_id)}/retry",
        json={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    # The published example is the retry endpoint's answer.
    assert retried.status_code == 200
    assert set(retried.json()) == set(PUBLISHED) == {"status", "data"}

    data = await analysis(client, shop, message_id)
    assert data["visualSearch"] and data["commerce"]["orderDraft"]["items"]
    assert data["appliedActions"] and data["lastError"] is None
    assert missing_fields(PUBLISHED["data"], data, "data") == []
    assert set(data) - set(PUBLISHED["data"]) == {"skipReason"}


async def test_every_enum_value_the_published_object_shows_is_one_of_ours(app: Any) -> None:
    schemas = app.openapi()["components"]["schemas"]

    def values(model: str, field: str) -> list[str]:
        # Models with timestamps are documented twice (request and response form).
        prop = schemas.get(model, schemas.get(f"{model}-Output"))["properties"][field]
        options = prop.get("anyOf", [prop])
        for option in options:
            ref = option.get("$ref") or option.get("items", {}).get("$ref")
            if ref:
                return list(schemas[ref.rsplit("/", 1)[1]]["enum"])
            if "enum" in option:
                return list(option["enum"])
            if "const" in option:
                return [option["const"]]
        raise AssertionError(f"{model}.{field} has no enum")

    data = PUBLISHED["data"]
    commerce = data["commerce"]
    shown = {
        ("AnalysisOut", "provider"): data["provider"],
        ("AnalysisOut", "status"): data["status"],
        ("AnalysisOut", "sourceType"): data["sourceType"],
        ("AnalysisOut", "trigger"): data["trigger"],
        ("ProductMatch", "matchStatus"): data["productMatches"][0]["matchStatus"],
        ("VisualSearch", "matchStatus"): data["visualSearch"]["matchStatus"],
        ("Commerce", "stage"): commerce["stage"],
        ("Commerce", "orderReadiness"): commerce["orderReadiness"],
        ("Commerce", "missingFields"): commerce["missingFields"][0],
        ("Commerce", "nextBestActions"): commerce["nextBestActions"][0],
        ("DraftSource", "channel"): commerce["orderDraft"]["source"]["channel"],
        ("AppliedAction", "type"): data["appliedActions"][0]["type"],
    }
    for (model, field), value in shown.items():
        assert value in values(model, field), (model, field, value)
