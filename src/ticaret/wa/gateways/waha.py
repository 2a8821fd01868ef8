"""WAHA (WhatsApp HTTP API) adapter.

Paths and bodies follow WAHA's controllers and DTOs (`src/api/*.controller.ts`,
`src/structures/*.dto.ts`): sessions under `/api/sessions`, auth under `/api/{session}/auth`,
sending under `/api/send*` with `session` in the body, message edits and deletes under
`/api/{session}/chats/{chatId}/messages/{messageId}`. Authentication is the `X-Api-Key` header.

Chats are sent as WAHA spells them (`@c.us`; we store `@s.whatsapp.net`, see `_jid`).
WAHA's own endpoints address a message by its serialized id `false_<chat>_<id>[_<participant>]`;
the methods here accept either that or a bare key id plus `from_me`/`participant`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ticaret.wa.gateways import waha_events
from ticaret.wa.gateways._jid import as_dict, as_str, as_waha_chat, bare_number, from_epoch
from ticaret.wa.gateways.addresses import safe_path
from ticaret.wa.gateways.base import (
    WEBHOOK_SECRET_HEADER,
    Capability,
    MediaInput,
    MessageRef,
    Pairing,
    SentMessage,
    WhatsAppGateway,
    lower_headers,
    secret_header_matches,
)
from ticaret.wa.gateways.errors import GatewayNotFound, GatewayRejected
from ticaret.wa.gateways.media import MediaStream
from ticaret.wa.gateways.normalized import GatewayEvent, SessionState

# `message.any` covers incoming and our own messages; subscribing to `message` as well would
# deliver every incoming message twice.
WEBHOOK_EVENTS = (
    "session.status",
    "message.any",
    "message.reaction",
    "message.ack",
    "message.revoked",
    "message.edited",
    "label.chat.added",
    "label.chat.deleted",
)
# The WAHA release that first accepted each event in a session's webhook config (WAHA's
# changelog and source history); an older release refuses the whole config when it names an
# event it does not know, so a session only subscribes what its server accepts.
EVENT_SINCE: dict[str, tuple[int, ...]] = {
    "session.status": (2023, 10, 15),
    "message.any": (2023, 7, 1),
    "message.ack": (2023, 8, 19),
    "message.revoked": (2023, 10, 12),
    "message.reaction": (2024, 3, 4),
    "label.chat.added": (2024, 8, 1),
    "label.chat.deleted": (2024, 8, 1),
    "message.edited": (2025, 6, 3),
}
# Assumed when the server does not say which release it is.
BASELINE_VERSION = (2023, 10, 15)
SEND_ROUTES = {
    "image": "/api/sendImage",
    "video": "/api/sendVideo",
    "audio": "/api/sendVoice",
    "document": "/api/sendFile",
}
FILES_PREFIX = "/api/files/"
# Our clock and the gateway's may differ; a reconciled message may look this much older.
CLOCK_SKEW_SECONDS = 60


class WahaGateway(WhatsAppGateway):
    provider: ClassVar[str] = "waha"
    api_key_header: ClassVar[str] = "X-Api-Key"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"forward", "edit", "pairing_code", "media_stream"}
    )

    @property
    def _session(self) -> str:
        return self._config.instance

    def _webhook_config(self, events: Sequence[str]) -> dict[str, Any]:
        return {
            "url": self._config.webhook_url,
            "events": list(events),
            # WAHA signs the raw body with this key (X-Webhook-Hmac, sha512) and also sends
            # the secret as a plain header, so either check works at the receiver.
            "hmac": {"key": self._config.webhook_secret},
            "customHeaders": [
                {"name": WEBHOOK_SECRET_HEADER, "value": self._config.webhook_secret}
            ],
        }

    # Session lifecycle -------------------------------------------------------------------

    async def server_version(self) -> tuple[int, ...] | None:
        """The WAHA release (`GET /api/server/version`; `/api/version` on older servers)."""
        for path in ("/api/server/version", "/api/version"):
            try:
                data = as_dict(await self._call("GET", path))
            except GatewayNotFound:
                continue
            except GatewayRejected:
                return None
            return parse_version(as_str(data.get("version")))
        return None

    async def webhook_events(self) -> list[str]:
        """The events we use that this server's release accepts."""
        return events_for_version(await self.server_version())

    async def create_session(self) -> SessionState:
        config = self._webhook_config(await self.webhook_events())
        data = as_dict(
            await self._call(
                "POST",
                "/api/sessions",
                json={
                    "name": self._session,
                    # Started explicitly by `start_session`, once our receiver is ready.
                    "start": False,
                    "config": {"webhooks": [config]},
                },
            )
        )
        return waha_events.session_state(as_str(data.get("status")) or "STOPPED", data.get("me"))

    async def register_webhook(self) -> None:
        # PUT replaces the session config, which only ever holds our webhook.
        config = self._webhook_config(await self.webhook_events())
        await self._call(
            "PUT",
            f"/api/sessions/{self.segment(self._session)}",
            json={"config": {"webhooks": [config]}},
        )

    async def start_session(self) -> None:
        await self._call("POST", f"/api/sessions/{self.segment(self._session)}/start")

    async def get_status(self) -> SessionState:
        data = as_dict(await self._call("GET", f"/api/sessions/{self.segment(self._session)}"))
        return waha_events.session_state(as_str(data.get("status")) or "STOPPED", data.get("me"))

    async def get_pairing(self, phone: str | None = None) -> Pairing:
        auth = f"/api/{self.segment(self._session)}/auth"
        if phone:
            data = as_dict(
                await self._call(
                    "POST", f"{auth}/request-code", json={"phoneNumber": bare_number(phone)}
                )
            )
            return Pairing(pairing_code=as_str(data.get("code")))
        # With `Accept: application/json` WAHA answers `{mimetype, data}` instead of the PNG.
        data = as_dict(
            await self._call(
                "GET",
                f"{auth}/qr",
                params={"format": "image"},
                headers={"Accept": "application/json"},
            )
        )
        image = as_str(data.get("data"))
        mimetype = as_str(data.get("mimetype")) or "image/png"
        return Pairing(
            qr_image=f"data:{mimetype};base64,{image}" if image else None,
            qr_value=as_str(data.get("value")),
        )

    async def logout(self) -> None:
        await self._call("POST", f"/api/sessions/{self.segment(self._session)}/logout")

    async def delete_session(self) -> None:
        await self._call("DELETE", f"/api/sessions/{self.segment(self._session)}")

    # Messages ----------------------------------------------------------------------------

    async def send_text(
        self,
        chat_id: str,
        text: str,
        reply_to: str | None = None,
        mentions: list[str] | None = None,
    ) -> SentMessage:
        chat_id = as_waha_chat(chat_id)
        body: dict[str, Any] = {"session": self._session, "chatId": chat_id, "text": text}
        if reply_to:
            # Current engines accept the bare key id as well as the serialized one.
            body["reply_to"] = reply_to
        if mentions:
            body["mentions"] = list(mentions)
        return self._sent(await self._call("POST", "/api/sendText", json=body))

    async def send_media(
        self, chat_id: str, media: MediaInput, reply_to: str | None = None
    ) -> SentMessage:
        chat_id = as_waha_chat(chat_id)
        file: dict[str, Any] = {"mimetype": media.mimetype}
        if media.filename:
            file["filename"] = media.filename
        if media.url:
            file["url"] = media.url
        else:
            file["data"] = base64.b64encode(media.data or b"").decode("ascii")
        body: dict[str, Any] = {"session": self._session, "chatId": chat_id, "file": file}
        if media.kind == "audio":
            # Voice notes must be Opus/OGG; WAHA converts whatever we have.
            body["convert"] = True
        elif media.caption:
            body["caption"] = media.caption
        if reply_to:
            body["reply_to"] = reply_to
        response = await self._call(
            "POST", SEND_ROUTES[media.kind], json=body, request_timeout=self._config.media_timeout
        )
        return self._sent(response)

    async def send_reaction(
        self,
        chat_id: str,
        message_id: str,
        emoji: str,
        from_me: bool,
        participant: str | None = None,
    ) -> None:
        chat_id = as_waha_chat(chat_id)
        await self._call(
            "PUT",
            "/api/reaction",
            json={
                "session": self._session,
                "messageId": waha_events.serialize_message_id(
                    chat_id, message_id, from_me, participant
                ),
                "reaction": emoji,
            },
        )

    def _message_path(self, chat_id: str, serialized_id: str) -> str:
        return (
            f"/api/{self.segment(self._session)}/chats/{self.segment(chat_id)}"
            f"/messages/{self.segment(serialized_id)}"
        )

    async def edit_message(self, chat_id: str, message_id: str, text: str) -> None:
        chat_id = as_waha_chat(chat_id)
        # Only our own messages can be edited.
        serialized = waha_events.serialize_message_id(chat_id, message_id, True, None)
        await self._call("PUT", self._message_path(chat_id, serialized), json={"text": text})

    async def delete_for_everyone(
        self, chat_id: str, message_id: str, from_me: bool, participant: str | None = None
    ) -> None:
        chat_id = as_waha_chat(chat_id)
        serialized = waha_events.serialize_message_id(chat_id, message_id, from_me, participant)
        await self._call("DELETE", self._message_path(chat_id, serialized))

    async def forward_message(
        self,
        to_chat_id: str,
        from_chat_id: str,
        message_id: str,
        from_me: bool = False,
        participant: str | None = None,
    ) -> SentMessage:
        to_chat_id, from_chat_id = as_waha_chat(to_chat_id), as_waha_chat(from_chat_id)
        serialized = waha_events.serialize_message_id(
            from_chat_id, message_id, from_me, participant
        )
        response = await self._call(
            "POST",
            "/api/forwardMessage",
            json={"session": self._session, "chatId": to_chat_id, "messageId": serialized},
        )
        return self._sent(response)

    async def mark_read(self, chat_id: str, messages: Sequence[MessageRef]) -> None:
        chat_id = as_waha_chat(chat_id)
        # `participant` applies to the whole call (NOWEB needs it in groups), so messages from
        # different group members are marked in one call per member.
        by_participant: dict[str | None, list[str]] = {}
        for ref in messages:
            serialized = waha_events.serialize_message_id(
                chat_id, ref.message_id, ref.from_me, ref.participant
            )
            by_participant.setdefault(ref.participant, []).append(serialized)
        if not by_participant:
            by_participant[None] = []  # no ids: WAHA marks the whole chat as seen
        for participant, ids in by_participant.items():
            body: dict[str, Any] = {"session": self._session, "chatId": chat_id}
            if ids:
                body["messageIds"] = ids
            if participant:
                body["participant"] = participant
            await self._call("POST", "/api/sendSeen", json=body)

    async def open_media(
        self,
        chat_id: str,
        message_id: str,
        media_ref: Mapping[str, Any],
        range_header: str | None = None,
    ) -> MediaStream:
        chat_id = as_waha_chat(chat_id)
        filename = as_str(media_ref.get("filename"))
        url = as_str(media_ref.get("url"))
        if url is None:
            # Not downloaded when the webhook fired (or the file expired): ask WAHA to fetch it.
            serialized = as_str(media_ref.get("messageId")) or message_id
            data = as_dict(
                await self._call(
                    "GET",
                    self._message_path(chat_id, serialized),
                    params={"downloadMedia": "true"},
                    request_timeout=self._config.media_timeout,
                )
            )
            url = as_str(as_dict(data.get("media")).get("url"))
            if url is None:
                raise GatewayNotFound(f"waha has no media for message {serialized}")
        target, with_api_key = self._media_target(url)
        return await self._stream_url(
            target, range_header, with_api_key=with_api_key, filename=filename
        )

    async def find_sent(
        self, chat_id: str, since: datetime, text: str | None, has_media: bool
    ) -> SentMessage | None:
        chat_id = as_waha_chat(chat_id)
        # `GET /api/{session}/chats/{chatId}/messages`: the chat's latest messages (WAMessage).
        data = await self._call(
            "GET",
            f"/api/{self.segment(self._session)}/chats/{self.segment(chat_id)}/messages",
            params={"limit": "50", "downloadMedia": "false"},
        )
        earliest = since.timestamp() - CLOCK_SKEW_SECONDS
        for item in data if isinstance(data, list) else []:
            record = as_dict(item)
            sent_at = from_epoch(record.get("timestamp"))
            if record.get("fromMe") is not True or sent_at is None:
                continue
            if sent_at.timestamp() < earliest or bool(record.get("hasMedia")) != has_media:
                continue
            if (as_str(record.get("body")) or None) != (text or None):
                continue
            return self._sent(record)
        return None

    def _media_target(self, url: str) -> tuple[str, bool]:
        """Where to fetch a WAHA media URL from, and whether our API key may go along."""
        path = urlsplit(url).path
        if path.startswith(FILES_PREFIX) and safe_path(path):
            # WAHA builds file URLs from its own idea of its base URL (often localhost);
            # the file lives on the gateway we talk to, so fetch it from there.
            return self._url(path), True
        if self.is_gateway_url(url):
            return url, True
        # S3 or another host: a presigned/public URL, and our key must not leak there.
        return url, False

    # Webhooks ----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        if not secret:
            return False
        signature = lower_headers(headers).get("x-webhook-hmac")
        if signature is not None:
            # A present but wrong signature is a rejection, not a reason to try the header.
            expected = hmac.new(secret.encode(), raw_body, hashlib.sha512).hexdigest()
            return hmac.compare_digest(signature.strip().lower().encode(), expected.encode())
        return secret_header_matches(headers, secret)

    def parse_webhook(self, payload: Any) -> list[GatewayEvent]:
        return waha_events.parse(payload)

    def webhook_event_key(self, payload: Any, raw_body: bytes) -> str:
        return waha_events.event_key(payload, raw_body)

    # Helpers -----------------------------------------------------------------------------

    def _sent(self, response: Any) -> SentMessage:
        # The answer is the engine's message: WEBJS `{id: {_serialized}}`, GOWS/WAHA
        # `{id: "true_..."}`, NOWEB the Baileys message `{key: {id}}`.
        data = as_dict(response)
        raw_id = data.get("id")
        serialized = as_str(raw_id) or as_str(as_dict(raw_id).get("_serialized"))
        key_id = as_str(as_dict(data.get("key")).get("id"))
        message_id = waha_events.bare_id(serialized) if serialized else key_id
        if message_id is None:
            raise GatewayRejected("waha send answered without a message id")
        return SentMessage(
            message_id=message_id,
            timestamp=from_epoch(data.get("timestamp") or data.get("messageTimestamp")),
            raw=data,
            provider_message_id=serialized,
        )


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """`2025.6.3` (or `2025.6.3-plus`) as (2025, 6, 3); None when it is not such a version."""
    if not text:
        return None
    parts: list[int] = []
    for part in text.strip().split(".")[:3]:
        digits = "".join(itertools.takewhile(str.isdigit, part))
        if not digits:
            return None
        parts.append(int(digits))
    return tuple(parts) if len(parts) >= 2 else None


def events_for_version(version: tuple[int, ...] | None) -> list[str]:
    release = version or BASELINE_VERSION
    return [e for e in WEBHOOK_EVENTS if EVENT_SINCE.get(e, BASELINE_VERSION) <= release]
