"""Onboarding: the authorize URLs, the callbacks, and every way a callback is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from tests.helpers import add_member, assert_error, register
from tests.social.helpers import (
    GRAPH,
    IG_ID,
    IG_ROOT,
    IG_TOKEN,
    PAGE_ID,
    PAGE_TOKEN,
    REDIRECT,
    connect_instagram,
    connect_page,
    events_of,
    form_of,
    graph_error,
    headers,
    oauth_url,
    route_instagram_onboarding,
    route_page_onboarding,
    sql,
)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_page_onboarding_connects_pages_with_encrypted_tokens_and_webhooks(
    client: httpx.AsyncClient, graph: respx.MockRouter
) -> None:
    owner = await register(client)
    started = await oauth_url(client, owner, features=["messaging", "comments"])
    dialog = urlsplit(started["url"])
    assert f"{dialog.scheme}://{dialog.netloc}{dialog.path}" == (
        "https://www.facebook.com/v25.0/dialog/oauth"
    )
    params = _query(started["url"])
    assert params["client_id"] == "1122334455"
    assert params["redirect_uri"] == "http://testserver/meta/oauth/callback"
    assert params["response_type"] == "code"
    assert params["state"] == started["state"]
    assert set(params["scope"].split(",")) == {
        "pages_show_list",
        "pages_manage_metadata",
        "pages_messaging",
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_engagement",
    }

    routes = route_page_onboarding(
        graph,
        pages=[
            {"id": PAGE_ID, "name": "Ayşe Butik", "access_token": PAGE_TOKEN},
            {"id": "104857600000002", "name": "Ayşe Outlet", "access_token": "EAAOtherPage"},
        ],
    )
    response = await client.get(
        "/meta/oauth/callback", params={"code": "AQDcode", "state": started["state"]}
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    result = _query(location)
    assert result["status"] == "connected"
    assert result["platform"] == "facebook"
    assert result["assets"] == "2"

    # The user token is made long-lived before the Pages are read with it.
    assert routes["exchange"].call_count == 2
    accounts_call = routes["accounts"].calls.last.request
    assert accounts_call.headers["authorization"] == "Bearer EAALongLivedUser"
    subscribed = [c.request for c in routes["subscribe"].calls]
    assert {r.url.path for r in subscribed} == {
        f"/v25.0/{PAGE_ID}/subscribed_apps",
        "/v25.0/104857600000002/subscribed_apps",
    }
    page_call = next(r for r in subscribed if PAGE_ID in r.url.path)
    assert page_call.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert form_of(page_call)["subscribed_fields"] == (
        "messages,message_echoes,message_reads,message_reactions,messaging_postbacks,feed"
    )

    listed = await client.get("/meta/assets", headers=headers(owner))
    rows = {a["externalId"]: a for a in listed.json()["data"]["rows"]}
    asset = rows[PAGE_ID]
    assert asset["name"] == "Ayşe Butik"
    assert asset["platform"] == "facebook"
    assert asset["status"] == "active"
    assert asset["category"] == "Clothing Store"
    assert set(asset["enabledFeatures"]) == {"messaging", "comments"}
    assert asset["subscriptionError"] is None
    assert "feed" in asset["subscribedFields"]
    assert PAGE_TOKEN not in listed.text

    [(stored,)] = await sql(
        "SELECT token_encrypted FROM meta_assets WHERE external_id = :p", p=PAGE_ID
    )
    assert stored and PAGE_TOKEN not in stored
    from ticaret.core.security import secret_box
    from ticaret.settings import get_settings

    assert secret_box(get_settings()).decrypt(stored) == PAGE_TOKEN
    connected = await events_of("meta.asset.connected")
    assert {e["data"]["externalId"] for e in connected} == {PAGE_ID, "104857600000002"}
    assert all(e["accountId"] == owner.account_id for e in connected)


async def test_a_state_is_single_use(client: httpx.AsyncClient, graph: respx.MockRouter) -> None:
    owner = await register(client)
    started = await oauth_url(client, owner)
    routes = route_page_onboarding(graph)
    first = await client.get(
        "/meta/oauth/callback", params={"code": "AQDcode", "state": started["state"]}
    )
    assert first.status_code == 303
    replay = await client.get(
        "/meta/oauth/callback", params={"code": "AQDcode", "state": started["state"]}
    )
    assert_error(replay, 400, "invalid_oauth_state")
    assert routes["exchange"].call_count == 2  # the replay reached no Graph endpoint


async def test_a_state_spent_by_a_failed_callback_stays_spent(
    client: httpx.AsyncClient, graph: respx.MockRouter
) -> None:
    owner = await register(client)
    started = await oauth_url(client, owner)
    graph.get(f"{GRAPH}/oauth/access_token").respond(
        400,
        json=graph_error(
            100,
            "Invalid verification code format.",
            error_type="OAuthException",
        ),
    )
    failed = await client.get(
        "/meta/oauth/callback", params={"code": "AQDbad", "state": started["state"]}
    )
    assert failed.status_code == 303
    result = _query(failed.headers["location"])
    assert result == {"status": "error", "platform": "facebook", "error": "graph_error"}
    assert await sql("SELECT id FROM meta_assets") == []
    again = await client.get(
        "/meta/oauth/callback", params={"code": "AQDcode", "state": started["state"]}
    )
    assert_error(again, 400, "invalid_oauth_state")


async def test_expired_states_are_refused(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    started = await oauth_url(client, owner)
    await sql_update_expiry()
    assert_error(
        await client.get(
            "/meta/oauth/callback", params={"code": "AQDcode", "state": started["state"]}
        ),
        400,
        "invalid_oauth_state",
    )

    # A state whose own signature says it expired is refused without a database look.
    from ticaret.core.security import issue_scoped_token
    from ticaret.settings import get_settings

    stale = issue_scoped_token(
        get_settings(),
        {"sub": owner.account_id, "plt": "facebook", "nonce": "n", "rdr": "/", "usr": ""},
        -10,
        "meta_oauth_state",
    )
    assert_error(
        await client.get("/meta/oauth/callback", params={"code": "x", "state": stale}),
        400,
        "invalid_oauth_state",
    )


async def sql_update_expiry() -> None:
    from sqlalchemy import text

    from ticaret.core.db import get_engine

    async with get_engine().begin() as conn:
        await conn.execute(
            text("UPDATE meta_oauth_states SET expires_at = :t"),
            {"t": datetime.now(UTC) - timedelta(seconds=1)},
        )


async def test_forged_and_foreign_states_are_refused(
    client: httpx.AsyncClient, graph: respx.MockRouter
) -> None:
    owner = await register(client)
    started = await oauth_url(client, owner)
    for state in ("not-a-state", started["state"][:-4] + "AAAA", ""):
        assert_error(
            await client.get("/meta/oauth/callback", params={"code": "x", "state": state}),
            400,
            "invalid_oauth_state",
        )
    # Signed with another key: a state of another installation.
    import jwt

    forged = jwt.encode(
        {"sub": owner.account_id, "plt": "facebook", "nonce": "n", "typ": "meta_oauth_state"},
        "another-installation-secret-" + "z" * 20,
        algorithm="HS256",
    )
    assert_error(
        await client.get("/meta/oauth/callback", params={"code": "x", "state": forged}),
        400,
        "invalid_oauth_state",
    )
    # A Facebook state presented to the Instagram callback.
    assert_error(
        await client.get(
            "/instagram/oauth/callback", params={"code": "x", "state": started["state"]}
        ),
        400,
        "invalid_oauth_state",
    )
    # ...which did not spend it: it still works where it belongs.
    route_page_onboarding(graph)
    ok = await client.get(
        "/meta/oauth/callback", params={"code": "AQDcode", "state": started["state"]}
    )
    assert ok.status_code == 303
    assert _query(ok.headers["location"])["status"] == "connected"


async def test_denied_consent_goes_back_with_status_denied(
    client: httpx.AsyncClient, graph: respx.MockRouter
) -> None:
    owner = await register(client)
    started = await oauth_url(client, owner, redirect="/settings/channels?tab=meta")
    response = await client.get(
        "/meta/oauth/callback",
        params={
            "error": "access_denied",
            "error_reason": "user_denied",
            "error_description": "Permissions error.",
            "state": started["state"],
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/settings/channels?tab=meta&status=denied&platform=facebook&error=access_denied"
    )
    assert await sql("SELECT id FROM meta_assets") == []
    assert not graph.calls


async def test_redirects_are_relative_or_on_an_allowed_origin(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    for allowed in ("/done", "https://app.example.com/x?y=1", "https://APP.example.com"):
        await oauth_url(client, owner, redirect=allowed)
    for refused in (
        "https://evil.example.com/done",
        "//evil.example.com/done",
        "/\\evil.example.com",
        "javascript:alert(1)",
        "https://app.example.com@evil.example.com/",
        "http://app.example.com/",  # another scheme is another origin
        "https://app.example.com:8443/",
    ):
        response = await client.post(
            "/meta/oauth/url", json={"redirectUrl": refused}, headers=headers(owner)
        )
        assert_error(response, 422, "redirect_not_allowed")


async def test_only_admins_start_onboarding(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    for role in ("viewer", "agent"):
        member = await add_member(client, owner, role)
        response = await client.post(
            "/meta/oauth/url", json={"redirectUrl": "/done"}, headers=headers(member)
        )
        assert_error(response, 403, "insufficient_role")
    assert_error(await client.post("/meta/oauth/url", json={"redirectUrl": "/done"}), 401)


async def test_without_an_app_configured_the_meta_routes_answer_503(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticaret.settings import get_settings

    owner = await register(client)
    monkeypatch.setattr(get_settings().meta, "app_id", None)
    monkeypatch.setattr(get_settings().instagram, "app_id", None)
    response = await client.post(
        "/meta/oauth/url", json={"redirectUrl": "/done"}, headers=headers(owner)
    )
    assert_error(response, 503, "meta_not_configured")
    response = await client.post(
        "/instagram/oauth/url", json={"redirectUrl": "/done"}, headers=headers(owner)
    )
    assert_error(response, 503, "meta_not_configured")
    webhook = await client.post("/meta/webhook", content=b"{}")
    assert_error(webhook, 503, "meta_not_configured")
    assert await sql("SELECT id FROM inbox_items") == []


async def test_instagram_onboarding_gets_a_60_day_token_and_subscribes(
    client: httpx.AsyncClient, graph: respx.MockRouter
) -> None:
    owner = await register(client)
    started = await oauth_url(client, owner, "instagram")
    authorize = urlsplit(started["url"])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
        "https://www.instagram.com/oauth/authorize"
    )
    params = _query(started["url"])
    assert params["client_id"] == "990602627938098"
    assert params["redirect_uri"] == "http://testserver/instagram/oauth/callback"
    assert params["response_type"] == "code"
    assert set(params["scope"].split(",")) == {
        "instagram_business_basic",
        "instagram_business_manage_messages",
        "instagram_business_manage_comments",
        "instagram_business_content_publish",
    }
    routes = route_instagram_onboarding(graph)
    response = await client.get(
        "/instagram/oauth/callback", params={"code": "AQBxIgCode", "state": started["state"]}
    )
    assert response.status_code == 303, response.text
    assert _query(response.headers["location"])["status"] == "connected"
    assert routes["me"].calls.last.request.headers["authorization"] == f"Bearer {IG_TOKEN}"
    subscribe = routes["subscribe"].calls.last.request
    assert form_of(subscribe)["subscribed_fields"] == (
        "comments,messages,messaging_seen,message_reactions,messaging_postbacks"
    )
    listed = await client.get("/instagram/accounts", headers=headers(owner))
    [account] = listed.json()["data"]["rows"]
    assert account["externalId"] == IG_ID
    assert account["username"] == "aysebutik"
    assert account["platform"] == "instagram"
    expires = datetime.fromisoformat(account["tokenExpiresAt"].replace("Z", "+00:00"))
    assert timedelta(days=59) < expires - datetime.now(UTC) < timedelta(days=61)
    assert [e["data"]["externalId"] for e in await events_of("instagram.account.connected")] == [
        IG_ID
    ]
    # Instagram's assets are not Pages: /meta/assets does not list them.
    pages = await client.get("/meta/assets", headers=headers(owner))
    assert pages.json()["data"]["rows"] == []


async def test_instagram_code_exchange_errors_are_reported(
    client: httpx.AsyncClient, graph: respx.MockRouter
) -> None:
    owner = await register(client)
    started = await oauth_url(client, owner, "instagram")
    graph.post("https://api.instagram.com/oauth/access_token").respond(
        400,
        json={
            "error_type": "OAuthException",
            "code": 400,
            "error_message": "This authorization code has been used",
        },
    )
    response = await client.get(
        "/instagram/oauth/callback", params={"code": "used", "state": started["state"]}
    )
    assert response.status_code == 303
    assert _query(response.headers["location"])["error"] == "graph_error"
    assert await sql("SELECT id FROM meta_assets") == []


async def test_reconnecting_a_page_updates_it_instead_of_adding_one(
    client: httpx.AsyncClient, graph: respx.MockRouter
) -> None:
    owner = await register(client)
    first = await connect_page(client, owner, graph)
    again = await connect_page(client, owner, graph)
    assert again["id"] == first["id"]
    assert int(again["entityVersion"]) > int(first["entityVersion"])


async def test_instagram_tokens_are_refreshed_before_they_expire(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    from ticaret.social.tasks import refresh_instagram_tokens

    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    # Fresh tokens are left alone (Meta refreshes tokens at least 24 hours old).
    assert await refresh_instagram_tokens({}) == 0
    await sql_age_token(account["id"], expires_in=timedelta(days=5), age=timedelta(days=55))
    refresh = graph.get(f"{IG_ROOT}/refresh_access_token").respond(
        200,
        json={"access_token": "IGAARefreshedToken", "token_type": "bearer", "expires_in": 5184000},
    )
    assert await refresh_instagram_tokens({}) == 1
    await run_jobs()
    request = refresh.calls.last.request
    assert dict(request.url.params) == {"grant_type": "ig_refresh_token", "access_token": IG_TOKEN}
    listed = await client.get("/instagram/accounts", headers=headers(owner))
    [refreshed] = listed.json()["data"]["rows"]
    expires = datetime.fromisoformat(refreshed["tokenExpiresAt"].replace("Z", "+00:00"))
    assert expires - datetime.now(UTC) > timedelta(days=59)


async def test_a_refused_refresh_marks_the_account_for_reauthorization(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    from ticaret.social.tasks import refresh_instagram_tokens

    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    await sql_age_token(account["id"], expires_in=timedelta(days=2), age=timedelta(days=58))
    graph.get(f"{IG_ROOT}/refresh_access_token").respond(
        400, json=graph_error(190, "Error validating access token: Session has expired")
    )
    await refresh_instagram_tokens({})
    await run_jobs()
    listed = await client.get("/instagram/accounts", headers=headers(owner))
    [after] = listed.json()["data"]["rows"]
    assert after["status"] == "needs_reauth"
    assert "190" in after["lastError"]
    [event] = await events_of("instagram.account.needs_reauth")
    assert event["data"]["assetId"] == account["id"]
    # Nothing retries a refused token forever: the next sweep does not pick it up.
    assert await refresh_instagram_tokens({}) == 0


async def sql_age_token(asset_id: str, *, expires_in: timedelta, age: timedelta) -> None:
    from sqlalchemy import text

    from ticaret.core.db import get_engine

    moment = datetime.now(UTC)
    async with get_engine().begin() as conn:
        await conn.execute(
            text(
                "UPDATE meta_assets SET token_expires_at = :e, token_refreshed_at = :r "
                "WHERE id = :id"
            ),
            {"e": moment + expires_in, "r": moment - age, "id": asset_id},
        )
