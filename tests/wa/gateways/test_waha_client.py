import base64
import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from ticaret.wa.gateways import (
    WEBHOOK_SECRET_HEADER,
    GatewayConfig,
    GatewayRejected,
    GatewayUnavailable,
    MediaInput,
    MessageRef,
    SessionStatus,
)
from ticaret.wa.gateways.waha import WahaGateway

BASE = "https://waha.example.com"
API_KEY = "waha-key-abcdef0123"
SECRET = "whsec_waha_1"
CONFIG = GatewayConfig(
    base_url=BASE,
    api_key=API_KEY,
    instance="shop-main",
    webhook_url="https://ticaret.example/wa/provider-events/ps_456",
    webhook_secret=SECRET,
)
CHAT = "905551234567@c.us"
GROUP = "120363041234567890@g.us"
SENT = {
    "id": "true_905551234567@c.us_3EB0C0FFEE1234567890",
    "timestamp": 1747218600,
    "from": "905321112233@c.us",
    "fromMe": True,
    "to": CHAT,
    "body": "Merhaba",
    "hasMedia": False,
    "ack": 1,
}


@pytest.fixture
async def gateway() -> AsyncIterator[WahaGateway]:
    async with httpx.AsyncClient() as http:
        yield WahaGateway(http, CONFIG)


@pytest.fixture
def waha() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


def body_of(route: respx.Route) -> object:
    return json.loads(route.calls.last.request.content)


async def test_create_session_registers_webhook_with_hmac_and_header(
    gateway: WahaGateway, waha: respx.MockRouter
) -> None:
    route = waha.post("/api/sessions").respond(
        201, json={"name": "shop-main", "status": "STOPPED", "config": {}, "me": None}
    )
    waha.get("/api/server/version").respond(200, json={"version": "2025.6.3", "engine": "NOWEB"})

    state = await gateway.create_session()

    request = route.calls.last.request
    assert request.headers["x-api-key"] == API_KEY
    sent = body_of(route)
    assert isinstance(sent, dict)
    assert sent["name"] == "shop-main"
    assert sent["start"] is False
    (webhook,) = sent["config"]["webhooks"]
    assert webhook["url"] == CONFIG.webhook_url
    assert webhook["hmac"] == {"key": SECRET}
    assert webhook["customHeaders"] == [{"name": WEBHOOK_SECRET_HEADER, "value": SECRET}]
    assert "message.any" in webhook["events"]
    assert "message" not in webhook["events"]
    assert state.status is SessionStatus.STOPPED


async def test_lifecycle_routes(gateway: WahaGateway, waha: respx.MockRouter) -> None:
    start = waha.post("/api/sessions/shop-main/start").respond(
        201, json={"name": "shop-main", "status": "STARTING"}
    )
    waha.get("/api/sessions/shop-main").respond(
        200,
        json={
            "name": "shop-main",
            "status": "WORKING",
            "me": {"id": "905321112233@c.us", "pushName": "Ticaret Butik"},
        },
    )
    logout = waha.post("/api/sessions/shop-main/logout").respond(201, json={})
    delete = waha.delete("/api/sessions/shop-main").respond(200)
    webhook = waha.put("/api/sessions/shop-main").respond(200, json={"name": "shop-main"})
    # A server too old to say its version (no /api/server/version): the baseline events.
    waha.get("/api/server/version").respond(404, json={"statusCode": 404})
    waha.get("/api/version").respond(404, json={"statusCode": 404})

    await gateway.start_session()
    state = await gateway.get_status()
    await gateway.register_webhook()
    await gateway.logout()
    await gateway.delete_session()

    assert start.called
    assert state.status is SessionStatus.WORKING
    assert state.me_jid == "905321112233@c.us"
    assert logout.called
    assert delete.called
    baseline = ["session.status", "message.any", "message.ack", "message.revoked"]
    assert body_of(webhook) == {"config": {"webhooks": [gateway._webhook_config(baseline)]}}


async def test_pairing_qr_and_code(gateway: WahaGateway, waha: respx.MockRouter) -> None:
    qr = waha.get("/api/shop-main/auth/qr").respond(
        200, json={"mimetype": "image/png", "data": "iVBORw0KGgo="}
    )
    code = waha.post("/api/shop-main/auth/request-code").respond(201, json={"code": "ABCD-ABCD"})

    pairing = await gateway.get_pairing()
    by_phone = await gateway.get_pairing("+90 555 123 45 67")

    request = qr.calls.last.request
    assert request.url.params["format"] == "image"
    assert request.headers["accept"] == "application/json"
    assert pairing.qr_image == "data:image/png;base64,iVBORw0KGgo="
    assert body_of(code) == {"phoneNumber": "905551234567"}
    assert by_phone.pairing_code == "ABCD-ABCD"


