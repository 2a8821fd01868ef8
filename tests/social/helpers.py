"""Shared helpers for the Meta / Instagram tests: Graph answers shaped as Meta documents them,
webhook bodies as Meta sends them, onboarding over HTTP, reading what landed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import respx
from sqlalchemy import text

from tests.helpers import Caller

GRAPH = "https://graph.facebook.com/v25.0"
IG_GRAPH = "https://graph.instagram.com/v25.0"
IG_ROOT = "https://graph.instagram.com"
IG_TOKEN_URL = "https://api.instagram.com/oauth/access_token"
META_SECRET = "meta-app-secret-for-tests"
IG_SECRET = "instagram-app-secret-for-tests"
REDIRECT = "https://app.example.com/integrations/done"

PAGE_ID = "104857600000001"
PAGE_TOKEN = "EAAPageToken-" + "x" * 20
IG_ID = "17841400000000001"
IG_TOKEN = "IGAALongLivedToken-" + "y" * 20
PSID = "24100000000000001"
IGSID = "6650000000000001"


# The Meta and Instagram apps as the tests configure them (conftest files apply this before
# the app reads its settings): tests/social and the tenancy walk both connect Pages.
APPS_ENV = {
    "TICARET_META__APP_ID": "1122334455",
    "TICARET_META__APP_SECRET": META_SECRET,
    "TICARET_META__VERIFY_TOKEN": "meta-verify-token",
    "TICARET_META__REDIRECT_ORIGINS": json.dumps(["https://app.example.com"]),
    "TICARET_META__OPERATION_RETRY_BASE_SECONDS": "0",
    "TICARET_META__PUBLISH_POLL_SECONDS": "0",
    "TICARET_META__USAGE_BACKOFF_MAX_SECONDS": "1",
    # Instagram's own app; its verify token falls back to the Meta one.
    "TICARET_INSTAGRAM__APP_ID": "990602627938098",
    "TICARET_INSTAGRAM__APP_SECRET": IG_SECRET,
}


def headers(caller: Caller) -> dict[str, str]:
    return {**caller.headers, "x-account-id": caller.account_id}


def graph_error(
    code: int,
    message: str = "An error occurred",
    *,
    subcode: int | None = None,
    error_type: str = "OAuthException",
) -> dict[str, Any]:
    """Meta's error object (graph-api/guides/error-handling)."""
    error: dict[str, Any] = {
        "message": message,
        "type": error_type,
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def query_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


# Onboarding ---------------------------------------------------------------------------------


async def oauth_url(
    client: httpx.AsyncClient,
    caller: Caller,
    platform: str = "meta",
    redirect: str = REDIRECT,
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        f"/{platform}/oauth/url", json={"redirectUrl": redirect, **extra}, headers=headers(caller)
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def route_page_onboarding(
    graph: respx.MockRouter,
    *,
    pages: list[dict[str, Any]] | None = None,
    code: str = "AQDcode",
) -> dict[str, respx.Route]:
    """Code -> short-lived user token -> long-lived user token -> Pages with their tokens ->
    subscribed_apps, as the Login and Pages docs show them."""

    def exchange(request: httpx.Request) -> httpx.Response:
        params = query_of(request)
        if params.get("grant_type") == "fb_exchange_token":
            assert params["fb_exchange_token"] == "EAAShortLivedUser"
            assert params["client_secret"] == META_SECRET
            return httpx.Response(
                200,
                json={
                    "access_token": "EAALongLivedUser",
                    "token_type": "bearer",
                    "expires_in": 5183944,
                },
            )
        assert params["code"] == code
        assert params["client_id"] == "1122334455"
        assert params["client_secret"] == META_SECRET
        assert params["redirect_uri"] == "http://testserver/meta/oauth/callback"
        return httpx.Response(
            200,
            json={"access_token": "EAAShortLivedUser", "token_type": "bearer", "expires_in": 5183},
        )

    listed = pages or [{"id": PAGE_ID, "name": "Ayşe Butik", "access_token": PAGE_TOKEN}]
    accounts = {
        "data": [
            {
                "access_token": page["access_token"],
                "category": "Clothing Store",
                "category_list": [{"id": "2209", "name": "Clothing Store"}],
                "name": page["name"],
                "id": page["id"],
                "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
                "picture": {"data": {"url": f"https://scontent.example/{page['id']}.jpg"}},
            }
            for page in listed
        ],
        "paging": {"cursors": {"before": "QVFIUjBF", "after": "QVFIUkxX"}},
    }
    return {
        "exchange": graph.get(f"{GRAPH}/oauth/access_token").mock(side_effect=exchange),
        "accounts": graph.get(f"{GRAPH}/me/accounts").respond(200, json=accounts),
        "subscribe": graph.post(url__regex=rf"^{GRAPH}/\d+/subscribed_apps$").respond(
            200, json={"success": True}
        ),
    }


async def connect_page(
    client: httpx.AsyncClient,
    caller: Caller,
    graph: respx.MockRouter,
    *,
    page_id: str = PAGE_ID,
    page_name: str = "Ayşe Butik",
    **extra: Any,
) -> dict[str, Any]:
    """A Page connected through the real onboarding, over HTTP."""
    started = await oauth_url(client, caller, **extra)
    route_page_onboarding(
        graph, pages=[{"id": page_id, "name": page_name, "access_token": PAGE_TOKEN}]
    )
    response = await client.get(
        "/meta/oauth/callback", params={"code": "AQDcode", "state": started["state"]}
    )
    assert response.status_code == 303, response.text
    assert "status=connected" in response.headers["location"], response.headers["location"]
    assets = await client.get("/meta/assets", headers=headers(caller))
    [asset] = [a for a in assets.json()["data"]["rows"] if a["externalId"] == page_id]
    return dict(asset)


def route_instagram_onboarding(
    graph: respx.MockRouter,
    *,
    code: str = "AQBxIgCode",
    user_id: str = IG_ID,
    app_scoped_id: str = "7000000000000001",
    username: str = "aysebutik",
) -> dict[str, respx.Route]:
    """Business Login: code -> short-lived token (`data[]`) -> ig_exchange_token -> /me ->
    subscribed_apps."""

    def short_lived(request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        assert form == {
            "client_id": "990602627938098",
            "client_secret": IG_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": "http://testserver/instagram/oauth/callback",
            "code": code,
        }, form
        return httpx.Response(
            200,
            json={
                "data": [
                    {
                        "access_token": "IGAAShortLived",
                        "user_id": user_id,
                        "permissions": "instagram_business_basic,instagram_business_manage_"
                        "messages,instagram_business_manage_comments,instagram_business_"
                        "content_publish",
                    }
                ]
            },
        )

    def long_lived(request: httpx.Request) -> httpx.Response:
        params = query_of(request)
        assert params == {
            "grant_type": "ig_exchange_token",
            "client_secret": IG_SECRET,
            "access_token": "IGAAShortLived",
        }
        return httpx.Response(
            200, json={"access_token": IG_TOKEN, "token_type": "bearer", "expires_in": 5183944}
        )

    return {
        "short": graph.post(IG_TOKEN_URL).mock(side_effect=short_lived),
        "long": graph.get(f"{IG_ROOT}/access_token").mock(side_effect=long_lived),
        "me": graph.get(f"{IG_GRAPH}/me").respond(
            200,
            json={
                "user_id": user_id,
                "username": username,
                "name": "Ayşe Butik",
                "account_type": "BUSINESS",
                "profile_picture_url": "https://scontent.example/ig.jpg",
                "id": app_scoped_id,
            },
        ),
        "subscribe": graph.post(f"{IG_GRAPH}/me/subscribed_apps").respond(
            200, json={"success": True}
        ),
    }


async def connect_instagram(
    client: httpx.AsyncClient,
    caller: Caller,
    graph: respx.MockRouter,
    *,
    ig_id: str = IG_ID,
    app_scoped_id: str = "7000000000000001",
    **extra: Any,
) -> dict[str, Any]:
    """An Instagram professional account connected through Business Login, over HTTP."""
    started = await oauth_url(client, caller, "instagram", **extra)
    route_instagram_onboarding(graph, user_id=ig_id, app_scoped_id=app_scoped_id)
    response = await client.get(
        "/instagram/oauth/callback", params={"code": "AQBxIgCode", "state": started["state"]}
    )
    assert response.status_code == 303, response.text
    assert "status=connected" in response.headers["location"]
    listed = await client.get("/instagram/accounts", headers=headers(caller))
    [account] = [a for a in listed.json()["data"]["rows"] if a["externalId"] == ig_id]
    return dict(account)


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


# Webhook bodies -------------------------------------------------------------------------------


def page_body(*messaging: dict[str, Any], page_id: str = PAGE_ID) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [{"id": page_id, "time": now_ms(), "messaging": list(messaging)}],
    }


def instagram_body(*messaging: dict[str, Any], account_id: str = IG_ID) -> dict[str, Any]:
    return {
        "object": "instagram",
        "entry": [{"id": account_id, "time": now_ms(), "messaging": list(messaging)}],
    }


def customer_message(
    text: str | None = "Merhaba, bu elbise stokta var mı?",
    *,
    mid: str | None = None,
    sender: str = PSID,
    recipient: str = PAGE_ID,
    timestamp: int | None = None,
    attachments: list[dict[str, Any]] | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    """A `messages` item (Messenger and Instagram share the shape)."""
    message: dict[str, Any] = {"mid": mid or f"m_{uuid.uuid4().hex}"}
    if text is not None:
        message["text"] = text
    if attachments:
        message["attachments"] = attachments
    if reply_to:
        message["reply_to"] = {"mid": reply_to}
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": timestamp or now_ms(),
        "message": message,
    }


def echo(
    text: str,
    *,
    mid: str,
    page: str = PAGE_ID,
    person: str = PSID,
    metadata: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"is_echo": True, "app_id": 1122334455, "mid": mid, "text": text}
    if metadata is not None:
        message["metadata"] = metadata
    return {
        "sender": {"id": page},
        "recipient": {"id": person},
        "timestamp": now_ms(),
        "message": message,
    }


def feed_comment(
    *,
    comment_id: str,
    post_id: str | None = None,
    message: str = "Fiyatı nedir?",
    verb: str = "add",
    parent_id: str | None = None,
    sender: tuple[str, str] = ("5550000000000001", "Deniz Yılmaz"),
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """A Page `feed` change for a comment (item: comment)."""
    post_id = post_id or f"{page_id}_900000000000001"
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "from": {"id": sender[0], "name": sender[1]},
                            "post": {
                                "status_type": "added_photos",
                                "is_published": True,
                                "updated_time": "2026-11-30T18:20:04+0000",
                                "permalink_url": f"https://www.facebook.com/{post_id}",
                                "promotion_status": "inactive",
                                "id": post_id,
                            },
                            "message": message,
                            "post_id": post_id,
                            "comment_id": comment_id,
                            "created_time": int(time.time()),
                            "item": "comment",
                            "parent_id": parent_id or post_id,
                            "verb": verb,
                        },
                    }
                ],
            }
        ],
    }


