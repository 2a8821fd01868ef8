"""Evolution API v2 (Baileys) adapter.

Paths and bodies follow Evolution's routers, JSON schemas and DTOs (`src/api/routes/*.router.ts`,
`src/validate/*.schema.ts`, `src/api/dto/*.dto.ts`). Every call authenticates with the global
`apikey` header; Evolution addresses chats by full JID in `number` (`createJid` keeps
`@s.whatsapp.net`, `@g.us` and `@lid` ids as they are).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ticaret.wa.gateways import evolution_events
from ticaret.wa.gateways._jid import as_dict, as_str, bare_number, from_epoch, is_group
from ticaret.wa.gateways.base import (
    WEBHOOK_SECRET_HEADER,
    Capability,
    MediaInput,
    MessageRef,
    Pairing,
    SentMessage,
    WhatsAppGateway,
    body_sha256,
    logger,
    secret_header_matches,
)
from ticaret.wa.gateways.errors import GatewayRejected, GatewayUnsupported
from ticaret.wa.gateways.media import MediaStream
from ticaret.wa.gateways.normalized import GatewayEvent, SessionState

# The events our receiver turns into something (see `evolution_events._HANDLERS`).
WEBHOOK_EVENTS = (
    "QRCODE_UPDATED",
    "CONNECTION_UPDATE",
    "MESSAGES_UPSERT",
    "MESSAGES_UPDATE",
    "MESSAGES_EDITED",
    "MESSAGES_DELETE",
    "SEND_MESSAGE",
    # An edit made through the API (ours or another client's) is confirmed by this one.
    "SEND_MESSAGE_UPDATE",
    "CONTACTS_UPSERT",
    "CONTACTS_UPDATE",
    "CHATS_UPSERT",
    "LABELS_ASSOCIATION",
)


class EvolutionGateway(WhatsAppGateway):
    provider: ClassVar[str] = "evolution"
    api_key_header: ClassVar[str] = "apikey"
    # Evolution v2 has no forward endpoint.
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"edit", "pairing_code", "media_stream"}
    )

    def _path(self, route: str) -> str:
        return f"/{route}/{self.segment(self._config.instance)}"

    # Session lifecycle -------------------------------------------------------------------

    async def create_session(self) -> SessionState:
        created = await self._call(
            "POST",
            "/instance/create",
            json={
                "instanceName": self._config.instance,
                "integration": "WHATSAPP-BAILEYS",
                # The QR is fetched by `get_pairing` when the user asks for it.
                "qrcode": False,
            },
        )
        await self.register_webhook()
        raw_state = as_str(as_dict(as_dict(created).get("instance")).get("status")) or "close"
        return evolution_events.session_state(raw_state)

    async def register_webhook(self) -> None:
        await self._call(
            "POST",
            self._path("webhook/set"),
            json={
                "webhook": {
                    "enabled": True,
                    "url": self._config.webhook_url,
                    "headers": {WEBHOOK_SECRET_HEADER: self._config.webhook_secret},
                    "byEvents": False,
                    # Media stays on the gateway and is streamed on demand by `open_media`.
                    "base64": False,
                    "events": list(WEBHOOK_EVENTS),
                }
            },
        )

    async def start_session(self) -> None:
        # `connect` opens the Baileys socket; a linked device reconnects without a QR.
        await self._connect(None)

    async def get_status(self) -> SessionState:
        data = as_dict(await self._call("GET", self._path("instance/connectionState")))
        raw_state = as_str(as_dict(data.get("instance")).get("state")) or "close"
        return evolution_events.session_state(raw_state)

    async def get_pairing(self, phone: str | None = None) -> Pairing:
        data = await self._connect(bare_number(phone) if phone else None)
        if as_str(as_dict(data.get("instance")).get("state")) == "open":
            return Pairing(connected=True)
        return Pairing(
            qr_image=as_str(data.get("base64")),
            qr_value=as_str(data.get("code")),
            pairing_code=as_str(data.get("pairingCode")),
        )

    async def _connect(self, number: str | None) -> dict[str, Any]:
        params = {"number": number} if number else None
        data = as_dict(await self._call("GET", self._path("instance/connect"), params=params))
        # `connectToWhatsapp` catches its own errors and answers 200 `{error: true, message}`.
        if data.get("error") is True:
            message = as_str(data.get("message")) or "connect failed"
            raise GatewayRejected(
                f"evolution connect: {message}",
                status_code=200,
                public="evolution GET /instance/connect answered with an error",
            )
        return data

    async def logout(self) -> None:
        await self._call("DELETE", self._path("instance/logout"))

    async def delete_session(self) -> None:
        await self._call("DELETE", self._path("instance/delete"))

    # Messages ----------------------------------------------------------------------------

    async def send_text(
        self,
        chat_id: str,
        text: str,
        reply_to: str | None = None,
        mentions: list[str] | None = None,
    ) -> SentMessage:
        body: dict[str, Any] = {"number": chat_id, "text": text}
        self._add_reply_and_mentions(body, chat_id, reply_to, mentions)
        return self._sent(await self._call("POST", self._path("message/sendText"), json=body))

    async def send_media(
        self, chat_id: str, media: MediaInput, reply_to: str | None = None
    ) -> SentMessage:
        source = media.url or base64.b64encode(media.data or b"").decode("ascii")
        body: dict[str, Any] = {"number": chat_id}
        if media.kind == "audio":
            # sendWhatsAppAudio converts to Opus and sends a voice note (ptt), which is what
            # a chat "audio" is; a music file meant as a file should go as a document.
            route = "message/sendWhatsAppAudio"
            body["audio"] = source
        else:
            route = "message/sendMedia"
            body.update({"mediatype": media.kind, "mimetype": media.mimetype, "media": source})
            if media.caption:
                body["caption"] = media.caption
            if media.filename:
                body["fileName"] = media.filename
        self._add_reply_and_mentions(body, chat_id, reply_to, None)
        response = await self._call(
            "POST", self._path(route), json=body, request_timeout=self._config.media_timeout
        )
        return self._sent(response)

    def _add_reply_and_mentions(
        self,
        body: dict[str, Any],
        chat_id: str,
        reply_to: str | None,
        mentions: list[str] | None,
    ) -> None:
        if reply_to:
            # Evolution resolves the quoted message from its own message store by key id;
            # with message storage disabled on the gateway the reply goes out unquoted.
            body["quoted"] = {"key": {"id": reply_to, "remoteJid": chat_id}}
        if mentions:
            # The schema wants bare numbers; Evolution rebuilds the JIDs (groups only).
            body["mentioned"] = [bare_number(jid) for jid in mentions]

    async def send_reaction(
        self,
        chat_id: str,
        message_id: str,
        emoji: str,
        from_me: bool,
        participant: str | None = None,
    ) -> None:
        key = self._key(chat_id, message_id, from_me, participant)
        await self._call(
            "POST", self._path("message/sendReaction"), json={"key": key, "reaction": emoji}
        )

    async def edit_message(self, chat_id: str, message_id: str, text: str) -> None:
        await self._call(
            "POST",
            self._path("chat/updateMessage"),
            json={
                "number": chat_id,
                "key": {"id": message_id, "remoteJid": chat_id, "fromMe": True},
                "text": text,
            },
        )

    async def delete_for_everyone(
        self, chat_id: str, message_id: str, from_me: bool, participant: str | None = None
    ) -> None:
        await self._call(
            "DELETE",
            self._path("chat/deleteMessageForEveryone"),
            json=self._key(chat_id, message_id, from_me, participant),
        )

    async def forward_message(
        self,
        to_chat_id: str,
        from_chat_id: str,
        message_id: str,
        from_me: bool = False,
        participant: str | None = None,
    ) -> SentMessage:
        raise GatewayUnsupported("Evolution API v2 has no endpoint to forward a message")

    async def mark_read(self, chat_id: str, messages: Sequence[MessageRef]) -> None:
        if not messages:
            return
        # Note: Evolution's markMessageAsRead silently skips chats it does not consider
        # phone-number or group JIDs (`isPnUser`), so `@lid` chats are not marked read.
        await self._call(
            "POST",
            self._path("chat/markMessageAsRead"),
            json={
                "readMessages": [
                    {"remoteJid": chat_id, "fromMe": ref.from_me, "id": ref.message_id}
                    for ref in messages
                ]
            },
        )

    async def open_media(
        self,
        chat_id: str,
        message_id: str,
        media_ref: Mapping[str, Any],
        range_header: str | None = None,
    ) -> MediaStream:
        filename = as_str(media_ref.get("fileName"))
        media_url = as_str(media_ref.get("mediaUrl"))
        if media_url and not self.media_url_allowed(media_url):
            # The webhook named a host we do not fetch from; the gateway still has the file.
            logger.warning("evolution mediaUrl on a host we do not fetch from: %s", media_url[:200])
            media_url = None
        if media_url:
            # With S3/MinIO storage on, Evolution uploads each media file and puts its URL
            # in the webhook: a real stream with Range support. The API key only goes to
            # the gateway itself, never to the storage host.
            return await self._stream_url(
                media_url,
                range_header,
                with_api_key=self.is_gateway_url(media_url),
                filename=filename,
            )
        # Otherwise Evolution only hands media out as one base64 JSON string
        # (getBase64FromMediaMessage), which it downloads and decrypts from WhatsApp on each
        # call. The whole file has to be read and decoded here; the Range is then applied to
        # the decoded bytes so the client still sees proper 206 answers.
        key: dict[str, Any] = {
            "id": as_str(media_ref.get("keyId")) or message_id,
            "remoteJid": as_str(media_ref.get("remoteJid")) or chat_id,
            "fromMe": media_ref.get("fromMe") is True,
        }
        data = as_dict(
            await self._call(
                "POST",
                self._path("chat/getBase64FromMediaMessage"),
                json={"message": {"key": key}, "convertToMp4": False},
                request_timeout=self._config.media_timeout,
            )
        )
        encoded = as_str(data.get("base64"))
        if encoded is None:
            raise GatewayRejected("evolution getBase64FromMediaMessage: no base64 in answer")
        try:
            content = base64.b64decode(encoded, validate=False)
        except (binascii.Error, ValueError):
            raise GatewayRejected("evolution getBase64FromMediaMessage: bad base64") from None
        return MediaStream.from_bytes(
            content,
            as_str(data.get("mimetype")) or as_str(media_ref.get("mimetype")),
            range_header,
            filename=as_str(data.get("fileName")) or filename,
        )

    # Webhooks ----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        # Evolution signs nothing; it replays the headers we registered with `webhook/set`.
        return secret_header_matches(headers, secret)

    def parse_webhook(self, payload: Any) -> list[GatewayEvent]:
        return evolution_events.parse(payload)

    def webhook_event_key(self, payload: Any, raw_body: bytes) -> str:
        if not isinstance(payload, dict):
            return "sha256:" + body_sha256(raw_body)
        return evolution_events.event_key(payload, raw_body)

    def sanitize_payload(self, payload: Any) -> Any:
        # Evolution echoes the instance token as `apikey` in every webhook body.
        return evolution_events.strip_secrets(payload)

    # Helpers -----------------------------------------------------------------------------

    @staticmethod
    def _key(
        chat_id: str, message_id: str, from_me: bool, participant: str | None
    ) -> dict[str, Any]:
        key: dict[str, Any] = {"id": message_id, "remoteJid": chat_id, "fromMe": from_me}
        # Baileys needs the author of someone else's group message to address it.
        if participant and is_group(chat_id):
            key["participant"] = participant
        return key

    def _sent(self, response: Any) -> SentMessage:
        data = as_dict(response)
        message_id = as_str(as_dict(data.get("key")).get("id"))
        if message_id is None:
            raise GatewayRejected("evolution send answered without key.id")
        return SentMessage(
            message_id=message_id,
            timestamp=from_epoch(data.get("messageTimestamp")),
            raw=evolution_events.strip_secrets(data),
        )
