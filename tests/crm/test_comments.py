"""Comments with @mentions on customers and tasks."""

from __future__ import annotations

import httpx

from tests.crm.helpers import Api, add_member, events, register, team


async def test_a_comment_mentions_users_and_each_gets_an_event(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    body = (
        f"<@{shop.owner.caller.user_id}> teklifi onaylar mısın? cc <@{shop.viewer.caller.user_id}>"
    )
    comment = await shop.agent.post(
        f"/crm/customers/{customer['id']}/comments",
        json={"body": body, "mentions": [shop.owner.caller.user_id]},
    )
    assert comment["mentions"] == [shop.owner.caller.user_id, shop.viewer.caller.user_id]
    assert comment["taskId"] is None
    got = await events(shop.owner.caller.account_id, "crm.comment.")
    assert [e["type"] for e in got] == [
        "crm.comment.created",
        "crm.comment.mentioned",
        "crm.comment.mentioned",
    ]
    assert got[0]["data"]["comment"]["mentions"] == comment["mentions"]
    assert [e["data"]["mentionedUserId"] for e in got[1:]] == comment["mentions"]
    assert got[1]["data"]["body"] == body

    # An edit that mentions someone new tells only them.
    third = await add_member(client, shop.owner.caller, "agent")
    edited = await shop.agent.patch(
        f"/crm/comments/{comment['id']}",
        json={"body": f"{body} <@{third.user_id}>", "entityVersion": "1"},
    )
    assert third.user_id in edited["mentions"]
    got = await events(shop.owner.caller.account_id, "crm.comment.")
    assert [e["type"] for e in got[3:]] == ["crm.comment.updated", "crm.comment.mentioned"]
    assert got[-1]["data"]["mentionedUserId"] == third.user_id
    assert await shop.viewer.get(f"/crm/comments/{comment['id']}") == edited


async def test_comments_on_a_task_show_on_the_task_and_the_customer(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    task = await shop.agent.post(f"/crm/customers/{customer['id']}/tasks", json={"title": "Ara"})
    on_task = await shop.agent.post(
        f"/crm/tasks/{task['id']}/comments", json={"body": "Aradım, açmadı."}
    )
    on_customer = await shop.agent.post(
        f"/crm/customers/{customer['id']}/comments", json={"body": "Genel"}
    )
    assert on_task["taskId"] == task["id"] and on_task["customerId"] == customer["id"]
    assert [
        c["id"] for c in (await shop.viewer.get(f"/crm/tasks/{task['id']}/comments"))["rows"]
    ] == [on_task["id"]]
    url = f"/crm/customers/{customer['id']}/comments"
    assert [c["id"] for c in (await shop.viewer.get(url))["rows"]] == [on_customer["id"]]
    both = await shop.viewer.get(url, params={"includeTasks": True})
    assert [c["id"] for c in both["rows"]] == [on_customer["id"], on_task["id"]]


async def test_only_the_author_or_an_admin_changes_a_comment(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    comment = await shop.agent.post(
        f"/crm/customers/{customer['id']}/comments", json={"body": "Benim"}
    )
    url = f"/crm/comments/{comment['id']}"
    colleague = Api(client, await add_member(client, shop.owner.caller, "agent"))
    await colleague.error("PATCH", url, 403, "not_the_author", json={"body": "Değil"})
    await colleague.error("DELETE", url, 403, "not_the_author")
    await shop.viewer.error("PATCH", url, 403, "insufficient_role", json={"body": "x"})
    await shop.agent.error(
        "PATCH", url, 409, "version_conflict", json={"body": "x", "entityVersion": "7"}
    )
    assert (await shop.owner.patch(url, json={"body": "Düzeltildi"}))["body"] == "Düzeltildi"
    assert await shop.agent.delete(url) == {"deleted": True}
    await shop.viewer.error("GET", url, 404, "comment_not_found")
    assert [e["type"] for e in await events(shop.owner.caller.account_id, "crm.comment.")][
        -1
    ] == "crm.comment.deleted"


async def test_mentions_must_be_members_and_comments_the_accounts(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    other = Api(client, await register(client, name="Other"))
    url = f"/crm/customers/{customer['id']}/comments"
    await shop.agent.error(
        "POST", url, 422, "invalid_mention", json={"body": "x", "mentions": [other.caller.user_id]}
    )
    await shop.agent.error(
        "POST", url, 422, "invalid_mention", json={"body": f"hey <@{other.caller.user_id}>"}
    )
    await shop.agent.error("POST", url, 422, "validation_error", json={"body": ""})
    await shop.agent.error(
        "POST", url, 422, "validation_error", json={"body": "x", "mentions": ["nope"]}
    )
    comment = await shop.agent.post(url, json={"body": "x"})
    task = await shop.agent.post(f"/crm/customers/{customer['id']}/tasks", json={"title": "T"})
    await other.error("GET", url, 404, "customer_not_found")
    await other.error("POST", url, 404, "customer_not_found", json={"body": "x"})
    await other.error("GET", f"/crm/comments/{comment['id']}", 404, "comment_not_found")
    await other.error(
        "PATCH", f"/crm/comments/{comment['id']}", 404, "comment_not_found", json={"body": "x"}
    )
    await other.error("DELETE", f"/crm/comments/{comment['id']}", 404, "comment_not_found")
    await other.error("GET", f"/crm/tasks/{task['id']}/comments", 404, "task_not_found")
    await other.error(
        "POST", f"/crm/tasks/{task['id']}/comments", 404, "task_not_found", json={"body": "x"}
    )
    await shop.viewer.error("POST", f"/crm/tasks/{task['id']}/comments", 403, json={"body": "x"})
