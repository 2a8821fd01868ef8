"""Orders over HTTP: creation from products and free text, order numbers under concurrency,
idempotency and duplicates, the status machine, editing rules, roles, tenancy, versions,
soft delete, the customer's order list and the events."""

from __future__ import annotations

import asyncio
import itertools
import re

import httpx

from tests.crm.helpers import Api
from tests.helpers import register
from tests.orders.helpers import order_events, shop

STATUSES = ["draft", "confirmed", "processing", "shipped", "delivered", "canceled", "refunded"]
LEGAL = {
    "draft": {"confirmed", "canceled"},
    "confirmed": {"processing", "canceled"},
    "processing": {"shipped", "canceled"},
    "shipped": {"delivered"},
    "delivered": {"refunded"},
    "canceled": set(),
    "refunded": set(),
}
# A legal way to each status from draft.
PATH_TO = {
    "draft": [],
    "confirmed": ["confirmed"],
    "processing": ["confirmed", "processing"],
    "shipped": ["confirmed", "processing", "shipped"],
    "delivered": ["confirmed", "processing", "shipped", "delivered"],
    "canceled": ["canceled"],
    "refunded": ["confirmed", "processing", "shipped", "delivered", "refunded"],
}


async def test_an_order_from_products_and_free_text_keeps_what_the_products_were(
    client: httpx.AsyncClient,
) -> None:
    s = await shop(client)
    dress = s.products["EL-1"]
    order = await s.order(
        contactId=s.contact["id"],
        items=[
            {
                "productId": dress["id"],
                "quantity": 2,
                "variantNote": "38 beden",
                "metadata": {"aiConfidence": 0.92},
            },
            {"name": "Özel dikim", "sku": "CUSTOM", "unitPrice": "150.00"},
        ],
        source={
            "channel": "provider_whatsapp",
            "sourceType": "wa_session",
            "sourceId": "shop-1",
            "threadId": "905551112233@s.whatsapp.net",
            "messageId": "ABC123",
        },
        shipping={"recipientName": "Ayşe Yılmaz", "city": "İzmir", "countryCode": "TR"},
        payment={"method": "cash_on_delivery"},
        notes="Kapıda ödeme",
        tags=["whatsapp", "vip"],
        metadata={"campaign": "kış"},
    )
    assert re.fullmatch(r"TS-\d{6}", order["orderNo"]), order["orderNo"]
    assert order["status"] == "draft" and order["paymentStatus"] == "unpaid"
    assert order["fulfillmentStatus"] == "unfulfilled"
    assert order["customer"] == {
        "id": s.customer["id"],
        "title": "Yılmaz Tekstil",
        "shortName": None,
    }
    assert order["contact"]["displayName"] == "Ayşe Yılmaz"
    assert order["source"] == {
        "channel": "provider_whatsapp",
        "sourceType": "wa_session",
        "sourceId": "shop-1",
        "threadId": "905551112233@s.whatsapp.net",
        "messageId": "ABC123",
    }
    assert order["shipping"] == {
        "recipientName": "Ayşe Yılmaz",
        "city": "İzmir",
        "countryCode": "TR",
    }
    assert order["payment"] == {"method": "cash_on_delivery"}
    assert (order["tags"], order["metadata"]) == (["whatsapp", "vip"], {"campaign": "kış"})
    line, free = order["items"]
    assert (line["sku"], line["name"], line["unitPrice"], line["currency"]) == (
        "EL-1",
        "Kırmızı Elbise",
        "1299.90",
        "TRY",
    )
    assert line["variantNote"] == "38 beden" and line["metadata"] == {"aiConfidence": 0.92}
    assert line["productSnapshot"]["price"] == "1299.90"
    assert line["productSnapshot"]["name"] == "Kırmızı Elbise"
    assert (free["productId"], free["productSnapshot"], free["sku"]) == (None, None, "CUSTOM")
    assert order["statusHistory"][0]["toStatus"] == "draft"
    assert order["statusHistory"][0]["fromStatus"] is None
    assert order["createdByType"] == "user"

    # Later product edits do not change the order.
    await s.owner.patch(f"/products/{dress['id']}", json={"price": "999.00", "name": "Yeni ad"})
    again = await s.viewer.get(f"/orders/{order['id']}")
    assert again["items"][0]["unitPrice"] == "1299.90"
    assert again["items"][0]["productSnapshot"]["name"] == "Kırmızı Elbise"
    assert again["grandTotal"] == order["grandTotal"] == "2749.80"


