from __future__ import annotations

import abc
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

import httpx

from ticaret.core.http import RefusedTarget, describe_transport_error
from ticaret.wa.gateways.addresses import (
    base_url_refusal,
    is_whatsapp_media_host,
    origin_of,
    safe_path,
)
from ticaret.wa.gateways.errors import (
    GatewayNotFound,
    GatewayRejected,
    GatewayUnavailable,
    GatewayUnsupported,
    body_excerpt,
    gateway_message,
)
from ticaret.wa.gateways.media import MediaStream
from ticaret.wa.gateways.normalized import GatewayEvent, SessionState

logger = logging.getLogger("ticaret.wa.gateways")

# The header our receiver checks on every gateway call (Evolution `webhook.headers`,
# WAHA `customHeaders`); WAHA additionally signs the body with the same secret.
WEBHOOK_SECRET_HEADER = "X-Ticaret-Webhook-Secret"  # noqa: S105 (a header name)

MediaKind = Literal["image", "video", "audio", "document"]
Capability = Literal["forward", "edit", "pairing_code", "media_stream"]


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    base_url: str
    api_key: str | None
    instance: str
    webhook_url: str
    webhook_secret: str
    timeout: float = 15.0
    # Sending media makes the gateway download/upload the file before it answers.
    media_timeout: float = 120.0
    # Hosts besides the gateway and WhatsApp's media CDN that media may be fetched from (the
    # operator's S3/MinIO bucket a gateway uploads to).
    media_hosts: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        # Keep the API key and webhook secret out of logs and tracebacks.
        return (
            f"GatewayConfig(base_url={self.base_url!r}, instance={self.instance!r}, "
            f"webhook_url={self.webhook_url!r})"
        )


@dataclass(frozen=True, slots=True)
class Pairing:
    qr_image: str | None = None  # data:image/png;base64,...
    qr_value: str | None = None  # the raw string encoded in the QR
    pairing_code: str | None = None
    connected: bool = False  # the session is already linked; nothing to scan


@dataclass(frozen=True, slots=True)
class SentMessage:
    message_id: str
    timestamp: datetime | None
    raw: Mapping[str, Any]
    provider_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class MediaInput:
    kind: MediaKind
    mimetype: str
    url: str | None = None
    data: bytes | None = None
    filename: str | None = None
    caption: str | None = None

    def __post_init__(self) -> None:
        if (self.url is None) == (self.data is None):
            raise ValueError("MediaInput needs exactly one of url or data")


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Enough to address one message on either gateway (WhatsApp message keys need all three)."""

    message_id: str
    from_me: bool
    participant: str | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A webhook body the gateway posts to our receiver by itself, `delay` seconds later."""

    payload: dict[str, Any]
    delay: float