async def test_send_text_maps_serialized_id(gateway: WahaGateway, waha: respx.MockRouter) -> None:
    route = waha.post("/api/sendText").respond(201, json=SENT)

    sent = await gateway.send_text(
        GROUP, "Merhaba", reply_to="3EB0FFEE00112233AA", mentions=["905559998877@c.us"]
    )

    assert body_of(route) == {
        "session": "shop-main",
        "chatId": GROUP,
        "text": "Merhaba",
        "reply_to": "3EB0FFEE00112233AA",
        "mentions": ["905559998877@c.us"],
    }
    assert sent.message_id == "3EB0C0FFEE1234567890"
    assert sent.provider_message_id == "true_905551234567@c.us_3EB0C0FFEE1234567890"


async def test_send_text_maps_noweb_key_answer(
    gateway: WahaGateway, waha: respx.MockRouter
) -> None:
    waha.post("/api/sendText").respond(
        201,
        json={
            "key": {"remoteJid": "905551234567@s.whatsapp.net", "fromMe": True, "id": "BAE5AA"},
            "messageTimestamp": "1747218600",
            "status": "PENDING",
        },
    )
    sent = await gateway.send_text(CHAT, "x")
    assert sent.message_id == "BAE5AA"
    assert sent.timestamp is not None


async def test_send_media_routes_by_kind(gateway: WahaGateway, waha: respx.MockRouter) -> None:
    image = waha.post("/api/sendImage").respond(201, json=SENT)
    voice = waha.post("/api/sendVoice").respond(201, json=SENT)
    file = waha.post("/api/sendFile").respond(201, json=SENT)

    await gateway.send_media(
        CHAT,
        MediaInput(
            kind="image", mimetype="image/jpeg", url="https://cdn.example/a.jpg", caption="A"
        ),
        reply_to="false_905551234567@c.us_3A7F",
    )
    await gateway.send_media(CHAT, MediaInput(kind="audio", mimetype="audio/ogg", data=b"OggS"))
    await gateway.send_media(
        CHAT,
        MediaInput(kind="document", mimetype="application/pdf", data=b"%PDF", filename="f.pdf"),
    )

    assert body_of(image) == {
        "session": "shop-main",
        "chatId": CHAT,
        "file": {"mimetype": "image/jpeg", "url": "https://cdn.example/a.jpg"},
        "caption": "A",
        "reply_to": "false_905551234567@c.us_3A7F",
    }
    assert body_of(voice) == {
        "session": "shop-main",
        "chatId": CHAT,
        "file": {"mimetype": "audio/ogg", "data": base64.b64encode(b"OggS").decode()},
        "convert": True,
    }
    assert body_of(file) == {
        "session": "shop-main",
        "chatId": CHAT,
        "file": {
            "mimetype": "application/pdf",
            "filename": "f.pdf",
            "data": base64.b64encode(b"%PDF").decode(),
        },
    }


async def test_message_actions_use_serialized_ids(
    gateway: WahaGateway, waha: respx.MockRouter
) -> None:
    reaction = waha.put("/api/reaction").respond(200, json={})
    edit = waha.put(
        "/api/shop-main/chats/905551234567@c.us/messages/true_905551234567@c.us_BAE5F3"
    ).respond(200, json={})
    delete = waha.delete(
        "/api/shop-main/chats/120363041234567890@g.us/messages/"
        "false_120363041234567890@g.us_3EB0A1_905559998877@c.us"
    ).respond(200, json={})
    forward = waha.post("/api/forwardMessage").respond(201, json=SENT)

    await gateway.send_reaction(CHAT, "3A7F", "❤️", from_me=False)
    await gateway.edit_message(CHAT, "BAE5F3", "Düzeltme")
    await gateway.delete_for_everyone(
        GROUP, "3EB0A1", from_me=False, participant="905559998877@c.us"
    )
    forwarded = await gateway.forward_message(GROUP, CHAT, "true_905551234567@c.us_BAE5F3")

    assert body_of(reaction) == {
        "session": "shop-main",
        "messageId": "false_905551234567@c.us_3A7F",
        "reaction": "❤️",
    }
    assert body_of(edit) == {"text": "Düzeltme"}
    assert delete.called
    assert body_of(forward) == {
        "session": "shop-main",
        "chatId": GROUP,
        "messageId": "true_905551234567@c.us_BAE5F3",
    }
    assert forwarded.message_id == "3EB0C0FFEE1234567890"


async def test_mark_read_groups_by_participant(
    gateway: WahaGateway, waha: respx.MockRouter
) -> None:
    route = waha.post("/api/sendSeen").respond(201, json={})

    await gateway.mark_read(
        GROUP,
        [
            MessageRef("A1", False, "905559998877@c.us"),
            MessageRef("A2", False, "905559998877@c.us"),
            MessageRef("B1", False, "905551112233@c.us"),
        ],
    )

    bodies = [json.loads(call.request.content) for call in route.calls]
    assert bodies == [
        {
            "session": "shop-main",
            "chatId": GROUP,
            "messageIds": [
                f"false_{GROUP}_A1_905559998877@c.us",
                f"false_{GROUP}_A2_905559998877@c.us",
            ],
            "participant": "905559998877@c.us",
        },
        {
            "session": "shop-main",
            "chatId": GROUP,
            "messageIds": [f"false_{GROUP}_B1_905551112233@c.us"],
            "participant": "905551112233@c.us",
        },
    ]


