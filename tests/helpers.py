"""Helpers every test module shares: callers, registration, error checks, the servers' URLs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Servers:
    database_url: str
    redis_url: str
    redis: Any  # EmbeddedRedis | None: tests stop/start it to simulate an outage


@dataclass
class Caller:
    """A registered user with their access token and first account."""

    email: str
    password: str
    token: str
    user_id: str
    account_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(
    client: httpx.AsyncClient,
    *,
    email: str | None = None,
    password: str = "correct horse 1",
    name: str = "Test User",
) -> Caller:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = await client.post(
        "/auth/register",
        json={"email": email, "password": password, "name": name, "accountName": f"{name}'s shop"},
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return Caller(
        email=email,
        password=password,
        token=data["accessToken"],
        user_id=data["user"]["id"],
        account_id=data["accounts"][0]["accountId"],
    )


async def login(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["accessToken"])


async def add_member(
    client: httpx.AsyncClient, owner: Caller, role: str, *, password: str = "member password 1"
) -> Caller:
    """A user registered on their own, then added to `owner`'s account with `role`."""
    member = await register(client, password=password, name=f"{role.title()} Member")
    response = await client.post(
        f"/accounts/{owner.account_id}/users",
        json={"email": member.email, "role": role},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return Caller(member.email, password, member.token, member.user_id, owner.account_id)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] is False
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body["error"])
