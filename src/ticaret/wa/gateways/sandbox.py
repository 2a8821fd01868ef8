"""A built-in gateway for development, demos and tests: no phone, no network.

A session pairs at once and every send succeeds with a generated WhatsApp-like id. What a
real gateway would push to our webhook (delivery acks, customer messages) is produced here
as WAHA-shaped webhook bodies, which the caller feeds through the ordinary inbox pipeline:
`follow_ups()` returns the acks the sends so far would cause, and `inbound_message_payload`
builds a customer message to inject.
"""

from __future__ import annotations

import base64
import secrets
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ticaret.wa.gateways import waha_events
from ticaret.wa.gateways._jid import bare_number
from ticaret.wa.gateways.base import (
    Capability,
    FollowUp,
    MediaInput,
    MessageRef,
    Pairing,
    SentMessage,
    WhatsAppGateway,
    secret_header_matches,
)
from ticaret.wa.gateways.media import MediaStream
from ticaret.wa.gateways.normalized import Ack, GatewayEvent, SessionState, SessionStatus

SANDBOX_ME_JID = "900000000000@s.whatsapp.net"
SANDBOX_ME_NAME = "Sandbox Shop"
SAMPLE_MEDIA_URL = "sandbox://sample.png"


def _sample_png() -> bytes:
    """A real 8x8 PNG, so clients can render what the media endpoint streams."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (8).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    rows = b"".join(b"\x00" + bytes([37, 211, 102]) * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


SAMPLE_PNG = _sample_png()


def new_message_id() -> str:
    # WhatsApp Web ids: 3EB0 + 16 upper-case hex characters.
    return "3EB0" + secrets.token_hex(8).upper()


def _envelope(session: str, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_sbx_{secrets.token_hex(12)}",
        "timestamp": int(time.time() * 1000),
        "event": event,
        "session": session,
        "me": {"id": SANDBOX_ME_JID, "pushName": SANDBOX_ME_NAME},
        "engine": "SANDBOX",
        "payload": payload,
    }


def inbound_message_payload(
    session: str,
    *,
    from_phone_or_jid: str,
    text: str | None,
    push_name: str | None = None,
    with_media: bool = False,
    reply_to: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A customer's message, shaped like WAHA's `message` webhook."""
    chat = (
        from_phone_or_jid
        if "@" in from_phone_or_jid
        else f"{bare_number(from_phone_or_jid)}@s.whatsapp.net"
    )
    key = message_id or new_message_id()
    payload: dict[str, Any] = {
        "id": f"false_{chat}_{key}",
        "timestamp": int(time.time()),
        "from": chat,
        "fromMe": False,
        "source": "app",
        "to": SANDBOX_ME_JID,
        "body": text,
        "hasMedia": with_media,
        "ack": int(Ack.DEVICE),
        "_data": {"notifyName": push_name} if push_name else {},
    }
    if with_media:
        payload["media"] = {"url": SAMPLE_MEDIA_URL, "mimetype": "image/png", "filename": None}
        payload["_data"]["type"] = "image"
    if reply_to:
        payload["replyTo"] = {"id": reply_to, "participant": SANDBOX_ME_JID, "body": None}
    return _envelope(session, "message", payload)


class SandboxGateway(WhatsAppGateway):
    provider: ClassVar[str] = "sandbox"
    api_key_header: ClassVar[str] = "X-Api-Key"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"forward", "edit", "pairing_code", "media_stream"}
    )
    # (server, device, read) ack delays in seconds; tests set them to zero.
    ack_delays: ClassVar[tuple[float, float, float]] = (0.3, 1.0, 3.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._follow_ups: list[FollowUp] = []

    def follow_ups(self) -> Sequence[FollowUp]:
        return tuple(self._follow_ups)

    @property
    def _session(self) -> str:
        return self._config.instance

    def _state(self) -> SessionState:
        return SessionState(
            status=SessionStatus.WORKING,
            raw="WORKING",
            me_jid=SANDBOX_ME_JID,
            me_name=SANDBOX_ME_NAME,
        )

    # Session lifecycle -------------------------------------------------------------------

    async def create_session(self) -> SessionState:
        return self._state()

    async def register_webhook(self) -> None:
        return None

    async def start_session(self) -> None:
        return None

    async def get_status(self) -> SessionState:
        return self._state()

    async def get_pairing(self, phone: str | None = None) -> Pairing:
        # Already "linked": there is nothing to scan.
        return Pairing(connected=True)

    async def logout(self) -> None:
        return None

    async def delete_session(self) -> None:
        return None

    # Messages ----------------------------------------------------------------------------

    def _sent(self, chat_id: str) -> SentMessage:
        message_id = new_message_id()
        self._queue_acks(chat_id, message_id)
        return SentMessage(
            message_id=message_id,
            timestamp=None,
            raw={"id": f"true_{chat_id}_{message_id}"},
            provider_message_id=f"true_{chat_id}_{message_id}",
        )

    def _queue_acks(self, chat_id: str, message_id: str) -> None:
        acks = (Ack.SERVER, Ack.DEVICE, Ack.READ)
        for ack, delay in zip(acks, self.ack_delays, strict=True):
            payload = {
                "id": f"true_{chat_id}_{message_id}",
                "from": SANDBOX_ME_JID,
                "to": chat_id,
                "fromMe": True,
                "ack": int(ack),
                "ackName": ack.name,
            }
            self._follow_ups.append(
                FollowUp(_envelope(self._session, "message.ack", payload), delay)
            )

    async def send_text(
        self,
        chat_id: str,
        text: str,
        reply_to: str | None = None,
        mentions: list[str] | None = None,
    ) -> SentMessage:
        return self._sent(chat_id)

    async def send_media(
        self, chat_id: str, media: MediaInput, reply_to: str | None = None
    ) -> SentMessage:
        return self._sent(chat_id)

    async def send_reaction(
        self,
        chat_id: str,
        message_id: str,
        emoji: str,
        from_me: bool,
        participant: str | None = None,
    ) -> None:
        return None

    async def edit_message(self, chat_id: str, message_id: str, text: str) -> None:
        return None

    async def delete_for_everyone(
        self, chat_id: str, message_id: str, from_me: bool, participant: str | None = None
    ) -> None:
        return None

    async def forward_message(
        self,
        to_chat_id: str,
        from_chat_id: str,
        message_id: str,
        from_me: bool = False,
        participant: str | None = None,
    ) -> SentMessage:
        return self._sent(to_chat_id)

    async def mark_read(self, chat_id: str, messages: Sequence[MessageRef]) -> None:
        return None

    async def open_media(
        self,
        chat_id: str,
        message_id: str,
        media_ref: Mapping[str, Any],
        range_header: str | None = None,
    ) -> MediaStream:
        data = SAMPLE_PNG
        inline = media_ref.get("data")
        if isinstance(inline, str):
            data = base64.b64decode(inline)
        mimetype = media_ref.get("mimetype")
        return MediaStream.from_bytes(
            data, mimetype if isinstance(mimetype, str) else "image/png", range_header
        )

    # Webhooks ----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        return secret_header_matches(headers, secret)

    def parse_webhook(self, payload: Any) -> list[GatewayEvent]:
        return waha_events.parse(payload)

    def webhook_event_key(self, payload: Any, raw_body: bytes) -> str:
        return waha_events.event_key(payload, raw_body)