class WhatsAppGateway(abc.ABC):
    provider: ClassVar[str]
    api_key_header: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]

    def __init__(self, http: httpx.AsyncClient, config: GatewayConfig) -> None:
        self._http = http
        self._config = config

    @property
    def config(self) -> GatewayConfig:
        return self._config

    # Session lifecycle -------------------------------------------------------------------

    @abc.abstractmethod
    async def create_session(self) -> SessionState: ...

    @abc.abstractmethod
    async def register_webhook(self) -> None: ...

    @abc.abstractmethod
    async def start_session(self) -> None: ...

    @abc.abstractmethod
    async def get_status(self) -> SessionState: ...

    @abc.abstractmethod
    async def get_pairing(self, phone: str | None = None) -> Pairing: ...

    @abc.abstractmethod
    async def logout(self) -> None: ...

    @abc.abstractmethod
    async def delete_session(self) -> None: ...

    # Messages ----------------------------------------------------------------------------

    @abc.abstractmethod
    async def send_text(
        self,
        chat_id: str,
        text: str,
        reply_to: str | None = None,
        mentions: list[str] | None = None,
    ) -> SentMessage: ...

    @abc.abstractmethod
    async def send_media(
        self, chat_id: str, media: MediaInput, reply_to: str | None = None
    ) -> SentMessage: ...

    @abc.abstractmethod
    async def send_reaction(
        self,
        chat_id: str,
        message_id: str,
        emoji: str,
        from_me: bool,
        participant: str | None = None,
    ) -> None: ...

    @abc.abstractmethod
    async def edit_message(self, chat_id: str, message_id: str, text: str) -> None: ...

    @abc.abstractmethod
    async def delete_for_everyone(
        self, chat_id: str, message_id: str, from_me: bool, participant: str | None = None
    ) -> None: ...

    @abc.abstractmethod
    async def forward_message(
        self,
        to_chat_id: str,
        from_chat_id: str,
        message_id: str,
        from_me: bool = False,
        participant: str | None = None,
    ) -> SentMessage: ...

    @abc.abstractmethod
    async def mark_read(self, chat_id: str, messages: Sequence[MessageRef]) -> None: ...

    @abc.abstractmethod
    async def open_media(
        self,
        chat_id: str,
        message_id: str,
        media_ref: Mapping[str, Any],
        range_header: str | None = None,
    ) -> MediaStream: ...

    async def find_sent(
        self, chat_id: str, since: datetime, text: str | None, has_media: bool
    ) -> SentMessage | None:
        """Our message in the chat since `since` with this content, if the gateway still holds
        it: how a send whose answer was lost (the worker died mid-call) is reconciled. None when
        the gateway has no such message; `GatewayUnsupported` when it cannot tell."""
        raise GatewayUnsupported(f"{self.provider} cannot list a chat's recent messages")

    # Webhooks ----------------------------------------------------------------------------

    @abc.abstractmethod
    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool: ...

    @abc.abstractmethod
    def parse_webhook(self, payload: Any) -> list[GatewayEvent]: ...

    @abc.abstractmethod
    def webhook_event_key(self, payload: Any, raw_body: bytes) -> str: ...

    def sanitize_payload(self, payload: Any) -> Any:
        """The body as it may be stored or returned: gateway credentials removed."""
        return payload

    def follow_ups(self) -> Sequence[FollowUp]:
        """Webhooks the calls made so far will cause. A real gateway posts them over HTTP on its
        own; a built-in one (the sandbox) hands them here and the caller queues them into our
        inbox, so every gateway is used the same way."""
        return ()

    # Shared plumbing ---------------------------------------------------------------------

    @staticmethod
    def segment(value: str) -> str:
        # `@` and `:` are legal in a path segment; everything else odd gets escaped.
        return quote(value, safe="@:")

    def _url(self, path: str) -> str:
        # Checked on every call, not only when the session was saved: a base URL stored before
        # the check existed (or edited in the database) must not pick another path either.
        refusal = base_url_refusal(self._config.base_url)
        if refusal is not None:
            raise GatewayRejected(f"{self.provider} gateway address refused: {refusal}")
        return self._config.base_url.rstrip("/") + path

    def _auth_headers(self) -> dict[str, str]:
        if self._config.api_key:
            return {self.api_key_header: self._config.api_key}
        return {}

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._config.api_key, self._config.webhook_secret)

    def is_gateway_url(self, url: str) -> bool:
        """Only URLs on our configured gateway may receive the API key."""
        ours = origin_of(self._config.base_url)
        return ours is not None and ours == origin_of(url)

    def media_url_allowed(self, url: str) -> bool:
        """Media is fetched from the session's own gateway, WhatsApp's media CDN or a host the
        operator listed, never from wherever a webhook body says."""
        origin = origin_of(url)
        if origin is None:
            return False
        if origin == origin_of(self._config.base_url):
            # The raw path: httpx would resolve `..` before anything could see it.
            return safe_path(urlsplit(url).path)
        scheme, host, _ = origin
        if host in self._config.media_hosts:
            return True
        return scheme == "https" and is_whatsapp_media_host(host)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        request_timeout: float | None = None,
    ) -> Any:
        request = self._http.build_request(
            method,
            self._url(path),
            json=json,
            params=params,
            headers={**self._auth_headers(), **(headers or {})},
            timeout=request_timeout or self._config.timeout,
        )
        response = await self._send(request, stream=False)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        what = f"{self.provider} {request.method} {request.url.path}"
        try:
            response = await self._http.send(request, stream=stream)
        except httpx.TimeoutException:
            raise GatewayUnavailable(f"{what} timed out") from None
        except RefusedTarget as exc:
            # The SSRF guard's reason is ours (which address, why), never the target's words.
            raise GatewayRejected(f"{what}: {describe_transport_error(exc)}") from None
        except httpx.TransportError as exc:
            raise GatewayUnavailable(f"{what} failed: {type(exc).__name__}") from None
        if response.status_code < 400:
            return response
        if stream:
            await response.aread()
            await response.aclose()
        self._raise_for_status(response, what)
        return response

    def _raise_for_status(self, response: httpx.Response, what: str) -> None:
        secrets = self._secrets()
        status = response.status_code
        excerpt = body_excerpt(response.content, secrets)
        detail = gateway_message(response.content, secrets) or response.reason_phrase
        message = f"{what} -> {status}: {detail}"
        public = f"{what} -> HTTP {status}"
        logger.warning("gateway answered %s", message)
        if status == 404:
            raise GatewayNotFound(message, status_code=status, body_excerpt=excerpt, public=public)
        if status >= 500:
            raise GatewayUnavailable(
                message, status_code=status, body_excerpt=excerpt, public=public
            )
        raise GatewayRejected(message, status_code=status, body_excerpt=excerpt, public=public)

    async def _stream_url(
        self,
        url: str,
        range_header: str | None,
        *,
        with_api_key: bool,
        filename: str | None = None,
    ) -> MediaStream:
        if not self.media_url_allowed(url):
            raise GatewayRejected(
                f"{self.provider} named media on a host we do not fetch from: {url[:200]}",
                public=f"{self.provider} named media on a host we do not fetch from",
            )
        headers: dict[str, str] = self._auth_headers() if with_api_key else {}
        # The file's own bytes: with a compressed transfer the upstream Content-Length would
        # describe bytes we do not pass on. (If the upstream compresses anyway, the raw bytes
        # go out with their Content-Encoding, see `MediaStream.from_response`.)
        headers["Accept-Encoding"] = "identity"
        if range_header:
            headers["Range"] = range_header
        request = self._http.build_request(
            "GET",
            url,
            headers=headers,
            # Reading a large file may take long; only connecting must be quick.
            timeout=httpx.Timeout(self._config.media_timeout, connect=self._config.timeout),
        )
        response = await self._send(request, stream=True)
        return MediaStream.from_response(response, filename=filename)


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def secret_header_matches(headers: Mapping[str, str], secret: str) -> bool:
    if not secret:
        return False
    given = lower_headers(headers).get(WEBHOOK_SECRET_HEADER.lower())
    return given is not None and hmac.compare_digest(given.encode(), secret.encode())


def body_sha256(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()
