"""Webhook endpoints over HTTP: lifecycle, roles, tenancy, validation, the SSRF guard."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from tests.helpers import add_member, assert_error, register
from tests.webhooks.helpers import Receiver, create_webhook
from ticaret.core.db import get_sessionmaker
from ticaret.models import Event
from ticaret.settings import get_settings

FOREIGN = "0190f3a4-0000-7000-8000-000000000000"


async def test_create_list_get_update_delete(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    base = f"/accounts/{owner.account_id}/webhooks"
    created = await client.post(
        base,
        json={"url": "http://127.0.0.1:9/in", "events": ["wa.*", "webhook.test", "wa.*"]},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    hook = created.json()["data"]
    assert hook["secret"].startswith("whsec_")
    assert hook["events"] == ["wa.*", "webhook.test"]  # duplicates dropped, order kept
    assert hook["status"] == "active" and hook["description"] is None
    assert hook["failingSince"] is None and hook["entityVersion"]
    assert hook["createdAt"].endswith("Z")

    listing = (await client.get(base, headers=owner.headers)).json()["data"]
    assert [row["id"] for row in listing["rows"]] == [hook["id"]]
    assert "secret" not in listing["rows"][0]
    detail = (await client.get(f"{base}/{hook['id']}", headers=owner.headers)).json()["data"]
    assert "secret" not in detail and detail["url"] == "http://127.0.0.1:9/in"

    updated = await client.patch(
        f"{base}/{hook['id']}",
        json={
            "url": "https://127.0.0.1:8443/hooks",
            "events": ["*"],
            "description": "ERP",
            "entityVersion": hook["entityVersion"],
        },
        headers=owner.headers,
    )
    assert updated.status_code == 200, updated.text
    data = updated.json()["data"]
    assert data["url"] == "https://127.0.0.1:8443/hooks" and data["events"] == ["*"]
    assert data["description"] == "ERP" and data["secret"] is None
    assert data["entityVersion"] != hook["entityVersion"]
    # The version the change was based on is stale now.
    stale = await client.patch(
        f"{base}/{hook['id']}",
        json={"description": "x", "entityVersion": hook["entityVersion"]},
        headers=owner.headers,
    )
    conflict = assert_error(stale, 409, "version_conflict")
    assert conflict["details"] == {"currentEntityVersion": data["entityVersion"]}
    stale_header = await client.patch(
        f"{base}/{hook['id']}",
        json={"description": "x"},
        headers={**owner.headers, "If-Match": hook["entityVersion"]},
    )
    assert_error(stale_header, 409, "version_conflict")

    rotated = await client.patch(
        f"{base}/{hook['id']}", json={"rotateSecret": True}, headers=owner.headers
    )
    assert rotated.status_code == 200
    rotated_data = rotated.json()["data"]
    assert rotated_data["secret"].startswith("whsec_") and rotated_data["secret"] != hook["secret"]
    assert rotated_data["previousSecretExpiresAt"] is not None

    cleared = await client.patch(
        f"{base}/{hook['id']}", json={"description": None}, headers=owner.headers
    )
    assert cleared.json()["data"]["description"] is None

    deleted = await client.delete(f"{base}/{hook['id']}", headers=owner.headers)
    assert deleted.status_code == 200 and deleted.json()["data"] == {"deleted": True}
    assert_error(await client.get(f"{base}/{hook['id']}", headers=owner.headers), 404)
    assert (await client.get(base, headers=owner.headers)).json()["data"]["rows"] == []
    assert_error(await client.delete(f"{base}/{hook['id']}", headers=owner.headers), 404)

    # Every change is on the audit trail with who made it; never the URL or the secret.
    async with get_sessionmaker()() as session:
        trail = (
            await session.scalars(
                select(Event).where(Event.type.startswith("webhook.")).order_by(Event.seq)
            )
        ).all()
    assert [(e.type, e.data.get("changed")) for e in trail] == [
        ("webhook.created", None),
        ("webhook.updated", ["url", "events", "description"]),
        ("webhook.updated", ["secret"]),
        ("webhook.updated", ["description"]),
        ("webhook.deleted", None),
    ]
    assert {(e.actor_type, e.actor_id) for e in trail} == {("user", owner.user_id)}
    assert all(e.data["webhookId"] == hook["id"] for e in trail)
    assert "whsec_" not in str([e.data for e in trail]) and "127.0.0.1" not in str(
        [e.data for e in trail]
    )


async def test_pagination(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    base = f"/accounts/{owner.account_id}/webhooks"
    for n in range(3):
        response = await client.post(
            base, json={"url": f"http://127.0.0.1:9/{n}", "events": ["*"]}, headers=owner.headers
        )
        assert response.status_code == 201
    first = (await client.get(f"{base}?limit=2", headers=owner.headers)).json()["data"]
    assert first["hasMore"] is True and len(first["rows"]) == 2
    rest = (
        await client.get(f"{base}?limit=2&cursor={first['nextCursor']}", headers=owner.headers)
    ).json()["data"]
    assert rest["hasMore"] is False and len(rest["rows"]) == 1
    assert_error(await client.get(f"{base}?cursor=%%%", headers=owner.headers), 400)


async def test_pause_and_activate_transitions(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    base = f"/accounts/{owner.account_id}/webhooks"
    hook = (
        await client.post(
            base, json={"url": "http://127.0.0.1:9/", "events": ["*"]}, headers=owner.headers
        )
    ).json()["data"]
    paused = await client.post(f"{base}/{hook['id']}/pause", headers=owner.headers)
    assert paused.status_code == 200 and paused.json()["data"]["status"] == "paused"
    again = await client.post(f"{base}/{hook['id']}/pause", headers=owner.headers)
    assert again.json()["data"]["status"] == "paused"
    active = await client.post(f"{base}/{hook['id']}/activate", headers=owner.headers)
    assert active.json()["data"]["status"] == "active"
    assert (await client.post(f"{base}/{hook['id']}/activate", headers=owner.headers)).json()[
        "data"
    ]["status"] == "active"


async def test_roles_admin_manages_agent_and_viewer_cannot(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await add_member(client, owner, "admin")
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    base = f"/accounts/{owner.account_id}/webhooks"
    created = await client.post(
        base, json={"url": "http://127.0.0.1:9/", "events": ["*"]}, headers=admin.headers
    )
    assert created.status_code == 201
    hook_id = created.json()["data"]["id"]
    for lower in (agent, viewer):
        assert_error(await client.get(base, headers=lower.headers), 403, "insufficient_role")
        assert_error(
            await client.post(
                base, json={"url": "http://127.0.0.1:9/", "events": ["*"]}, headers=lower.headers
            ),
            403,
        )
        for path in ("", "/deliveries"):
            assert_error(await client.get(f"{base}/{hook_id}{path}", headers=lower.headers), 403)
        for action in ("pause", "activate", "test"):
            assert_error(
                await client.post(f"{base}/{hook_id}/{action}", headers=lower.headers), 403
            )
        assert_error(await client.patch(f"{base}/{hook_id}", json={}, headers=lower.headers), 403)
        assert_error(await client.delete(f"{base}/{hook_id}", headers=lower.headers), 403)
    assert_error(await client.get(base), 401)


async def test_another_accounts_webhook_is_404(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    stranger = await register(client)
    mine = f"/accounts/{owner.account_id}/webhooks/{hook['id']}"
    theirs = f"/accounts/{stranger.account_id}/webhooks/{hook['id']}"
    # Their own account path with my webhook id, and my account path: both 404.
    for path in (theirs, mine):
        assert_error(await client.get(path, headers=stranger.headers), 404)
        assert_error(await client.patch(path, json={}, headers=stranger.headers), 404)
        assert_error(await client.delete(path, headers=stranger.headers), 404)
        for action in ("pause", "activate", "test"):
            assert_error(await client.post(f"{path}/{action}", headers=stranger.headers), 404)
        assert_error(await client.get(f"{path}/deliveries", headers=stranger.headers), 404)
        assert_error(
            await client.post(f"{path}/deliveries/{FOREIGN}/redeliver", headers=stranger.headers),
            404,
        )
    assert_error(
        await client.get(f"/accounts/{owner.account_id}/webhooks/{FOREIGN}", headers=owner.headers),
        404,
    )
    assert_error(await client.get(f"{mine}/deliveries/{FOREIGN}", headers=owner.headers), 404)
    # The webhook is untouched.
    assert (await client.get(mine, headers=owner.headers)).json()["data"]["status"] == "active"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"url": "ftp://example.com/x", "events": ["*"]}, "url"),
        ({"url": "http://user:pw@127.0.0.1/x", "events": ["*"]}, "url"),
        ({"url": "not a url", "events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1/x", "events": []}, "events"),
        ({"url": "http://127.0.0.1/x", "events": ["Order.Created"]}, "events"),
        ({"url": "http://127.0.0.1/x", "events": ["wa.*.sent"]}, "events"),
        ({"url": "http://127.0.0.1/x", "events": ["*"], "extra": 1}, "extra"),
        ({"events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1/x", "events": ["*"], "description": "d" * 501}, "description"),
    ],
)
async def test_invalid_bodies_are_422(
    client: httpx.AsyncClient, body: dict[str, object], path: str
) -> None:
    owner = await register(client)
    error = assert_error(
        await client.post(
            f"/accounts/{owner.account_id}/webhooks", json=body, headers=owner.headers
        ),
        422,
    )
    assert any(path in field["path"] for field in error["details"]["fields"]), error


async def test_malformed_ids_and_bodies(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    base = f"/accounts/{owner.account_id}/webhooks"
    assert_error(await client.get(f"{base}/not-a-uuid", headers=owner.headers), 422)
    assert_error(
        await client.post(
            base, content=b"{nope", headers={**owner.headers, "content-type": "application/json"}
        ),
        400,
        "invalid_json",
    )
    hook = (
        await client.post(
            base, json={"url": "http://127.0.0.1:9/", "events": ["*"]}, headers=owner.headers
        )
    ).json()["data"]
    assert_error(
        await client.patch(f"{base}/{hook['id']}", json={"events": []}, headers=owner.headers), 422
    )
    assert_error(
        await client.patch(
            f"{base}/{hook['id']}", json={"url": "gopher://x"}, headers=owner.headers
        ),
        422,
        "unsafe_webhook_url",
    )
    assert_error(
        await client.get(f"{base}/{hook['id']}/deliveries?status=lost", headers=owner.headers), 422
    )


async def test_private_targets_refused_when_not_allowed(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings().webhooks, "allow_private_targets", False)
    owner = await register(client)
    base = f"/accounts/{owner.account_id}/webhooks"
    for url in (
        "http://127.0.0.1:8080/in",
        "http://localhost/in",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/in",
        "http://[::1]/in",
    ):
        error = assert_error(
            await client.post(base, json={"url": url, "events": ["*"]}, headers=owner.headers),
            422,
            "unsafe_webhook_url",
        )
        assert error["details"]["fields"][0]["path"] == "url"
