"""The published create-order: an analysis's draft (with the operator's changes) becomes an
order through the orders domain, once per analysis unless asked again."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.ai.helpers import (
    CUSTOMER,
    CUSTOMER_JID,
    Shop,
    analysis,
    customer_says,
    open_shop,
    put_settings,
)
from tests.helpers import add_member, assert_error, register
from tests.wa.helpers import create_session


async def _customer(client: httpx.AsyncClient, shop: Shop, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/crm/customers",
        json={"title": "Ayşe Yılmaz", "phones": [CUSTOMER], **fields},
        headers=shop.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


async def _order_draft(
    client: httpx.AsyncClient, run_jobs: Any, text: str = "2 adet siyah deri kemer 95 istiyorum"
) -> tuple[Shop, str, dict[str, Any]]:
    """A shop whose customer (linked by phone, with an address) asked for an order."""
    shop = await open_shop(client)
    customer = await _customer(client, shop, address="Moda Cad. 1, Kadıköy, İstanbul")
    await customer_says(client, shop, "merhaba")
    await run_jobs()  # the CRM links the chat to the customer by phone
    message_id = await customer_says(client, shop, text)
    await run_jobs()
    return shop, message_id, customer


def _create_url(message_id: str) -> str:
    return f"/wa/chats/{CUSTOMER_JID}/messages/{message_id}/ai-actions/create-order"


async def test_an_analysis_draft_becomes_an_order_with_one_call(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, message_id, customer = await _order_draft(client, run_jobs)
    drafted = await analysis(client, shop, message_id)
    assert drafted["commerce"]["orderReadiness"] == "ready"

    response = await client.post(
        _create_url(message_id), json={"providerSessionId": shop.psid}, headers=shop.headers
    )
    assert response.status_code == 201, response.text
    order = response.json()["data"]["order"]
    result = response.json()["data"]["analysis"]
    assert order["customerId"] == customer["id"] and order["status"] == "draft"
    [line] = order["items"]
    assert line["sku"] == "KMR-001" and line["quantity"] == 2
    assert line["unitPrice"] == "399.00" and order["grandTotal"] == "798.00"
    assert line["variantNote"] == "Renk: siyah, Beden: 95"
    assert order["source"] == {
        "channel": "provider_whatsapp",
        "sourceType": "whatsapp_message",
        "sourceId": shop.psid,
        "threadId": CUSTOMER_JID,
        "messageId": message_id,
    }
    [applied] = result["appliedActions"]
    assert applied["type"] == "create_order" and applied["orderId"] == order["id"]
    assert applied["orderNo"] == order["orderNo"] and applied["allowDuplicate"] is False
    assert applied["actorType"] == "user" and applied["actorId"] == shop.owner.user_id
    assert result["commerce"]["stage"] == "ordered"
    assert (await analysis(client, shop, message_id))["appliedActions"] == [applied]
    listed = await client.get("/orders", headers=shop.headers)
    assert [o["id"] for o in listed.json()["data"]["rows"]] == [order["id"]]


async def test_the_published_request_exactly_as_published_answers_order_and_analysis(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, message_id, customer = await _order_draft(client, run_jobs)
    drafted = (await analysis(client, shop, message_id))["commerce"]["orderDraft"]
    # Every published key and no other: no session named (the account has one).
    published = {
        "customerId": customer["id"],
        "contactId": None,
        "items": [
            {
                "productId": drafted["items"][0]["productId"],
                "quantity": 1,
                "variantNote": "Beden: 100",
                "metadata": {"line": 1},
            }
        ],
        "shipping": {"recipientName": "Ayşe Yılmaz", "city": "İstanbul"},
        "payment": {"method": "bank_transfer"},
        "notes": "Kapıda teslim",
        "tags": ["ai"],
        "metadata": {"from": "panel"},
        "allowDuplicate": False,
    }
    response = await client.post(_create_url(message_id), json=published, headers=shop.headers)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == {"order", "analysis"}
    order = data["order"]
    assert order["customerId"] == customer["id"] and order["contactId"] is None
    [line] = order["items"]
    assert line["quantity"] == 1 and line["variantNote"] == "Beden: 100"
    assert line["metadata"] == {"line": 1} and line["unitPrice"] == "399.00"
    assert order["metadata"]["from"] == "panel"
    assert order["metadata"]["aiAnalysisId"] == data["analysis"]["id"]
    assert data["analysis"]["appliedActions"][0]["orderId"] == order["id"]


async def test_a_second_order_from_one_analysis_needs_allow_duplicate(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, message_id, _ = await _order_draft(client, run_jobs)
    body = {"providerSessionId": shop.psid}
    first = await client.post(_create_url(message_id), json=body, headers=shop.headers)
    assert first.status_code == 201, first.text
    again = await client.post(_create_url(message_id), json=body, headers=shop.headers)
    error = assert_error(again, 409, "order_already_created")
    assert error["details"]["orderId"] == first.json()["data"]["order"]["id"]

    second = await client.post(
        _create_url(message_id), json={**body, "allowDuplicate": True}, headers=shop.headers
    )
    assert second.status_code == 201, second.text
    applied = second.json()["data"]["analysis"]["appliedActions"]
    assert [a["allowDuplicate"] for a in applied] == [False, True]
    assert applied[1]["orderId"] == second.json()["data"]["order"]["id"]


async def test_after_its_order_is_deleted_the_analysis_makes_one_again(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, message_id, _ = await _order_draft(client, run_jobs)
    body = {"providerSessionId": shop.psid}
    first = await client.post(_create_url(message_id), json=body, headers=shop.headers)
    first_id = first.json()["data"]["order"]["id"]
    deleted = await client.delete(f"/orders/{first_id}", headers=shop.headers)
    assert deleted.status_code in (200, 204), deleted.text

    again = await client.post(_create_url(message_id), json=body, headers=shop.headers)
    assert again.status_code == 201, again.text
    applied = again.json()["data"]["analysis"]["appliedActions"]
    assert [a["orderId"] for a in applied] == [first_id, again.json()["data"]["order"]["id"]]
    assert [a["allowDuplicate"] for a in applied] == [False, False]
    third = await client.post(_create_url(message_id), json=body, headers=shop.headers)
    error = assert_error(third, 409, "order_already_created")
    assert error["details"]["orderId"] == applied[1]["orderId"]


async def test_two_operators_clicking_at_once_make_one_order(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, message_id, _ = await _order_draft(client, run_jobs)
    body = {"providerSessionId": shop.psid}
    answers = await asyncio.gather(
        *(client.post(_create_url(message_id), json=body, headers=shop.headers) for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    [made] = [a for a in answers if a.status_code == 201]
    [refused] = [a for a in answers if a.status_code == 409]
    error = assert_error(refused, 409, "order_already_created")
    assert error["details"]["orderId"] == made.json()["data"]["order"]["id"]
    listed = await client.get("/orders", headers=shop.headers)
    assert len(listed.json()["data"]["rows"]) == 1
    assert len((await analysis(client, shop, message_id))["appliedActions"]) == 1


async def test_a_repeated_idempotency_key_returns_the_first_order(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, message_id, _ = await _order_draft(client, run_jobs)
    headers = {**shop.headers, "Idempotency-Key": "order-from-analysis-1"}
    body = {"providerSessionId": shop.psid}
    first = await client.post(_create_url(message_id), json=body, headers=headers)
    replay = await client.post(_create_url(message_id), json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    listed = await client.get("/orders", headers=shop.headers)
    assert len(listed.json()["data"]["rows"]) == 1
    other = await client.post(_create_url(message_id), json={**body, "notes": "x"}, headers=headers)
    assert_error(other, 409, "idempotency_key_reused")


async def test_the_operator_overrides_items_and_adds_shipping_and_payment(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, message_id, customer = await _order_draft(client, run_jobs)
    products = await client.get("/products", params={"q": "KMR-001"}, headers=shop.headers)
    belt = products.json()["data"]["rows"][0]["id"]
    contact = await client.post(
        f"/crm/customers/{customer['id']}/contacts",
        json={"displayName": "Ayşe"},
        headers=shop.headers,
    )
    response = await client.post(
        _create_url(message_id),
        json={
            "providerSessionId": shop.psid,
            "contactId": contact.json()["data"]["id"],
            "items": [{"productId": belt, "quantity": 3, "metadata": {"gift": True}}],
            "shipping": {"recipientName": "Ayşe Yılmaz", "city": "İstanbul", "amount": "49.90"},
            "payment": {"method": "cash_on_delivery"},
            "notes": "Hediye paketi",
            "tags": ["whatsapp"],
            "metadata": {"campaign": "kasim"},
        },
        headers=shop.headers,
    )
    assert response.status_code == 201, response.text
    order = response.json()["data"]["order"]
    assert order["contactId"] == contact.json()["data"]["id"]
    [line] = order["items"]
    assert line["quantity"] == 3 and line["variantNote"] == "Renk: siyah, Beden: 95"
    assert order["shippingTotal"] == "49.90" and order["grandTotal"] == "1246.90"
    assert order["notes"] == "Hediye paketi" and order["tags"] == ["whatsapp"]
    assert line["unitPrice"] == "399.00" and line["currency"] == "TRY"

    # Prices are the catalog's: the published request has no price to change.
    priced = await client.post(
        _create_url(message_id),
        json={
            "providerSessionId": shop.psid,
            "allowDuplicate": True,
            "items": [{"productId": belt, "quantity": 1, "unitPrice": "1.00"}],
        },
        headers=shop.headers,
    )
    assert_error(priced, 422, "validation_error")


async def test_an_order_needs_a_customer_items_and_a_completed_analysis(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    unlinked = await customer_says(client, shop, "2 adet siyah deri kemer istiyorum")
    hello = await customer_says(client, shop, "merhaba", phone="905550000033")
    await run_jobs()
    response = await client.post(
        _create_url(unlinked), json={"providerSessionId": shop.psid}, headers=shop.headers
    )
    assert_error(response, 422, "order_customer_required")

    customer = await _customer(client, shop, phones=["905550000077"])
    response = await client.post(
        f"/wa/chats/905550000033@s.whatsapp.net/messages/{hello}/ai-actions/create-order",
        json={"providerSessionId": shop.psid, "customerId": customer["id"]},
        headers=shop.headers,
    )
    assert_error(response, 422, "order_draft_empty")

    await put_settings(client, shop, autoAnalyzeInbound=False)
    skipped = await customer_says(client, shop, "siyah kemer istiyorum", phone="905550000044")
    await run_jobs()
    response = await client.post(
        f"/wa/chats/905550000044@s.whatsapp.net/messages/{skipped}/ai-actions/create-order",
        json={"providerSessionId": shop.psid, "customerId": customer["id"]},
        headers=shop.headers,
    )
    assert_error(response, 409, "analysis_not_completed")

    bad = await client.post(
        _create_url(unlinked),
        json={
            "providerSessionId": shop.psid,
            "customerId": customer["id"],
            "items": [{"productId": customer["id"], "quantity": 0}],
        },
        headers=shop.headers,
    )
    assert_error(bad, 422, "validation_error")


async def test_agents_create_orders_viewers_and_other_accounts_cannot(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, message_id, _ = await _order_draft(client, run_jobs)
    viewer = await add_member(client, shop.owner, "viewer")
    response = await client.post(
        _create_url(message_id),
        json={"providerSessionId": shop.psid},
        headers={**viewer.headers, "x-account-id": shop.owner.account_id},
    )
    assert_error(response, 403, "insufficient_role")

    other = await register(client)
    other_psid = (await create_session(client, other))["providerSessionId"]
    for psid in (shop.psid, other_psid):
        response = await client.post(
            _create_url(message_id),
            json={"providerSessionId": psid},
            headers={**other.headers, "x-account-id": other.account_id},
        )
        assert response.status_code == 404, response.text

    agent = await add_member(client, shop.owner, "agent")
    response = await client.post(
        _create_url(message_id),
        json={"providerSessionId": shop.psid},
        headers={**agent.headers, "x-account-id": shop.owner.account_id},
    )
    assert response.status_code == 201, response.text
