"""Order money over HTTP: every line and total to the cent, against figures worked out by hand
with the documented rule, the half-cent edges, tax-inclusive prices, minor units, and the
refusals (another currency, too many decimals, a discount larger than its line)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import httpx

from tests.orders.helpers import shop

CENT = Decimal("0.01")


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


async def test_mixed_lines_total_to_the_cent(client: httpx.AsyncClient) -> None:
    s = await shop(client)
    order = await s.order(
        items=[
            # 1299.90 × 3 = 3899.70; − 100.00 = 3799.70; × 20 % = 759.94; line 4559.64
            {
                "productId": s.products["EL-1"]["id"],
                "quantity": 3,
                "discountAmount": "100",
                "taxRate": "20",
            },
            # 349.50 × 2 = 699.00; × 10 % = 69.90; line 768.90
            {"productId": s.products["GM-1"]["id"], "quantity": 2, "taxRate": 10},
            # 10.05 × 1 = 10.05; × 10 % = 1.005 → 1.01 (half-up; a float or half-even says 1.00)
            {"name": "Hediye paketi", "unitPrice": "10.05", "taxRate": "10"},
            # 19.99 × 7 = 139.93; − 0.93 = 139.00; × 8.5 % = 11.815 → 11.82; line 150.82
            {
                "name": "Çorap",
                "unitPrice": "19.99",
                "quantity": 7,
                "discountAmount": "0.93",
                "taxRate": "8.5",
            },
            # 0.33 × 3 = 0.99; × 18 % = 0.1782 → 0.18; line 1.17
            {"name": "Etiket", "unitPrice": "0.33", "quantity": 3, "taxRate": "18"},
        ],
        shipping={"amount": "49.90", "method": "Yurtiçi Kargo", "city": "İstanbul"},
    )
    lines = [
        (line["lineSubtotal"], line["discountAmount"], line["taxAmount"], line["lineTotal"])
        for line in order["items"]
    ]
    assert lines == [
        ("3899.70", "100.00", "759.94", "4559.64"),
        ("699.00", "0.00", "69.90", "768.90"),
        ("10.05", "0.00", "1.01", "11.06"),
        ("139.93", "0.93", "11.82", "150.82"),
        ("0.99", "0.00", "0.18", "1.17"),
    ]
    assert [line["taxRate"] for line in order["items"]] == ["20", "10", "10", "8.5", "18"]
    assert (
        order["subtotal"],
        order["discountTotal"],
        order["taxTotal"],
        order["shippingTotal"],
        order["grandTotal"],
    ) == ("4749.67", "100.93", "842.85", "49.90", "5541.49")
    # The same rule in Decimal, line by line, as a client would compute it.
    expected = Decimal(0)
    for subtotal, discount, rate in (
        (Decimal("3899.70"), Decimal(100), Decimal(20)),
        (Decimal("699.00"), Decimal(0), Decimal(10)),
        (Decimal("10.05"), Decimal(0), Decimal(10)),
        (Decimal("139.93"), Decimal("0.93"), Decimal("8.5")),
        (Decimal("0.99"), Decimal(0), Decimal(18)),
    ):
        expected += subtotal - discount + half_up((subtotal - discount) * rate / 100)
    assert Decimal(order["grandTotal"]) == expected + Decimal("49.90")
    assert order["currency"] == "TRY" and order["pricesIncludeTax"] is False


async def test_tax_inside_prices_is_extracted_with_the_same_rounding(
    client: httpx.AsyncClient,
) -> None:
    s = await shop(client)
    order = await s.order(
        pricesIncludeTax=True,
        items=[
            # 100.83 gross at 20 %: 100.83 × 20 / 120 = 16.805 → 16.81; line 100.83
            {"name": "Kemer", "unitPrice": "100.83", "taxRate": "20"},
            # 1299.90 × 2 = 2599.80; − 99.80 = 2500.00; × 10 / 110 = 227.2727… → 227.27
            {
                "productId": s.products["EL-1"]["id"],
                "quantity": 2,
                "discountAmount": "99.80",
                "taxRate": "10",
            },
        ],
        shipping={"amount": "30"},
    )
    assert [(i["taxAmount"], i["lineTotal"]) for i in order["items"]] == [
        ("16.81", "100.83"),
        ("227.27", "2500.00"),
    ]
    # The tax is inside the lines: the grand total does not add it again.
    assert (order["subtotal"], order["discountTotal"], order["taxTotal"]) == (
        "2700.63",
        "99.80",
        "244.08",
    )
    assert order["grandTotal"] == "2630.83"  # 2700.63 − 99.80 + 30

    # Switching the tax mode re-prices every line in the same change.
    switched = await s.agent.patch(f"/orders/{order['id']}", json={"pricesIncludeTax": False})
    assert [(i["taxAmount"], i["lineTotal"]) for i in switched["items"]] == [
        ("20.17", "121.00"),  # 100.83 × 20 % = 20.166 → 20.17
        ("250.00", "2750.00"),
    ]
    assert switched["grandTotal"] == "2901.00"  # 2700.63 − 99.80 + 270.17 + 30


async def test_a_currency_without_minor_units_rounds_to_whole_amounts(
    client: httpx.AsyncClient,
) -> None:
    s = await shop(client)
    order = await s.order(
        currency="JPY",
        items=[
            # 1005 × 10 % = 100.5 → 101 (half-up to the yen)
            {"name": "Matcha", "unitPrice": 1005, "taxRate": "10"},
            # 333 × 3 = 999; × 8 % = 79.92 → 80
            {"name": "Senbei", "unitPrice": "333", "quantity": 3, "taxRate": "8"},
        ],
    )
    assert [(i["taxAmount"], i["lineTotal"]) for i in order["items"]] == [
        ("101", "1106"),
        ("80", "1079"),
    ]
    assert (order["grandTotal"], order["currency"]) == ("2185", "JPY")
    refused = await s.agent.error(
        "POST",
        f"/orders/{order['id']}/items",
        422,
        json={"name": "Half", "unitPrice": "10.5"},
    )
    assert "JPY" in refused["message"]


async def test_totals_follow_every_line_change(client: httpx.AsyncClient) -> None:
    s = await shop(client)
    order = await s.order(items=[{"productId": s.products["GM-1"]["id"], "taxRate": "20"}])
    assert order["grandTotal"] == "419.40"  # 349.50 + 69.90
    base = f"/orders/{order['id']}"
    added = await s.agent.post(
        f"{base}/items", json={"name": "Kargo sigortası", "unitPrice": "5.55", "taxRate": "20"}
    )
    # 5.55 × 20 % = 1.11; 419.40 + 6.66
    assert added["grandTotal"] == "426.06" and len(added["items"]) == 2
    line = added["items"][0]["id"]
    changed = await s.agent.patch(
        f"{base}/items/{line}", json={"quantity": 4, "discountAmount": "98.00"}
    )
    # 349.50 × 4 = 1398.00; − 98 = 1300.00; × 20 % = 260.00; + 6.66
    assert changed["items"][0]["lineTotal"] == "1560.00" and changed["grandTotal"] == "1566.66"
    shipped = await s.agent.patch(base, json={"shipping": {"amount": "25.00"}})
    assert (shipped["shippingTotal"], shipped["grandTotal"]) == ("25.00", "1591.66")
    removed = await s.agent.delete(f"{base}/items/{added['items'][1]['id']}")
    assert [i["id"] for i in removed["items"]] == [line]
    assert (removed["subtotal"], removed["taxTotal"], removed["grandTotal"]) == (
        "1398.00",
        "260.00",
        "1585.00",
    )
    fetched = await s.viewer.get(base)
    assert (
        fetched["grandTotal"] == "1585.00" and fetched["entityVersion"] == removed["entityVersion"]
    )


async def test_one_currency_per_order_and_amounts_the_currency_cannot_hold_are_refused(
    client: httpx.AsyncClient,
) -> None:
    s = await shop(client)
    order = await s.order(items=[{"productId": s.products["EL-1"]["id"]}])
    base = f"/orders/{order['id']}/items"
    other = await s.agent.error(
        "POST", base, 422, "currency_mismatch", json={"productId": s.products["US-1"]["id"]}
    )
    assert other["details"]["fields"][0]["path"] == "item.currency"
    await s.agent.error(
        "POST",
        base,
        422,
        "currency_mismatch",
        json={"name": "x", "unitPrice": "1", "currency": "EUR"},
    )
    await s.agent.error(
        "POST", base, 422, "validation_error", json={"name": "x", "unitPrice": "1.005"}
    )
    await s.agent.error(
        "POST",
        base,
        422,
        "validation_error",
        json={"name": "x", "unitPrice": "10", "quantity": 2, "discountAmount": "20.01"},
    )
    await s.agent.error("POST", base, 422, "validation_error", json={"name": "x"})  # no price
    await s.agent.error(
        "POST", base, 422, "validation_error", json={"productId": s.products["NP-1"]["id"]}
    )
    await s.agent.error(
        "POST",
        base,
        422,
        "validation_error",
        json={"name": "x", "unitPrice": "1", "taxRate": "101"},
    )
    await s.agent.error(
        "POST", base, 422, "validation_error", json={"name": "x", "unitPrice": "1", "quantity": 0}
    )
    # A product without a price can be ordered at a price the agent gives.
    priced = await s.agent.post(
        base, json={"productId": s.products["NP-1"]["id"], "unitPrice": "15.00"}
    )
    assert priced["items"][-1]["unitPrice"] == "15.00"
    usd = await s.order(items=[{"productId": s.products["US-1"]["id"], "quantity": 2}])
    assert (usd["currency"], usd["grandTotal"]) == ("USD", "99.98")
    await s.agent.error(
        "PATCH", f"/orders/{usd['id']}", 422, "currency_mismatch", json={"currency": "TRY"}
    )


async def test_an_orders_currency_comes_from_its_first_line_and_archived_products_are_refused(
    client: httpx.AsyncClient,
) -> None:
    s = await shop(client)
    euro = await s.order(items=[{"name": "Kumaş", "unitPrice": "12.50", "currency": "eur"}])
    assert (euro["currency"], euro["grandTotal"]) == ("EUR", "12.50")
    lira = await s.order()
    assert lira["currency"] == "TRY"
    archived = await s.owner.post(
        "/products", json={"sku": "OLD-1", "name": "Eski", "price": "5", "status": "archived"}
    )
    refused = await s.agent.error(
        "POST",
        "/orders",
        422,
        "product_unavailable",
        json={"customerId": s.customer["id"], "items": [{"productId": archived["id"]}]},
    )
    assert refused["details"]["fields"][0]["path"] == "items.0.productId"
