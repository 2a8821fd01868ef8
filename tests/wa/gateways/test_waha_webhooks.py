import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from ticaret.wa.gateways import GatewayConfig, SessionStatus
from ticaret.wa.gateways.normalized import (
    ChatLabelChanged,
    MessageAck,
    MessageEdited,
    MessageRevoked,
    MessageUpserted,
    NormalizedMessage,
    ReactionReceived,
    SessionStatusChanged,
    UnknownEvent,
)
from ticaret.wa.gateways.waha import WahaGateway
from ticaret.wa.gateways.waha_events import serialize_message_id, split_message_id

PAYLOADS = Path(__file__).parent / "payloads"
GATEWAY = WahaGateway(
    httpx.AsyncClient(),
    GatewayConfig(
        base_url="https://waha.example.com",
        api_key="waha-key",
        instance="shop-main",
        webhook_url="https://ticaret.example/wa/provider-events/ps_456",
        webhook_secret="whsec_waha_1",
    ),
)


def load(name: str) -> tuple[Any, bytes]:
    raw = (PAYLOADS / name).read_bytes()
    return json.loads(raw), raw


def only_message(name: str) -> NormalizedMessage:
    (event,) = GATEWAY.parse_webhook(load(name)[0])
    assert isinstance(event, MessageUpserted)
    return event.message


def test_group_message_with_reply_and_mentions() -> None:
    message = only_message("waha_message_group.json")

    assert message.chat_id == "120363041234567890@g.us"
    assert message.chat_type == "group"
    assert message.message_id == "3EB0A1B2C3D4E5F60718"
    assert message.provider_message_id == (
        "false_120363041234567890@g.us_3EB0A1B2C3D4E5F60718_905559998877@c.us"
    )
    assert message.participant == "905559998877@c.us"
    assert message.sender_jid == "905559998877@c.us"
    assert message.sender_phone == "905559998877"
    assert message.push_name == "Ayşe K."
    assert message.type == "text"
    assert message.raw_type == "extendedTextMessage"
    assert message.mentions == ("905321112233@s.whatsapp.net",)
    assert message.quoted is not None
    assert message.quoted.message_id == "3EB0FFEE00112233AA"
    assert message.quoted.text == "Yeni sezon çantalar geldi"
    assert message.origin == "device"
    assert message.ack == 1


def test_lid_sender_gets_phone_from_gows_info() -> None:
    message = only_message("waha_message_lid.json")

    assert message.chat_id == "98765432101234@lid"
    assert message.sender_jid == "98765432101234@lid"
    assert message.sender_alt_jid == "905551234567@s.whatsapp.net"
    assert message.chat_alt_jid == "905551234567@s.whatsapp.net"
    assert message.sender_phone == "905551234567"
    assert message.push_name == "Mehmet"


def test_media_message_keeps_url_for_streaming() -> None:
    message = only_message("waha_message_media.json")

    assert message.type == "image"
    assert message.has_media is True
    assert message.mimetype == "image/jpeg"
    assert message.text == "Bu modelden 2 tane"
    assert message.push_name == "Mehmet"
    assert message.media["url"].endswith(
        "/api/files/shop-main/false_905551234567@c.us_3A7F0C1D2E3B4A5C6D7E.jpeg"
    )
    assert message.media["messageId"] == "false_905551234567@c.us_3A7F0C1D2E3B4A5C6D7E"


def test_location_message() -> None:
    message = only_message("waha_message_location.json")
    assert message.type == "location"
    assert message.location is not None
    assert (message.location.latitude, message.location.longitude) == (41.0369, 28.985)
    assert message.location.name is not None
    assert message.location.name.startswith("Taksim")


def test_reaction_added_and_removed() -> None:
    (added,) = GATEWAY.parse_webhook(load("waha_message_reaction.json")[0])
    (removed,) = GATEWAY.parse_webhook(load("waha_message_reaction_removed.json")[0])

    assert isinstance(added, ReactionReceived)
    assert added.chat_id == "905551234567@c.us"
    assert added.target_message_id == "BAE5F3C2A1D0E9F8"
    assert added.emoji == "👍"
    assert added.sender_jid == "905551234567@c.us"
    assert isinstance(removed, ReactionReceived)
    assert removed.emoji == ""


