"""Helpers of the order tests: a shop (owner, agent, viewer; a CRM customer with a contact; a
few products) driven through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from tests.crm.helpers import Api, Team, team
from ticaret.core.db import get_sessionmaker
from ticaret.models import Event

__all__ = ["Api", "Shop", "order_events", "shop"]


@dataclass
class Shop:
    team: Team
    customer: dict[str, Any]
    contact: dict[str, Any]
    products: dict[str, dict[str, Any]]

    @property
    def owner(self) -> Api:
        return self.team.owner

    @property
    def agent(self) -> Api:
        return self.team.agent

    @property
    def viewer(self) -> Api:
        return self.team.viewer

    async def order(self, api: Api | None = None, **fields: Any) -> dict[str, Any]:
        body = {"customerId": self.customer["id"], **fields}
        return dict(await (api or self.agent).post("/orders", json=body))

    async def move(self, order: dict[str, Any], *statuses: str) -> dict[str, Any]:
        for status in statuses:
            order = await self.agent.post(
                f"/orders/{order['id']}/status", json={"status": status}, expect=200
            )
        return order


async def shop(client: httpx.AsyncClient) -> Shop:
    members = await team(client)
    customer = await members.owner.customer("Yılmaz Tekstil")
    contact = await members.owner.contact(customer["id"], "Ayşe Yılmaz")
    products = {}
    for sku, name, price, currency in (
        ("EL-1", "Kırmızı Elbise", "1299.90", "TRY"),
        ("GM-1", "Mavi Gömlek", "349.50", "TRY"),
        ("US-1", "Imported Shirt", "49.99", "USD"),
        ("NP-1", "Fiyatsız Ürün", None, "TRY"),
    ):
        products[sku] = await members.owner.post(
            "/products",
            json={"sku": sku, "name": name, "price": price, "currency": currency, "brand": "Koton"},
        )
    return Shop(members, customer, contact, products)


async def order_events(account_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with get_sessionmaker()() as session:
        rows = await session.execute(
            select(Event.type, Event.data)
            .where(Event.type.like("order.%"), Event.account_id == account_id)
            .order_by(Event.seq)
        )
        return [(row[0], row[1]) for row in rows]
