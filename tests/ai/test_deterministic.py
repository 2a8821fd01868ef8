"""The deterministic analyser, end to end: a fresh install without any key, a catalog imported
through /products/import, customers writing in through the sandbox gateway, and what the
operator reads back."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ai.helpers import (
    CUSTOMER,
    CUSTOMER_JID,
    analysis,
    analysis_url,
    customer_says,
    events,
    open_shop,
    put_settings,
)
from tests.helpers import assert_error


async def test_a_stock_question_gets_intent_match_draft_and_reply_without_any_key(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    message_id = await customer_says(client, shop, "mor renkli keten gömleğiniz kaldı mı? M lazım")
    await run_jobs()

    data = await analysis(client, shop, message_id)
    assert data["status"] == "completed"
    assert data["provider"] == "deterministic" and data["trigger"] == "auto"
    assert data["sourceType"] == "text" and data["providerSessionId"] == shop.psid
    assert data["remoteJid"] == CUSTOMER_JID and data["messageId"] == message_id
    assert data["intent"] == "stock_question" and data["action"] == "confirm_stock"
    assert data["entities"] == {
        "productName": "keten gömleğiniz",
        "color": "mor",
        "size": "M",
        "amount": None,
        "date": None,
    }
    best = data["productMatches"][0]
    assert best["sku"] == "GML-001" and best["matchStatus"] == "high_confidence"
    assert best["price"] == "749.90" and best["currency"] == "TRY"
    assert best["stockStatus"] == "in_stock" and best["stockQuantity"] == 8
    assert best["productUrl"] == "https://magaza.example.com/urun/gml-001"
    assert "749,90 TL" in data["suggestedReply"] and "Stokta mevcut" in data["suggestedReply"]
    assert data["attemptCount"] == 1 and data["completedAt"] and data["lastError"] is None
    assert data["usage"] == {} and data["openaiResponseId"] is None

    commerce = data["commerce"]
    assert commerce["stage"] == "interest" and commerce["orderReadiness"] == "incomplete"
    assert commerce["missingFields"] == ["quantity", "customer"]
    assert commerce["nextBestActions"] == ["confirm_stock", "link_customer"]
    [item] = commerce["orderDraft"]["items"]
    assert item["sku"] == "GML-001" and item["quantity"] == 1 and item["unitPrice"] == "749.90"
    assert item["variantNote"] == "Renk: mor, Beden: M" and item["variantRequired"] is False
    assert commerce["orderDraft"]["source"] == {
        "channel": "provider_whatsapp",
        "sourceId": shop.psid,
        "sourceType": "whatsapp_message",
        "threadId": CUSTOMER_JID,
        "messageId": message_id,
    }
    [event] = await events(shop.owner.account_id)
    assert event["type"] == "ai.analysis.completed" and event["actorType"] == "ai"
    assert event["data"]["id"] == data["id"] and event["data"]["intent"] == "stock_question"


@pytest.mark.parametrize(
    ("text", "sku"),
    [
        ("KIRMIZI SATEN ELBİSE 38 BEDEN VAR MI", "ELB-001"),  # capitals, dotted İ
        ("38 beden kirmizi saten elbise", "ELB-001"),  # size first, no diacritics
        ("siyah saten elbisenin 40 bedeni varmı", "ELB-002"),  # colour decides
        ("kırmızı elbse 38 varmı", "ELB-001"),  # a letter left out
        ("gomlk mor", "GML-001"),
        ("ayakabı 38 beyaz spor", "AYK-001"),
        ("Lacivert kazağı almak istiyorum L beden", "KZK-001"),  # kazağı -> kazak
        ("gunes gozlugu fiyati", "GZL-001"),  # gözlüğü -> gözlük
        ("oversize haki tshirt L var mi", "TSR-003"),  # tshirt is what the shop calls tişört
    ],
)
async def test_messages_written_the_way_customers_write_find_their_product(
    client: httpx.AsyncClient, run_jobs: Any, text: str, sku: str
) -> None:
    shop = await open_shop(client)
    message_id = await customer_says(client, shop, text)
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["productMatches"][0]["sku"] == sku, data["productMatches"]
    assert data["productMatches"][0]["matchStatus"] == "high_confidence"


async def test_an_order_with_quantity_and_size_asks_for_what_is_missing(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    message_id = await customer_says(client, shop, "2 tane beyaz tisort XL istiyorum")
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["intent"] == "order" and data["priority"] == "high"
    assert data["action"] == "collect_order_details"
    assert data["entities"]["amount"] == "2" and data["entities"]["size"] == "XL"
    commerce = data["commerce"]
    assert commerce["stage"] == "purchase" and commerce["missingFields"] == ["customer"]
    assert commerce["orderDraft"]["items"][0]["quantity"] == 2
    assert "create_order" in commerce["nextBestActions"]
    assert "ad soyad ve teslimat adresinizi" in data["suggestedReply"]


async def test_close_candidates_are_ambiguous_and_the_reply_offers_them(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    message_id = await customer_says(client, shop, "saten elbise fiyatı nedir")
    await run_jobs()
    data = await analysis(client, shop, message_id)
    top = {m["sku"] for m in data["productMatches"] if m["matchStatus"] == "ambiguous"}
    assert top == {"ELB-001", "ELB-002"}
    assert "product" in data["commerce"]["missingFields"]
    assert "Kırmızı Saten Elbise" in data["suggestedReply"]
    assert "Siyah Saten Elbise" in data["suggestedReply"]


async def test_a_product_the_shop_does_not_sell_is_no_match(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    message_id = await customer_says(client, shop, "bisiklet kaskı var mı")
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["productMatches"] == []
    assert data["commerce"]["missingFields"][0] == "product"
    assert "ask_product" in data["commerce"]["nextBestActions"]
    assert "bulamadım" in data["suggestedReply"]
    listed = await client.get(
        "/wa/ai-analyses", params={"matchStatus": "no_match"}, headers=shop.headers
    )
    assert [row["id"] for row in listed.json()["data"]["rows"]] == [data["id"]]


async def test_out_of_stock_and_missing_sizes_are_told_and_alternatives_suggested(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    gone = await customer_says(client, shop, "lacivert keten elbise M beden var mı")
    no_size = await customer_says(
        client, shop, "kırmızı saten elbise 46 beden var mı", phone="905550000046"
    )
    await run_jobs()

    data = await analysis(client, shop, gone)
    assert data["productMatches"][0]["stockStatus"] == "out_of_stock"
    assert "stock" in data["commerce"]["missingFields"]
    assert "suggest_alternatives" in data["commerce"]["nextBestActions"]
    assert "stokta yok" in data["suggestedReply"]

    data = await analysis(client, shop, no_size, jid="905550000046@s.whatsapp.net")
    assert data["productMatches"][0]["sku"] == "ELB-001"
    assert "46 bedeni bu üründe yok" in data["suggestedReply"]
    assert "mevcut bedenler: 36, 38, 40, 42" in data["suggestedReply"]


async def test_a_follow_up_takes_its_product_from_the_earlier_message(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    await customer_says(client, shop, "siyah deri bot var mı")
    await run_jobs()
    follow_up = await customer_says(client, shop, "39 numarası var mı")
    await run_jobs()
    data = await analysis(client, shop, follow_up)
    assert data["productMatches"][0]["sku"] == "AYK-002"
    assert data["entities"]["size"] == "39"
    assert "The product was named in an earlier message of the chat." in data["warnings"]
    assert data["input"]["contextMessages"] == 1


async def test_greetings_and_complaints_get_no_product_search(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    hello = await customer_says(client, shop, "Merhaba, iyi günler")
    angry = await customer_says(
        client, shop, "siparişim hala gelmedi rezalet", phone="905550000077"
    )
    await run_jobs()

    data = await analysis(client, shop, hello)
    assert data["intent"] == "greeting" and data["priority"] == "low"
    assert data["productMatches"] == [] and data["commerce"]["stage"] == "none"
    assert data["commerce"]["orderReadiness"] == "not_applicable"
    assert data["suggestedReply"].startswith("Merhaba")

    data = await analysis(client, shop, angry, jid="905550000077@s.whatsapp.net")
    assert data["intent"] == "complaint" and data["sentiment"] == "negative"
    assert data["priority"] == "urgent" and data["action"] == "escalate_to_human"
    assert data["commerce"]["stage"] == "support"
    assert data["commerce"]["nextBestActions"] == ["handle_complaint", "reply", "link_customer"]


async def test_a_photo_without_a_caption_is_skipped_when_no_vision_model_is_set(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client, catalog=False)
    message_id = await customer_says(client, shop, None, withMedia=True)
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["sourceType"] == "image"
    assert data["status"] == "skipped" and data["skipReason"] == "nothing_to_analyse"
    assert data["skippedAt"] and data["visualSearch"]["matchStatus"] == "not_searched"


async def test_the_chats_crm_customer_fills_the_order_draft(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    created = await client.post(
        "/crm/customers",
        json={"title": "Ayşe Yılmaz", "phones": [CUSTOMER], "address": "Moda Cad. 1, Kadıköy"},
        headers=shop.headers,
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["data"]["id"]
    message_id = await customer_says(client, shop, "2 adet siyah deri kemer 95 istiyorum")
    await run_jobs()  # the CRM links the chat by phone; the analysis reads the link
    retried = await client.post(
        f"{analysis_url(message_id)}/retry",
        json={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert retried.status_code == 200, retried.text
    await run_jobs()
    data = await analysis(client, shop, message_id)
    draft = data["commerce"]["orderDraft"]
    assert draft["customerId"] == customer_id
    assert data["commerce"]["missingFields"] == []
    assert data["commerce"]["orderReadiness"] == "ready"
    assert data["action"] == "create_order"


async def test_the_shops_own_messages_are_not_analysed(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client, catalog=False)
    await customer_says(client, shop, "merhaba")
    await run_jobs()
    sent = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        json={"providerSessionId": shop.psid, "action": "send_text", "text": "Hoş geldiniz"},
        headers=shop.headers,
    )
    assert sent.status_code == 202, sent.text
    await run_jobs()
    ours = sent.json()["data"]["message"]
    messages = await client.get(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        params={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    ours_now = next(m for m in messages.json()["data"]["rows"] if m["fromMe"])
    assert ours_now["text"] == ours["text"]
    response = await client.get(
        analysis_url(ours_now["messageId"]),
        params={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert_error(response, 404, "analysis_not_found")
    retry = await client.post(
        f"{analysis_url(ours_now['messageId'])}/retry",
        json={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert_error(retry, 422, "nothing_to_analyse")


async def test_with_automatic_analysis_off_messages_are_skipped_until_asked(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    await put_settings(client, shop, autoAnalyzeInbound=False)
    message_id = await customer_says(client, shop, "beyaz spor ayakkabı 40 numara var mı")
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["status"] == "skipped" and data["skipReason"] == "automation_off"
    assert data["productMatches"] == []

    retried = await client.post(
        f"{analysis_url(message_id)}/retry",
        json={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert retried.json()["data"]["status"] == "pending"
    assert retried.json()["data"]["trigger"] == "retry"
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["status"] == "completed" and data["skipReason"] is None
    assert data["productMatches"][0]["sku"] == "AYK-001"


async def test_auto_reply_answers_a_clear_question_and_leaves_orders_to_the_operator(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    await put_settings(client, shop, autoReply=True)
    asked = await customer_says(client, shop, "beyaz spor ayakkabı 40 numara var mı")
    await run_jobs()
    ordering = await customer_says(
        client, shop, "2 adet siyah deri kemer istiyorum", phone="905550000099"
    )
    await run_jobs()

    data = await analysis(client, shop, asked)
    operation_id = data["result"]["autoReply"]["operationId"]
    messages = await client.get(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        params={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    [reply] = [m for m in messages.json()["data"]["rows"] if m["fromMe"]]
    assert reply["text"] == data["suggestedReply"] and "1.599,00 TL" in reply["text"]
    assert reply["origin"]["actorType"] == "ai" and reply["origin"]["source"] == "ai"
    assert reply["origin"]["operationId"] == operation_id
    assert reply["status"] >= 1  # the sandbox gateway took it

    data = await analysis(client, shop, ordering, jid="905550000099@s.whatsapp.net")
    assert data["intent"] == "order" and "autoReply" not in data["result"]
    messages = await client.get(
        "/wa/chats/905550000099@s.whatsapp.net/messages",
        params={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert not [m for m in messages.json()["data"]["rows"] if m["fromMe"]]


async def test_a_very_long_message_is_analysed_from_its_beginning(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    text = "kırmızı saten elbise 38 var mı " + " ".join(f"kelime{n}" for n in range(6000))
    message_id = await customer_says(client, shop, text)
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["status"] == "completed"
    assert data["productMatches"][0]["sku"] == "ELB-001"
