"""Delivery attempts against a real HTTP receiver on 127.0.0.1 (uvicorn + Starlette in a thread)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ticaret.core.http import close_http_client, guarded_transport
from ticaret.core.ssrf import OutboundPolicy
from ticaret.webhooks.sender import RESPONSE_EXCERPT_BYTES, AttemptResult, send_delivery
from ticaret.webhooks.signing import generate_secret

SECRET = generate_secret()
OLD_SECRET = generate_secret()
BODY = json.dumps({"id": "evt_1", "type": "webhook.test", "data": {"hello": "dünya"}}).encode()

received: list[dict[str, object]] = []


async def verify(request: Request) -> Response:
    raw = await request.body()
    headers = dict(request.headers)
    secret = request.query_params.get("secret", SECRET)
    try:
        payload = Webhook(secret).verify(raw, headers)
    except WebhookVerificationError as exc:
        return JSONResponse({"verified": False, "reason": str(exc)}, status_code=401)
    received.append({"headers": headers, "payload": payload})
    return JSONResponse({"verified": True}, headers={"x-receiver": "ok"})


async def fail(_: Request) -> Response:
    return PlainTextResponse("boom: database down", status_code=500)


async def gone(_: Request) -> Response:
    return PlainTextResponse("endpoint removed", status_code=410)


async def redirect(_: Request) -> Response:
    return Response(status_code=302, headers={"location": "http://169.254.169.254/latest"})


async def slow(_: Request) -> Response:
    await asyncio.sleep(3)
    return PlainTextResponse("too late")


async def big(_: Request) -> Response:
    return Response(b"A" * 1_000_000, media_type="text/plain")


async def endless(_: Request) -> Response:
    async def forever() -> AsyncIterator[bytes]:
        while True:
            yield b"B" * 65536
            await asyncio.sleep(0)

    return StreamingResponse(forever(), media_type="text/plain")


async def trickle(_: Request) -> Response:
    async def drip() -> AsyncIterator[bytes]:
        for _i in range(100):
            yield b"."
            await asyncio.sleep(0.1)

    return StreamingResponse(drip(), media_type="text/plain")


async def multibyte(_: Request) -> Response:
    # 4095 ASCII bytes then "ş" (2 bytes in UTF-8): the 4 KiB cut splits the character.
    return Response(("x" * 4095 + "ş" * 10).encode(), media_type="text/plain; charset=utf-8")


APP = Starlette(
    routes=[
        Route("/ok", verify, methods=["POST"]),
        Route("/fail", fail, methods=["POST"]),
        Route("/gone", gone, methods=["POST"]),
        Route("/redirect", redirect, methods=["POST"]),
        Route("/slow", slow, methods=["POST"]),
        Route("/big", big, methods=["POST"]),
        Route("/endless", endless, methods=["POST"]),
        Route("/trickle", trickle, methods=["POST"]),
        Route("/multibyte", multibyte, methods=["POST"]),
    ]
)


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(APP, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "receiver did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


Sender = httpx.AsyncClient | httpx.AsyncBaseTransport


@pytest.fixture(params=["client", "guarded transport"])
async def http(request: pytest.FixtureRequest) -> AsyncIterator[Sender]:
    """Every attempt behaves the same through a client and through the SSRF-guarded transport
    the delivery jobs use (private targets allowed here: the receiver is on 127.0.0.1)."""
    if request.param == "guarded transport":
        try:
            yield guarded_transport(OutboundPolicy(allow_private=True))
        finally:
            await close_http_client()
        return
    # trust_env=False: a proxy from the environment must not intercept calls to 127.0.0.1.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


async def _send(
    http: Sender,
    url: str,
    *,
    event_id: str = "evt_1",
    secrets: Sequence[str] = (SECRET,),
    timeout_s: float = 15.0,
    now: Callable[[], datetime] | None = None,
) -> AttemptResult:
    return await send_delivery(
        http, url=url, event_id=event_id, body=BODY, secrets=secrets, timeout_s=timeout_s, now=now
    )


async def test_signed_delivery_verified_by_reference_library(receiver: str, http: Sender) -> None:
    received.clear()
    result = await _send(http, f"{receiver}/ok", event_id="evt_stable")
    assert result.succeeded is True
    assert result.error is None
    assert result.response_status == 200
    assert json.loads(result.response_body_excerpt or "") == {"verified": True}
    assert result.response_headers is not None
    assert result.response_headers["x-receiver"] == "ok"
    assert 0 <= result.duration_ms < 5000
    # The receiver saw exactly what we recorded as sent.
    assert len(received) == 1
    sent = received[0]["headers"]
    assert isinstance(sent, dict)
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature", "content-type"):
        assert sent[name] == result.request_headers[name]
    assert sent["webhook-id"] == "evt_stable"
    assert sent["user-agent"] == "Ticaret-Webhooks/1.0"
    assert received[0]["payload"] == json.loads(BODY)


async def test_rotation_both_secrets_verify(receiver: str, http: Sender) -> None:
    for secret in (SECRET, OLD_SECRET):
        result = await _send(
            http, f"{receiver}/ok?secret={quote(secret, safe='')}", secrets=[SECRET, OLD_SECRET]
        )
        assert result.succeeded, result.response_body_excerpt


async def test_wrong_secret_is_rejected_by_receiver(receiver: str, http: Sender) -> None:
    result = await _send(http, f"{receiver}/ok", secrets=[generate_secret()])
    assert result.response_status == 401
    assert result.succeeded is False
    assert result.error is None


async def test_stale_clock_is_rejected_by_receiver(receiver: str, http: Sender) -> None:
    result = await _send(http, f"{receiver}/ok", now=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    assert result.request_headers["webhook-timestamp"] == str(
        int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
    )
    assert result.response_status == 401
    assert "too old" in (result.response_body_excerpt or "")


async def test_server_error_recorded(receiver: str, http: Sender) -> None:
    result = await _send(http, f"{receiver}/fail")
    assert result.response_status == 500
    assert result.response_body_excerpt == "boom: database down"
    assert result.succeeded is False
    assert result.error is None


async def test_gone_recorded(receiver: str, http: Sender) -> None:
    result = await _send(http, f"{receiver}/gone")
    assert (result.response_status, result.succeeded) == (410, False)


async def test_redirect_is_not_followed(receiver: str, http: Sender) -> None:
    result = await _send(http, f"{receiver}/redirect")
    assert result.response_status == 302
    assert result.response_headers is not None
    assert result.response_headers["location"] == "http://169.254.169.254/latest"
    assert result.succeeded is False


async def test_slow_receiver_times_out(receiver: str, http: Sender) -> None:
    started = time.monotonic()
    result = await _send(http, f"{receiver}/slow", timeout_s=0.5)
    assert time.monotonic() - started < 2
    assert result.error == "timeout after 0.5s"
    assert result.response_status is None
    assert result.response_body_excerpt is None
    assert result.succeeded is False
    assert 400 <= result.duration_ms < 2000


async def test_trickling_body_hits_the_overall_budget(receiver: str, http: Sender) -> None:
    # Every single read finishes well inside 0.5 s; only a whole-attempt budget stops this.
    started = time.monotonic()
    result = await _send(http, f"{receiver}/trickle", timeout_s=0.5)
    assert time.monotonic() - started < 2
    assert result.response_status == 200
    assert result.error == "timeout after 0.5s while reading the response body"
    assert result.succeeded is False
    # What arrived before the deadline is kept.
    assert result.response_body_excerpt is not None
    assert 1 <= len(result.response_body_excerpt) < 10
    assert set(result.response_body_excerpt) == {"."}


async def test_connection_refused(http: Sender) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = await _send(http, f"http://127.0.0.1:{port}/hook")
    assert result.error is not None
    assert result.error.startswith("connection refused: ")
    assert result.response_status is None
    assert result.response_headers is None
    assert result.succeeded is False
    # The request we tried to send is still recorded.
    assert result.request_headers["webhook-id"] == "evt_1"


async def test_big_body_is_cut_to_4_kib(receiver: str, http: Sender) -> None:
    result = await _send(http, f"{receiver}/big")
    assert result.succeeded is True
    assert result.response_body_excerpt == "A" * RESPONSE_EXCERPT_BYTES
    assert RESPONSE_EXCERPT_BYTES == 4096


async def test_endless_body_is_not_downloaded(receiver: str, http: Sender) -> None:
    # Reading the whole body would never finish; stopping at 4 KiB returns at once.
    result = await _send(http, f"{receiver}/endless", timeout_s=5)
    assert result.error is None
    assert result.succeeded is True
    assert result.response_body_excerpt == "B" * 4096
    assert result.duration_ms < 3000


async def test_excerpt_does_not_end_in_half_a_character(receiver: str, http: Sender) -> None:
    result = await _send(http, f"{receiver}/multibyte")
    assert result.response_body_excerpt == "x" * 4095


async def test_request_headers_hold_no_client_secrets(receiver: str) -> None:
    async with httpx.AsyncClient(
        trust_env=False, headers={"Authorization": "Bearer internal-token"}
    ) as client:
        result = await _send(client, f"{receiver}/ok")
    assert result.request_headers["authorization"] == "[redacted]"
    assert "internal-token" not in json.dumps(result.request_headers)
    assert SECRET not in json.dumps(result.request_headers)
    assert result.request_headers["webhook-signature"].startswith("v1,")


async def test_invalid_url_does_not_raise(http: Sender) -> None:
    result = await _send(http, "ftp://example.com/x")
    assert result.succeeded is False
    assert result.response_status is None
    assert result.error is not None
    # The guard refuses the scheme before any transport could.
    guarded = isinstance(http, httpx.AsyncBaseTransport)
    assert result.error.startswith("refused target:" if guarded else "invalid url")


async def test_the_guarded_transport_records_what_a_client_would_send(receiver: str) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        through_client = await _send(client, f"{receiver}/ok")
    try:
        through_transport = await _send(
            guarded_transport(OutboundPolicy(allow_private=True)), f"{receiver}/ok"
        )
    finally:
        await close_http_client()
    assert through_transport.succeeded and through_client.succeeded
    assert sorted(through_transport.request_headers) == sorted(through_client.request_headers)
    for name in ("host", "accept", "accept-encoding", "connection", "user-agent", "content-type"):
        assert through_transport.request_headers[name] == through_client.request_headers[name]


async def test_the_guarded_transport_refuses_a_private_target(receiver: str) -> None:
    try:
        result = await _send(guarded_transport(OutboundPolicy()), f"{receiver}/ok")
    finally:
        await close_http_client()
    assert result.succeeded is False and result.response_status is None
    assert result.error is not None and result.error.startswith("refused target:")


def _self_signed() -> tuple[bytes, bytes]:
    """A certificate for localhost / 127.0.0.1 and its key (PEM), made for this test."""
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
async def tls_receiver(tmp_path: Path) -> AsyncIterator[tuple[str, bytes, list[list[bytes]]]]:
    """An HTTPS receiver on 127.0.0.1 answering 200 "ok" to each request; yields its base URL,
    its certificate (PEM) and, per connection it accepted, the request bodies it got."""
    import ssl

    cert_pem, key_pem = _self_signed()
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    bodies: list[list[bytes]] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection: list[bytes] = []
        bodies.append(connection)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                connection.append(await reader.readexactly(length))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"https://localhost:{port}", cert_pem, bodies
        server.close()


async def test_the_guarded_transport_speaks_tls(
    tls_receiver: tuple[str, bytes, list[list[bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    from ticaret.core import http as outbound

    url, cert_pem, bodies = tls_receiver
    policy = OutboundPolicy(allow_private=True)
    try:
        # With the real CA bundle, the self-signed receiver is refused (verification is on)...
        refused = await _send(guarded_transport(policy), f"{url}/hook")
        assert refused.succeeded is False and refused.response_status is None
        assert refused.error is not None and refused.error.startswith("tls error:")
        assert all(connection == [] for connection in bodies)
        bodies.clear()
        await close_http_client()
        # ...and trusted, it gets the signed body over TLS, twice on one kept-alive connection.
        trusting = ssl.create_default_context(cadata=cert_pem.decode())
        monkeypatch.setattr(outbound, "_ssl", trusting)
        transport = guarded_transport(policy)
        for _ in range(2):
            result = await _send(transport, f"{url}/hook")
            assert result.succeeded is True and result.response_status == 200
            assert result.response_body_excerpt == "ok"
    finally:
        await close_http_client()
    assert bodies == [[BODY, BODY]]