def instagram_comment(
    *,
    comment_id: str,
    media_id: str = "17900000000000001",
    text: str = "Bedeni var mı?",
    account_id: str = IG_ID,
    sender: str = IGSID,
) -> dict[str, Any]:
    """An Instagram `comments` change."""
    return {
        "object": "instagram",
        "entry": [
            {
                "id": account_id,
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "comments",
                        "value": {
                            "from": {"id": sender, "username": "deniz.y"},
                            "media": {"id": media_id, "media_product_type": "FEED"},
                            "id": comment_id,
                            "text": text,
                        },
                    }
                ],
            }
        ],
    }


def route_sends(graph: respx.MockRouter) -> respx.Route:
    """The Send API of every Page and Instagram account (`POST /{id}/messages`): a message id
    for a message, the recipient alone for a `sender_action` (mark_seen)."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = json_of(request)
        recipient = body["recipient"]["id"]
        if "sender_action" in body:
            return httpx.Response(200, json={"recipient_id": recipient})
        return httpx.Response(
            200, json={"recipient_id": recipient, "message_id": f"m_{uuid.uuid4().hex}"}
        )

    return graph.post(url__regex=rf"^({GRAPH}|{IG_GRAPH})/\d+/messages$").mock(side_effect=answer)


async def deliver(
    client: httpx.AsyncClient,
    body: dict[str, Any] | bytes,
    *,
    platform: str = "meta",
    secret: str | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    secret = secret or (META_SECRET if platform == "meta" else IG_SECRET)
    return await client.post(
        f"/{platform}/webhook",
        content=raw,
        headers={"content-type": "application/json", "x-hub-signature-256": signature(raw, secret)},
    )


# Reading what landed ----------------------------------------------------------------------------


async def sql(query: str, **params: Any) -> list[Any]:
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        return list((await conn.execute(text(query), params)).all())


async def events_of(type_prefix: str) -> list[dict[str, Any]]:
    rows = await sql(
        "SELECT type, account_id, data FROM events WHERE type LIKE :p ORDER BY seq",
        p=f"{type_prefix}%",
    )
    return [{"type": r[0], "accountId": str(r[1]), "data": r[2]} for r in rows]


async def threads(
    client: httpx.AsyncClient, caller: Caller, asset: dict[str, Any], platform: str = "meta"
) -> list[dict[str, Any]]:
    base = "assets" if platform == "meta" else "accounts"
    response = await client.get(
        f"/{platform}/{base}/{asset['id']}/threads", headers=headers(caller)
    )
    assert response.status_code == 200, response.text
    return list(response.json()["data"]["rows"])


async def messages(
    client: httpx.AsyncClient,
    caller: Caller,
    asset: dict[str, Any],
    thread_id: str,
    platform: str = "meta",
) -> list[dict[str, Any]]:
    base = "assets" if platform == "meta" else "accounts"
    response = await client.get(
        f"/{platform}/{base}/{asset['id']}/threads/{thread_id}/messages", headers=headers(caller)
    )
    assert response.status_code == 200, response.text
    return list(response.json()["data"]["rows"])
