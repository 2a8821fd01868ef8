"""The Connect360 send over HTTP: as the workspace and as the customer (found or created in
the CRM), replies, attachments, every language kept, the AI asked to answer; and the list
of messages, oldest to newest across pages."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from tests.conversations.helpers import (
    agent,
    assert_error,
    conversation,
    message_events,
    new_api,
    send,
    upload,
)


async def test_the_workspace_writes_in_three_languages_and_the_channel_gets_one(
    client: httpx.AsyncClient,
) -> None:
    api = await new_api(client)
    arabic = await conversation(api, language="ar")
    content = {"tr": "Merhaba", "en": "Hello from the support team.", "ar": "مرحبا"}
    sent = await send(api, arabic["id"], content=content, flags=["urgent", "urgent", "vip"])
    assert set(sent) == {"message"}  # no channel: no operation
    message = sent["message"]
    assert message["content"] == content
    assert message["language"] == "ar" and message["text"] == "مرحبا"
    assert message["role"] == "operator"
    assert message["sender"] == {
        "type": "workspace",
        "customerId": None,
        "actorType": "user",
        "actorId": api.caller.user_id,
    }
    assert message["flags"] == ["urgent", "vip"]
    assert message["conversationId"] == arabic["id"]
    assert message["attachments"] == [] and message["parentId"] is None
    assert message["functionCalls"] is None and message["cost"] is None
    assert message["operationId"] is None and message["source"] is None

    # Without a conversation language, the first language written is the channel's.
    plain = await conversation(api)
    first = (await send(api, plain["id"], content={"en": "Hi", "tr": "Selam"}))["message"]
    assert first["language"] == "en" and first["text"] == "Hi"
    # Languages with nothing in them are not kept; a message with no text at all is refused.
    trimmed = (await send(api, plain["id"], content={"tr": "", "ar": None, "en": "x"}))["message"]
    assert trimmed["content"] == {"en": "x"}
    empty = await api.response(
        "POST", f"/conversations/{plain['id']}/messages", json={"content": {"tr": "  "}}
    )
    assert_error(empty, 422, "empty_message")
    not_text = await api.response(
        "POST", f"/conversations/{plain['id']}/messages", json={"content": {"en": 5}}
    )
    assert_error(not_text, 422)
    bad_language = await api.response(
        "POST", f"/conversations/{plain['id']}/messages", json={"content": {"English!": "x"}}
    )
    assert_error(bad_language, 422)

    detail = await api.get(f"/conversations/{plain['id']}")
    assert detail["messageCount"] == 2
    assert detail["lastMessageAt"] == trimmed["createdAt"]


async def test_a_customer_is_created_then_found_by_external_id_email_and_phone(
    client: httpx.AsyncClient,
) -> None:
    api = await new_api(client)
    chat = await conversation(api, type="widget", channelIdentifier="example.com")
    url = f"/conversations/{chat['id']}/messages"

    async def as_customer(customer: dict[str, object], text: str) -> dict[str, object]:
        body = {
            "sender": "customer",
            "customer": customer,
            "content": {"en": text},
            "channelIdentifier": "example.com",
        }
        return dict((await api.post(url, json=body))["message"])

    first = await as_customer(
        {
            "externalId": "website_user_123",
            "name": "Jane Customer",
            "email": "jane@example.com",
            "metadata": {"plan": "pro"},
        },
        "I need help with my order.",
    )
    assert first["role"] == "user"
    customer_id = first["sender"]["customerId"]  # type: ignore[index]
    assert customer_id is not None
    assert first["channelIdentifier"] == "example.com"
    created = await api.get(f"/crm/customers/{customer_id}")
    assert created["title"] == "Jane Customer"
    assert created["emails"] == ["jane@example.com"]
    assert created["customFields"] == {"plan": "pro"}
    # The conversation had no customer: it has this one now.
    assert (await api.get(f"/conversations/{chat['id']}"))["customerId"] == customer_id

    again = await as_customer({"externalId": "website_user_123"}, "Any news?")
    assert again["sender"]["customerId"] == customer_id  # type: ignore[index]
    by_email = await as_customer({"email": "JANE@example.com", "name": "J."}, "Me again")
    assert by_email["sender"]["customerId"] == customer_id  # type: ignore[index]

    await api.patch(
        f"/crm/customers/{customer_id}",
        json={"phones": ["+90 555 444 33 22"], "entityVersion": created["entityVersion"]},
    )
    by_phone = await as_customer({"phone": "05554443322"}, "From my phone")
    assert by_phone["sender"]["customerId"] == customer_id  # type: ignore[index]
    # A new externalId with a known address lands on the same customer and is remembered.
    linked = await as_customer(
        {"externalId": "crm-42", "email": "jane@example.com"}, "From the other site"
    )
    assert linked["sender"]["customerId"] == customer_id  # type: ignore[index]
    mappings = await api.get("/crm/identity-mappings", params={"channel": "external"})
    assert sorted(m["value"] for m in mappings["rows"]) == ["crm-42", "website_user_123"]
    assert {m["customerId"] for m in mappings["rows"]} == {customer_id}

    stranger = await as_customer({"externalId": "someone-else", "name": "Bob"}, "Hi")
    assert stranger["sender"]["customerId"] != customer_id  # type: ignore[index]
    customers = await api.get("/crm/customers")
    assert len(customers["rows"]) == 2

    named = await api.post(
        url, json={"sender": "customer", "customerId": customer_id, "content": {"en": "x"}}
    )
    assert named["message"]["sender"]["customerId"] == customer_id
    unknown = await api.response(
        "POST",
        url,
        json={"sender": "customer", "customerId": str(uuid.uuid4()), "content": {"en": "x"}},
    )
    assert_error(unknown, 404)
    bad_email = await api.response(
        "POST",
        url,
        json={"sender": "customer", "customer": {"email": "nope"}, "content": {"en": "x"}},
    )
    assert_error(bad_email, 422)


async def test_replies_stay_in_their_conversation(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    chat = await conversation(api)
    other = await conversation(api)
    question = (await send(api, chat["id"], content={"en": "Question"}))["message"]
    answer = (await send(api, chat["id"], content={"en": "Answer"}, parentId=question["id"]))[
        "message"
    ]
    assert answer["parentId"] == question["id"]
    elsewhere = await api.response(
        "POST",
        f"/conversations/{other['id']}/messages",
        json={"content": {"en": "x"}, "parentId": question["id"]},
    )
    assert_error(elsewhere, 422, "parent_in_other_conversation")
    missing = await api.response(
        "POST",
        f"/conversations/{chat['id']}/messages",
        json={"content": {"en": "x"}, "parentId": str(uuid.uuid4())},
    )
    assert_error(missing, 404)
    assert (await api.get(f"/conversations/{other['id']}"))["messageCount"] == 0


async def test_attachments_are_sent_by_id_and_only_the_accounts_own(
    client: httpx.AsyncClient,
) -> None:
    api = await new_api(client)
    stranger = await new_api(client, "Stranger")
    chat = await conversation(api)
    document = await upload(api, b"%PDF-1.4 invoice", "fatura.pdf", "application/pdf")
    sent = await send(
        api, chat["id"], content={"en": "Attached is the document."}, attachmentIds=[document["id"]]
    )
    [attached] = sent["message"]["attachments"]
    assert attached == {
        "id": document["id"],
        "filename": "fatura.pdf",
        "contentType": "application/pdf",
        "size": 16,
        "createdAt": document["createdAt"],
    }
    # A file alone is a message.
    only_file = await send(api, chat["id"], attachmentIds=[document["id"]])
    assert only_file["message"]["text"] is None and only_file["message"]["content"] == {}

    theirs = await upload(stranger, b"secret", "secret.txt")
    foreign = await api.response(
        "POST",
        f"/conversations/{chat['id']}/messages",
        json={"content": {"en": "x"}, "attachmentIds": [theirs["id"]]},
    )
    assert_error(foreign, 404)
    assert "secret.txt" not in foreign.text
    page = await api.get(f"/conversations/{chat['id']}/messages")
    assert [len(m["attachments"]) for m in page["rows"]] == [1, 1]


async def test_a_send_asks_an_agent_to_answer_and_customer_messages_reach_the_agent(
    client: httpx.AsyncClient,
) -> None:
    api = await new_api(client)
    agent_id = await agent(api)
    chat = await conversation(api, agentId=agent_id)
    asked = await send(
        api, chat["id"], content={"en": "Can you help this customer?"}, ai={"agentId": agent_id}
    )
    await send(api, chat["id"], sender="customer", content={"en": "Hello?"})
    await api.patch(f"/conversations/{chat['id']}", json={"aiEnabled": False})
    await send(api, chat["id"], sender="customer", content={"en": "Anyone?"})
    created = await message_events(api.caller.account_id)
    assert [(e["role"], e["aiAgentId"], e["aiTrigger"]) for e in created] == [
        ("operator", agent_id, "requested"),
        ("user", agent_id, "auto"),
        ("user", None, None),
    ]
    assert created[0]["id"] == asked["message"]["id"]
    assert created[0]["conversationId"] == chat["id"]
    assert created[0]["conversationType"] == "api"
    stranger = await new_api(client, "Stranger")
    foreign = await api.response(
        "POST",
        f"/conversations/{chat['id']}/messages",
        json={"content": {"en": "x"}, "ai": {"agentId": await agent(stranger)}},
    )
    assert_error(foreign, 404, "agent_not_found")


async def test_channel_ids_must_name_the_conversations_channel(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    chat = await conversation(api, channelIdentifier="example.com")
    ok = await send(api, chat["id"], content={"en": "x"}, channelId="example.com")
    assert ok["message"]["text"] == "x"
    for body in (
        {"content": {"en": "x"}, "channelId": "other.com"},
        {"content": {"en": "x"}, "ai": {"agentId": str(uuid.uuid4()), "channelId": "other.com"}},
    ):
        response = await api.response("POST", f"/conversations/{chat['id']}/messages", json=body)
        assert_error(response, 422, "channel_mismatch")


async def test_a_retried_send_with_the_same_key_is_stored_once(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    chat = await conversation(api)
    url = f"/conversations/{chat['id']}/messages"
    key = {"Idempotency-Key": "send-1"}
    first = await api.post(url, json={"content": {"en": "Once"}}, headers=key)
    again = await api.post(url, json={"content": {"en": "Once"}}, headers=key)
    assert again == first
    changed = await api.response("POST", url, json={"content": {"en": "Twice"}}, headers=key)
    assert_error(changed, 409)
    assert (await api.get(f"/conversations/{chat['id']}"))["messageCount"] == 1


async def test_messages_list_oldest_to_newest_across_pages(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    chat = await conversation(api)
    texts = [f"m{i}" for i in range(5)]
    for text in texts:
        await send(api, chat["id"], content={"en": text})
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await api.get(f"/conversations/{chat['id']}/messages", params=params)
        seen += [m["text"] for m in page["rows"]]
        pages += 1
        cursor = page["nextCursor"]
        if not page["hasMore"]:
            break
    assert seen == texts
    assert pages == 3
    history = await api.get(f"/conversations/{chat['id']}/history")
    assert [h["content"] for h in history["history"]] == texts
    assert all(set(h) == {"role", "content", "createdAt"} for h in history["history"])


async def test_an_agents_reply_is_posted_with_its_function_calls_and_cost(
    client: httpx.AsyncClient,
) -> None:
    """What the agents domain calls (`post_message`) when a run answers."""
    from ticaret.conversations.service.messages import post_message
    from ticaret.core.db import unit_of_work

    api = await new_api(client)
    chat = await conversation(api)
    question = await send(api, chat["id"], sender="customer", content={"tr": "Mavi elbise var mı?"})
    calls = [
        {
            "name": "search_products",
            "arguments": {"query": "mavi elbise"},
            "result": {"products": [{"id": "p1", "name": "Mavi Elbise"}]},
        },
        {"name": "check_stock", "arguments": {"productId": "p1"}, "result": None},
    ]
    run_id = uuid.uuid4()
    async with unit_of_work() as session:
        reply, operation = await post_message(
            session,
            account_id=uuid.UUID(api.caller.account_id),
            conversation_id=uuid.UUID(chat["id"]),
            role="assistant",
            sender="workspace",
            content={"tr": "Evet, stokta var."},
            function_calls=calls,
            agent_run_id=run_id,
            cost=Decimal("0.0012"),
            tokens=321,
        )
        reply_id = str(reply.id)
    assert operation is None
    async with unit_of_work() as session:
        await post_message(
            session,
            account_id=uuid.UUID(api.caller.account_id),
            conversation_id=uuid.UUID(chat["id"]),
            role="assistant",
            sender="workspace",
            content={"tr": "Başka bir şey?"},
            cost=Decimal("0.0033"),
        )
    detail = await api.get(f"/conversations/{chat['id']}")
    assert detail["messageCount"] == 3
    assert detail["totalCost"] == "0.0045"
    history = (await api.get(f"/conversations/{chat['id']}/history"))["history"]
    assert [(h["role"], h["content"]) for h in history] == [
        ("user", "Mavi elbise var mı?"),
        ("assistant", "Evet, stokta var."),
        ("assistant", "Başka bir şey?"),
    ]
    assert history[1]["function_calls"] == calls
    assert "function_calls" not in history[0] and "function_calls" not in history[2]
    page = await api.get(f"/conversations/{chat['id']}/messages")
    reply_out = page["rows"][1]
    assert reply_out["id"] == reply_id
    assert reply_out["agentRunId"] == str(run_id)
    assert reply_out["tokens"] == 321 and reply_out["cost"] == "0.0012"
    assert reply_out["sender"] == {
        "type": "workspace",
        "customerId": None,
        "actorType": "ai",
        "actorId": None,
    }
    created = await message_events(api.caller.account_id)
    assert created[1]["agentRunId"] == str(run_id) and created[1]["aiAgentId"] is None
    assert question["message"]["role"] == "user"
