"""One chat's and one message's assignment under `/wa/chats/...`, and the CRM filters of the
WhatsApp chat and message lists combined with `q`, labels and the keyset cursor."""

from __future__ import annotations

from typing import Any

import httpx

from tests.crm.helpers import Api, events, inbox, jid, register, team

PHONE = "905551112233"


async def test_a_chat_is_assigned_changed_and_unassigned_with_versions(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    group = await shop.owner.post("/crm/groups", json={"name": "Satış"})
    box = await inbox(shop.owner)
    await box.customer_writes(PHONE)
    await run_jobs()
    url = f"/wa/chats/{jid(PHONE)}/assignment"
    before = await shop.viewer.get(url, params=box.params)
    assert before["status"] == "unassigned" and before["entityVersion"] == "0"
    mine = await shop.agent.put(
        url,
        json={
            "providerSessionId": box.psid,
            "assigneeType": "user",
            "assigneeId": shop.agent.caller.user_id,
            "reason": "ilk temas",
            "entityVersion": "0",
        },
    )
    assert mine["status"] == "assigned" and mine["entityVersion"] == "1"
    assert mine["assignee"] == {
        "type": "user",
        "id": shop.agent.caller.user_id,
        "name": "Agent Member",
    }
    assert mine["assignedBy"] == {"type": "user", "id": shop.agent.caller.user_id}
    await shop.agent.error(
        "PUT",
        url,
        409,
        "version_conflict",
        json={
            "providerSessionId": box.psid,
            "assigneeType": "group",
            "assigneeId": group["id"],
            "entityVersion": "0",
        },
    )
    to_group = await shop.agent.put(
        url, json={"assigneeType": "group", "assigneeId": group["id"]}, params=box.params
    )
    assert to_group["assignee"]["name"] == "Satış"
    cleared = await shop.agent.delete(
        url, params={**box.params, "reason": "kapandı"}, headers={"If-Match": "2"}
    )
    assert cleared["status"] == "unassigned" and cleared["entityVersion"] == "3"
    changes = await events(shop.owner.caller.account_id, "crm.assignment.")
    assert [(e["data"]["fromAssignee"] or {}).get("type") for e in changes] == [
        None,
        "user",
        "group",
    ]
    assert changes[-1]["data"]["toAssignee"] is None and changes[-1]["data"]["reason"] == "kapandı"
    history = await shop.viewer.get("/crm/assignments/history", params={"remoteJid": jid(PHONE)})
    assert len(history["rows"]) == 3


async def test_chat_assignment_guards(client: httpx.AsyncClient, run_jobs: Any) -> None:
    shop = await team(client)
    other = Api(client, await register(client, name="Other"))
    their_group = await other.post("/crm/groups", json={"name": "Theirs"})
    box = await inbox(shop.owner)
    await box.customer_writes(PHONE)
    await run_jobs()
    url = f"/wa/chats/{jid(PHONE)}/assignment"
    body = {
        "providerSessionId": box.psid,
        "assigneeType": "user",
        "assigneeId": shop.agent.caller.user_id,
    }
    await shop.viewer.error("PUT", url, 403, json=body)
    await shop.viewer.error("DELETE", url, 403, params=box.params)
    await shop.agent.error(
        "PUT", url, 422, "invalid_assignee", json={**body, "assigneeId": other.caller.user_id}
    )
    await shop.agent.error(
        "PUT",
        url,
        422,
        "invalid_assignee",
        json={**body, "assigneeType": "group", "assigneeId": their_group["id"]},
    )
    await shop.agent.error(
        "PUT", url, 422, "validation_error", json={"providerSessionId": box.psid}
    )
    await shop.agent.error(
        "PUT", f"/wa/chats/{jid('905550000000')}/assignment", 404, "chat_not_found", json=body
    )
    for method, kwargs in (
        ("GET", {"params": box.params}),
        ("PUT", {"json": body}),
        ("DELETE", {"params": box.params}),
    ):
        await other.error(method, url, 404, "session_not_found", **kwargs)


async def test_a_message_follows_its_chat_until_it_has_its_own_assignment(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    box = await inbox(shop.owner)
    sent = await box.customer_writes(PHONE, "Fiyat?")
    await run_jobs()
    chat_url = f"/wa/chats/{jid(PHONE)}/assignment"
    url = f"/wa/chats/{jid(PHONE)}/messages/{sent['messageId']}/assignment"
    await shop.agent.put(
        chat_url,
        json={"assigneeType": "user", "assigneeId": shop.agent.caller.user_id},
        params=box.params,
    )
    followed = await shop.viewer.get(url, params=box.params)
    assert followed["scope"] == "chat" and followed["assignee"]["id"] == shop.agent.caller.user_id
    assert followed["entityVersion"] == "0"
    own = await shop.agent.put(
        url,
        json={
            "assigneeType": "user",
            "assigneeId": shop.owner.caller.user_id,
            "entityVersion": "0",
        },
        params=box.params,
    )
    assert own["scope"] == "message" and own["assignee"]["id"] == shop.owner.caller.user_id
    listed = await shop.viewer.get(f"/wa/chats/{jid(PHONE)}/messages", params=box.params)
    assert listed["rows"][0]["assignment"]["scope"] == "message"
    chat = await shop.viewer.get(f"/wa/chats/{jid(PHONE)}", params=box.params)
    assert chat["assignment"]["assignee"]["id"] == shop.agent.caller.user_id
    await shop.agent.error(
        "PUT",
        url,
        409,
        "version_conflict",
        json={
            "assigneeType": "user",
            "assigneeId": shop.agent.caller.user_id,
            "entityVersion": "0",
        },
        params=box.params,
    )
    back = await shop.agent.delete(url, params=box.params)
    assert back["scope"] == "chat" and back["entityVersion"] == "2"
    await shop.viewer.error(
        "PUT",
        url,
        403,
        json={"assigneeType": "user", "assigneeId": shop.agent.caller.user_id},
        params=box.params,
    )
    await shop.agent.error(
        "GET",
        f"/wa/chats/{jid(PHONE)}/messages/NOPE/assignment",
        404,
        "message_not_found",
        params=box.params,
    )
    other = Api(client, await register(client, name="Other"))
    await other.error("GET", url, 404, "session_not_found", params=box.params)
    await other.error("DELETE", url, 404, "session_not_found", params=box.params)
    await other.error(
        "PUT",
        url,
        404,
        "session_not_found",
        json={"assigneeType": "user", "assigneeId": other.caller.user_id},
        params=box.params,
    )
    await shop.agent.error(
        "PUT", url, 422, "validation_error", json={"assigneeType": "user"}, params=box.params
    )


async def test_message_list_filters_combine_with_search_labels_and_the_cursor(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    box = await inbox(shop.owner)
    ids = []
    for n in range(8):
        word = "kargo" if n % 2 else "fiyat"
        ids.append((await box.customer_writes(PHONE, f"{word} sorusu {n}"))["messageId"])
    await run_jobs()
    base = f"/wa/chats/{jid(PHONE)}/messages"
    # Messages of the same second keep the order the list gives them (then by id).
    order = [m["messageId"] for m in await shop.viewer.all_rows(base, **box.params)]

    def in_order(wanted: list[str]) -> list[str]:
        return [m for m in order if m in wanted]

    me = shop.agent.caller.user_id
    # The owner takes three messages; the agent the whole chat.
    for message_id in ids[:3]:
        await shop.owner.put(
            f"/wa/chats/{jid(PHONE)}/messages/{message_id}/assignment",
            json={"assigneeType": "user", "assigneeId": shop.owner.caller.user_id},
            params=box.params,
        )
    mine_before = await shop.agent.all_rows(base, **box.params, assignedToMe=True)
    assert mine_before == []
    await shop.agent.put(
        f"/wa/chats/{jid(PHONE)}/assignment",
        json={"assigneeType": "user", "assigneeId": me},
        params=box.params,
    )
    mine = await shop.agent.all_rows(base, **box.params, assignedToMe=True, limit=2)
    assert [m["messageId"] for m in mine] == in_order(ids[3:])
    owners = await shop.owner.all_rows(base, **box.params, assignedToMe=True, limit=2)
    assert [m["messageId"] for m in owners] == in_order(ids[:3])
    # Combined with full-text search and a label, page by page.
    label = await shop.owner.post("/wa/labels", json={"name": "Acil", "color": "#ff0000"})
    for message_id in ids:
        await shop.owner.post(
            f"/wa/chats/{jid(PHONE)}/messages/{message_id}/labels",
            json={"labelId": label["id"]},
            params=box.params,
            expect=200,
        )
    kargo_mine = await shop.agent.all_rows(
        base, **box.params, assignedToMe=True, q="kargo", labelId=label["id"], limit=1
    )
    assert [m["messageId"] for m in kargo_mine] == in_order([ids[7], ids[5], ids[3]])
    by_user = await shop.viewer.all_rows(
        base, **box.params, assignedUserId=shop.owner.caller.user_id, q="fiyat"
    )
    assert [m["messageId"] for m in by_user] == in_order([ids[2], ids[0]])
    assigned = await shop.viewer.all_rows(base, **box.params, assignmentStatus="assigned")
    assert len(assigned) == 8
    assert await shop.viewer.all_rows(base, **box.params, assignmentStatus="unassigned") == []
    # Identity status: nobody has the phone yet.
    assert len(await shop.viewer.all_rows(base, **box.params, crmIdentityStatus="unmatched")) == 8
    customer = await shop.agent.customer("Müşteri")
    await shop.agent.put(
        f"/wa/chats/{jid(PHONE)}/customer-link",
        json={"customerId": customer["id"]},
        params=box.params,
    )
    assert (
        len(
            await shop.viewer.all_rows(
                base, **box.params, customerId=customer["id"], q="fiyat", limit=3
            )
        )
        == 4
    )
    assert await shop.viewer.all_rows(base, **box.params, crmIdentityStatus="unmatched") == []
    other_customer = await shop.agent.customer("Başka")
    assert await shop.viewer.all_rows(base, **box.params, customerId=other_customer["id"]) == []
    await shop.viewer.error(
        "GET", base, 422, "validation_error", params={**box.params, "assignmentStatus": "maybe"}
    )


async def test_chat_list_filters_combine_with_search_and_labels(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    group = await shop.owner.post("/crm/groups", json={"name": "Destek"})
    await shop.owner.post(
        f"/crm/groups/{group['id']}/members", json={"userId": shop.agent.caller.user_id}, expect=200
    )
    box = await inbox(shop.owner)
    phones = [f"9055500000{n:02d}" for n in range(6)]
    for n, phone in enumerate(phones):
        await box.customer_writes(phone, name=f"Müşteri {n}")
    await run_jobs()
    me = shop.agent.caller.user_id
    for phone in phones[:2]:
        await shop.agent.put(
            f"/wa/chats/{jid(phone)}/assignment",
            json={"assigneeType": "user", "assigneeId": me},
            params=box.params,
        )
    for phone in phones[2:4]:
        await shop.agent.put(
            f"/wa/chats/{jid(phone)}/assignment",
            json={"assigneeType": "group", "assigneeId": group["id"]},
            params=box.params,
        )
    customer = await shop.agent.customer("Bağlı", phones=[phones[5]])
    await run_jobs()

    async def chats(api: Api = shop.agent, **params: Any) -> list[str]:
        rows = await api.all_rows("/wa/chats", **box.params, limit=1, **params)
        return [r["remoteJid"] for r in rows]

    assert set(await chats(assignedToMe=True)) == {jid(p) for p in phones[:2]}
    assert set(await chats(assignedToMyGroups=True)) == {jid(p) for p in phones[2:4]}
    assert await chats(shop.viewer, assignedToMyGroups=True) == []
    assert set(await chats(assignedGroupId=group["id"])) == {jid(p) for p in phones[2:4]}
    assert set(await chats(assignmentStatus="unassigned")) == {jid(p) for p in phones[4:]}
    assert await chats(assignedToMe=True, q="Müşteri 1") == [jid(phones[1])]
    assert await chats(customerId=customer["id"]) == [jid(phones[5])]
    assert await chats(crmIdentityStatus="matched") == [jid(phones[5])]
    assert len(await chats(crmIdentityStatus="unmatched")) == 5
    label = await shop.owner.post("/wa/labels", json={"name": "VIP", "color": "#00aa00"})
    await shop.owner.post(
        f"/wa/chats/{jid(phones[0])}/labels",
        json={"labelId": label["id"]},
        params=box.params,
        expect=200,
    )
    assert await chats(assignedToMe=True, labelId=label["id"]) == [jid(phones[0])]
    listed = await shop.agent.get("/wa/chats", params={**box.params, "assignedToMe": True})
    assert {r["assignment"]["assignee"]["id"] for r in listed["rows"]} == {me}
