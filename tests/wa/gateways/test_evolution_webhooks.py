import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ticaret.wa.gateways import WEBHOOK_SECRET_HEADER, GatewayConfig, SessionStatus
from ticaret.wa.gateways.evolution import EvolutionGateway
from ticaret.wa.gateways.normalized import (
    ChatLabelChanged,
    ChatUpserted,
    ContactUpserted,
    MalformedEvent,
    MessageAck,
    MessageEdited,
    MessageRevoked,
    MessageUpserted,
    NormalizedMessage,
    QrUpdated,
    ReactionReceived,
    SessionStatusChanged,
    UnknownEvent,
)

PAYLOADS = Path(__file__).parent / "payloads"
GATEWAY = EvolutionGateway(
    httpx.AsyncClient(),
    GatewayConfig(
        base_url="https://evo.example.com",
        api_key="evo-global-key",
        instance="shop-main",
        webhook_url="https://ticaret.example/wa/provider-events/ps_123",
        webhook_secret="whsec_evo_1",
    ),
)


def load(name: str) -> tuple[Any, bytes]:
    raw = (PAYLOADS / name).read_bytes()
    return json.loads(raw), raw


def only_message(name: str) -> NormalizedMessage:
    (event,) = GATEWAY.parse_webhook(load(name)[0])
    assert isinstance(event, MessageUpserted)
    return event.message


def test_group_message_from_lid_with_reply_and_mention() -> None:
    message = only_message("evolution_upsert_group_lid_reply.json")

    assert message.chat_id == "120363041234567890@g.us"
    assert message.chat_type == "group"
    assert message.message_id == "3EB0A1B2C3D4E5F60718"
    assert message.from_me is False
    assert message.participant == "214365870912345@lid"
    assert message.sender_jid == "214365870912345@lid"
    assert message.sender_alt_jid == "905559998877@s.whatsapp.net"
    assert message.sender_phone == "905559998877"
    assert message.push_name == "Ayşe K."
    assert message.type == "text"
    assert message.text == "@905321112233 bu ürün stokta var mı?"
    assert message.mentions == ("905321112233@s.whatsapp.net",)
    assert message.quoted is not None
    assert message.quoted.message_id == "3EB0FFEE00112233AA"
    assert message.quoted.participant == "905321112233@s.whatsapp.net"
    assert message.quoted.text == "Yeni sezon çantalar geldi"
    assert message.ack == 2
    assert message.timestamp == datetime(2025, 5, 14, 10, 21, 7, tzinfo=UTC)


def test_direct_lid_chat_exposes_phone_alternative() -> None:
    message = only_message("evolution_upsert_direct_lid.json")

    assert message.chat_id == "98765432101234@lid"
    assert message.chat_type == "individual"
    assert message.sender_jid == "98765432101234@lid"
    assert message.sender_alt_jid == "905551234567@s.whatsapp.net"
    assert message.chat_alt_jid == "905551234567@s.whatsapp.net"
    assert message.sender_phone == "905551234567"


def test_image_message_keeps_media_reference_without_thumbnail() -> None:
    message = only_message("evolution_upsert_image.json")

    assert message.type == "image"
    assert message.has_media is True
    assert message.mimetype == "image/jpeg"
    assert message.text == "Bu modelden 2 tane"
    assert message.media["keyId"] == "3A7F0C1D2E3B4A5C6D7E"
    assert message.media["remoteJid"] == "905551234567@s.whatsapp.net"
    assert message.media["fileLength"] == 48213
    assert message.media["directPath"].startswith("/o1/v/t62")
    assert "jpegThumbnail" not in message.media


def test_location_and_contact_messages() -> None:
    location = only_message("evolution_upsert_location.json")
    contact = only_message("evolution_upsert_contact.json")

    assert location.type == "location"
    assert location.location is not None
    assert (location.location.latitude, location.location.longitude) == (41.0369, 28.985)
    assert location.location.name == "Taksim Meydanı"
    assert location.location.address == "Beyoğlu, İstanbul"
    assert contact.type == "contacts"
    assert len(contact.contacts) == 1
    assert "waid=905301112233" in contact.contacts[0]