def test_ack_revoke_edit_session_label() -> None:
    (ack,) = GATEWAY.parse_webhook(load("waha_message_ack.json")[0])
    (revoked,) = GATEWAY.parse_webhook(load("waha_message_revoked.json")[0])
    (edited,) = GATEWAY.parse_webhook(load("waha_message_edited.json")[0])
    (status,) = GATEWAY.parse_webhook(load("waha_session_status.json")[0])
    (label,) = GATEWAY.parse_webhook(load("waha_label_chat_added.json")[0])

    assert ack == MessageAck(
        chat_id="905551234567@c.us", message_ids=("BAE5F3C2A1D0E9F8",), ack=3, from_me=True
    )
    assert isinstance(revoked, MessageRevoked)
    # The revoked message, not the id of the revoke itself (`after.id`).
    assert revoked.message_id == "3A11223344556677AB"
    assert revoked.chat_id == "905551234567@c.us"
    assert isinstance(edited, MessageEdited)
    assert edited.message_id == "3A7F0C1D2E3B4A5C6D7E"
    assert edited.new_text == "Bu modelden 3 tane olsun"
    assert isinstance(status, SessionStatusChanged)
    assert status.state.status is SessionStatus.SCAN_QR
    assert status.state.raw == "SCAN_QR_CODE"
    assert status.state.me_jid == "905321112233@c.us"
    assert label == ChatLabelChanged(
        chat_id="905551234567@c.us", label_id="5", added=True, label_name="Yeni müşteri"
    )


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [1, 2],
        {"event": "message"},
        {"event": "message", "payload": "text"},
        {"event": "message", "payload": {"body": "no id"}},
        {"event": "message.reaction", "payload": {"id": "false_1@c.us_A", "reaction": None}},
        {"event": "message.ack", "payload": {"id": "false_1@c.us_A", "ack": "soon"}},
        {"event": "message.revoked", "payload": {"before": 3}},
        {"event": "session.status", "payload": {"name": "x"}},
        {"event": "label.chat.added", "payload": {"chatId": None}},
        {"event": "group.v2.join", "payload": {"group": {}}},
    ],
)
def test_malformed_bodies_become_unknown_events(payload: Any) -> None:
    events = GATEWAY.parse_webhook(payload)
    assert events
    assert all(isinstance(event, UnknownEvent) for event in events)


def test_event_key_prefers_envelope_id() -> None:
    body, raw = load("waha_message_group.json")
    ack, ack_raw = load("waha_message_ack.json")

    assert GATEWAY.webhook_event_key(body, raw) == "waha:evt_01jv3k6y8m7n2p4q5r6s7t8v9w"
    assert GATEWAY.webhook_event_key(json.loads(raw), raw) == GATEWAY.webhook_event_key(body, raw)
    assert GATEWAY.webhook_event_key(ack, ack_raw) != GATEWAY.webhook_event_key(body, raw)

    legacy = {k: v for k, v in ack.items() if k != "id"}
    delivered = {**legacy, "payload": {**legacy["payload"], "ack": 2}}
    assert GATEWAY.webhook_event_key(legacy, b"") != GATEWAY.webhook_event_key(delivered, b"")
    assert GATEWAY.webhook_event_key("??", b"abc").startswith("sha256:")


def test_serialized_ids_round_trip() -> None:
    serialized = serialize_message_id("120363@g.us", "3EB0", False, "9055@c.us")
    assert serialized == "false_120363@g.us_3EB0_9055@c.us"
    parsed = split_message_id(serialized)
    assert parsed is not None
    assert (parsed.from_me, parsed.chat_id, parsed.message_id, parsed.participant) == (
        False,
        "120363@g.us",
        "3EB0",
        "9055@c.us",
    )
    assert serialize_message_id("1@c.us", serialized, True, None) == serialized
    assert split_message_id("3EB0A1B2") is None
