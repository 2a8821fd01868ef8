"""Assigning chats and messages: in bulk (one transaction, history and events per chat), the
history, and who can be an assignee."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.crm.helpers import Api, events, inbox, jid, register, team

PHONES = [f"90555{n:07d}" for n in range(500)]


async def test_bulk_assign_of_500_chats_is_one_request_with_500_history_rows(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    box = await inbox(shop.owner)
    started = time.monotonic()
    for phone in PHONES:
        await box.customer_writes(phone, name=None)
    await run_jobs()
    print(f"500 chats in {time.monotonic() - started:.1f}s")
    chats = [{"providerSessionId": box.psid, "remoteJid": jid(p)} for p in PHONES]
    result = await shop.agent.post(
        "/crm/assignments/chats/bulk-assign",
        json={
            "chats": chats,
            "assigneeType": "user",
            "assigneeId": shop.agent.caller.user_id,
            "reason": "Monday queue",
        },
        expect=200,
    )
    assert result["changed"] == 500 and result["unchanged"] == 0
    assert {r["assignee"]["id"] for r in result["rows"]} == {shop.agent.caller.user_id}
    assert {r["status"] for r in result["rows"]} == {"assigned"}
    history = await shop.viewer.all_rows(
        "/crm/assignments/history", bulkId=result["bulkId"], limit=200
    )
    assert len(history) == 500
    assert {h["toAssignee"]["id"] for h in history} == {shop.agent.caller.user_id}
    assert {h["reason"] for h in history} == {"Monday queue"}
    changed = await events(shop.owner.caller.account_id, "crm.assignment.")
    assert len(changed) == 500
    assert {e["data"]["bulkId"] for e in changed} == {result["bulkId"]}
    assert {e["data"]["remoteJid"] for e in changed} == {jid(p) for p in PHONES}

    # Again: nothing changes, nothing is written.
    again = await shop.agent.post(
        "/crm/assignments/chats/bulk-assign",
        json={"chats": chats, "assigneeType": "user", "assigneeId": shop.agent.caller.user_id},
        expect=200,
    )
    assert (again["changed"], again["unchanged"]) == (0, 500)
    assert len(await events(shop.owner.caller.account_id, "crm.assignment.")) == 500

    released = await shop.agent.post(
        "/crm/assignments/chats/bulk-unassign", json={"chats": chats[:10]}, expect=200
    )
    assert released["changed"] == 10
    assert {r["status"] for r in released["rows"]} == {"unassigned"}


async def test_a_bulk_request_naming_an_unknown_chat_changes_nothing(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    box = await inbox(shop.owner)
    await box.customer_writes("905551110001")
    await run_jobs()
    body = {
        "chats": [
            {"providerSessionId": box.psid, "remoteJid": jid("905551110001")},
            {"providerSessionId": box.psid, "remoteJid": jid("905551110002")},
        ],
        "assigneeType": "user",
        "assigneeId": shop.agent.caller.user_id,
    }
    error = await shop.agent.error(
        "POST", "/crm/assignments/chats/bulk-assign", 404, "chat_not_found", json=body
    )
    assert error["details"]["missing"] == [
        {"providerSessionId": box.psid, "remoteJid": jid("905551110002")}
    ]
    assert await events(shop.owner.caller.account_id, "crm.assignment.") == []
    assert (await shop.viewer.get("/crm/assignments/history"))["rows"] == []


async def test_assignees_are_members_or_groups_of_the_account(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    other = Api(client, await register(client, name="Other"))
    their_group = await other.post("/crm/groups", json={"name": "Theirs"})
    box = await inbox(shop.owner)
    await box.customer_writes("905551110001")
    await run_jobs()
    chats = [{"providerSessionId": box.psid, "remoteJid": jid("905551110001")}]
    url = "/crm/assignments/chats/bulk-assign"
    for assignee_type, assignee_id in (
        ("user", other.caller.user_id),
        ("group", their_group["id"]),
    ):
        error = await shop.agent.error(
            "POST",
            url,
            422,
            "invalid_assignee",
            json={"chats": chats, "assigneeType": assignee_type, "assigneeId": assignee_id},
        )
        assert error["details"]["fields"][0]["path"] == "assigneeId"
    await shop.agent.error(
        "POST",
        url,
        422,
        "validation_error",
        json={"chats": [], "assigneeType": "user", "assigneeId": shop.agent.caller.user_id},
    )
    await shop.agent.error(
        "POST",
        url,
        422,
        "validation_error",
        json={"chats": chats, "assigneeType": "robot", "assigneeId": shop.agent.caller.user_id},
    )
    await shop.viewer.error(
        "POST",
        url,
        403,
        json={"chats": chats, "assigneeType": "user", "assigneeId": shop.agent.caller.user_id},
    )
    # Another account cannot name this account's chat (its session is not theirs).
    await other.error(
        "POST",
        url,
        404,
        "chat_not_found",
        json={"chats": chats, "assigneeType": "user", "assigneeId": other.caller.user_id},
    )


async def test_messages_are_assigned_in_bulk_to_a_group(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    group = await shop.owner.post("/crm/groups", json={"name": "Satış"})
    box = await inbox(shop.owner)
    first = await box.customer_writes("905551110001", "Fiyat?")
    second = await box.customer_writes("905551110001", "Stok var mı?")
    await run_jobs()
    refs = [
        {
            "providerSessionId": box.psid,
            "remoteJid": jid("905551110001"),
            "messageId": m["messageId"],
        }
        for m in (first, second)
    ]
    result = await shop.agent.post(
        "/crm/assignments/messages/bulk-assign",
        json={"messages": refs, "assigneeType": "group", "assigneeId": group["id"]},
        expect=200,
    )
    assert result["changed"] == 2
    assert {r["assignee"]["name"] for r in result["rows"]} == {"Satış"}
    history = await shop.viewer.get(
        "/crm/assignments/history", params={"targetType": "message", "groupId": group["id"]}
    )
    assert {h["messageId"] for h in history["rows"]} == {first["messageId"], second["messageId"]}
    gone = await shop.agent.post(
        "/crm/assignments/messages/bulk-unassign", json={"messages": refs[:1]}, expect=200
    )
    assert gone["changed"] == 1
    missing = [{**refs[0], "messageId": "NOPE"}]
    await shop.agent.error(
        "POST",
        "/crm/assignments/messages/bulk-unassign",
        404,
        "message_not_found",
        json={"messages": missing},
    )
    # Deleting the group hands its messages back, with history.
    await shop.owner.delete(f"/crm/groups/{group['id']}")
    history = await shop.viewer.get("/crm/assignments/history", params={"targetType": "message"})
    assert history["rows"][0]["toAssignee"] is None
    assert "deleted" in history["rows"][0]["reason"]


async def test_history_filters_by_session_of_the_account_only(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    other = Api(client, await register(client, name="Other"))
    their_box = await inbox(other)
    await shop.viewer.error(
        "GET",
        "/crm/assignments/history",
        404,
        "session_not_found",
        params={"providerSessionId": their_box.psid},
    )
    page = await shop.viewer.get(
        "/crm/assignments/history", params={"userId": other.caller.user_id}
    )
    assert page["rows"] == []
