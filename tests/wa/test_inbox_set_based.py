"""A claimed batch of WhatsApp gateway calls is applied with set-based statements (issue 9):
new messages of many customers in one multi-row insert, their people, chats and events
together, and still exactly what applying the calls one by one gives. Bodies are WAHA-shaped,
as the sandbox gateway's webhooks are, posted to the provider-event receiver; the drain runs
in the real worker."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from arq import Retry
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text, update

from tests.helpers import Caller, Servers, register, worker_process
from tests.wa.helpers import create_session, headers
from ticaret.core.db import get_engine, get_sessionmaker
from ticaret.core.inbox import sweep_inbox
from ticaret.core.queue import get_redis
from ticaret.models import Event, InboxItem
from ticaret.wa.gateways.sandbox import SANDBOX_ME_JID, inbound_message_payload
from ticaret.wa.inbox import GATEWAY_EVENTS

SECRET_HEADER = "X-Ticaret-Webhook-Secret"
# 2025-05-14 10:20 UTC: each body names its time, so "newest" is what the test says.
T0 = 1747218000
GROUP = "120363041234567890@g.us"


def _jid(phone: str) -> str:
    return f"{phone}@s.whatsapp.net"


class Gateway:
    """One sandbox session's webhook sender."""

    def __init__(self, client: httpx.AsyncClient, created: dict[str, Any]) -> None:
        self.client = client
        self.psid: str = created["providerSessionId"]
        self.auth = {SECRET_HEADER: created["webhookSecret"]}

    async def post(self, body: dict[str, Any]) -> None:
        response = await self.client.post(
            f"/wa/provider-events/{self.psid}", json=body, headers=self.auth
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"]["duplicate"] is False

    async def customer_writes(
        self, phone: str, text: str, message_id: str, at: int, push_name: str | None = None
    ) -> None:
        body = inbound_message_payload(
            self.psid,
            from_phone_or_jid=phone,
            text=text,
            push_name=push_name,
            message_id=message_id,
        )
        body["payload"]["timestamp"] = at
        await self.post(body)

    async def shop_replies_from_phone(
        self, phone: str, text: str, message_id: str, at: int, ack: int = 1, envelope: str = ""
    ) -> None:
        chat = _jid(phone)
        await self.post(
            {
                "id": f"evt_out_{message_id}{envelope}",
                "event": "message.any",
                "session": self.psid,
                "me": {"id": SANDBOX_ME_JID},
                "payload": {
                    "id": f"true_{chat}_{message_id}",
                    "timestamp": at,
                    "from": SANDBOX_ME_JID,
                    "to": chat,
                    "fromMe": True,
                    "source": "app",
                    "body": text,
                    "hasMedia": False,
                    "ack": ack,
                },
            }
        )

    async def acked(self, phone: str, message_id: str, ack: int) -> None:
        chat = _jid(phone)
        await self.post(
            {
                "id": f"evt_ack_{message_id}_{ack}",
                "event": "message.ack",
                "session": self.psid,
                "payload": {
                    "id": f"true_{chat}_{message_id}",
                    "from": SANDBOX_ME_JID,
                    "to": chat,
                    "fromMe": True,
                    "ack": ack,
                },
            }
        )

    async def group_member_writes(
        self, phone: str, text: str, message_id: str, at: int, push_name: str
    ) -> None:
        member = f"{phone}@c.us"
        await self.post(
            {
                "id": f"evt_grp_{message_id}",
                "event": "message",
                "session": self.psid,
                "me": {"id": SANDBOX_ME_JID},
                "payload": {
                    "id": f"false_{GROUP}_{message_id}_{member}",
                    "timestamp": at,
                    "from": GROUP,
                    "fromMe": False,
                    "source": "app",
                    "to": SANDBOX_ME_JID,
                    "participant": member,
                    "body": text,
                    "hasMedia": False,
                    "ack": 1,
                    "_data": {"notifyName": push_name},
                },
            }
        )

    async def get(self, owner: Caller, path: str) -> dict[str, Any]:
        response = await self.client.get(
            path, params={"providerSessionId": self.psid, "limit": 100}, headers=headers(owner)
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["data"])

    async def chats(self, owner: Caller) -> dict[str, dict[str, Any]]:
        return {c["remoteJid"]: c for c in (await self.get(owner, "/wa/chats"))["rows"]}

    async def messages(self, owner: Caller, jid: str) -> list[dict[str, Any]]:
        return list((await self.get(owner, f"/wa/chats/{jid}/messages"))["rows"])

    async def contacts(self, owner: Caller) -> dict[str, dict[str, Any]]:
        return {c["jid"]: c for c in (await self.get(owner, "/wa/contacts"))["rows"]}


async def _gateway(client: httpx.AsyncClient) -> tuple[Caller, Gateway]:
    owner = await register(client)
    return owner, Gateway(client, await create_session(client, owner))


async def _events(psid: str) -> list[Event]:
    async with get_sessionmaker()() as session:
        rows = await session.scalars(
            select(Event)
            .where(
                Event.provider_session_id == psid,
                Event.type.like("wa.message.%") | Event.type.like("wa.chat.%"),
            )
            .order_by(Event.seq)
        )
        return list(rows.all())


async def _items(psid: str) -> list[InboxItem]:
    async with get_sessionmaker()() as session:
        rows = await session.scalars(
            select(InboxItem)
            .where(InboxItem.source == "wa", InboxItem.payload["session"].astext == psid)
            .order_by(InboxItem.received_at, InboxItem.id)
        )
        return list(rows.all())


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Every SQL statement the process sends on the engine's connections meanwhile (executemany
    counts once): through SQLAlchemy, or straight on the asyncpg connection under a session
    (`RawQuery` in a unit of work, which SQLAlchemy's events do not see)."""
    seen: list[str] = []
    recording = True

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    def record_raw(logged: Any) -> None:
        if recording:
            seen.append(" ".join(logged.query.split()))

    def attach(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(record_raw)

    def detach(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.remove_query_logger(record_raw)

    engine = get_engine().sync_engine
    sa_event.listen(engine, "before_cursor_execute", record)
    sa_event.listen(engine.pool, "checkout", attach)
    sa_event.listen(engine.pool, "checkin", detach)
    try:
        yield seen
    finally:
        recording = False
        sa_event.remove(engine, "before_cursor_execute", record)
        sa_event.remove(engine.pool, "checkout", attach)
        sa_event.remove(engine.pool, "checkin", detach)


async def test_a_batch_from_several_customers_lands_as_their_messages_chats_people_and_events(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, gateway = await _gateway(client)
    ali, banu, cem = "905551110001", "905551110002", "905551110003"
    # Interleaved, all waiting when the drain runs: one batch.
    await gateway.customer_writes(ali, "Merhaba", "A1", T0, push_name="Ali")
    await gateway.customer_writes(banu, "Fiyat nedir?", "B1", T0 + 1, push_name="Banu")
    await gateway.customer_writes(ali, "Kırmızı var mı?", "A2", T0 + 2, push_name="Ali")
    await gateway.shop_replies_from_phone(ali, "Var, 450 TL", "R1", T0 + 3)
    await gateway.customer_writes(banu, "Bekliyorum", "B2", T0 + 4)
    await gateway.customer_writes(ali, "Alıyorum", "A3", T0 + 5, push_name="Ali Veli")
    # Cem's messages come out of order: the older one arrives last.
    await gateway.customer_writes(cem, "İkinci", "C2", T0 + 7, push_name="Cem")
    await gateway.customer_writes(cem, "Birinci", "C1", T0 + 6, push_name="Cem")
    await run_jobs()

    items = await _items(gateway.psid)
    assert [(i.status, i.attempts) for i in items] == [("processed", 1)] * 8
    chats = await gateway.chats(owner)
    assert set(chats) == {_jid(ali), _jid(banu), _jid(cem)}
    a, b, c = chats[_jid(ali)], chats[_jid(banu)], chats[_jid(cem)]
    # Our reply answered Ali's first two; only the one after it is unread.
    assert (a["unreadCount"], a["lastMessagePreview"], a["lastMessageFromMe"]) == (
        1,
        "Alıyorum",
        False,
    )
    assert (b["unreadCount"], b["lastMessagePreview"], b["name"]) == (2, "Bekliyorum", "Banu")
    # The newest message is the last one, not the one that arrived last.
    assert (c["unreadCount"], c["lastMessagePreview"]) == (2, "İkinci")
    assert a["name"] == "Ali" and a["type"] == "individual"
    assert [m["messageId"] for m in await gateway.messages(owner, _jid(ali))] == [
        "A3",
        "R1",
        "A2",
        "A1",
    ]
    reply = next(m for m in await gateway.messages(owner, _jid(ali)) if m["messageId"] == "R1")
    assert reply["fromMe"] is True
    people = await gateway.contacts(owner)
    # One contact per person; the last name Ali gave wins.
    assert {jid: p["pushName"] for jid, p in people.items()} == {
        _jid(ali): "Ali Veli",
        _jid(banu): "Banu",
        _jid(cem): "Cem",
    }
    assert people[_jid(ali)]["phone"] == ali

    events = await _events(gateway.psid)
    kinds = Counter(e.type for e in events)
    assert kinds == {"wa.message.received": 7, "wa.message.sent": 1, "wa.chat.updated": 3}
    # One event per message, in arrival order; each chat's event carries its final state.
    received = [e.data["messageId"] for e in events if e.type.startswith("wa.message.")]
    assert received == ["A1", "B1", "A2", "R1", "B2", "A3", "C2", "C1"]
    updated = {e.data["remoteJid"]: e.data for e in events if e.type == "wa.chat.updated"}
    assert updated[_jid(ali)]["unreadCount"] == 1
    assert updated[_jid(banu)]["unreadCount"] == 2
    assert updated[_jid(cem)]["lastMessagePreview"] == "İkinci"

    # A later batch meets the stored chats: counters go on from there.
    await gateway.customer_writes(banu, "Hâlâ bekliyorum", "B3", T0 + 8)
    await gateway.shop_replies_from_phone(cem, "Geç cevap", "R0", T0 + 5)  # older than Cem's
    await run_jobs()
    chats = await gateway.chats(owner)
    assert chats[_jid(banu)]["unreadCount"] == 3
    # A reply older than the chat's last message neither moves it nor answers it.
    assert (chats[_jid(cem)]["unreadCount"], chats[_jid(cem)]["lastMessagePreview"]) == (
        2,
        "İkinci",
    )


async def test_a_batch_is_applied_with_the_same_statements_whatever_its_size(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, gateway = await _gateway(client)
    for n in range(40):
        await gateway.customer_writes(f"9055522200{n % 8:02d}", f"Soru {n}", f"Q{n}", T0 + n)
    with _statements() as seen:
        await run_jobs()

    def count(prefix: str) -> int:
        return sum(1 for statement in seen if statement.startswith(prefix))

    assert count("INSERT INTO wa_messages") == 1
    assert count("INSERT INTO wa_contacts") == 1
    assert count("WITH batch AS") == 1  # the chats
    assert count("DELETE FROM wa_early_acks") == 1
    assert count("UPDATE inbox_items") == 1
    assert len(await gateway.chats(owner)) == 8
    assert Counter(e.type for e in await _events(gateway.psid)) == {
        "wa.message.received": 40,
        "wa.chat.updated": 8,
    }


async def test_the_same_message_twice_in_one_batch_inserts_and_emits_once_and_acks_forward(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, gateway = await _gateway(client)
    customer = "905551110004"
    await gateway.customer_writes(customer, "Merhaba", "D1", T0, push_name="Deniz")
    await gateway.shop_replies_from_phone(customer, "Hoş geldiniz", "S1", T0 + 1, ack=1)
    # Redeliveries under new envelopes: the same customer message, and our reply now read.
    await gateway.customer_writes(customer, "Merhaba", "D1", T0, push_name="Deniz")
    await gateway.shop_replies_from_phone(customer, "Hoş geldiniz", "S1", T0 + 1, 3, "-again")
    # An older ack after the read one changes nothing.
    await gateway.shop_replies_from_phone(customer, "Hoş geldiniz", "S1", T0 + 1, 2, "-late")
    await run_jobs()

    rows = await gateway.messages(owner, _jid(customer))
    assert sorted((m["messageId"], m["status"]) for m in rows) == [("D1", 2), ("S1", 3)]
    sent = next(m for m in rows if m["messageId"] == "S1")
    # The late ack moved nothing back, but its receipt time is recorded (once).
    assert {"readAt", "deliveredAt"} <= set(sent["receipt"])
    chat = (await gateway.chats(owner))[_jid(customer)]
    # Our reply answered Deniz; the repeated message counted once before it.
    assert (chat["unreadCount"], chat["lastMessagePreview"]) == (0, "Hoş geldiniz")
    events = await _events(gateway.psid)
    assert Counter(e.type for e in events) == {
        "wa.message.received": 1,
        "wa.message.sent": 1,
        "wa.message.updated": 3,
        "wa.chat.updated": 1,
    }
    # Updates only for what the copies' acks changed: S1 read, S1's delivery receipt, and
    # D1's delivery receipt (its first copy carried the status only).
    updates = [
        (e.data["messageId"], e.data["status"]) for e in events if e.type == "wa.message.updated"
    ]
    assert sorted(updates) == [("D1", 2), ("S1", 3), ("S1", 3)]
    assert {i.status for i in await _items(gateway.psid)} == {"processed"}


async def test_a_poison_call_in_a_batch_is_failed_and_the_rest_of_the_batch_commits(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, gateway = await _gateway(client)
    customer = "905551110005"
    await gateway.customer_writes(customer, "Bir", "P1", T0, push_name="Ece")
    await gateway.customer_writes(customer, "İki", "P2", T0 + 1)
    # Parses fine, cannot be stored (a chat id longer than any JID): the batch's statement
    # fails, the batch rolls back and each call runs alone.
    poison = inbound_message_payload(gateway.psid, from_phone_or_jid="9" * 200 + "@c.us", text="x")
    await gateway.post(poison)
    await gateway.customer_writes(customer, "Üç", "P3", T0 + 2)
    await run_jobs()

    items = await _items(gateway.psid)
    assert [i.status for i in items] == ["processed", "processed", "failed", "processed"]
    failed = items[2]
    assert failed.payload == poison and failed.attempts == 1
    assert failed.error and "value too long" in failed.error
    rows = await gateway.messages(owner, _jid(customer))
    assert sorted(m["text"] for m in rows) == ["Bir", "Üç", "İki"]
    chat = (await gateway.chats(owner))[_jid(customer)]
    assert (chat["unreadCount"], chat["lastMessagePreview"]) == (3, "Üç")
    kinds = Counter(e.type for e in await _events(gateway.psid))
    assert kinds["wa.message.received"] == 3


async def test_two_drains_claiming_at_once_never_apply_an_item_twice(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: Any
) -> None:
    owner, gateway = await _gateway(client)
    for n in range(60):
        await gateway.customer_writes(f"9055533300{n % 6:02d}", f"Soru {n}", f"W{n}", T0 + n)
    scope = (await _items(gateway.psid))[0].scope
    # Small batches, and two drains of one scope at once (as if the drain lock were lost):
    # SKIP LOCKED hands each item to one of them.
    monkeypatch.setattr(GATEWAY_EVENTS, "batch_size", 7)
    claimed: list[int] = []

    async def drain() -> None:
        while True:
            try:
                count = await GATEWAY_EVENTS.process_batch(scope)
            except Retry:
                continue  # a lost race on a shared chat: the batch rolled back, try again
            if count == 0:
                return
            claimed.append(count)

    await asyncio.gather(drain(), drain())
    await run_jobs()

    assert sum(claimed) == 60
    items = await _items(gateway.psid)
    assert [(i.status, i.attempts) for i in items] == [("processed", 1)] * 60
    chats = await gateway.chats(owner)
    assert len(chats) == 6 and {c["unreadCount"] for c in chats.values()} == {10}
    for chat in chats.values():
        assert len(await gateway.messages(owner, chat["remoteJid"])) == 10
    events = await _events(gateway.psid)
    received = [e.data["messageId"] for e in events if e.type == "wa.message.received"]
    assert sorted(received) == sorted(f"W{n}" for n in range(60))


async def test_an_early_ack_in_the_same_batch_as_its_message_is_applied_before_the_event(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, gateway = await _gateway(client)
    customer = "905551110006"
    # Delivered and read before the gateway's webhook about the message; then a later message
    # whose ack comes right after it. One batch.
    await gateway.acked(customer, "E1", 2)
    await gateway.acked(customer, "E1", 3)
    await gateway.shop_replies_from_phone(customer, "Siparişiniz hazır", "E1", T0, ack=1)
    await gateway.shop_replies_from_phone(customer, "Kargoda", "E2", T0 + 1, ack=1)
    await gateway.acked(customer, "E2", 2)
    await run_jobs()

    rows = {m["messageId"]: m for m in await gateway.messages(owner, _jid(customer))}
    assert (rows["E1"]["status"], rows["E2"]["status"]) == (3, 2)
    assert {"deliveredAt", "readAt"} <= set(rows["E1"]["receipt"])
    assert "deliveredAt" in rows["E2"]["receipt"]
    events = await _events(gateway.psid)
    sent = {e.data["messageId"]: e.data for e in events if e.type == "wa.message.sent"}
    # Whoever hears of E1 hears of it read; E2's ack came after it, as an update.
    assert sent["E1"]["status"] == 3 and sent["E2"]["status"] == 1
    updated = [e.data for e in events if e.type == "wa.message.updated"]
    assert [(u["messageId"], u["status"]) for u in updated] == [("E2", 2)]
    async with get_sessionmaker()() as session:
        from ticaret.models import WaEarlyAck

        assert await session.scalar(select(func.count()).select_from(WaEarlyAck)) == 0
    assert len(await gateway.chats(owner)) == 1


async def test_group_messages_in_a_batch_land_in_the_group_chat_with_their_members(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, gateway = await _gateway(client)
    await gateway.group_member_writes("905559998877", "Stokta var mı?", "G1", T0, "Ayşe K.")
    await gateway.group_member_writes("905559998866", "Ben de soruyorum", "G2", T0 + 1, "Mert")
    await gateway.customer_writes("905551110007", "Özelden yazıyorum", "I1", T0 + 2, "Ayşe K.")
    await gateway.group_member_writes("905559998877", "Bekliyoruz", "G3", T0 + 3, "Ayşe Kaya")
    await run_jobs()

    chats = await gateway.chats(owner)
    group = chats[GROUP]
    assert (group["type"], group["unreadCount"], group["lastMessagePreview"]) == (
        "group",
        3,
        "Bekliyoruz",
    )
    assert group["name"] is None  # a member's name is not the group's
    assert chats[_jid("905551110007")]["unreadCount"] == 1
    rows = await gateway.messages(owner, GROUP)
    assert [(m["messageId"], m["participant"]) for m in rows] == [
        ("G3", _jid("905559998877")),
        ("G2", _jid("905559998866")),
        ("G1", _jid("905559998877")),
    ]
    people = await gateway.contacts(owner)
    assert people[GROUP]["isGroup"] is True
    assert people[_jid("905559998877")]["pushName"] == "Ayşe Kaya"
    assert people[_jid("905559998866")]["pushName"] == "Mert"
    kinds = Counter(e.type for e in await _events(gateway.psid))
    assert kinds == {"wa.message.received": 4, "wa.chat.updated": 2}


async def test_a_worker_killed_mid_batch_loses_nothing_once_the_sweeper_runs(
    client: httpx.AsyncClient, run_jobs: Any, servers: Servers
) -> None:
    owner, gateway = await _gateway(client)
    customer = "905551110008"
    await gateway.customer_writes(customer, "İlk", "K0", T0, push_name="Kaan")
    await run_jobs()
    for n in range(1, 6):
        await gateway.customer_writes(customer, f"Mesaj {n}", f"K{n}", T0 + n)
    worker = await worker_process(servers)
    try:
        async with get_engine().connect() as holder, get_engine().connect() as watcher:
            # The customer's chat is held: the worker's batch inserts the messages, then
            # waits for the chat row inside its transaction...
            await holder.execute(
                text("SELECT 1 FROM wa_chats WHERE remote_jid = :jid FOR UPDATE"),
                {"jid": _jid(customer)},
            )
            for _ in range(1200):
                waiting = await watcher.execute(
                    text(
                        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database() AND query LIKE '%wa_chats%'"
                    )
                )
                if waiting.first() is not None:
                    break
                await watcher.rollback()
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the worker never reached the chat upsert")
            # ...and dies there. Its transaction never commits.
            worker.kill()
            await worker.wait()
            await holder.rollback()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()

    async def stored() -> list[str]:
        return [i.status for i in await _items(gateway.psid)]

    # The dead worker's connection goes once Postgres notices; its work rolls back.
    for _ in range(200):
        if (await stored()).count("received") == 5:
            break
        await asyncio.sleep(0.05)
    assert await stored() == ["processed"] + ["received"] * 5
    assert [m["messageId"] for m in await gateway.messages(owner, _jid(customer))] == ["K0"]

    # arq lets another worker take the dead one's jobs once their in-progress marks expire
    # (after the job's timeout): expired now. The drain lock the dead worker held still keeps
    # drains away; the sweeper hands each waiting item to its own job once it is old enough
    # to be called lost.
    redis = get_redis()
    for key in await redis.keys("arq:in-progress:*"):
        await redis.delete(key)
    async with get_sessionmaker()() as session:
        await session.execute(
            update(InboxItem)
            .where(InboxItem.status == "received")
            .values(received_at=datetime.now(UTC) - timedelta(minutes=5))
        )
        await session.commit()
    assert await sweep_inbox() == 5
    await run_jobs()

    assert await stored() == ["processed"] * 6
    rows = await gateway.messages(owner, _jid(customer))
    assert sorted(m["messageId"] for m in rows) == ["K0", "K1", "K2", "K3", "K4", "K5"]
    chat = (await gateway.chats(owner))[_jid(customer)]
    assert (chat["unreadCount"], chat["lastMessagePreview"]) == (6, "Mesaj 5")
    received = [e for e in await _events(gateway.psid) if e.type == "wa.message.received"]
    assert len(received) == 6
