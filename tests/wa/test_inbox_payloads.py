"""The set-based batch path builds its event payloads and message rows without the ORM (raw
rows in, JSON out): what it publishes and stores must be exactly what the per-event path
(`apply_gateway_event`, models validated and dumped) gives for the same gateway calls. Two
sandbox sessions get the same WAHA-shaped calls, one drained by the batch handler and one
item by item, in the real worker; the events of both, as the live console streams them
(named by the relay's wake-ups, read from the outbox), and their stored rows are compared."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from tests.helpers import live_channel, live_events, register
from tests.wa.helpers import create_session, provider_calls
from ticaret.core.db import get_sessionmaker
from ticaret.models import InboxItem, WaMessage, WaSession
from ticaret.wa.gateways.sandbox import SANDBOX_ME_JID, inbound_message_payload
from ticaret.wa.inbox import GATEWAY_EVENTS
from ticaret.wa.service.views import (
    chat_data,
    chat_data_record,
    message_data,
    message_data_record,
)

T0 = 1747218000
GROUP = "120363041234567890@g.us"
ALI = "905551110001@s.whatsapp.net"


def _calls(psid: str) -> list[dict[str, Any]]:
    """One of each kind of new message the batch path takes, plus an early ack."""

    def customer(key: str, body: str | None, at: int, **extra: Any) -> dict[str, Any]:
        call = inbound_message_payload(
            psid,
            from_phone_or_jid=ALI,
            text=body,
            push_name="Ali Ünal",
            message_id=key,
            with_media=extra.pop("with_media", False),
            reply_to=extra.pop("reply_to", None),
        )
        call["id"] = f"evt_{key}"
        call["payload"].update(timestamp=at, **extra)
        return call

    def ours(key: str, body: str, at: int, ack: int) -> dict[str, Any]:
        return {
            "id": f"evt_{key}",
            "event": "message.any",
            "session": psid,
            "me": {"id": SANDBOX_ME_JID},
            "payload": {
                "id": f"true_{ALI}_{key}",
                "timestamp": at,
                "from": SANDBOX_ME_JID,
                "to": ALI,
                "fromMe": True,
                "source": "api",
                "body": body,
                "hasMedia": False,
                "ack": ack,
            },
        }

    group = {
        "id": "evt_G1",
        "event": "message",
        "session": psid,
        "me": {"id": SANDBOX_ME_JID},
        "payload": {
            "id": f"false_{GROUP}_G1_905551110002@c.us",
            "timestamp": T0 + 6,
            "from": GROUP,
            "fromMe": False,
            "source": "app",
            "to": SANDBOX_ME_JID,
            "participant": "905551110002@c.us",
            "body": "@905551110003 bakar mısın?",
            "hasMedia": False,
            "ack": 1,
            "_data": {"notifyName": "Banu", "mentionedJidList": ["905551110003@c.us"]},
        },
    }
    early_ack = {
        "id": "evt_ack_R2",
        "event": "message.ack",
        "session": psid,
        "payload": {
            "id": f"true_{ALI}_R2",
            "from": SANDBOX_ME_JID,
            "to": ALI,
            "fromMe": True,
            "ack": 3,
        },
    }
    return [
        customer("A1", 'Merhaba, "fiyat" nedir? \u2603 \U0001f600', T0),
        customer("A2", "Ürün fotoğrafı", T0 + 1, with_media=True),
        customer(
            "A3",
            None,
            T0 + 2,
            location={"latitude": 41.0, "longitude": 2.9e-05, "name": "Kadıköy"},
        ),
        customer("A4", "Bu mu?", T0 + 3, reply_to=f"true_{ALI}_R1"),
        customer("A5", None, T0 + 4, vCards=["BEGIN:VCARD\nFN:Cem\nEND:VCARD"]),
        ours("R1", "Evet, 450 TL", T0 + 5, ack=1),
        group,
        early_ack,
        ours("R2", "Kargoya verildi", T0 + 7, ack=2),
        customer("A1", "Merhaba (again)", T0 + 8),  # a redelivery: nothing
    ]


async def _publications(
    client: httpx.AsyncClient, run_jobs: Any, *, batched: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str, list[dict[str, Any]]]:
    """A fresh owner and session get the calls, drained one way; what the relay published."""
    owner = await register(client)
    created = await create_session(client, owner)
    psid = created["providerSessionId"]
    pubsub = await live_channel(owner.account_id)
    await provider_calls(client, created, _calls(psid))
    monkeypatch.setattr(
        GATEWAY_EVENTS, "batch_handler", GATEWAY_EVENTS.batch_handler if batched else None
    )
    await run_jobs()
    published = [e for e in await live_events(pubsub) if e["type"].startswith("wa.")]
    await pubsub.aclose()
    return psid, owner.account_id, published


def _comparable(event: dict[str, Any], psid: str, account_id: str) -> str:
    """The published JSON with what differs between two sessions by nature (ids, times,
    the session's and account's ids, when an ack came) masked, key order kept."""
    assert event["accountId"] == account_id and event["data"]["providerSessionId"] == psid
    masked = {**event, "id": "-", "createdAt": "-", "accountId": "-"}
    masked["data"] = {
        **event["data"],
        "id": "-",
        "providerSessionId": "-",
        "createdAt": "-",
        "updatedAt": "-",
    }
    if "receipt" in masked["data"]:
        masked["data"]["receipt"] = dict.fromkeys(masked["data"]["receipt"], "-")
    return json.dumps(masked, ensure_ascii=False)


async def test_the_batch_path_publishes_and_stores_what_the_per_event_path_does(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_psid, batch_account, batched = await _publications(
        client, run_jobs, batched=True, monkeypatch=monkeypatch
    )
    each_psid, each_account, each = await _publications(
        client, run_jobs, batched=False, monkeypatch=monkeypatch
    )

    def messages(events: list[dict[str, Any]], psid: str, account: str) -> list[str]:
        return [
            _comparable(e, psid, account)
            for e in events
            if e["type"] in ("wa.message.received", "wa.message.sent")
        ]

    def last_chats(events: list[dict[str, Any]], psid: str, account: str) -> dict[str, str]:
        # The per-event path emits a chat's state after each message, the batch path once
        # per run: the last one is the chat's final state in both.
        return {
            e["data"]["remoteJid"]: _comparable(e, psid, account)
            for e in events
            if e["type"] == "wa.chat.updated"
        }

    batch_messages = messages(batched, batch_psid, batch_account)
    assert len(batch_messages) == 8
    for mine, theirs in zip(batch_messages, messages(each, each_psid, each_account), strict=True):
        assert mine == theirs
    assert last_chats(batched, batch_psid, batch_account) == last_chats(
        each, each_psid, each_account
    )
    # The early ack reached the message before its event did, on both paths.
    sent = [e for e in batched if e["type"] == "wa.message.sent"]
    assert [(e["data"]["messageId"], e["data"]["status"]) for e in sent] == [("R1", 1), ("R2", 3)]

    # The stored rows too, to the JSON null: every column but the ids and times.
    async with get_sessionmaker()() as session:
        rows = (
            await session.execute(
                text(
                    """
                    SELECT s.provider_session_id, m.message_id,
                      to_jsonb(m) - 'id' - 'session_id' - 'created_at' - 'updated_at' - 'search',
                      (m.mentions IS NULL, m.quoted_message IS NULL, m.media IS NULL,
                       m.location IS NULL, m.contacts IS NULL, m.reactions IS NULL,
                       m.receipt IS NULL, m.origin IS NULL)::text
                    FROM wa_messages m JOIN wa_sessions s ON s.id = m.session_id
                    WHERE s.provider_session_id IN (:a, :b)
                    """
                ),
                {"a": batch_psid, "b": each_psid},
            )
        ).all()
    stored: dict[str, dict[str, Any]] = {batch_psid: {}, each_psid: {}}
    for psid, message_id, columns, nulls in rows:
        columns["receipt"] = sorted(columns["receipt"])
        stored[psid][message_id] = (columns, nulls)
    assert len(stored[batch_psid]) == 8
    assert stored[batch_psid] == stored[each_psid]


async def test_raw_row_payloads_equal_the_models_dump_byte_for_byte(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    psid, _, _ = await _publications(client, run_jobs, batched=True, monkeypatch=monkeypatch)
    await asyncio.sleep(0)
    async with get_sessionmaker()() as session:
        session_id = (
            await session.execute(
                text("SELECT id FROM wa_sessions WHERE provider_session_id = :p"), {"p": psid}
            )
        ).scalar_one()
        for table, record, model in (
            ("wa_messages", message_data_record, message_data),
            ("wa_chats", chat_data_record, chat_data),
        ):
            raw = (
                await session.execute(
                    text(f"SELECT * FROM {table} WHERE session_id = :s"),  # noqa: S608
                    {"s": session_id},
                )
            ).mappings()
            by_id = {row["id"]: row for row in raw}
            orm_class = WaMessage if table == "wa_messages" else None
            assert by_id
            for row_id, row in by_id.items():
                if orm_class is not None:
                    orm = await session.get(orm_class, row_id)
                else:
                    from ticaret.models import WaChat

                    orm = await session.get(WaChat, row_id)
                expected = model(orm, psid).model_dump(mode="json", by_alias=True)  # type: ignore[arg-type]
                got = record(row, psid)
                assert json.dumps(got) == json.dumps(expected)
        # Mark it used: a deleted-for-everyone message shows no text on both sides.
        message = (
            await session.scalars(select(WaMessage).where(WaMessage.session_id == session_id))
        ).first()
        assert message is not None
        message.deleted_for_everyone = True
        await session.flush()
        row = (
            (
                await session.execute(
                    text("SELECT * FROM wa_messages WHERE id = :i"), {"i": message.id}
                )
            )
            .mappings()
            .one()
        )
        assert json.dumps(message_data_record(row, psid)) == json.dumps(
            message_data(message, psid).model_dump(mode="json", by_alias=True)
        )
        await session.rollback()


async def test_a_position_json_cannot_write_fails_its_call_and_the_rest_of_the_batch_lands(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    created = await create_session(client, owner)
    psid = created["providerSessionId"]
    calls = _calls(psid)[:2]
    calls[1]["payload"]["location"] = {"latitude": "NaN", "longitude": "29.0"}
    calls.append(_calls(psid)[3])
    await provider_calls(client, created, calls)
    await run_jobs()
    async with get_sessionmaker()() as session:
        items = (
            await session.execute(
                select(InboxItem.external_id, InboxItem.status)
                .where(InboxItem.payload["session"].astext == psid)
                .order_by(InboxItem.received_at, InboxItem.id)
            )
        ).all()
        stored = set(
            await session.scalars(
                select(WaMessage.message_id)
                .join(WaSession, WaSession.id == WaMessage.session_id)
                .where(WaSession.provider_session_id == psid)
            )
        )
    assert [status for _, status in items] == ["processed", "failed", "processed"]
    assert stored == {"A1", "A4"}
