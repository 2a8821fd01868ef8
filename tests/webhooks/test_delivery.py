"""Deliveries end to end: outbox -> fan-out job -> signed POST to a real receiver -> history.

The receiver checks every signature with the `standardwebhooks` package. Retries are scheduled
by the real worker with the schedule shrunk to milliseconds (`fast_retries`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update

from tests.helpers import assert_error, register
from tests.webhooks.helpers import Receiver, create_webhook, deliveries, make_event
from ticaret.core.db import get_sessionmaker
from ticaret.core.events import sweep_outbox
from ticaret.core.queue import get_redis
from ticaret.models import Event, Webhook, WebhookDelivery
from ticaret.settings import get_settings
from ticaret.webhooks.retry_schedule import MAX_ATTEMPTS
from ticaret.webhooks.tasks import sweep_webhook_deliveries


async def event_ids(account_id: str, type_: str) -> list[str]:
    async with get_sessionmaker()() as session:
        rows = await session.scalars(
            select(Event.id)
            .where(Event.account_id == account_id, Event.type == type_)
            .order_by(Event.seq)
        )
        return list(rows)


@pytest.mark.usefixtures("fast_retries")
async def test_failed_attempts_are_retried_until_the_receiver_accepts(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    receiver.fail_first = 2
    await make_event(client, owner, "erp")
    await run_jobs()

    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert all(r.verified for r in receiver.requests)
    (event_id,) = await event_ids(owner.account_id, "api_account.created")
    # The same message id and body on every attempt, so receivers can dedupe.
    assert {r.headers["webhook-id"] for r in receiver.requests} == {event_id}
    assert len({r.body for r in receiver.requests}) == 1
    event = receiver.requests[-1].event
    assert event["id"] == event_id and event["type"] == "api_account.created"
    assert event["accountId"] == owner.account_id
    assert event["actor"] == {"type": "user", "id": owner.user_id}
    assert event["data"]["name"] == "erp"
    assert receiver.requests[0].headers["content-type"] == "application/json"

    (delivery,) = await deliveries(client, owner, hook["id"])
    assert delivery["status"] == "succeeded" and delivery["attemptCount"] == 3
    assert delivery["eventId"] == event_id and delivery["eventType"] == "api_account.created"
    assert delivery["lastStatusCode"] == 200 and delivery["completedAt"] is not None
    attempts = delivery["attempts"]
    assert [a["attemptNumber"] for a in attempts] == [1, 2, 3]
    assert [a["responseStatus"] for a in attempts] == [500, 500, 200]
    assert [a["trigger"] for a in attempts] == ["scheduled"] * 3
    assert attempts[0]["nextAttemptAt"] is not None and attempts[2]["nextAttemptAt"] is None
    assert attempts[0]["responseBodyExcerpt"] == '{"ok": false, "n": 1}'
    assert all(a["durationMs"] >= 0 and a["error"] is None for a in attempts)
    sent = attempts[0]["requestHeaders"]
    assert sent["webhook-id"] == event_id and sent["webhook-signature"].startswith("v1,")
    # The signing secret never appears in the history.
    assert hook["secret"] not in str(delivery)
    assert hook["secret"].removeprefix("whsec_") not in str(delivery)

    assert await deliveries(client, owner, hook["id"], "?status=failed") == []
    assert len(await deliveries(client, owner, hook["id"], "?status=succeeded")) == 1
    assert len(await deliveries(client, owner, hook["id"], "?eventType=api_account.created")) == 1
    assert await deliveries(client, owner, hook["id"], "?eventType=order.created") == []
    assert len(await deliveries(client, owner, hook["id"], f"?eventId={event_id}")) == 1
    detail = await client.get(
        f"/accounts/{owner.account_id}/webhooks/{hook['id']}/deliveries/{delivery['id']}",
        headers=owner.headers,
    )
    assert detail.json()["data"]["attempts"] == attempts


@pytest.mark.usefixtures("fast_retries")
async def test_retries_stop_after_the_last_attempt(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    receiver.status = 503
    await make_event(client, owner)
    await run_jobs()
    assert len(receiver.requests) == MAX_ATTEMPTS
    (delivery,) = await deliveries(client, owner, hook["id"])
    assert delivery["status"] == "failed" and delivery["attemptCount"] == MAX_ATTEMPTS
    assert delivery["nextAttemptAt"] is None and delivery["lastStatusCode"] == 503
    detail = (
        await client.get(
            f"/accounts/{owner.account_id}/webhooks/{hook['id']}", headers=owner.headers
        )
    ).json()["data"]
    # Failing for minutes is not five days: still active, but its failure run is visible.
    assert detail["status"] == "active" and detail["failingSince"] is not None


async def test_only_subscribed_events_and_own_account(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    other = await register(client)
    hook = await create_webhook(client, owner, receiver, events=["wa.*"])
    wildcard = await create_webhook(client, owner, receiver, events=["*"])
    await make_event(client, owner)  # api_account.created: only the "*" webhook
    await make_event(client, other)  # another account: nobody here
    await run_jobs()
    assert len(receiver.requests) == 1
    assert receiver.requests[0].event["accountId"] == owner.account_id
    assert await deliveries(client, owner, hook["id"]) == []
    assert len(await deliveries(client, owner, wildcard["id"])) == 1


async def test_pause_holds_and_activate_sends_everything_in_order(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    base = f"/accounts/{owner.account_id}/webhooks/{hook['id']}"
    assert (await client.post(f"{base}/pause", headers=owner.headers)).status_code == 200
    for n in range(5):
        await make_event(client, owner, f"held-{n}")
    await run_jobs()
    assert receiver.requests == []
    held = await deliveries(client, owner, hook["id"])
    assert len(held) == 5 and {d["status"] for d in held} == {"held"}
    assert_error(
        await client.post(f"{base}/deliveries/{held[0]['id']}/redeliver", headers=owner.headers),
        409,
        "delivery_held",
    )

    # Redis forgets every queued job while paused (a restart without persistence).
    await get_redis().flushdb()
    assert (await client.post(f"{base}/activate", headers=owner.headers)).status_code == 200
    await run_jobs()
    names = [r.event["data"]["name"] for r in receiver.requests]
    assert names == [f"held-{n}" for n in range(5)]
    assert all(r.verified for r in receiver.requests)
    sent = await deliveries(client, owner, hook["id"])
    assert {d["status"] for d in sent} == {"succeeded"}
    assert {d["attempts"][0]["trigger"] for d in sent} == {"release"}


async def test_a_retry_that_comes_due_while_paused_is_held(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    base = f"/accounts/{owner.account_id}/webhooks/{hook['id']}"
    receiver.fail_first = 1
    monkeypatch.setattr(get_settings().webhooks, "retry_delay_scale", 0.0)
    await client.post(f"{base}/pause", headers=owner.headers)
    await client.post(f"{base}/activate", headers=owner.headers)
    await make_event(client, owner)
    # The fan-out's first attempt fails; pause before the retry runs.
    from ticaret.webhooks.tasks import fan_out_event

    (event_id,) = await event_ids(owner.account_id, "api_account.created")
    await get_redis().flushdb()
    await fan_out_event({}, event_id)
    (delivery,) = await deliveries(client, owner, hook["id"])
    assert delivery["status"] == "retrying" and delivery["attemptCount"] == 1
    await client.post(f"{base}/pause", headers=owner.headers)
    await run_jobs()
    (delivery,) = await deliveries(client, owner, hook["id"])
    assert delivery["status"] == "held" and delivery["attemptCount"] == 1
    await client.post(f"{base}/activate", headers=owner.headers)
    await run_jobs()
    (delivery,) = await deliveries(client, owner, hook["id"])
    assert delivery["status"] == "succeeded" and delivery["attemptCount"] == 2
    assert [r.status for r in receiver.requests] == [500, 200]


@pytest.mark.usefixtures("no_sweep_grace")
async def test_sweeper_recovers_jobs_redis_lost(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    await make_event(client, owner, "first")
    # The event was relayed (fan-out job queued), then Redis lost the queue.
    await get_redis().flushdb()
    await run_jobs()
    assert receiver.requests == []
    # Both lost fan-outs: webhook.created (delivers nothing) and api_account.created.
    assert await sweep_webhook_deliveries() == 2
    await run_jobs()
    assert [r.event["data"]["name"] for r in receiver.requests] == ["first"]

    # A retry whose job was lost: the delivery row is overdue and nothing is queued for it.
    receiver.fail_first = len(receiver.requests) + 1
    await make_event(client, owner, "second")
    from ticaret.webhooks.tasks import fan_out_event

    (_, second_id) = await event_ids(owner.account_id, "api_account.created")
    await get_redis().flushdb()
    await fan_out_event({}, second_id)  # first attempt: 500, retry queued
    await get_redis().flushdb()
    async with get_sessionmaker()() as session:
        await session.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 minute'")
        )
        await session.commit()
    assert await sweep_webhook_deliveries() == 1
    await run_jobs()
    assert [r.event["data"]["name"] for r in receiver.requests] == ["first", "second", "second"]
    assert [r.status for r in receiver.requests] == [200, 500, 200]
    # Nothing left to recover, and nothing was sent twice.
    assert await sweep_webhook_deliveries() == 0
    assert {d["status"] for d in await deliveries(client, owner, hook["id"])} == {"succeeded"}
    # Unrelayed events go through the outbox sweeper first, then fan out as usual.
    assert await sweep_outbox() == 0


async def test_gone_disables_the_webhook_and_emits_webhook_disabled(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    watcher = await create_webhook(client, owner, receiver, events=["webhook.*"])
    receiver.status = 410
    await make_event(client, owner)
    await run_jobs()
    base = f"/accounts/{owner.account_id}/webhooks/{hook['id']}"
    detail = (await client.get(base, headers=owner.headers)).json()["data"]
    assert detail["status"] == "disabled" and "410" in detail["disabledReason"]
    (delivery,) = await deliveries(client, owner, hook["id"])
    assert delivery["status"] == "failed" and delivery["attemptCount"] == 1
    # The other webhook hears about it (and answers 410 too, so it is disabled in turn).
    disabled_event, _watcher_disabled = await event_ids(owner.account_id, "webhook.disabled")
    (told,) = await deliveries(client, owner, watcher["id"])
    assert told["eventId"] == disabled_event
    notice = next(r.event for r in receiver.requests if r.event["type"] == "webhook.disabled")
    assert notice["data"]["webhookId"] == hook["id"] and notice["actor"]["type"] == "system"

    # Disabled: no new deliveries, no test, no redelivery, no pause; activate brings it back.
    assert_error(await client.post(f"{base}/test", headers=owner.headers), 409, "webhook_disabled")
    assert_error(await client.post(f"{base}/pause", headers=owner.headers), 409, "webhook_disabled")
    assert_error(
        await client.post(f"{base}/deliveries/{delivery['id']}/redeliver", headers=owner.headers),
        409,
        "webhook_disabled",
    )
    receiver.status = 200
    activated = (await client.post(f"{base}/activate", headers=owner.headers)).json()["data"]
    assert activated["status"] == "active" and activated["disabledReason"] is None


@pytest.mark.usefixtures("no_sweep_grace")
async def test_five_days_of_failures_disable_the_webhook(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    async with get_sessionmaker()() as session:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == hook["id"])
            .values(first_failure_at=datetime.now(UTC) - timedelta(days=5, minutes=1))
        )
        await session.commit()
    receiver.status = 500
    await make_event(client, owner)
    await run_jobs()
    detail = (
        await client.get(
            f"/accounts/{owner.account_id}/webhooks/{hook['id']}", headers=owner.headers
        )
    ).json()["data"]
    assert detail["status"] == "disabled" and "5 days" in detail["disabledReason"]
    assert len(await event_ids(owner.account_id, "webhook.disabled")) == 1
    # The retry that was scheduled finds the webhook disabled and closes the delivery.
    async with get_sessionmaker()() as session:
        await session.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 hour'")
        )
        await session.commit()
    await sweep_webhook_deliveries()
    await run_jobs()
    (delivery,) = await deliveries(client, owner, hook["id"])
    assert delivery["status"] == "failed" and delivery["lastError"] == "the webhook is disabled"
    assert len(receiver.requests) == 1


async def test_test_event_and_redelivery(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver, events=["wa.message.received"])
    other = await create_webhook(client, owner, receiver, events=["*"])
    base = f"/accounts/{owner.account_id}/webhooks/{hook['id']}"
    response = await client.post(f"{base}/test", headers=owner.headers)
    assert response.status_code == 202, response.text
    queued = response.json()["data"]
    assert queued["status"] == "pending" and queued["eventType"] == "webhook.test"
    await run_jobs()
    # Only the webhook it was sent from receives it, whatever the others subscribe to.
    assert len(receiver.requests) == 1
    assert receiver.requests[0].event["type"] == "webhook.test"
    assert receiver.requests[0].event["data"]["webhookId"] == hook["id"]
    assert await deliveries(client, owner, other["id"]) == []
    (delivery,) = await deliveries(client, owner, hook["id"])
    assert delivery["id"] == queued["id"] and delivery["status"] == "succeeded"

    again = await client.post(
        f"{base}/deliveries/{delivery['id']}/redeliver", headers=owner.headers
    )
    assert again.status_code == 202 and again.json()["data"]["status"] == "pending"
    await run_jobs()
    (delivery,) = await deliveries(client, owner, hook["id"])
    assert delivery["status"] == "succeeded" and delivery["attemptCount"] == 2
    assert [a["trigger"] for a in delivery["attempts"]] == ["scheduled", "redelivery"]
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert_error(
        await client.post(
            f"{base}/deliveries/0190f3a4-0000-7000-8000-000000000000/redeliver",
            headers=owner.headers,
        ),
        404,
    )
    # A delivery of another webhook is not found under this one.
    await make_event(client, owner)
    await run_jobs()
    (foreign,) = await deliveries(client, owner, other["id"])
    assert_error(
        await client.post(f"{base}/deliveries/{foreign['id']}/redeliver", headers=owner.headers),
        404,
    )


@pytest.mark.usefixtures("fast_retries")
async def test_secret_rotation_signs_with_both_secrets(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    old_secret = hook["secret"]
    rotated = await client.patch(
        f"/accounts/{owner.account_id}/webhooks/{hook['id']}",
        json={"rotateSecret": True},
        headers=owner.headers,
    )
    new_secret = rotated.json()["data"]["secret"]
    # A receiver that still only knows the old secret, and one that already has the new one.
    receiver.secrets = [old_secret]
    await make_event(client, owner, "old")
    await run_jobs()
    receiver.secrets = [new_secret]
    await make_event(client, owner, "new")
    await run_jobs()
    assert [r.verified for r in receiver.requests] == [True, True]
    assert len(receiver.requests[0].headers["webhook-signature"].split(" ")) == 2

    # After the grace period only the new secret signs.
    async with get_sessionmaker()() as session:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == hook["id"])
            .values(previous_secret_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    receiver.secrets = [old_secret]
    await make_event(client, owner, "late")
    await run_jobs()
    assert receiver.requests[-1].verified is False
    assert len(receiver.requests[-1].headers["webhook-signature"].split(" ")) == 1


async def test_private_target_refused_at_delivery_time(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    # Saved while private targets were allowed; production mode refuses it at send time too.
    monkeypatch.setattr(get_settings().webhooks, "allow_private_targets", False)
    monkeypatch.setattr(get_settings().webhooks, "retry_delay_scale", 1.0)
    await make_event(client, owner)
    from ticaret.webhooks.tasks import fan_out_event

    (event_id,) = await event_ids(owner.account_id, "api_account.created")
    await get_redis().flushdb()
    await fan_out_event({}, event_id)  # makes the first attempt
    await get_redis().flushdb()  # keep the 5 s retry out of the burst worker's way
    assert receiver.requests == []
    (delivery,) = await deliveries(client, owner, hook["id"])
    attempt = delivery["attempts"][0]
    assert attempt["error"].startswith("refused target:") and "loopback" in attempt["error"]
    assert attempt["responseStatus"] is None and delivery["status"] == "retrying"


async def test_a_webhook_name_rebound_to_loopback_after_saving_is_refused_when_connecting(
    client: httpx.AsyncClient, receiver: Receiver, dns: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings().webhooks, "allow_private_targets", False)
    monkeypatch.setattr(get_settings().webhooks, "retry_delay_scale", 1.0)
    port = receiver.url.split(":")[2].split("/")[0]
    # Public when the webhook is saved, loopback (where the receiver listens) ever after.
    dns({"hooks.rebind.test": [["93.184.215.14"], ["127.0.0.1"]]})
    owner = await register(client)
    receiver.url = f"http://hooks.rebind.test:{port}/hooks"
    hook = await create_webhook(client, owner, receiver)
    await make_event(client, owner)
    from ticaret.webhooks.tasks import fan_out_event

    (event_id,) = await event_ids(owner.account_id, "api_account.created")
    await get_redis().flushdb()
    await fan_out_event({}, event_id)  # makes the first attempt
    await get_redis().flushdb()  # keep the retry out of the way
    assert receiver.requests == []
    deliveries = await client.get(
        f"/accounts/{owner.account_id}/webhooks/{hook['id']}/deliveries", headers=owner.headers
    )
    (attempt,) = deliveries.json()["data"]["rows"][0]["attempts"]
    assert attempt["error"] == (
        "refused target: hooks.rebind.test resolves to 127.0.0.1 is a loopback address"
    )
    assert attempt["responseStatus"] is None and attempt["responseBodyExcerpt"] is None


async def test_deleting_a_webhook_closes_its_open_deliveries(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver)
    base = f"/accounts/{owner.account_id}/webhooks/{hook['id']}"
    await client.post(f"{base}/pause", headers=owner.headers)
    await make_event(client, owner)
    await run_jobs()
    await client.delete(base, headers=owner.headers)
    await run_jobs()
    async with get_sessionmaker()() as session:
        delivery = (await session.scalars(select(WebhookDelivery))).one()
    assert delivery.status == "failed" and delivery.last_error == "the webhook was deleted"
    assert receiver.requests == []