async def test_twenty_concurrent_orders_get_twenty_distinct_numbers(
    client: httpx.AsyncClient,
) -> None:
    s = await shop(client)
    made = await asyncio.gather(
        *(s.order(items=[{"name": f"Ürün {n}", "unitPrice": "1"}]) for n in range(20))
    )
    numbers = [order["orderNo"] for order in made]
    assert len(set(numbers)) == 20
    assert all(re.fullmatch(r"TS-\d{6}", n) for n in numbers)
    # The numbers are the account's own sequence: another account starts at 1 too.
    other = await shop(client)
    assert (await other.order())["orderNo"] == "TS-000001"
    assert sorted(numbers)[0] == "TS-000001"


async def test_idempotency_key_and_a_second_order_from_the_same_message(
    client: httpx.AsyncClient,
) -> None:
    s = await shop(client)
    body = {
        "customerId": s.customer["id"],
        "items": [{"productId": s.products["GM-1"]["id"]}],
        "source": {"channel": "provider_whatsapp", "sourceId": "shop-1", "messageId": "M1"},
    }
    key = {"Idempotency-Key": "order-from-M1"}
    first = await s.agent.response("POST", "/orders", json=body, headers=key)
    replay = await s.agent.response("POST", "/orders", json=body, headers=key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    await s.agent.error(
        "POST",
        "/orders",
        409,
        "idempotency_key_reused",
        json={**body, "notes": "x"},
        headers=key,
    )
    duplicate = await s.agent.error("POST", "/orders", 409, "duplicate_order", json=body)
    assert duplicate["details"]["orderNo"] == first.json()["data"]["orderNo"]
    allowed = await s.agent.post("/orders", json={**body, "allowDuplicate": True})
    assert allowed["orderNo"] != first.json()["data"]["orderNo"]
    # Another message, or the same message id in another inbox, is another order.
    await s.agent.post("/orders", json={**body, "source": {**body["source"], "messageId": "M2"}})
    await s.agent.post("/orders", json={**body, "source": {**body["source"], "sourceId": "s2"}})
    orders = await s.viewer.all_rows("/orders")
    assert len(orders) == 4


async def test_every_transition_follows_the_table_and_every_other_is_refused(
    client: httpx.AsyncClient,
) -> None:
    s = await shop(client)
    for start, target in itertools.product(STATUSES, STATUSES):
        order = await s.order(items=[{"name": "Kalem", "unitPrice": "10"}])
        order = await s.move(order, *PATH_TO[start])
        assert order["status"] == start
        url = f"/orders/{order['id']}/status"
        if target in LEGAL[start]:
            moved = await s.agent.post(
                url, json={"status": target, "reason": f"{start}→{target}"}, expect=200
            )
            assert moved["status"] == target
            last = moved["statusHistory"][-1]
            assert (last["fromStatus"], last["toStatus"], last["reason"]) == (
                start,
                target,
                f"{start}→{target}",
            )
            assert last["actorType"] == "user" and last["actorId"] == s.agent.caller.user_id
        else:
            error = await s.agent.error(
                "POST", url, 409, "invalid_transition", json={"status": target}
            )
            assert error["details"] == {
                "from": start,
                "to": target,
                "allowed": sorted(LEGAL[start]),
            }
            assert (await s.viewer.get(f"/orders/{order['id']}"))["status"] == start

    delivered = await s.move(
        await s.order(items=[{"name": "x", "unitPrice": "1"}]), *PATH_TO["delivered"]
    )
    paid = await s.agent.patch(f"/orders/{delivered['id']}", json={"paymentStatus": "paid"})
    refunded = await s.move(paid, "refunded")
    assert refunded["paymentStatus"] == "refunded"
    empty = await s.order()
    await s.agent.error(
        "POST", f"/orders/{empty['id']}/status", 422, "order_empty", json={"status": "confirmed"}
    )


async def test_lines_change_only_while_draft_or_confirmed(client: httpx.AsyncClient) -> None:
    s = await shop(client)
    order = await s.order(items=[{"name": "Kalem", "unitPrice": "10"}])
    confirmed = await s.move(order, "confirmed")
    line = confirmed["items"][0]["id"]
    base = f"/orders/{order['id']}"
    await s.agent.patch(f"{base}/items/{line}", json={"quantity": 2})
    processing = await s.move(confirmed, "processing")
    for method, url, body in (
        ("POST", f"{base}/items", {"name": "y", "unitPrice": "1"}),
        ("PATCH", f"{base}/items/{line}", {"quantity": 3}),
        ("DELETE", f"{base}/items/{line}", None),
        ("PATCH", base, {"pricesIncludeTax": True}),
    ):
        await s.agent.error(method, url, 409, "order_not_editable", json=body)
    # What is not a line still changes.
    updated = await s.agent.patch(
        base, json={"fulfillmentStatus": "partial", "notes": "Kargoya verildi"}
    )
    assert updated["grandTotal"] == processing["grandTotal"] == "20.00"
    assert updated["fulfillmentStatus"] == "partial"
    await s.agent.error(
        "PATCH",
        f"{base}/items/{s.customer['id']}",
        404,
        "order_item_not_found",
        json={"quantity": 1},
    )


async def test_versions_soft_delete_and_the_customers_orders(client: httpx.AsyncClient) -> None:
    s = await shop(client)
    order = await s.order(items=[{"name": "Kalem", "unitPrice": "10"}])
    base = f"/orders/{order['id']}"
    changed = await s.agent.patch(
        base, json={"notes": "1", "entityVersion": order["entityVersion"]}
    )
    stale = await s.agent.error(
        "PATCH",
        base,
        409,
        "version_conflict",
        json={"notes": "2", "entityVersion": order["entityVersion"]},
    )
    assert stale["details"] == {"currentEntityVersion": changed["entityVersion"]}
    await s.agent.error(
        "POST",
        f"{base}/items",
        409,
        "version_conflict",
        json={"name": "y", "unitPrice": "1"},
        headers={"If-Match": order["entityVersion"]},
    )

    other_customer = await s.owner.customer("Başka Firma")
    theirs = await s.order(customerId=other_customer["id"])
    mine = await s.viewer.all_rows(f"/crm/customers/{s.customer['id']}/orders")
    assert [o["id"] for o in mine] == [order["id"]]
    filtered = await s.viewer.all_rows("/orders", customerId=other_customer["id"])
    assert [o["id"] for o in filtered] == [theirs["id"]]
    assert [o["id"] for o in await s.viewer.all_rows("/orders", status="draft")] == [
        theirs["id"],
        order["id"],
    ]
    assert [o["id"] for o in await s.viewer.all_rows("/orders", orderNo=order["orderNo"][-3:])]
    await s.viewer.error("GET", f"/crm/customers/{order['id']}/orders", 404, "customer_not_found")

    await s.agent.delete(base)
    await s.viewer.error("GET", base, 404, "order_not_found")
    assert order["id"] not in [o["id"] for o in await s.viewer.all_rows("/orders")]
    assert await s.viewer.all_rows(f"/crm/customers/{s.customer['id']}/orders") == []


async def test_roles(client: httpx.AsyncClient) -> None:
    s = await shop(client)
    body = {"customerId": s.customer["id"], "items": [{"name": "x", "unitPrice": "1"}]}
    await s.viewer.error("POST", "/orders", 403, "insufficient_role", json=body)
    order = await s.agent.post("/orders", json=body)
    base = f"/orders/{order['id']}"
    assert (await s.viewer.get(base))["id"] == order["id"]
    for method, url, payload in (
        ("PATCH", base, {"notes": "x"}),
        ("POST", f"{base}/items", {"name": "y", "unitPrice": "1"}),
        ("POST", f"{base}/status", {"status": "confirmed"}),
        ("DELETE", base, None),
    ):
        await s.viewer.error(method, url, 403, "insufficient_role", json=payload)
    confirmed = await s.move(order, "confirmed")
    # A draft is an agent's work in progress; a confirmed order is the shop's record.
    await s.agent.error("DELETE", base, 403, "insufficient_role")
    await s.owner.delete(base)
    draft = await s.agent.post("/orders", json=body)
    await s.agent.delete(f"/orders/{draft['id']}")
    assert confirmed["status"] == "confirmed"


async def test_another_accounts_orders_customers_and_products_are_not_found(
    client: httpx.AsyncClient,
) -> None:
    s = await shop(client)
    order = await s.order(items=[{"productId": s.products["EL-1"]["id"]}])
    line = order["items"][0]["id"]
    stranger = Api(client, await register(client))
    base = f"/orders/{order['id']}"
    for method, url, body in (
        ("GET", base, None),
        ("PATCH", base, {"notes": "x"}),
        ("DELETE", base, None),
        ("POST", f"{base}/items", {"name": "y", "unitPrice": "1"}),
        ("PATCH", f"{base}/items/{line}", {"quantity": 2}),
        ("DELETE", f"{base}/items/{line}", None),
        ("POST", f"{base}/status", {"status": "confirmed"}),
        ("GET", f"/crm/customers/{s.customer['id']}/orders", None),
    ):
        await stranger.error(method, url, 404, json=body)
    assert await stranger.all_rows("/orders") == []
    mine = await stranger.customer("Benim Firmam")
    await stranger.error(
        "POST", "/orders", 404, "customer_not_found", json={"customerId": s.customer["id"]}
    )
    await stranger.error(
        "POST",
        "/orders",
        404,
        "contact_not_found",
        json={"customerId": mine["id"], "contactId": s.contact["id"]},
    )
    await stranger.error(
        "POST",
        "/orders",
        404,
        "product_not_found",
        json={"customerId": mine["id"], "items": [{"productId": s.products["EL-1"]["id"]}]},
    )
    # A contact of another customer of the same account is refused too.
    other = await s.owner.customer("İkinci Firma")
    await s.agent.error(
        "POST",
        "/orders",
        422,
        "contact_of_another_customer",
        json={"customerId": other["id"], "contactId": s.contact["id"]},
    )
    assert (await s.viewer.get(base))["status"] == "draft"


async def test_order_events_go_through_the_outbox(client: httpx.AsyncClient) -> None:
    s = await shop(client)
    order = await s.order(items=[{"name": "Kalem", "unitPrice": "10.00", "taxRate": "20"}])
    base = f"/orders/{order['id']}"
    await s.agent.post(f"{base}/items", json={"name": "Silgi", "unitPrice": "2"})
    await s.agent.patch(base, json={"notes": "acil", "paymentStatus": "paid"})
    await s.move(order, "confirmed")
    await s.agent.post(
        f"{base}/status", json={"status": "canceled", "reason": "Müşteri vazgeçti"}, expect=200
    )
    await s.owner.delete(base)
    events = await order_events(s.owner.caller.account_id)
    assert [t for t, _ in events] == [
        "order.created",
        "order.updated",
        "order.updated",
        "order.status_changed",
        "order.status_changed",
        "order.deleted",
    ]
    created = events[0][1]
    assert (created["orderNo"], created["grandTotal"], created["itemCount"]) == (
        order["orderNo"],
        "12.00",
        1,
    )
    assert events[1][1]["changed"] == ["items", "totals"] and events[1][1]["grandTotal"] == "14.00"
    assert events[2][1]["changed"] == ["paymentStatus", "notes"]
    assert events[4][1] == {
        "orderId": order["id"],
        "orderNo": order["orderNo"],
        "fromStatus": "confirmed",
        "toStatus": "canceled",
        "reason": "Müşteri vazgeçti",
    }


async def test_the_customer_timeline_shows_its_orders(client: httpx.AsyncClient) -> None:
    s = await shop(client)
    first = await s.order(items=[{"name": "Kalem", "unitPrice": "10", "quantity": 2}])
    second = await s.order(
        items=[{"productId": s.products["EL-1"]["id"]}, {"name": "Not", "unitPrice": "1"}],
        source={"channel": "provider_whatsapp", "messageId": "M9"},
    )
    other = await s.owner.customer("Başka")
    await s.order(customerId=other["id"])
    url = f"/crm/customers/{s.customer['id']}/timeline"
    orders = (await s.viewer.get(url, params={"kind": "order"}))["rows"]
    assert [(i["kind"], i["id"]) for i in orders] == [
        ("order", second["id"]),
        ("order", first["id"]),
    ]
    assert orders[0]["order"] == {
        "id": second["id"],
        "orderNo": second["orderNo"],
        "status": "draft",
        "paymentStatus": "unpaid",
        "fulfillmentStatus": "unfulfilled",
        "currency": "TRY",
        "grandTotal": "1300.90",
        "itemCount": 2,
        "sourceChannel": "provider_whatsapp",
    }
    assert orders[1]["order"]["itemCount"] == 1 and orders[1]["at"] == first["createdAt"]
    # In the whole feed, with the customer's other items, one cursor through all of them.
    feed = await s.viewer.all_rows(url, limit=1)
    assert [i["id"] for i in feed if i["kind"] == "order"] == [second["id"], first["id"]]
    assert {i["kind"] for i in feed} >= {"order", "audit"}
    await s.agent.delete(f"/orders/{first['id']}")
    left = (await s.viewer.get(url, params={"kind": "order"}))["rows"]
    assert [i["id"] for i in left] == [second["id"]]
