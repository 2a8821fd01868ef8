"""Helpers of the CRM tests: an account's API as a caller uses it, the events it got."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from tests.helpers import Caller, add_member, assert_error, register
from tests.wa.helpers import create_session

__all__ = [
    "Api",
    "Caller",
    "add_member",
    "assert_error",
    "create_session",
    "events",
    "inbox",
    "jid",
    "register",
    "team",
]


@dataclass
class Api:
    """One caller acting in one account: `await api.post(url, json=...)` returns `data`
    after checking the status (201 for POST creates unless told otherwise)."""

    client: httpx.AsyncClient
    caller: Caller
    account_id: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {**self.caller.headers, "x-account-id": self.account_id or self.caller.account_id}

    async def response(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def call(self, method: str, url: str, *, expect: int = 200, **kwargs: Any) -> Any:
        response = await self.response(method, url, **kwargs)
        assert response.status_code == expect, (method, url, response.text)
        return response.json()["data"]

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.call("GET", url, **kwargs)

    async def post(self, url: str, *, expect: int = 201, **kwargs: Any) -> Any:
        return await self.call("POST", url, expect=expect, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Any:
        return await self.call("PATCH", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Any:
        return await self.call("PUT", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Any:
        return await self.call("DELETE", url, **kwargs)

    async def error(
        self, method: str, url: str, status: int, code: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        return assert_error(await self.response(method, url, **kwargs), status, code)

    async def customer(self, title: str = "Acme Tekstil", **fields: Any) -> dict[str, Any]:
        return dict(await self.post("/crm/customers", json={"title": title, **fields}))

    async def contact(
        self, customer_id: str, name: str = "Ayşe Yılmaz", **fields: Any
    ) -> dict[str, Any]:
        url = f"/crm/customers/{customer_id}/contacts"
        return dict(await self.post(url, json={"displayName": name, **fields}))

    async def all_rows(self, url: str, **params: Any) -> list[dict[str, Any]]:
        """Every row of a list, page after page."""
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            page = await self.get(url, params=query)
            rows += page["rows"]
            if not page["hasMore"]:
                return rows
            cursor = page["nextCursor"]


@dataclass
class Team:
    """An account with its owner, an agent and a viewer, each with an `Api`."""

    owner: Api
    agent: Api
    viewer: Api


async def team(client: httpx.AsyncClient, name: str = "Shop") -> Team:
    owner = await register(client, name=name)
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    return Team(Api(client, owner), Api(client, agent), Api(client, viewer))


async def events(account_id: str, prefix: str = "crm.") -> list[dict[str, Any]]:
    """The account's events of types starting with `prefix`, in order: type and data."""
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event

    async with get_sessionmaker()() as session:
        rows = await session.execute(
            select(Event.type, Event.data, Event.actor_type, Event.actor_id)
            .where(Event.account_id == account_id, Event.type.startswith(prefix))
            .order_by(Event.seq)
        )
        return [
            {"type": t, "data": d, "actor": {"type": at, "id": ai}}
            for t, d, at, ai in rows.tuples()
        ]


@dataclass
class Inbox:
    """A sandbox WhatsApp session of an account, and customers writing to it."""

    api: Api
    psid: str
    webhook_secret: str

    @property
    def params(self) -> dict[str, str]:
        return {"providerSessionId": self.psid}

    async def customer_writes(
        self, phone_or_jid: str, text: str = "Merhaba", name: str | None = "Ayşe", **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"from": phone_or_jid, "text": text, **extra}
        if name:
            body["pushName"] = name
        return dict(await self.api.post(f"/wa/sandbox/{self.psid}/inbound", json=body, expect=200))

    async def gateway_posts(self, payload: dict[str, Any]) -> None:
        """A webhook as the gateway sends it (WAHA's shape: the sandbox parses those)."""
        response = await self.api.client.post(
            f"/wa/provider-events/{self.psid}",
            json=payload,
            headers={"X-Ticaret-Webhook-Secret": self.webhook_secret},
        )
        assert response.status_code == 200, response.text


async def inbox(api: Api) -> Inbox:
    created = await create_session(api.client, api.caller)
    return Inbox(api, created["providerSessionId"], created["webhookSecret"])


def jid(phone: str) -> str:
    return f"{phone}@s.whatsapp.net"
