import base64
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from ticaret.wa.gateways import (
    WEBHOOK_SECRET_HEADER,
    GatewayConfig,
    GatewayNotFound,
    GatewayRejected,
    GatewayUnavailable,
    GatewayUnsupported,
    MediaInput,
    MessageRef,
    SessionStatus,
)
from ticaret.wa.gateways.evolution import EvolutionGateway

BASE = "https://evo.example.com"
API_KEY = "evo-global-key-0123456789"
CONFIG = GatewayConfig(
    base_url=BASE,
    api_key=API_KEY,
    instance="shop-main",
    webhook_url="https://ticaret.example/wa/provider-events/ps_123",
    webhook_secret="whsec_evo_1",
)
CHAT = "905551234567@s.whatsapp.net"
GROUP = "120363041234567890@g.us"

# `prepareMessage` output Evolution returns from every /message/send* route.
SENT: dict[str, object] = {
    "key": {"remoteJid": CHAT, "fromMe": True, "id": "BAE5F3C2A1D0E9F8"},
    "pushName": "",
    "status": "PENDING",
    "message": {"conversation": "Merhaba"},
    "contextInfo": None,
    "messageType": "conversation",
    "messageTimestamp": 1747218600,
    "instanceId": "0b7c2a43-5f4e-4d2a-9a51-2c0f2e7d9a11",
    "source": "unknown",
}


@pytest.fixture
async def gateway() -> AsyncIterator[EvolutionGateway]:
    async with httpx.AsyncClient() as http:
        yield EvolutionGateway(http, CONFIG)


@pytest.fixture
def evo() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


def body_of(route: respx.Route) -> object:
    return json.loads(route.calls.last.request.content)


