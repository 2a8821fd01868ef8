"""Invitations are offers: they never keep an address from its owner, and grant nothing until
accepted by someone who proved they read the address."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import Caller, Mailbox, assert_error, register, token_from
from ticaret.settings import get_settings


async def _invite(client: httpx.AsyncClient, owner: Caller, email: str, role: str = "agent") -> Any:
    response = await client.post(
        f"/accounts/{owner.account_id}/users",
        json={"email": email, "role": role},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["invitationPending"] is True
    return response.json()["data"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_invited_person_registers_on_their_own_and_accepts_once_the_address_is_confirmed(
    client: httpx.AsyncClient, smtp_server: Mailbox, run_jobs: Any
) -> None:
    owner = await register(client, name="Shop Owner")
    await _invite(client, owner, "newbie@example.com")
    await run_jobs()
    assert [m["subject"] for m in smtp_server.to("newbie@example.com")] == [
        "You have been invited to Shop Owner's shop on Ticaret"
    ]

    # The invitation does not squat the address: its owner registers like anyone else.
    registered = await client.post(
        "/auth/register",
        json={"email": "newbie@example.com", "password": "my own password", "name": "Newbie"},
    )
    assert registered.status_code == 201, registered.text
    me = registered.json()["data"]
    assert me["user"]["emailVerifiedAt"] is None
    assert [a["role"] for a in me["accounts"]] == ["owner"]  # their own new account only
    headers = _bearer(me["accessToken"])

    # Until accepted the invitation grants nothing.
    assert_error(await client.get(f"/accounts/{owner.account_id}/users", headers=headers), 404)
    invitations = (await client.get("/auth/invitations", headers=headers)).json()["data"]
    assert [(i["accountId"], i["accountName"], i["role"]) for i in invitations] == [
        (owner.account_id, "Shop Owner's shop", "agent")
    ]
    accept = f"/auth/invitations/{invitations[0]['id']}/accept"
    assert_error(await client.post(accept, headers=headers), 403, "email_unverified")

    # The address is confirmed with the link mailed at registration.
    await run_jobs()
    (confirmation,) = [m for m in smtp_server.to("newbie@example.com") if "Confirm" in m["subject"]]
    confirmation_token = token_from(confirmation["body"])
    # It confirms an address; it does not set a password.
    assert_error(
        await client.post(
            "/auth/reset-password", json={"token": confirmation_token, "password": "hijacked 123"}
        ),
        400,
        "invalid_token",
    )
    verified = await client.post("/auth/verify-email", json={"token": confirmation_token})
    assert verified.status_code == 200, verified.text
    me_now = (await client.get("/auth/me", headers=headers)).json()["data"]
    assert me_now["user"]["emailVerifiedAt"] is not None
    joined = await client.post(accept, headers=headers)
    assert joined.status_code == 200, joined.text
    assert joined.json()["data"] == {
        "accountId": owner.account_id,
        "accountName": "Shop Owner's shop",
        "role": "agent",
    }
    assert (
        await client.get(f"/accounts/{owner.account_id}/users", headers=headers)
    ).status_code == 200
    assert (await client.get("/auth/invitations", headers=headers)).json()["data"] == []
    members = (
        await client.get(f"/accounts/{owner.account_id}/users", headers=owner.headers)
    ).json()["data"]["rows"]
    newbie = next(m for m in members if m["email"] == "newbie@example.com")
    assert newbie["invitationPending"] is False and newbie["role"] == "agent"
    # Accepted once: the id is no longer an open invitation.
    assert_error(await client.post(accept, headers=headers), 404)


async def test_whoever_registers_an_invited_address_first_gains_nothing_and_loses_it_to_its_owner(
    client: httpx.AsyncClient, smtp_server: Mailbox, run_jobs: Any
) -> None:
    owner = await register(client)
    await _invite(client, owner, "target@example.com", role="admin")
    squatter = await client.post(
        "/auth/register",
        json={"email": "target@example.com", "password": "squatter pass", "name": "Not Them"},
    )
    assert squatter.status_code == 201
    squatter_tokens = squatter.json()["data"]
    headers = _bearer(squatter_tokens["accessToken"])
    (invitation,) = (await client.get("/auth/invitations", headers=headers)).json()["data"]
    assert_error(
        await client.post(f"/auth/invitations/{invitation['id']}/accept", headers=headers),
        403,
        "email_unverified",
    )

    # The address's owner follows the invitation link: password set, invitation accepted, and
    # every token the squatter holds ends.
    await run_jobs()
    invitation_mail = next(
        m for m in smtp_server.to("target@example.com") if "invited" in m["subject"]
    )
    taken_back = await client.post(
        "/auth/reset-password",
        json={"token": token_from(invitation_mail["body"]), "password": "the real owner"},
    )
    assert taken_back.status_code == 200
    assert_error(await client.get("/auth/me", headers=headers), 401)
    assert_error(
        await client.post("/auth/refresh", json={"refreshToken": squatter_tokens["refreshToken"]}),
        401,
    )
    login = await client.post(
        "/auth/login", json={"email": "target@example.com", "password": "the real owner"}
    )
    data = login.json()["data"]
    assert data["user"]["emailVerifiedAt"] is not None
    assert {(a["accountId"], a["role"]) for a in data["accounts"]} >= {(owner.account_id, "admin")}


async def test_declining_an_invitation_takes_it_off_both_lists(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    stranger = await register(client)
    await _invite(client, owner, "maybe@example.com")
    registered = await client.post(
        "/auth/register",
        json={"email": "maybe@example.com", "password": "maybe password", "name": "Maybe"},
    )
    headers = _bearer(registered.json()["data"]["accessToken"])
    (invitation,) = (await client.get("/auth/invitations", headers=headers)).json()["data"]
    # Someone else's invitation is not found, whatever they try.
    for action in ("accept", "decline"):
        assert_error(
            await client.post(
                f"/auth/invitations/{invitation['id']}/{action}", headers=stranger.headers
            ),
            404,
        )
    declined = await client.post(f"/auth/invitations/{invitation['id']}/decline", headers=headers)
    assert declined.status_code == 200
    assert (await client.get("/auth/invitations", headers=headers)).json()["data"] == []
    members = (
        await client.get(f"/accounts/{owner.account_id}/users", headers=owner.headers)
    ).json()["data"]["rows"]
    assert "maybe@example.com" not in {m["email"] for m in members}


async def test_invitations_are_limited_per_account(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings().auth, "invitations_per_hour", 3)
    owner = await register(client)
    for n in range(3):
        await _invite(client, owner, f"person{n}@example.com")
    limited = await client.post(
        f"/accounts/{owner.account_id}/users",
        json={"email": "person3@example.com", "role": "agent"},
        headers=owner.headers,
    )
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    # Adding someone who already signs in sends no invitation and is not counted.
    colleague = await register(client)
    linked = await client.post(
        f"/accounts/{owner.account_id}/users",
        json={"email": colleague.email, "role": "viewer"},
        headers=owner.headers,
    )
    assert linked.status_code == 201 and linked.json()["data"]["invitationPending"] is False
    # The limit is the account's, not the whole server's.
    other = await register(client)
    await _invite(client, other, "person3@example.com")
