"""Tasks: status, priority, due dates, assignee, watchers, checklist; events to the people
concerned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.crm.helpers import Api, events, register, team


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_completing_a_task_sets_completed_at_and_tells_watchers_and_assignee(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    contact = await shop.agent.contact(customer["id"])
    task = await shop.agent.post(
        f"/crm/customers/{customer['id']}/tasks",
        json={
            "title": "Teklif gönder",
            "description": "3 kalem",
            "priority": "high",
            "dueAt": _iso(datetime.now(UTC) + timedelta(days=2)),
            "assigneeUserId": shop.owner.caller.user_id,
            "contactId": contact["id"],
            "watcherUserIds": [shop.viewer.caller.user_id, shop.agent.caller.user_id],
            "checklist": ["Fiyatları al", "PDF hazırla"],
        },
    )
    assert task["status"] == "todo" and task["completedAt"] is None
    assert task["checklistTotal"] == 2 and task["checklistDone"] == 0
    created = (await events(shop.owner.caller.account_id, "crm.task."))[0]
    assert created["type"] == "crm.task.created"
    # The actor (the agent) is not told about their own change.
    assert set(created["data"]["notifyUserIds"]) == {
        shop.owner.caller.user_id,
        shop.viewer.caller.user_id,
    }

    url = f"/crm/tasks/{task['id']}"
    started = await shop.agent.patch(url, json={"status": "in_progress", "entityVersion": "1"})
    assert started["completedAt"] is None
    done = await shop.agent.patch(url, json={"status": "done"})
    assert done["completedAt"] is not None
    types = [e["type"] for e in await events(shop.owner.caller.account_id, "crm.task.")]
    assert types == ["crm.task.created", "crm.task.updated", "crm.task.completed"]
    reopened = await shop.agent.patch(url, json={"status": "todo"})
    assert reopened["completedAt"] is None
    await shop.agent.error(
        "PATCH", url, 409, "version_conflict", json={"title": "x", "entityVersion": "1"}
    )
    assert await shop.agent.delete(url) == {"deleted": True}
    await shop.viewer.error("GET", url, 404, "task_not_found")
    assert (await events(shop.owner.caller.account_id, "crm.task."))[-1][
        "type"
    ] == "crm.task.deleted"


async def test_watchers_and_checklist(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    task = await shop.agent.post(f"/crm/customers/{customer['id']}/tasks", json={"title": "Numune"})
    url = f"/crm/tasks/{task['id']}"
    watchers = await shop.agent.put(
        f"{url}/watchers", json={"userIds": [shop.viewer.caller.user_id], "entityVersion": "1"}
    )
    assert [w["user"]["id"] for w in watchers["rows"]] == [shop.viewer.caller.user_id]
    assert watchers["entityVersion"] == "2"
    assert await shop.viewer.get(f"{url}/watchers") == watchers
    await shop.agent.error(
        "PUT",
        f"{url}/watchers",
        409,
        "version_conflict",
        json={"userIds": [], "entityVersion": "1"},
    )

    first = await shop.agent.post(f"{url}/checklist", json={"title": "Kumaş seç"})
    second = await shop.agent.post(f"{url}/checklist", json={"title": "Kargola"})
    assert (first["position"], second["position"]) == (0, 1)
    ticked = await shop.agent.patch(
        f"{url}/checklist/{first['id']}", json={"done": True, "entityVersion": "1"}
    )
    assert ticked["done"] is True and ticked["doneAt"] is not None
    await shop.agent.patch(
        f"{url}/checklist/{first['id']}", json={"position": 2, "entityVersion": "2"}
    )
    items = await shop.viewer.get(f"{url}/checklist")
    assert [i["title"] for i in items] == ["Kargola", "Kumaş seç"]
    await shop.agent.error(
        "PATCH",
        f"{url}/checklist/{first['id']}",
        409,
        "version_conflict",
        json={"done": False, "entityVersion": "2"},
    )
    assert await shop.agent.delete(f"{url}/checklist/{second['id']}") == {"deleted": True}
    assert [i["id"] for i in await shop.viewer.get(f"{url}/checklist")] == [first["id"]]
    fetched = await shop.viewer.get(url)
    assert (fetched["checklistTotal"], fetched["checklistDone"]) == (1, 1)
    await shop.agent.error(
        "PATCH",
        f"{url}/checklist/{second['id']}",
        404,
        "checklist_item_not_found",
        json={"done": True},
    )
    updates = [e for e in await events(shop.owner.caller.account_id, "crm.task.updated")]
    assert updates[0]["data"]["changedFields"] == ["watcherUserIds"]
    assert updates[0]["data"]["notifyUserIds"] == [shop.viewer.caller.user_id]
    assert {tuple(e["data"]["changedFields"]) for e in updates[1:]} == {("checklist",)}


async def test_task_lists_filter_and_sort(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    acme = await shop.agent.customer("Acme")
    other_customer = await shop.agent.customer("Başka")
    now = datetime.now(UTC)
    tasks_url = f"/crm/customers/{acme['id']}/tasks"
    late = await shop.agent.post(
        tasks_url,
        json={
            "title": "Geciken",
            "dueAt": _iso(now - timedelta(days=1)),
            "assigneeUserId": shop.agent.caller.user_id,
        },
    )
    soon = await shop.agent.post(
        tasks_url,
        json={"title": "Yakında", "dueAt": _iso(now + timedelta(days=1)), "priority": "urgent"},
    )
    await shop.agent.post(tasks_url, json={"title": "Tarihsiz", "status": "done"})
    elsewhere = await shop.agent.post(
        f"/crm/customers/{other_customer['id']}/tasks",
        json={"title": "Başka iş", "watcherUserIds": [shop.agent.caller.user_id]},
    )

    async def titles(url: str, **params: object) -> list[str]:
        return [t["title"] for t in await shop.agent.all_rows(url, **params)]

    assert await titles("/crm/tasks") == ["Başka iş", "Tarihsiz", "Yakında", "Geciken"]
    by_due = await titles("/crm/tasks", sort="dueAt", limit=1)
    assert by_due[:2] == ["Geciken", "Yakında"] and set(by_due[2:]) == {"Tarihsiz", "Başka iş"}
    assert await titles("/crm/tasks", overdue=True) == ["Geciken"]
    assert await titles("/crm/tasks", assignedToMe=True) == ["Geciken"]
    assert await titles("/crm/tasks", watchedByMe=True) == ["Başka iş"]
    assert await titles("/crm/tasks", status=["done"]) == ["Tarihsiz"]
    assert await titles("/crm/tasks", status=["todo", "in_progress"], priority="urgent") == [
        "Yakında"
    ]
    assert await titles("/crm/tasks", q="GECİK") == ["Geciken"]
    assert await titles(tasks_url) == ["Tarihsiz", "Yakında", "Geciken"]
    assert await titles("/crm/tasks", customerId=other_customer["id"]) == ["Başka iş"]
    assert await titles("/crm/tasks", unassigned=True) == ["Başka iş", "Tarihsiz", "Yakında"]
    # Open tasks show on the customer (and its filter).
    assert (await shop.agent.get(f"/crm/customers/{acme['id']}"))["openTaskCount"] == 2
    with_open = await shop.agent.get("/crm/customers", params={"hasOpenTasks": True})
    assert {c["title"] for c in with_open["rows"]} == {"Acme", "Başka"}
    await shop.agent.patch(f"/crm/tasks/{elsewhere['id']}", json={"status": "canceled"})
    without = await shop.agent.get("/crm/customers", params={"hasOpenTasks": False})
    assert [c["title"] for c in without["rows"]] == ["Başka"]
    assert late["id"] and soon["id"]


async def test_task_writes_need_an_agent_and_the_accounts_people(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    other = Api(client, await register(client, name="Other"))
    their_customer = await other.customer("Theirs")
    their_contact = await other.contact(their_customer["id"])
    url = f"/crm/customers/{customer['id']}/tasks"
    await shop.viewer.error("POST", url, 403, json={"title": "x"})
    await shop.agent.error("POST", url, 422, "validation_error", json={"title": ""})
    await shop.agent.error(
        "POST", url, 422, "validation_error", json={"title": "x", "status": "later"}
    )
    await shop.agent.error(
        "POST", url, 422, "validation_error", json={"title": "x", "dueAt": "tomorrow"}
    )
    await shop.agent.error(
        "POST",
        url,
        404,
        "user_not_found",
        json={"title": "x", "assigneeUserId": other.caller.user_id},
    )
    await shop.agent.error(
        "POST",
        url,
        404,
        "user_not_found",
        json={"title": "x", "watcherUserIds": [other.caller.user_id]},
    )
    await shop.agent.error(
        "POST", url, 404, "contact_not_found", json={"title": "x", "contactId": their_contact["id"]}
    )
    sibling = await shop.agent.customer("Kardeş")
    sibling_contact = await shop.agent.contact(sibling["id"])
    await shop.agent.error(
        "POST",
        url,
        422,
        "contact_of_another_customer",
        json={"title": "x", "contactId": sibling_contact["id"]},
    )
    task = await shop.agent.post(url, json={"title": "x"})
    task_url = f"/crm/tasks/{task['id']}"
    for method, path, body in (
        ("GET", task_url, None),
        ("PATCH", task_url, {"title": "y"}),
        ("DELETE", task_url, None),
        ("GET", f"{task_url}/watchers", None),
        ("PUT", f"{task_url}/watchers", {"userIds": []}),
        ("GET", f"{task_url}/checklist", None),
        ("POST", f"{task_url}/checklist", {"title": "z"}),
    ):
        await other.error(method, path, 404, "task_not_found", json=body)
    item = await shop.agent.post(f"{task_url}/checklist", json={"title": "z"})
    await other.error(
        "PATCH", f"{task_url}/checklist/{item['id']}", 404, "task_not_found", json={"done": True}
    )
    await other.error("DELETE", f"{task_url}/checklist/{item['id']}", 404, "task_not_found")
    await other.error("GET", url, 404, "customer_not_found")
    await other.error("POST", url, 404, "customer_not_found", json={"title": "x"})
    for method, path, body in (
        ("PATCH", task_url, {"title": "y"}),
        ("DELETE", task_url, None),
        ("PUT", f"{task_url}/watchers", {"userIds": []}),
        ("POST", f"{task_url}/checklist", {"title": "z"}),
        ("PATCH", f"{task_url}/checklist/{item['id']}", {"done": True}),
        ("DELETE", f"{task_url}/checklist/{item['id']}", None),
    ):
        await shop.viewer.error(method, path, 403, json=body)
    assert (await other.get("/crm/tasks"))["rows"] == []