def test_reaction_targets_the_reacted_message() -> None:
    (event,) = GATEWAY.parse_webhook(load("evolution_upsert_reaction.json")[0])

    assert isinstance(event, ReactionReceived)
    assert event.chat_id == "905551234567@s.whatsapp.net"
    assert event.target_message_id == "BAE5F3C2A1D0E9F8"
    assert event.emoji == "👍"
    assert event.sender_jid == "905551234567@s.whatsapp.net"
    assert event.from_me is False
    assert event.reaction_message_id == "3A0102030405060708EF"


def test_edit_and_revoke_protocol_messages() -> None:
    (edit,) = GATEWAY.parse_webhook(load("evolution_messages_edited.json")[0])
    (revoke,) = GATEWAY.parse_webhook(load("evolution_messages_edited_revoke.json")[0])

    assert isinstance(edit, MessageEdited)
    assert edit.message_id == "3A7F0C1D2E3B4A5C6D7E"
    assert edit.chat_id == "905551234567@s.whatsapp.net"
    assert edit.new_text == "Bu modelden 3 tane olsun"
    assert edit.edited_at is not None
    assert isinstance(revoke, MessageRevoked)
    assert revoke.message_id == "3A11223344556677AB"
    assert revoke.for_everyone is True


def test_revoke_arriving_inside_messages_upsert() -> None:
    body, _ = load("evolution_upsert_direct_lid.json")
    body["data"]["message"] = {
        "protocolMessage": {
            "key": {"remoteJid": "98765432101234@lid", "fromMe": False, "id": "AC5D0000"},
            "type": "REVOKE",
        }
    }
    (event,) = GATEWAY.parse_webhook(body)
    assert event == MessageRevoked(
        chat_id="98765432101234@lid",
        message_id="AC5D0000",
        from_me=False,
        revoked_at=datetime.fromtimestamp(1747218100, tz=UTC),
    )


def test_status_updates_map_to_waha_ack_scale() -> None:
    (read,) = GATEWAY.parse_webhook(load("evolution_messages_update_read.json")[0])
    (delivered,) = GATEWAY.parse_webhook(load("evolution_messages_update_delivered.json")[0])

    assert read == MessageAck(
        chat_id="905551234567@s.whatsapp.net",
        message_ids=("BAE5F3C2A1D0E9F8",),
        ack=3,
        from_me=True,
    )
    assert isinstance(delivered, MessageAck)
    assert delivered.ack == 2


def test_messages_delete_is_a_revoke() -> None:
    (event,) = GATEWAY.parse_webhook(load("evolution_messages_delete.json")[0])
    assert event == MessageRevoked(
        chat_id="120363041234567890@g.us",
        message_id="3EB0A1B2C3D4E5F60718",
        from_me=False,
        participant="214365870912345@lid",
    )


def test_send_message_is_our_own_api_message() -> None:
    message = only_message("evolution_send_message.json")
    assert message.from_me is True
    assert message.origin == "api"
    assert message.ack == 0
    assert message.push_name is None


def test_session_qr_contacts_chats_labels() -> None:
    (connection,) = GATEWAY.parse_webhook(load("evolution_connection_update.json")[0])
    (qr,) = GATEWAY.parse_webhook(load("evolution_qrcode_updated.json")[0])
    contacts = GATEWAY.parse_webhook(load("evolution_contacts_upsert.json")[0])
    (chat,) = GATEWAY.parse_webhook(load("evolution_chats_upsert.json")[0])
    (label,) = GATEWAY.parse_webhook(load("evolution_labels_association.json")[0])

    assert isinstance(connection, SessionStatusChanged)
    assert connection.state.status is SessionStatus.WORKING
    assert connection.state.me_jid == "905321112233@s.whatsapp.net"
    assert isinstance(qr, QrUpdated)
    assert qr.qr is not None
    assert qr.qr.startswith("2@")
    assert qr.qr_image is not None
    assert qr.qr_image.startswith("data:image/png;base64,")
    assert contacts == [
        ContactUpserted(
            jid="905551234567@s.whatsapp.net", push_name="Mehmet", phone="905551234567"
        ),
        ContactUpserted(jid="214365870912345@lid", push_name="Ayşe K.", lid="214365870912345@lid"),
    ]
    assert chat == ChatUpserted(
        chat_id="120363041234567890@g.us", chat_type="group", name="Toptan Alıcılar", unread_count=3
    )
    assert label == ChatLabelChanged(
        chat_id="905551234567@s.whatsapp.net", label_id="5", added=True
    )


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "not json object",
        [],
        {},
        {"event": 42},
        {"event": "messages.upsert"},
        {"event": "messages.upsert", "data": {"key": "oops"}},
        {"event": "messages.upsert", "data": [{"key": {"remoteJid": None}}]},
        {"event": "messages.update", "data": {"status": "READ"}},
        {"event": "connection.update", "data": []},
        {"event": "labels.association", "data": {"chatId": "x", "type": "toggle"}},
        {
            "event": "messages.upsert",
            "data": {
                "key": {"remoteJid": "a@s.whatsapp.net", "id": "1"},
                "message": {"reactionMessage": {"text": "👍"}},
            },
        },
    ],
)
def test_malformed_bodies_become_unknown_events(payload: Any) -> None:
    events = GATEWAY.parse_webhook(payload)
    assert events
    assert all(isinstance(event, UnknownEvent) for event in events)


