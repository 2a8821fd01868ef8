"""Helpers for the WhatsApp tests: sandbox sessions, injected customer messages."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import Caller, register

CUSTOMER = "905551112233"
CUSTOMER_JID = f"{CUSTOMER}@s.whatsapp.net"


def headers(caller: Caller) -> dict[str, str]:
    return {**caller.headers, "x-account-id": caller.account_id}


async def create_session(
    client: httpx.AsyncClient, caller: Caller, provider: str = "sandbox", **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/accounts/{caller.account_id}/wa-sessions",
        json={"name": "Demo shop", "provider": provider, **extra},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


async def inject(
    client: httpx.AsyncClient,
    caller: Caller,
    psid: str,
    text: str | None = "Merhaba, bu elbisenin fiyatı nedir?",
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        f"/wa/sandbox/{psid}/inbound",
        json={"from": CUSTOMER, "text": text, "pushName": "Ayşe", **extra},
        headers=headers(caller),
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def messages(
    client: httpx.AsyncClient, caller: Caller, psid: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        params={"providerSessionId": psid, **params},
        headers=headers(caller),
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def customer_wrote(
    client: httpx.AsyncClient, run_jobs: Any
) -> tuple[Caller, str, dict[str, Any]]:
    """A new owner with a sandbox session in which the customer wrote once (processed).

    Returns the owner, the session's providerSessionId and the customer's message."""
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid)
    await run_jobs()
    [inbound] = (await messages(client, owner, psid))["rows"]
    return owner, psid, inbound


async def share_and_accept(
    client: httpx.AsyncClient, owner: Caller, partner: Caller, psid: str
) -> dict[str, Any]:
    """The owner offers the session to the partner's account, whose admin accepts it."""
    offered = await client.post(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}/shares",
        json={"accountId": partner.account_id},
        headers=owner.headers,
    )
    assert offered.status_code == 201, offered.text
    share_id = offered.json()["data"]["id"]
    accepted = await client.post(
        f"/accounts/{partner.account_id}/wa-session-shares/{share_id}/accept",
        headers=partner.headers,
    )
    assert accepted.status_code == 200, accepted.text
    return dict(accepted.json()["data"])


async def provider_calls(
    client: httpx.AsyncClient, session: dict[str, Any], calls: list[dict[str, Any]]
) -> None:
    """Gateway webhooks posted to the session's receiver with its secret, one by one."""
    for call in calls:
        response = await client.post(
            f"/wa/provider-events/{session['providerSessionId']}",
            json=call,
            headers={"X-Ticaret-Webhook-Secret": session["webhookSecret"]},
        )
        assert response.status_code == 200, response.text
