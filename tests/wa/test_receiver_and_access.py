"""The provider-event receiver's edge cases, sharing, and tenancy on every /wa path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from tests.helpers import add_member, assert_error, register
from tests.wa.helpers import (
    CUSTOMER_JID,
    create_session,
    headers,
    inject,
    messages,
    share_and_accept,
)

SECRET_HEADER = "X-Ticaret-Webhook-Secret"


async def _inbox() -> list[Any]:
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import InboxItem

    async with get_sessionmaker()() as session:
        return list(
            (
                await session.scalars(
                    select(InboxItem)
                    .where(InboxItem.source == "wa")
                    .order_by(InboxItem.received_at)
                )
            ).all()
        )


async def test_malformed_events_are_stored_failed_never_lost(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    created = await create_session(client, owner)
    psid, secret = created["providerSessionId"], created["webhookSecret"]
    url = f"/wa/provider-events/{psid}"
    auth = {SECRET_HEADER: secret}

    not_json = await client.post(url, content=b"<xml>nope</xml>", headers=auth)
    assert not_json.status_code == 200, not_json.text
    nul = await client.post(url, content=b'{"event": "message", "x": "\\u0000"}', headers=auth)
    assert nul.status_code == 200
    # A known event without what it needs (no message id), an unknown event type, an array.
    broken = {"id": "evt_broken", "event": "message", "session": psid, "payload": {"body": "hi"}}
    assert (await client.post(url, json=broken, headers=auth)).status_code == 200
    unknown = {"id": "evt_unknown", "event": "presence.update", "session": psid, "payload": {}}
    assert (await client.post(url, json=unknown, headers=auth)).status_code == 200
    assert (await client.post(url, json=[1, 2, 3], headers=auth)).status_code == 200
    # Parses fine but cannot be stored (a chat id longer than any JID): the job fails cleanly.
    from ticaret.wa.gateways.sandbox import inbound_message_payload

    too_long = inbound_message_payload(psid, from_phone_or_jid="9" * 200 + "@c.us", text="x")
    assert (await client.post(url, json=too_long, headers=auth)).status_code == 200
    await run_jobs()

    rows = {(r.event_type, r.status) for r in await _inbox()}
    assert (None, "failed") in rows  # not JSON, NUL, and the array (no event name)
    assert ("message", "failed") in rows
    assert ("presence.update", "ignored") in rows
    array = next(r for r in await _inbox() if r.payload == [1, 2, 3])
    assert array.status == "failed" and array.error
    by_status = [r for r in await _inbox() if r.raw_body]
    assert {r.raw_body for r in by_status} >= {"<xml>nope</xml>"}
    failed = [r for r in await _inbox() if r.event_type == "message"]
    assert {r.status for r in failed} == {"failed"}
    assert broken in [r.payload for r in failed]
    db_error = next(r for r in failed if r.payload == too_long)
    assert db_error.error and "value too long" in db_error.error
    assert "INSERT" not in db_error.error
    assert db_error.attempts == 1

    # Nothing reached the chats.
    chats = await client.get(
        "/wa/chats", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert chats.json()["data"]["rows"] == []

    unknown_session = await client.post("/wa/provider-events/nope-123", json=broken, headers=auth)
    assert_error(unknown_session, 401, "invalid_signature")
    no_secret = await client.post(url, json=broken)
    assert_error(no_secret, 401)


async def test_same_event_twice_changes_nothing(client: httpx.AsyncClient, run_jobs: Any) -> None:
    owner = await register(client)
    created = await create_session(client, owner)
    psid, secret = created["providerSessionId"], created["webhookSecret"]
    from ticaret.wa.gateways.sandbox import inbound_message_payload

    body = inbound_message_payload(
        psid, from_phone_or_jid="905551112233", text="Tekrar", push_name="Ali"
    )
    for _ in range(2):
        response = await client.post(
            f"/wa/provider-events/{psid}", json=body, headers={SECRET_HEADER: secret}
        )
        assert response.status_code == 200
    # The same message under a new envelope id (a gateway retry) is a second inbox row...
    retry = {**body, "id": "evt_retry_same_message"}
    await client.post(f"/wa/provider-events/{psid}", json=retry, headers={SECRET_HEADER: secret})
    await run_jobs()
    assert len(await _inbox()) == 2
    # ...but the message, the unread count and the events are still those of one message.
    page = await messages(client, owner, psid)
    assert len(page["rows"]) == 1
    chat = await client.get(
        f"/wa/chats/{CUSTOMER_JID}", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert chat.json()["data"]["unreadCount"] == 1

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event

    async with get_sessionmaker()() as session:
        received = (
            await session.scalars(select(Event).where(Event.type == "wa.message.received"))
        ).all()
    assert len(received) == 1


async def test_stuck_inbox_rows_are_swept(client: httpx.AsyncClient, run_jobs: Any) -> None:
    from ticaret.core.db import get_sessionmaker
    from ticaret.core.inbox import sweep_inbox
    from ticaret.core.queue import get_redis
    from ticaret.models import InboxItem

    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid)
    # The processing job is lost (Redis flushed) and the row waits in `received`.
    await get_redis().flushdb()
    async with get_sessionmaker()() as session:
        await session.execute(
            update(InboxItem).values(received_at=datetime.now(UTC) - timedelta(minutes=5))
        )
        await session.commit()
    assert await sweep_inbox() == 1
    await run_jobs()
    assert [r.status for r in await _inbox()] == ["processed"]
    assert len((await messages(client, owner, psid))["rows"]) == 1
    assert await sweep_inbox() == 0


async def test_sharing_gives_and_takes_access(client: httpx.AsyncClient, run_jobs: Any) -> None:
    owner = await register(client)
    partner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid)
    await run_jobs()

    assert_error(
        await client.get("/wa/chats", params={"providerSessionId": psid}, headers=headers(partner)),
        404,
    )
    base = f"/accounts/{owner.account_id}/wa-sessions/{psid}"
    await share_and_accept(client, owner, partner, psid)
    to_self = await client.post(
        f"{base}/shares", json={"accountId": owner.account_id}, headers=owner.headers
    )
    assert_error(to_self, 400, "share_with_self")

    listed = await client.get(
        f"/accounts/{partner.account_id}/wa-sessions", headers=partner.headers
    )
    [row] = listed.json()["data"]["rows"]
    assert row["access"] == "shared" and row["sharedWith"] == []
    owner_view = await client.get(base, headers=owner.headers)
    assert owner_view.json()["data"]["sharedWith"] == [partner.account_id]

    # The partner sees the same conversation, labels its own way, and can answer.
    assert len((await messages(client, partner, psid))["rows"]) == 1
    label = await client.post(
        "/wa/labels", json={"name": "Partner", "color": "#123456"}, headers=headers(partner)
    )
    await client.post(
        f"/wa/chats/{CUSTOMER_JID}/labels",
        json={"labelId": label.json()["data"]["id"], "providerSessionId": psid},
        headers=headers(partner),
    )
    own_chat = await client.get(
        f"/wa/chats/{CUSTOMER_JID}", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert own_chat.json()["data"]["labels"] == []
    foreign_label = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/labels",
        json={"labelId": label.json()["data"]["id"], "providerSessionId": psid},
        headers=headers(owner),
    )
    assert_error(foreign_label, 404, "label_not_found")

    # Only the owner manages the session; the partner can only drop its own access.
    partner_base = f"/accounts/{partner.account_id}/wa-sessions/{psid}"
    assert_error(
        await client.post(f"{partner_base}/logout", headers=partner.headers),
        403,
        "not_session_owner",
    )
    assert_error(
        await client.post(
            f"{partner_base}/shares", json={"accountId": owner.account_id}, headers=partner.headers
        ),
        403,
    )
    dropped = await client.delete(partner_base, headers=partner.headers)
    assert dropped.json()["data"] == {"removed": True, "scope": "share"}
    assert_error(
        await client.get("/wa/chats", params={"providerSessionId": psid}, headers=headers(partner)),
        404,
    )
    assert (await client.get(base, headers=owner.headers)).status_code == 200

    await share_and_accept(client, owner, partner, psid)
    unshared = await client.delete(f"{base}/shares/{partner.account_id}", headers=owner.headers)
    assert unshared.status_code == 200
    assert_error(
        await client.delete(f"{base}/shares/{partner.account_id}", headers=owner.headers), 404
    )
    assert_error(await client.get(partner_base, headers=partner.headers), 404)


async def test_foreign_session_is_404_on_every_wa_path(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    stranger = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    injected = await inject(client, owner, psid, with_media=True)
    await run_jobs()
    message_id = injected["messageId"]
    label = await client.post(
        "/wa/labels", json={"name": "L", "color": "#000000"}, headers=headers(owner)
    )
    label_id = label.json()["data"]["id"]
    chat = f"/wa/chats/{CUSTOMER_JID}"
    q = {"providerSessionId": psid}
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/wa/chats", None),
        ("GET", chat, None),
        ("GET", "/wa/contacts", None),
        ("GET", f"/wa/contacts/{CUSTOMER_JID}", None),
        ("GET", f"{chat}/messages", None),
        ("POST", f"{chat}/messages", {"action": "send_text", "text": "x"}),
        ("POST", f"{chat}/read", {}),
        ("GET", f"{chat}/messages/{message_id}/media", None),
        ("GET", f"{chat}/labels", None),
        ("POST", f"{chat}/labels", {"labelId": label_id}),
        ("PUT", f"{chat}/labels", {"labelIds": [label_id]}),
        ("DELETE", f"{chat}/labels/{label_id}", None),
        ("GET", f"{chat}/messages/{message_id}/labels", None),
        ("POST", f"{chat}/messages/{message_id}/labels", {"labelId": label_id}),
        ("PUT", f"{chat}/messages/{message_id}/labels", {"labelIds": [label_id]}),
        ("DELETE", f"{chat}/messages/{message_id}/labels/{label_id}", None),
        ("GET", "/wa/labels", None),
        ("GET", "/wa/labels/history", None),
        ("POST", f"/wa/sandbox/{psid}/inbound", {"from": "905550000000", "text": "x"}),
        ("GET", f"/accounts/{stranger.account_id}/wa-sessions/{psid}", None),
        ("GET", f"/accounts/{stranger.account_id}/wa-sessions/{psid}/qr", None),
        ("POST", f"/accounts/{stranger.account_id}/wa-sessions/{psid}/logout", None),
        ("DELETE", f"/accounts/{stranger.account_id}/wa-sessions/{psid}", None),
        ("GET", f"/accounts/{owner.account_id}/wa-sessions", None),
    ]
    for method, path, body in calls:
        response = await client.request(
            method, path, params=q, json=body, headers=headers(stranger)
        )
        assert_error(response, 404)
    # Body-only session naming is checked the same way.
    body_named = await client.post(
        f"{chat}/messages",
        json={"action": "send_text", "text": "x", "providerSessionId": psid},
        headers=headers(stranger),
    )
    assert_error(body_named, 404, "session_not_found")
    # Another account's label is not found either, even on one's own session.
    other_psid = (await create_session(client, stranger))["providerSessionId"]
    assert_error(
        await client.patch(f"/wa/labels/{label_id}", json={"name": "x"}, headers=headers(stranger)),
        404,
    )
    assert_error(await client.delete(f"/wa/labels/{label_id}", headers=headers(stranger)), 404)
    assert other_psid != psid


async def test_sandbox_media_streams_with_range(client: httpx.AsyncClient, run_jobs: Any) -> None:
    from ticaret.wa.gateways.sandbox import SAMPLE_PNG

    owner = await register(client)
    viewer = await add_member(client, owner, "viewer")
    psid = (await create_session(client, owner))["providerSessionId"]
    injected = await inject(client, owner, psid, text="Bu model", with_media=True)
    text_only = await inject(client, owner, psid, text="yazı")
    await run_jobs()
    url = f"/wa/chats/{CUSTOMER_JID}/messages/{injected['messageId']}/media"
    full = await client.get(url, params={"providerSessionId": psid}, headers=headers(viewer))
    assert full.status_code == 200, full.text
    assert full.headers["content-type"] == "image/png"
    assert full.content == SAMPLE_PNG and full.content.startswith(b"\x89PNG")
    part = await client.get(
        url, params={"providerSessionId": psid}, headers={**headers(viewer), "Range": "bytes=0-7"}
    )
    assert part.status_code == 206
    assert part.content == SAMPLE_PNG[:8]
    assert part.headers["content-range"] == f"bytes 0-7/{len(SAMPLE_PNG)}"
    no_media = await client.get(
        f"/wa/chats/{CUSTOMER_JID}/messages/{text_only['messageId']}/media",
        params={"providerSessionId": psid},
        headers=headers(viewer),
    )
    assert_error(no_media, 404, "media_not_found")


async def test_sessions_list_detail_and_pairing(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    agent = await add_member(client, owner, "agent")
    first = await create_session(client, owner)
    second = await create_session(client, owner)
    listed = await client.get(
        f"/accounts/{owner.account_id}/wa-sessions", params={"limit": 1}, headers=agent.headers
    )
    assert listed.status_code == 200
    assert listed.json()["data"]["hasMore"] is True
    rest = await client.get(
        f"/accounts/{owner.account_id}/wa-sessions",
        params={"cursor": listed.json()["data"]["nextCursor"]},
        headers=agent.headers,
    )
    ids = [listed.json()["data"]["rows"][0]["id"], rest.json()["data"]["rows"][0]["id"]]
    assert set(ids) == {first["id"], second["id"]}
    assert all("webhookSecret" not in row for row in rest.json()["data"]["rows"])
    qr = await client.get(
        f"/accounts/{owner.account_id}/wa-sessions/{first['providerSessionId']}/qr",
        headers=owner.headers,
    )
    assert qr.json()["data"]["connected"] is True
    assert_error(
        await client.get(
            f"/accounts/{owner.account_id}/wa-sessions/{first['providerSessionId']}/qr",
            headers=agent.headers,
        ),
        403,
    )
    # Two sessions: a /wa call must say which one.
    assert_error(
        await client.get("/wa/chats", headers=headers(owner)), 400, "provider_session_required"
    )
    named = await client.get(
        "/wa/chats",
        params={"providerSessionId": second["providerSessionId"]},
        headers=headers(owner),
    )
    assert named.status_code == 200
    stored = json.dumps(listed.json())
    assert "api_key" not in stored and first["webhookSecret"] not in stored


async def test_sandbox_route_is_off_when_the_sandbox_is(client: httpx.AsyncClient) -> None:
    from ticaret.settings import get_settings

    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    settings = get_settings()
    settings.wa.sandbox_enabled = False
    try:
        response = await client.post(
            f"/wa/sandbox/{psid}/inbound",
            json={"from": "905551112233", "text": "x"},
            headers=headers(owner),
        )
        assert_error(response, 404)
        create = await client.post(
            f"/accounts/{owner.account_id}/wa-sessions",
            json={"name": "x", "provider": "sandbox"},
            headers=owner.headers,
        )
        assert_error(create, 400, "sandbox_disabled")
    finally:
        settings.wa.sandbox_enabled = None


async def test_lost_operations_and_old_idempotency_keys_are_swept(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from ticaret.core.db import get_sessionmaker
    from ticaret.core.idempotency import purge_expired
    from ticaret.core.queue import get_redis
    from ticaret.models import IdempotencyKey, WaMessageOperation
    from ticaret.wa.tasks import sweep_wa_operations

    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid)
    await run_jobs()
    sent = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        json={"action": "send_text", "text": "kayıp iş", "providerSessionId": psid},
        headers={**headers(owner), "Idempotency-Key": "k-1"},
    )
    assert sent.status_code == 202
    # The job is lost: the row says `queued` since long ago. (One stuck in `sending` is
    # reconciled, never re-sent blind: tests/wa/test_stuck_operations.py.)
    await get_redis().flushdb()
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    async with get_sessionmaker()() as session:
        await session.execute(
            update(WaMessageOperation).values(status="queued", updated_at=long_ago)
        )
        await session.execute(
            update(IdempotencyKey).values(created_at=long_ago - timedelta(days=1))
        )
        await session.commit()
    assert await sweep_wa_operations() == 1
    await run_jobs()
    async with get_sessionmaker()() as session:
        [operation] = (await session.scalars(select(WaMessageOperation))).all()
        assert operation.status == "sent"
        assert operation.attempts == 1  # the lost job never ran; the sweeper's did
        assert await purge_expired(session) == 1
        await session.commit()
    assert await sweep_wa_operations() == 0
    page = await messages(client, owner, psid)
    assert page["rows"][0]["status"] == 3


async def test_nul_characters_are_a_400_not_a_500(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    q = {"providerSessionId": psid}
    h = headers(owner)
    calls: list[tuple[str, str, dict[str, Any], Any]] = [
        ("GET", "/wa/chats/abc%00def/messages", q, None),
        ("GET", "/wa/contacts/a%00b", q, None),
        ("GET", "/wa/chats", {**q, "q": "a\u0000b"}, None),
        ("GET", "/wa/chats", {"providerSessionId": "a\u0000b"}, None),
        (
            "POST",
            f"/wa/chats/{CUSTOMER_JID}/messages",
            q,
            {"action": "send_text", "text": "a\u0000b"},
        ),
        ("POST", "/wa/labels", q, {"name": "a\u0000b", "color": "#000000"}),
    ]
    for method, path, params, body in calls:
        response = await client.request(method, path, params=params, json=body, headers=h)
        assert_error(response, 400, "invalid_characters")


async def test_oversized_events_are_refused(client: httpx.AsyncClient) -> None:
    from ticaret.settings import get_settings

    owner = await register(client)
    created = await create_session(client, owner)
    url = f"/wa/provider-events/{created['providerSessionId']}"
    auth = {SECRET_HEADER: created["webhookSecret"]}
    settings = get_settings()
    settings.wa.max_event_bytes = 1000
    try:
        too_big = await client.post(url, json={"event": "message", "pad": "x" * 2000}, headers=auth)
        assert_error(too_big, 413)
        fits = await client.post(
            url, json={"event": "presence.update", "payload": {}}, headers=auth
        )
        assert fits.status_code == 200
    finally:
        settings.wa.max_event_bytes = 5 * 1024 * 1024
    assert len(await _inbox()) == 1


async def test_deeply_nested_bodies_are_stored_failed_not_lost(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    created = await create_session(client, owner)
    url = f"/wa/provider-events/{created['providerSessionId']}"
    auth = {SECRET_HEADER: created["webhookSecret"]}
    # Deeper than Python's JSON parser recurses, and deep enough to parse but not to keep.
    too_deep = b'{"event": "message", "payload": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    deep = b'{"event": "message", "payload": ' + b"[" * 200 + b"]" * 200 + b"}"
    for body in (too_deep, deep):
        response = await client.post(url, content=body, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["duplicate"] is False
    await run_jobs()
    rows = await _inbox()
    assert [r.status for r in rows] == ["failed", "failed"]
    assert {r.raw_body for r in rows} == {too_deep.decode(), deep.decode()}
    assert "too deeply" in rows[0].error and "deeper than 64 levels" in rows[1].error
    assert all(r.payload is None for r in rows)


async def test_the_receiver_answers_alike_for_an_unknown_session_and_a_wrong_secret(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    created = await create_session(client, owner)
    body = {"id": "evt_probe", "event": "message", "payload": {}}
    wrong_secret = await client.post(
        f"/wa/provider-events/{created['providerSessionId']}",
        json=body,
        headers={SECRET_HEADER: "guess"},
    )
    unknown = await client.post(
        "/wa/provider-events/no-such-session-1234", json=body, headers={SECRET_HEADER: "guess"}
    )
    # A prober learns nothing about which session ids exist.
    assert wrong_secret.status_code == unknown.status_code == 401
    assert wrong_secret.json() == unknown.json()
    assert_error(unknown, 401, "invalid_signature")
    assert await _inbox() == []


async def test_a_deleted_session_is_refused_at_once_though_its_secret_was_just_accepted(
    client: httpx.AsyncClient,
) -> None:
    # The receiver keeps a session's secret in memory for a few seconds; deleting the session
    # must not wait for that.
    owner = await register(client)
    created = await create_session(client, owner)
    psid, secret = created["providerSessionId"], created["webhookSecret"]
    url = f"/wa/provider-events/{psid}"
    accepted = await client.post(
        url,
        json={"id": "evt_before", "event": "message", "payload": {}},
        headers={SECRET_HEADER: secret},
    )
    assert accepted.status_code == 200, accepted.text
    removed = await client.delete(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
    )
    assert removed.status_code == 200, removed.text
    refused = await client.post(
        url,
        json={"id": "evt_after", "event": "message", "payload": {}},
        headers={SECRET_HEADER: secret},
    )
    assert_error(refused, 401, "invalid_signature")
    assert [row.external_id for row in await _inbox()] == ["waha:evt_before"]


async def test_a_known_session_s_events_are_answered_and_stored_alike_on_every_call(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    # The first call reads the session; later ones find its secret in memory and skip the
    # routing machinery. Both must answer, store and refuse exactly alike.
    owner = await register(client)
    created = await create_session(client, owner)
    psid, secret = created["providerSessionId"], created["webhookSecret"]
    from ticaret.wa.gateways.sandbox import inbound_message_payload

    url = f"/wa/provider-events/{psid}"
    first_body = inbound_message_payload(
        psid, from_phone_or_jid="905551112233", text="İlk mesaj", push_name="Ali"
    )
    second_body = inbound_message_payload(
        psid, from_phone_or_jid="905551112233", text="İkinci mesaj", push_name="Ali"
    )
    first = await client.post(url, json=first_body, headers={SECRET_HEADER: secret})
    second = await client.post(url, json=second_body, headers={SECRET_HEADER: secret})
    again = await client.post(url, json=second_body, headers={SECRET_HEADER: secret})
    wrong = await client.post(url, json=second_body, headers={SECRET_HEADER: secret + "x"})
    for response in (first, second, again):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
    assert (
        first.json()["data"].keys()
        == second.json()["data"].keys()
        == {
            "received",
            "duplicate",
            "eventId",
        }
    )
    assert second.json()["data"]["duplicate"] is False
    assert again.json()["data"] == {"received": True, "duplicate": True, "eventId": None}
    assert_error(wrong, 401, "invalid_signature")
    unreadable = await client.post(
        url, content=b"not json", headers={SECRET_HEADER: secret, "content-type": "text/plain"}
    )
    assert unreadable.status_code == 200, unreadable.text
    await run_jobs()
    rows = await _inbox()
    assert sorted(r.status for r in rows) == ["failed", "processed", "processed"]
    page = await messages(client, owner, psid)
    assert sorted(m["text"] for m in page["rows"]) == ["İkinci mesaj", "İlk mesaj"]
