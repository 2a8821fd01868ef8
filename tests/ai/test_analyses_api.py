"""The analyses as the operator's tools call them: the filtered list, one message's analysis,
the published retry, feedback; who may do what; other accounts' analyses stay invisible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import respx

from tests.ai.helpers import (
    CUSTOMER_JID,
    Shop,
    analysis,
    analysis_answer,
    analysis_url,
    chat_route,
    completion_with,
    customer_says,
    open_shop,
    use_openai,
)
from tests.helpers import add_member, assert_error, register
from tests.wa.helpers import create_session, share_and_accept


async def _shop_with_three_analyses(
    client: httpx.AsyncClient, run_jobs: Any
) -> tuple[Any, dict[str, str]]:
    shop = await open_shop(client)
    ids = {
        "stock": await customer_says(client, shop, "kırmızı saten elbise 38 var mı"),
        "hello": await customer_says(client, shop, "merhaba", phone="905550000011"),
        "price": await customer_says(client, shop, "bambu havlu fiyatı", phone="905550000012"),
    }
    await run_jobs()
    return shop, ids


async def test_the_list_filters_by_status_intent_match_chat_and_date(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, ids = await _shop_with_three_analyses(client, run_jobs)

    async def listed(**params: Any) -> list[str]:
        response = await client.get("/wa/ai-analyses", params=params, headers=shop.headers)
        assert response.status_code == 200, response.text
        return [row["messageId"] for row in response.json()["data"]["rows"]]

    assert await listed() == [ids["price"], ids["hello"], ids["stock"]]  # newest first
    assert await listed(intent="greeting") == [ids["hello"]]
    assert await listed(intent="price_question", status="completed") == [ids["price"]]
    assert await listed(matchStatus="high_confidence") == [ids["price"], ids["stock"]]
    assert await listed(remoteJid=CUSTOMER_JID) == [ids["stock"]]
    assert await listed(providerSessionId=shop.psid, status="failed") == []
    now = datetime.now(UTC)
    assert len(await listed(dateFrom=(now - timedelta(hours=1)).isoformat())) == 3
    assert await listed(dateTo=(now - timedelta(hours=1)).isoformat()) == []
    assert len(await listed(dateFrom="2020-01-01T00:00:00", dateTo="2100-01-01")) == 3

    page = await client.get("/wa/ai-analyses", params={"limit": 2}, headers=shop.headers)
    first = page.json()["data"]
    assert first["hasMore"] is True and len(first["rows"]) == 2
    rest = await client.get(
        "/wa/ai-analyses", params={"limit": 2, "cursor": first["nextCursor"]}, headers=shop.headers
    )
    assert [r["messageId"] for r in rest.json()["data"]["rows"]] == [ids["stock"]]
    assert rest.json()["data"]["hasMore"] is False

    bad = await client.get("/wa/ai-analyses", params={"intent": "dance"}, headers=shop.headers)
    assert_error(bad, 422, "validation_error")
    bad = await client.get("/wa/ai-analyses", params={"cursor": "x"}, headers=shop.headers)
    assert_error(bad, 400, "invalid_cursor")
    unknown = await client.get(
        "/wa/ai-analyses", params={"providerSessionId": "nope"}, headers=shop.headers
    )
    assert_error(unknown, 404, "session_not_found")


async def test_a_retry_queues_the_analysis_again_and_replaces_its_results(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, ids = await _shop_with_three_analyses(client, run_jobs)
    before = await analysis(client, shop, ids["stock"])
    # The published request: the session in the body.
    response = await client.post(
        f"{analysis_url(ids['stock'])}/retry",
        json={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert response.status_code == 200, response.text
    queued = response.json()["data"]
    assert queued["status"] == "pending" and queued["trigger"] == "retry"
    assert queued["attemptCount"] == 0 and queued["completedAt"] is None
    assert queued["productMatches"] == before["productMatches"]  # kept until replaced
    await run_jobs()
    after = await analysis(client, shop, ids["stock"])
    assert after["status"] == "completed" and after["attemptCount"] == 1
    assert after["id"] == before["id"] and int(after["entityVersion"]) > int(
        before["entityVersion"]
    )


async def test_a_running_analysis_cannot_be_retried(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop)
    retries: list[httpx.Response] = []
    message: list[str] = []

    async def answer_after_the_operator_pressed_retry(request: httpx.Request) -> httpx.Response:
        # While the model thinks, the operator presses retry.
        retries.append(
            await client.post(
                f"{analysis_url(message[0])}/retry",
                json={"providerSessionId": shop.psid},
                headers=shop.headers,
            )
        )
        return completion_with(analysis_answer())

    chat_route(openai_api).mock(side_effect=answer_after_the_operator_pressed_retry)
    message.append(await customer_says(client, shop, "mor keten gömlek M var mı"))
    await run_jobs()
    [retry] = retries
    assert_error(retry, 409, "analysis_in_progress")
    assert (await analysis(client, shop, message[0]))["status"] == "completed"


async def test_a_message_without_an_analysis_gets_its_first_on_retry(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from sqlalchemy import delete

    from ticaret.core.db import unit_of_work
    from ticaret.models import AiAnalysis

    shop = await open_shop(client)
    message_id = await customer_says(client, shop, "siyah deri kemer var mı")
    await run_jobs()
    async with unit_of_work() as session:  # a message from before analysis was on
        await session.execute(delete(AiAnalysis))
    missing = await client.get(
        analysis_url(message_id), params={"providerSessionId": shop.psid}, headers=shop.headers
    )
    assert_error(missing, 404, "analysis_not_found")
    response = await client.post(
        f"{analysis_url(message_id)}/retry",
        params={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert response.json()["data"]["trigger"] == "manual"
    await run_jobs()
    assert (await analysis(client, shop, message_id))["productMatches"][0]["sku"] == "KMR-001"


async def test_feedback_is_stored_with_what_was_judged(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, ids = await _shop_with_three_analyses(client, run_jobs)
    judged = await analysis(client, shop, ids["stock"])
    agent = await add_member(client, shop.owner, "agent")
    headers = {**agent.headers, "x-account-id": shop.owner.account_id}
    products = await client.get("/products", params={"q": "SIYAH SATEN ELBISE"}, headers=headers)
    right = products.json()["data"]["rows"][0]["id"]
    response = await client.post(
        f"{analysis_url(ids['stock'])}/feedback",
        json={
            "providerSessionId": shop.psid,
            "intentCorrect": True,
            "productCorrect": False,
            "correctProductId": right,
            "comment": "Müşteri siyahı kastediyordu",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    feedback = response.json()["data"]
    assert feedback["analysisId"] == judged["id"] and feedback["correctProductId"] == right
    assert feedback["judgedIntent"] == "stock_question"
    assert feedback["judgedProductIds"] == [m["productId"] for m in judged["productMatches"]]
    assert feedback["actorType"] == "user" and feedback["actorId"] == agent.user_id

    empty = await client.post(
        f"{analysis_url(ids['stock'])}/feedback",
        json={"providerSessionId": shop.psid},
        headers=headers,
    )
    assert_error(empty, 422, "validation_error")
    wrong_intent = await client.post(
        f"{analysis_url(ids['stock'])}/feedback",
        json={"providerSessionId": shop.psid, "correctIntent": "dance"},
        headers=headers,
    )
    assert_error(wrong_intent, 422, "validation_error")


async def test_viewers_read_and_agents_retry_and_give_feedback(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, ids = await _shop_with_three_analyses(client, run_jobs)
    viewer = await add_member(client, shop.owner, "viewer")
    headers = {**viewer.headers, "x-account-id": shop.owner.account_id}
    assert (await client.get("/wa/ai-analyses", headers=headers)).status_code == 200
    one = await client.get(
        analysis_url(ids["stock"]), params={"providerSessionId": shop.psid}, headers=headers
    )
    assert one.status_code == 200
    body = {"providerSessionId": shop.psid}
    retry = await client.post(f"{analysis_url(ids['stock'])}/retry", json=body, headers=headers)
    assert_error(retry, 403, "insufficient_role")
    feedback = await client.post(
        f"{analysis_url(ids['stock'])}/feedback",
        json={**body, "intentCorrect": True},
        headers=headers,
    )
    assert_error(feedback, 403, "insufficient_role")


async def test_another_accounts_messages_and_analyses_are_not_found(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop, ids = await _shop_with_three_analyses(client, run_jobs)
    other = await register(client)
    other_psid = (await create_session(client, other))["providerSessionId"]
    headers = {**other.headers, "x-account-id": other.account_id}
    listed = await client.get("/wa/ai-analyses", headers=headers)
    assert listed.json()["data"]["rows"] == []
    for psid in (shop.psid, other_psid):
        one = await client.get(
            analysis_url(ids["stock"]), params={"providerSessionId": psid}, headers=headers
        )
        assert one.status_code == 404
        retry = await client.post(
            f"{analysis_url(ids['stock'])}/retry", json={"providerSessionId": psid}, headers=headers
        )
        assert retry.status_code == 404
    feedback = await client.post(
        f"{analysis_url(ids['stock'])}/feedback",
        json={"providerSessionId": other_psid, "intentCorrect": False},
        headers=headers,
    )
    assert feedback.status_code == 404
    # The other account's catalog is not this one's: its product is not found here.
    products = await client.get("/products", headers=shop.headers)
    product_id = products.json()["data"]["rows"][0]["id"]
    own_message = await customer_says(client, Shop(other, other_psid), "merhaba")
    await run_jobs()
    foreign = await client.post(
        f"{analysis_url(own_message)}/feedback",
        json={"providerSessionId": other_psid, "correctProductId": product_id},
        headers=headers,
    )
    assert_error(foreign, 404, "product_not_found")


async def test_a_shared_session_is_analysed_once_per_account_with_its_own_catalog(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    partner = await register(client)
    await share_and_accept(client, shop.owner, partner, shop.psid)
    partner_headers = {**partner.headers, "x-account-id": partner.account_id}
    await client.post(
        "/products",
        json={"sku": "P-1", "name": "Kırmızı Saten Elbise (partner)", "price": "999.00"},
        headers=partner_headers,
    )
    message_id = await customer_says(client, shop, "kırmızı saten elbise var mı")
    await run_jobs()

    ours = await analysis(client, shop, message_id)
    theirs = await client.get(
        analysis_url(message_id), params={"providerSessionId": shop.psid}, headers=partner_headers
    )
    assert theirs.status_code == 200, theirs.text
    theirs_data = theirs.json()["data"]
    assert theirs_data["id"] != ours["id"]
    assert theirs_data["accountId"] == partner.account_id
    assert ours["productMatches"][0]["sku"] == "ELB-001"
    assert theirs_data["productMatches"][0]["sku"] == "P-1"