def test_unhandled_event_type_is_unknown_not_malformed() -> None:
    (event,) = GATEWAY.parse_webhook({"event": "presence.update", "data": {"id": "x"}})
    assert isinstance(event, UnknownEvent)
    assert not isinstance(event, MalformedEvent)
    assert event.event_type == "presence.update"


def test_event_name_spellings_are_normalized() -> None:
    body, _ = load("evolution_send_message.json")
    body["event"] = "SEND_MESSAGE"
    (event,) = GATEWAY.parse_webhook(body)
    assert isinstance(event, MessageUpserted)


def test_event_key_is_stable_and_distinguishes_events() -> None:
    upsert, upsert_raw = load("evolution_upsert_image.json")
    read, read_raw = load("evolution_messages_update_read.json")
    delivered, delivered_raw = load("evolution_messages_update_delivered.json")
    label, label_raw = load("evolution_labels_association.json")

    assert GATEWAY.webhook_event_key(upsert, upsert_raw) == GATEWAY.webhook_event_key(
        json.loads(upsert_raw), upsert_raw
    )
    # A retry carries a new date_time but is the same event.
    retried = {**label, "date_time": "2025-05-14T10:30:00.000Z"}
    assert GATEWAY.webhook_event_key(retried, json.dumps(retried).encode()) == (
        GATEWAY.webhook_event_key(label, label_raw)
    )
    keys = {
        GATEWAY.webhook_event_key(upsert, upsert_raw),
        GATEWAY.webhook_event_key(read, read_raw),
        GATEWAY.webhook_event_key(delivered, delivered_raw),
        GATEWAY.webhook_event_key(label, label_raw),
    }
    assert len(keys) == 4
    assert GATEWAY.webhook_event_key(None, b"garbage").startswith("sha256:")


def test_api_key_is_stripped_and_never_parsed_into_events() -> None:
    body, _ = load("evolution_upsert_image.json")
    assert body["apikey"] == "EVO-INSTANCE-TOKEN-1234"

    cleaned = GATEWAY.sanitize_payload(body)

    assert "apikey" not in cleaned
    assert "EVO-INSTANCE-TOKEN-1234" not in json.dumps(cleaned)
    assert "EVO-INSTANCE-TOKEN-1234" not in repr(GATEWAY.parse_webhook(body))
    assert body["apikey"] == "EVO-INSTANCE-TOKEN-1234"  # the caller's dict is left alone


def test_verify_webhook_checks_registered_header() -> None:
    raw = b"{}"
    assert GATEWAY.verify_webhook({WEBHOOK_SECRET_HEADER: "whsec_evo_1"}, raw, "whsec_evo_1")
    assert GATEWAY.verify_webhook(
        {WEBHOOK_SECRET_HEADER.upper(): "whsec_evo_1"}, raw, "whsec_evo_1"
    )
    assert not GATEWAY.verify_webhook({WEBHOOK_SECRET_HEADER: "whsec_evo_2"}, raw, "whsec_evo_1")
    assert not GATEWAY.verify_webhook({"apikey": "whsec_evo_1"}, raw, "whsec_evo_1")