async def test_errors_map_to_hierarchy(gateway: WahaGateway, waha: respx.MockRouter) -> None:
    waha.post("/api/sendText").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(GatewayUnavailable):
        await gateway.send_text(CHAT, "x")

    waha.post("/api/sendText").respond(500, json={"statusCode": 500, "message": "engine crashed"})
    with pytest.raises(GatewayUnavailable, match="engine crashed"):
        await gateway.send_text(CHAT, "x")

    waha.post("/api/sendText").respond(
        422,
        json={
            "statusCode": 422,
            "message": "Session status is not as expected. Try again later or restart the session",
            "error": "Unprocessable Entity",
        },
    )
    with pytest.raises(GatewayRejected, match="Session status is not as expected") as info:
        await gateway.send_text(CHAT, "x")
    assert info.value.status_code == 422


async def test_open_media_rebases_files_url_and_passes_range(gateway: WahaGateway) -> None:
    async def body() -> AsyncIterator[bytes]:
        for part in (b"\xff\xd8", b"\xff\xe0", b"tail"):
            yield part

    url = "http://localhost:3000/api/files/shop-main/false_905551234567@c.us_3A7F.jpeg"
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{BASE}/api/files/shop-main/false_905551234567@c.us_3A7F.jpeg").mock(
            return_value=httpx.Response(
                206,
                headers={
                    "content-type": "image/jpeg",
                    "content-length": "8",
                    "content-range": "bytes 0-7/48213",
                    "accept-ranges": "bytes",
                },
                content=body(),
            )
        )
        stream = await gateway.open_media(
            CHAT, "3A7F", {"url": url, "mimetype": "image/jpeg"}, range_header="bytes=0-7"
        )
        chunks = [chunk async for chunk in stream.aiter_bytes()]
        await stream.aclose()

    request = route.calls.last.request
    assert request.headers["range"] == "bytes=0-7"
    assert request.headers["x-api-key"] == API_KEY
    assert b"".join(chunks) == b"\xff\xd8\xff\xe0tail"
    assert stream.status_code == 206
    assert stream.content_length == 8
    assert stream.content_range == "bytes 0-7/48213"
    assert stream.accept_ranges == "bytes"


async def test_open_media_downloads_when_not_in_webhook(
    gateway: WahaGateway, waha: respx.MockRouter
) -> None:
    # The bucket is a media host the operator listed (TICARET_WA__MEDIA_HOSTS); the fixture's
    # gateway, which lists none, refuses to fetch from it.
    listed = WahaGateway(
        httpx.AsyncClient(),
        dataclasses.replace(CONFIG, media_hosts=frozenset({"bucket.s3.example.com"})),
    )
    lookup = waha.get(
        "/api/shop-main/chats/905551234567@c.us/messages/false_905551234567@c.us_3A7F"
    ).respond(
        200,
        json={
            "id": "false_905551234567@c.us_3A7F",
            "hasMedia": True,
            "media": {"url": "https://bucket.s3.example.com/shop-main/3A7F.jpeg?X-Amz-Signature=x"},
        },
    )
    s3 = waha.get("https://bucket.s3.example.com/shop-main/3A7F.jpeg").respond(
        200, content=b"jpegbytes", headers={"content-type": "image/jpeg"}
    )

    with pytest.raises(GatewayRejected, match="host we do not fetch from"):
        await gateway.open_media(CHAT, "3A7F", {"messageId": "false_905551234567@c.us_3A7F"}, None)
    stream = await listed.open_media(
        CHAT, "3A7F", {"messageId": "false_905551234567@c.us_3A7F"}, None
    )
    data = b"".join([chunk async for chunk in stream.aiter_bytes()])
    await stream.aclose()

    assert lookup.calls.last.request.url.params["downloadMedia"] == "true"
    assert "x-api-key" not in s3.calls.last.request.headers
    assert data == b"jpegbytes"


def test_verify_webhook_hmac_and_header(gateway: WahaGateway) -> None:
    raw = b'{"id":"evt_1","event":"message","payload":{}}'
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha512).hexdigest()

    assert gateway.verify_webhook(
        {"X-Webhook-Hmac": signature, "X-Webhook-Hmac-Algorithm": "sha512"}, raw, SECRET
    )
    assert not gateway.verify_webhook({"X-Webhook-Hmac": "0" * 128}, raw, SECRET)
    # A wrong signature is not rescued by a correct plain header.
    assert not gateway.verify_webhook(
        {"x-webhook-hmac": "0" * 128, WEBHOOK_SECRET_HEADER: SECRET}, raw, SECRET
    )
    assert not gateway.verify_webhook({"X-Webhook-Hmac": signature}, raw + b" ", SECRET)
    assert gateway.verify_webhook({WEBHOOK_SECRET_HEADER.lower(): SECRET}, raw, SECRET)
    assert not gateway.verify_webhook({WEBHOOK_SECRET_HEADER: "nope"}, raw, SECRET)
    assert not gateway.verify_webhook({}, raw, SECRET)
    assert not gateway.verify_webhook({WEBHOOK_SECRET_HEADER: ""}, raw, "")
