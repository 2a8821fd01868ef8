from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import pytest

from ticaret.wa.gateways import (
    GatewayConfig,
    MediaInput,
    MediaStream,
    MessageRef,
    Pairing,
    SentMessage,
    WhatsAppGateway,
    gateway_for,
    providers,
    register_gateway,
    registry,
)
from ticaret.wa.gateways.evolution import EvolutionGateway
from ticaret.wa.gateways.normalized import GatewayEvent, SessionState, SessionStatus
from ticaret.wa.gateways.waha import WahaGateway

CONFIG = GatewayConfig(
    base_url="https://gw.example.com",
    api_key="super-secret-key",
    instance="shop-main",
    webhook_url="https://ticaret.example/wa/provider-events/ps_1",
    webhook_secret="whsec_1",
)


class EchoGateway(WhatsAppGateway):
    provider = "echo"
    api_key_header = "X-Echo"
    capabilities = frozenset()

    async def create_session(self) -> SessionState:
        return SessionState(SessionStatus.STOPPED, "new")

    async def register_webhook(self) -> None:
        return None

    async def start_session(self) -> None:
        return None

    async def get_status(self) -> SessionState:
        return SessionState(SessionStatus.WORKING, "ok")

    async def get_pairing(self, phone: str | None = None) -> Pairing:
        return Pairing(connected=True)

    async def logout(self) -> None:
        return None

    async def delete_session(self) -> None:
        return None

    async def send_text(
        self,
        chat_id: str,
        text: str,
        reply_to: str | None = None,
        mentions: list[str] | None = None,
    ) -> SentMessage:
        return SentMessage(message_id="1", timestamp=None, raw={"text": text})

    async def send_media(
        self, chat_id: str, media: MediaInput, reply_to: str | None = None
    ) -> SentMessage:
        return SentMessage(message_id="2", timestamp=None, raw={})

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
        return SentMessage(message_id="3", timestamp=None, raw={})

    async def mark_read(self, chat_id: str, messages: Sequence[MessageRef]) -> None:
        return None

    async def open_media(
        self,
        chat_id: str,
        message_id: str,
        media_ref: Mapping[str, Any],
        range_header: str | None = None,
    ) -> MediaStream:
        return MediaStream.from_bytes(b"echo", "text/plain", range_header)

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        return True

    def parse_webhook(self, payload: Any) -> list[GatewayEvent]:
        return []

    def webhook_event_key(self, payload: Any, raw_body: bytes) -> str:
        return "echo"


async def test_registry_builds_known_providers_and_accepts_new_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Keep the test's extra provider out of the process-wide registry.
    monkeypatch.setattr(registry, "_GATEWAYS", dict(registry._GATEWAYS))
    async with httpx.AsyncClient() as http:
        assert isinstance(gateway_for("evolution", http, CONFIG), EvolutionGateway)
        assert isinstance(gateway_for("waha", http, CONFIG), WahaGateway)
        with pytest.raises(ValueError, match="unknown"):
            gateway_for("nope", http, CONFIG)

        register_gateway("echo", EchoGateway)
        register_gateway("echo", EchoGateway)  # idempotent for the same class
        gateway = gateway_for("echo", http, CONFIG)
        assert isinstance(gateway, EchoGateway)
        assert (await gateway.send_text("1@c.us", "hi")).raw == {"text": "hi"}
        assert {"evolution", "waha", "echo"} <= providers()
        with pytest.raises(ValueError, match="already registered"):
            register_gateway("echo", WahaGateway)


def test_config_repr_hides_secrets() -> None:
    text = repr(CONFIG)
    assert "super-secret-key" not in text
    assert "whsec_1" not in text


def test_media_input_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        MediaInput(kind="image", mimetype="image/png")
    with pytest.raises(ValueError, match="exactly one"):
        MediaInput(kind="image", mimetype="image/png", url="https://x/y.png", data=b"x")


@pytest.mark.parametrize(
    ("range_header", "status", "content_range", "body"),
    [
        (None, 200, None, b"0123456789"),
        ("bytes=2-5", 206, "bytes 2-5/10", b"2345"),
        ("bytes=7-", 206, "bytes 7-9/10", b"789"),
        ("bytes=-3", 206, "bytes 7-9/10", b"789"),
        ("bytes=4-400", 206, "bytes 4-9/10", b"456789"),
        ("bytes=20-30", 416, "bytes */10", b""),
        ("items=1-2", 200, None, b"0123456789"),
    ],
)
async def test_in_memory_media_honours_ranges(
    range_header: str | None, status: int, content_range: str | None, body: bytes
) -> None:
    stream = MediaStream.from_bytes(b"0123456789", "application/octet-stream", range_header)
    async with stream:
        data = b"".join([chunk async for chunk in stream.aiter_bytes()])
    assert stream.status_code == status
    assert stream.content_range == content_range
    assert stream.content_length == len(body)
    assert data == body
