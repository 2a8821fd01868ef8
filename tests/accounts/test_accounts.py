from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import Mailbox, add_member, assert_error, login, register, token_from

FOREIGN = "0190f3a4-0000-7000-8000-000000000000"


async def test_list_and_create_accounts(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    created = await client.post("/accounts", json={"name": "Second shop"}, headers=owner.headers)
    assert created.status_code == 201
    assert created.json()["data"]["role"] == "owner"
    page = (await client.get("/accounts?limit=1", headers=owner.headers)).json()["data"]
    assert page["hasMore"] is True and len(page["rows"]) == 1
    rest = (
        await client.get(f"/accounts?limit=1&cursor={page['nextCursor']}", headers=owner.headers)
    ).json()["data"]
    assert rest["hasMore"] is False and rest["nextCursor"] is None
    assert {page["rows"][0]["name"], rest["rows"][0]["name"]} == {"Second shop", "Test User's shop"}
    assert_error(
        await client.get("/accounts?cursor=%%%", headers=owner.headers), 400, "invalid_cursor"
    )
    assert_error(await client.get("/accounts?limit=500", headers=owner.headers), 422)
    assert_error(await client.post("/accounts", json={"name": ""}, headers=owner.headers), 422)
    assert_error(await client.get("/accounts"), 401)


async def test_account_header_rules_for_multi_account_users(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    await client.post("/accounts", json={"name": "Second shop"}, headers=owner.headers)
    from ticaret.core.auth import resolve_account  # noqa: F401 - rules documented in API.md

    # /auth/me needs no account; an account-scoped path with a bad header id is a 400.
    response = await client.get("/auth/me", headers={**owner.headers, "x-account-id": "nope"})
    assert response.status_code == 200


async def test_members_listing_and_roles(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    viewer = await add_member(client, owner, "viewer")
    listing = await client.get(f"/accounts/{owner.account_id}/users", headers=viewer.headers)
    assert listing.status_code == 200
    rows = listing.json()["data"]["rows"]
    assert {(r["email"], r["role"]) for r in rows} == {
        (owner.email, "owner"),
        (viewer.email, "viewer"),
    }
    # Another account's id is 404, never 403: its existence is not revealed.
    stranger = await register(client)
    assert_error(
        await client.get(f"/accounts/{owner.account_id}/users", headers=stranger.headers), 404
    )
    assert_error(await client.get(f"/accounts/{FOREIGN}/users", headers=owner.headers), 404)
    assert_error(await client.get("/accounts/not-a-uuid/users", headers=owner.headers), 422)


async def test_add_user_links_existing_or_invites_new(
    client: httpx.AsyncClient, run_jobs: Any, smtp_server: Mailbox
) -> None:
    owner = await register(client)
    existing = await register(client)
    linked = await client.post(
        f"/accounts/{owner.account_id}/users",
        json={"email": existing.email, "role": "agent"},
        headers=owner.headers,
    )
    assert linked.status_code == 201
    assert linked.json()["data"]["userId"] == existing.user_id
    assert linked.json()["data"]["invitationPending"] is False
    assert_error(
        await client.post(
            f"/accounts/{owner.account_id}/users",
            json={"email": existing.email, "role": "agent"},
            headers=owner.headers,
        ),
        409,
        "already_member",
    )

    invited = await client.post(
        f"/accounts/{owner.account_id}/users",
        json={"email": "new.person@example.com", "name": "New Person", "role": "viewer"},
        headers=owner.headers,
    )
    assert invited.status_code == 201
    assert invited.json()["data"]["invitationPending"] is True
    await run_jobs()
    (mail,) = smtp_server.to("new.person@example.com")
    token = token_from(mail["body"])
    # Before choosing a password the invited user cannot log in.
    assert_error(
        await client.post(
            "/auth/login", json={"email": "new.person@example.com", "password": "whatever1"}
        ),
        401,
    )
    assert (
        await client.post(
            "/auth/reset-password", json={"token": token, "password": "my own password"}
        )
    ).status_code == 200
    access = await login(client, "new.person@example.com", "my own password")
    me = await client.get(
        f"/accounts/{owner.account_id}/users", headers={"Authorization": f"Bearer {access}"}
    )
    assert me.status_code == 200


async def test_add_user_permissions_and_validation(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await add_member(client, owner, "admin")
    agent = await add_member(client, owner, "agent")
    url = f"/accounts/{owner.account_id}/users"
    assert_error(
        await client.post(
            url, json={"email": "x@example.com", "role": "viewer"}, headers=agent.headers
        ),
        403,
    )
    assert_error(
        await client.post(
            url, json={"email": "x@example.com", "role": "owner"}, headers=admin.headers
        ),
        403,
        "owner_required",
    )
    assert (
        await client.post(
            url, json={"email": "y@example.com", "role": "admin"}, headers=admin.headers
        )
    ).status_code == 201
    assert_error(
        await client.post(
            url, json={"email": "x@example.com", "role": "emperor"}, headers=owner.headers
        ),
        422,
    )
    assert_error(await client.post(url, json={"role": "agent"}, headers=owner.headers), 422)
    stranger = await register(client)
    assert_error(
        await client.post(
            url, json={"email": "z@example.com", "role": "agent"}, headers=stranger.headers
        ),
        404,
    )


async def test_change_role_rules(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await add_member(client, owner, "admin")
    agent = await add_member(client, owner, "agent")
    base = f"/accounts/{owner.account_id}/users"

    promoted = await client.patch(
        f"{base}/{agent.user_id}", json={"role": "admin"}, headers=admin.headers
    )
    assert promoted.status_code == 200 and promoted.json()["data"]["role"] == "admin"
    version = promoted.json()["data"]["entityVersion"]

    assert_error(
        await client.patch(
            f"{base}/{agent.user_id}", json={"role": "owner"}, headers=admin.headers
        ),
        403,
    )
    assert_error(
        await client.patch(
            f"{base}/{owner.user_id}", json={"role": "viewer"}, headers=admin.headers
        ),
        403,
    )
    assert_error(
        await client.patch(
            f"{base}/{owner.user_id}", json={"role": "admin"}, headers=agent.headers
        ),
        403,
    )
    # The only owner cannot step down.
    assert_error(
        await client.patch(
            f"{base}/{owner.user_id}", json={"role": "admin"}, headers=owner.headers
        ),
        409,
        "last_owner",
    )
    # Optimistic concurrency: a stale entityVersion (body or If-Match) is a 409.
    conflict = assert_error(
        await client.patch(
            f"{base}/{agent.user_id}",
            json={"role": "viewer", "entityVersion": "999"},
            headers=owner.headers,
        ),
        409,
        "version_conflict",
    )
    assert set(conflict["details"]) == {"currentEntityVersion"}
    assert_error(
        await client.patch(
            f"{base}/{agent.user_id}",
            json={"role": "viewer"},
            headers={**owner.headers, "If-Match": '"999"'},
        ),
        409,
        "version_conflict",
    )
    ok = await client.patch(
        f"{base}/{agent.user_id}",
        json={"role": "viewer", "entityVersion": version},
        headers=owner.headers,
    )
    assert ok.status_code == 200 and ok.json()["data"]["entityVersion"] != version

    # A second owner lets the first one step down.
    assert (
        await client.patch(f"{base}/{admin.user_id}", json={"role": "owner"}, headers=owner.headers)
    ).status_code == 200
    assert (
        await client.patch(f"{base}/{owner.user_id}", json={"role": "admin"}, headers=owner.headers)
    ).status_code == 200
    assert_error(
        await client.patch(f"{base}/{FOREIGN}", json={"role": "agent"}, headers=admin.headers), 404
    )
    assert_error(
        await client.patch(f"{base}/{agent.user_id}", json={"role": 3}, headers=admin.headers), 422
    )


async def test_remove_user_rules(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await add_member(client, owner, "admin")
    agent = await add_member(client, owner, "agent")
    base = f"/accounts/{owner.account_id}/users"
    assert_error(await client.delete(f"{base}/{admin.user_id}", headers=agent.headers), 403)
    assert_error(await client.delete(f"{base}/{owner.user_id}", headers=admin.headers), 403)
    assert_error(
        await client.delete(f"{base}/{owner.user_id}", headers=owner.headers), 409, "last_owner"
    )
    assert (
        await client.delete(f"{base}/{agent.user_id}", headers=admin.headers)
    ).status_code == 200
    assert_error(await client.delete(f"{base}/{agent.user_id}", headers=admin.headers), 404)
    other = await register(client)
    assert_error(
        await client.delete(
            f"/accounts/{other.account_id}/users/{other.user_id}", headers=owner.headers
        ),
        404,
    )


async def test_api_account_lifecycle(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    base = f"/accounts/{owner.account_id}/api-accounts"
    created = await client.post(
        base, json={"name": "ERP sync", "role": "agent"}, headers=owner.headers
    )
    assert created.status_code == 201
    data = created.json()["data"]
    key, secret = data["key"], data["secret"]
    assert key.startswith("tk_") and secret.startswith("tks_") and len(secret) >= 40
    assert data["secretLast4"] == secret[-4:] and data["lastUsedAt"] is None

    listed = (await client.get(base, headers=owner.headers)).json()["data"]["rows"]
    assert listed[0]["key"] == key and "secret" not in listed[0]

    api = {"x-api-key": key, "x-api-secret": secret}
    me = await client.get("/auth/me", headers=api)
    assert me.status_code == 200
    assert me.json()["data"]["principalType"] == "api_account"
    assert me.json()["data"]["accounts"][0]["role"] == "agent"
    accounts = (await client.get("/accounts", headers=api)).json()["data"]["rows"]
    assert [a["id"] for a in accounts] == [owner.account_id]
    listed = (await client.get(base, headers=owner.headers)).json()["data"]["rows"]
    assert listed[0]["lastUsedAt"] is not None

    # An agent API key cannot manage API accounts, nor create accounts.
    assert_error(await client.get(base, headers=api), 403, "insufficient_role")
    assert_error(
        await client.post("/accounts", json={"name": "x"}, headers=api), 403, "user_required"
    )

    rotated = await client.post(f"{base}/{data['id']}/rotate-secret", headers=owner.headers)
    assert rotated.status_code == 200
    new_secret = rotated.json()["data"]["secret"]
    assert new_secret != secret and rotated.json()["data"]["key"] == key
    assert_error(await client.get("/auth/me", headers=api), 401, "invalid_api_credentials")
    assert (
        await client.get("/auth/me", headers={"x-api-key": key, "x-api-secret": new_secret})
    ).status_code == 200

    revoked = await client.post(f"{base}/{data['id']}/revoke", headers=owner.headers)
    assert revoked.status_code == 200 and revoked.json()["data"]["status"] == "revoked"
    assert_error(
        await client.get("/auth/me", headers={"x-api-key": key, "x-api-secret": new_secret}), 401
    )
    assert_error(
        await client.post(f"{base}/{data['id']}/rotate-secret", headers=owner.headers), 409
    )
    assert_error(await client.get("/auth/me", headers={"x-api-key": key}), 401)


async def test_api_account_permissions_and_tenancy(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await add_member(client, owner, "admin")
    agent = await add_member(client, owner, "agent")
    base = f"/accounts/{owner.account_id}/api-accounts"
    assert_error(
        await client.post(base, json={"name": "x", "role": "viewer"}, headers=agent.headers), 403
    )
    assert_error(await client.get(base, headers=agent.headers), 403)
    assert_error(
        await client.post(base, json={"name": "x", "role": "owner"}, headers=admin.headers),
        403,
        "role_too_high",
    )
    assert_error(
        await client.post(base, json={"name": "", "role": "agent"}, headers=admin.headers), 422
    )
    made = (
        await client.post(base, json={"name": "bot", "role": "admin"}, headers=admin.headers)
    ).json()["data"]

    stranger = await register(client)
    foreign_base = f"/accounts/{stranger.account_id}/api-accounts"
    assert_error(await client.get(foreign_base, headers=owner.headers), 404)
    # An id from another account is not found in this one.
    theirs = (
        await client.post(
            foreign_base, json={"name": "t", "role": "agent"}, headers=stranger.headers
        )
    ).json()["data"]
    assert_error(await client.post(f"{base}/{theirs['id']}/revoke", headers=owner.headers), 404)
    assert_error(
        await client.post(f"{base}/{theirs['id']}/rotate-secret", headers=owner.headers), 404
    )
    assert_error(await client.post(f"{base}/{FOREIGN}/revoke", headers=owner.headers), 404)
    # An admin API key acts in its own account only.
    api = {"x-api-key": made["key"], "x-api-secret": made["secret"]}
    assert (await client.get(base, headers=api)).status_code == 200
    assert_error(await client.get(foreign_base, headers=api), 404)


async def test_concurrent_calls_with_one_api_key_all_succeed(client: httpx.AsyncClient) -> None:
    import asyncio

    owner = await register(client)
    made = (
        await client.post(
            f"/accounts/{owner.account_id}/api-accounts",
            json={"name": "busy", "role": "viewer"},
            headers=owner.headers,
        )
    ).json()["data"]
    api = {"x-api-key": made["key"], "x-api-secret": made["secret"]}
    responses = await asyncio.gather(*(client.get("/accounts", headers=api) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    listed = (
        await client.get(f"/accounts/{owner.account_id}/api-accounts", headers=owner.headers)
    ).json()["data"]
    assert listed["rows"][0]["lastUsedAt"] is not None
    assert listed["rows"][0]["entityVersion"] == made["entityVersion"]


async def test_the_account_list_is_exactly_what_its_response_model_documents(
    client: httpx.AsyncClient,
) -> None:
    from ticaret.accounts.schemas import AccountOut
    from ticaret.core.envelope import Envelope, Page

    owner = await register(client)
    await client.post("/accounts", json={"name": "Ikinci dükkan"}, headers=owner.headers)
    key = (
        await client.post(
            f"/accounts/{owner.account_id}/api-accounts",
            json={"name": "erp", "role": "viewer"},
            headers=owner.headers,
        )
    ).json()["data"]
    for headers, query in (
        (owner.headers, "?limit=1"),
        (owner.headers, ""),
        ({"x-api-key": key["key"], "x-api-secret": key["secret"]}, ""),
    ):
        response = await client.get(f"/accounts{query}", headers=headers)
        assert response.status_code == 200
        body = response.json()
        # Built straight from rows (no model on the way out): the model must read it back as is.
        model = Envelope[Page[AccountOut]].model_validate(body)
        assert model.model_dump(mode="json", by_alias=True) == body
    first = (await client.get("/accounts?limit=1", headers=owner.headers)).json()["data"]
    rest = await client.get(
        f"/accounts?limit=1&cursor={first['nextCursor']}", headers=owner.headers
    )
    assert first["hasMore"] is True
    assert [r["id"] for r in rest.json()["data"]["rows"]] != [r["id"] for r in first["rows"]]