async def test_create_session_creates_instance_then_registers_webhook(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    create = evo.post("/instance/create").respond(
        201,
        json={
            "instance": {
                "instanceName": "shop-main",
                "instanceId": "0b7c2a43",
                "integration": "WHATSAPP-BAILEYS",
                "status": "close",
            },
            "hash": "INSTANCE-TOKEN",
            "settings": {"rejectCall": False},
        },
    )
    webhook = evo.post("/webhook/set/shop-main").respond(201, json={"id": "wh1"})

    state = await gateway.create_session()

    assert create.calls.last.request.headers["apikey"] == API_KEY
    assert body_of(create) == {
        "instanceName": "shop-main",
        "integration": "WHATSAPP-BAILEYS",
        "qrcode": False,
    }
    sent = body_of(webhook)
    assert isinstance(sent, dict)
    assert sent["webhook"]["url"] == CONFIG.webhook_url
    assert sent["webhook"]["enabled"] is True
    assert sent["webhook"]["base64"] is False
    assert sent["webhook"]["byEvents"] is False
    assert sent["webhook"]["headers"] == {WEBHOOK_SECRET_HEADER: "whsec_evo_1"}
    assert {"MESSAGES_UPSERT", "MESSAGES_UPDATE", "CONNECTION_UPDATE", "LABELS_ASSOCIATION"} <= set(
        sent["webhook"]["events"]
    )
    assert state.status is SessionStatus.STOPPED


async def test_status_and_pairing_map_connect_answers(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    evo.get("/instance/connectionState/shop-main").respond(
        200, json={"instance": {"instanceName": "shop-main", "state": "open"}}
    )
    connect = evo.get("/instance/connect/shop-main").respond(
        200,
        json={
            "pairingCode": "WZYEH1YY",
            "code": "2@y8eK+bjtEjUWy9/FOM...",
            "base64": "data:image/png;base64,iVBORw0KGgo=",
            "count": 1,
        },
    )

    state = await gateway.get_status()
    pairing = await gateway.get_pairing("+90 555 123 45 67")

    assert (state.status, state.raw) == (SessionStatus.WORKING, "open")
    assert connect.calls.last.request.url.params["number"] == "905551234567"
    assert pairing.pairing_code == "WZYEH1YY"
    assert pairing.qr_image == "data:image/png;base64,iVBORw0KGgo="
    assert pairing.qr_value == "2@y8eK+bjtEjUWy9/FOM..."
    assert not pairing.connected


async def test_pairing_when_already_open(gateway: EvolutionGateway, evo: respx.MockRouter) -> None:
    evo.get("/instance/connect/shop-main").respond(
        200, json={"instance": {"instanceName": "shop-main", "state": "open"}}
    )
    assert (await gateway.get_pairing()).connected


async def test_connect_error_body_is_rejected(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    evo.get("/instance/connect/shop-main").respond(
        200, json={"error": True, "message": "Error: Connection Closed"}
    )
    with pytest.raises(GatewayRejected, match="Connection Closed"):
        await gateway.start_session()


async def test_logout_and_delete_use_delete_routes(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    ok = {"status": "SUCCESS", "error": False, "response": {"message": "Instance logged out"}}
    logout = evo.delete("/instance/logout/shop-main").respond(200, json=ok)
    delete = evo.delete("/instance/delete/shop-main").respond(200, json=ok)
    await gateway.logout()
    await gateway.delete_session()
    assert logout.called
    assert delete.called


async def test_send_text_with_reply_and_mentions(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    route = evo.post("/message/sendText/shop-main").respond(
        201, json={**SENT, "key": {"remoteJid": GROUP, "fromMe": True, "id": "BAE5F3C2A1D0E9F8"}}
    )

    sent = await gateway.send_text(
        GROUP, "Merhaba", reply_to="3EB0FFEE00112233AA", mentions=["905559998877@s.whatsapp.net"]
    )

    assert body_of(route) == {
        "number": GROUP,
        "text": "Merhaba",
        "quoted": {"key": {"id": "3EB0FFEE00112233AA", "remoteJid": GROUP}},
        "mentioned": ["905559998877"],
    }
    assert sent.message_id == "BAE5F3C2A1D0E9F8"
    assert sent.timestamp is not None
    assert sent.timestamp.timestamp() == 1747218600


async def test_send_media_by_url_and_bytes(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    media = evo.post("/message/sendMedia/shop-main").respond(201, json=SENT)
    audio = evo.post("/message/sendWhatsAppAudio/shop-main").respond(201, json=SENT)

    await gateway.send_media(
        CHAT,
        MediaInput(
            kind="document",
            mimetype="application/pdf",
            url="https://cdn.example/fatura.pdf",
            filename="fatura.pdf",
            caption="Faturanız",
        ),
        reply_to="3A7F0C1D2E3B4A5C6D7E",
    )
    await gateway.send_media(CHAT, MediaInput(kind="audio", mimetype="audio/ogg", data=b"OggS\x00"))

    assert body_of(media) == {
        "number": CHAT,
        "mediatype": "document",
        "mimetype": "application/pdf",
        "media": "https://cdn.example/fatura.pdf",
        "caption": "Faturanız",
        "fileName": "fatura.pdf",
        "quoted": {"key": {"id": "3A7F0C1D2E3B4A5C6D7E", "remoteJid": CHAT}},
    }
    assert body_of(audio) == {"number": CHAT, "audio": base64.b64encode(b"OggS\x00").decode()}


async def test_reaction_edit_delete_and_read_bodies(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    reaction = evo.post("/message/sendReaction/shop-main").respond(201, json=SENT)
    edit = evo.post("/chat/updateMessage/shop-main").respond(201, json=SENT)
    delete = evo.delete("/chat/deleteMessageForEveryone/shop-main").respond(201, json=SENT)
    read = evo.post("/chat/markMessageAsRead/shop-main").respond(
        201, json={"message": "Read messages", "read": "success"}
    )

    await gateway.send_reaction(
        GROUP, "3EB0A1", "", from_me=False, participant="214365870912345@lid"
    )
    await gateway.edit_message(CHAT, "BAE5F3C2A1D0E9F8", "Düzeltme")
    await gateway.delete_for_everyone(CHAT, "BAE5F3C2A1D0E9F8", from_me=True)
    await gateway.mark_read(CHAT, [MessageRef("3A1", False), MessageRef("3A2", False)])

    assert body_of(reaction) == {
        "key": {
            "id": "3EB0A1",
            "remoteJid": GROUP,
            "fromMe": False,
            "participant": "214365870912345@lid",
        },
        "reaction": "",
    }
    assert body_of(edit) == {
        "number": CHAT,
        "key": {"id": "BAE5F3C2A1D0E9F8", "remoteJid": CHAT, "fromMe": True},
        "text": "Düzeltme",
    }
    assert body_of(delete) == {"id": "BAE5F3C2A1D0E9F8", "remoteJid": CHAT, "fromMe": True}
    assert body_of(read) == {
        "readMessages": [
            {"remoteJid": CHAT, "fromMe": False, "id": "3A1"},
            {"remoteJid": CHAT, "fromMe": False, "id": "3A2"},
        ]
    }


async def test_forward_is_reported_unsupported(gateway: EvolutionGateway) -> None:
    assert "forward" not in gateway.capabilities
    with pytest.raises(GatewayUnsupported):
        await gateway.forward_message(GROUP, CHAT, "3A1")


async def test_timeout_and_5xx_are_unavailable(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    evo.post("/message/sendText/shop-main").mock(side_effect=httpx.ConnectTimeout("timed out"))
    with pytest.raises(GatewayUnavailable, match="timed out"):
        await gateway.send_text(CHAT, "x")

    evo.post("/message/sendText/shop-main").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(GatewayUnavailable):
        await gateway.send_text(CHAT, "x")

    evo.post("/message/sendText/shop-main").respond(502, text="Bad Gateway")
    with pytest.raises(GatewayUnavailable) as info:
        await gateway.send_text(CHAT, "x")
    assert info.value.status_code == 502


async def test_4xx_carries_gateway_message_without_api_key(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    evo.post("/message/sendText/shop-main").respond(
        400,
        json={
            "status": 400,
            "error": "Bad Request",
            "response": {"message": [f"[{API_KEY}] number 905 is not on WhatsApp"]},
        },
    )
    with pytest.raises(GatewayRejected) as info:
        await gateway.send_text(CHAT, "x")
    error = info.value
    assert error.status_code == 400
    assert "is not on WhatsApp" in str(error)
    assert API_KEY not in str(error)
    assert error.body_excerpt is not None
    assert API_KEY not in error.body_excerpt


async def test_404_is_not_found(gateway: EvolutionGateway, evo: respx.MockRouter) -> None:
    evo.get("/instance/connectionState/shop-main").respond(
        404,
        json={
            "status": 404,
            "error": "Not Found",
            "response": {"message": ['The "shop-main" instance does not exist']},
        },
    )
    with pytest.raises(GatewayNotFound, match="does not exist"):
        await gateway.get_status()


async def test_open_media_from_base64_applies_range(
    gateway: EvolutionGateway, evo: respx.MockRouter
) -> None:
    content = bytes(range(256)) * 8
    route = evo.post("/chat/getBase64FromMediaMessage/shop-main").respond(
        201,
        json={
            "mediaType": "imageMessage",
            "fileName": "3A7F0C1D2E3B4A5C6D7E.jpeg",
            "caption": "Bu modelden 2 tane",
            "size": {"fileLength": "2048", "height": 1280, "width": 960},
            "mimetype": "image/jpeg",
            "base64": base64.b64encode(content).decode(),
        },
    )
    media_ref = {"keyId": "3A7F0C1D2E3B4A5C6D7E", "remoteJid": CHAT, "fromMe": False}

    stream = await gateway.open_media(CHAT, "3A7F0C1D2E3B4A5C6D7E", media_ref, "bytes=100-199")
    chunks = [chunk async for chunk in stream.aiter_bytes()]
    await stream.aclose()

    assert body_of(route) == {
        "message": {"key": {"id": "3A7F0C1D2E3B4A5C6D7E", "remoteJid": CHAT, "fromMe": False}},
        "convertToMp4": False,
    }
    assert stream.status_code == 206
    assert stream.content_range == "bytes 100-199/2048"
    assert stream.content_type == "image/jpeg"
    assert b"".join(chunks) == content[100:200]


async def test_open_media_from_an_operator_listed_s3_host_streams_without_api_key() -> None:
    # TICARET_WA__MEDIA_HOSTS names the bucket's host; any other host is not fetched from.
    config = dataclasses.replace(CONFIG, media_hosts=frozenset({"s3.example.com"}))

    async def body() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"def"

    with respx.mock(assert_all_called=True) as router:
        route = router.get("https://s3.example.com/evolution/shop-main/image.jpeg").mock(
            return_value=httpx.Response(
                206,
                headers={
                    "content-type": "image/jpeg",
                    "content-range": "bytes 0-5/9000",
                    "accept-ranges": "bytes",
                },
                content=body(),
            )
        )
        async with httpx.AsyncClient() as http:
            stream = await EvolutionGateway(http, config).open_media(
                CHAT,
                "3A7F",
                {"mediaUrl": "https://s3.example.com/evolution/shop-main/image.jpeg"},
                "bytes=0-5",
            )
            chunks = [chunk async for chunk in stream.aiter_bytes()]
            await stream.aclose()

    request = route.calls.last.request
    assert request.headers["range"] == "bytes=0-5"
    assert "apikey" not in request.headers
    assert b"".join(chunks) == b"abcdef"
    assert (stream.status_code, stream.content_range) == (206, "bytes 0-5/9000")
