"""A customer's timeline: every source in one newest-first feed with one cursor."""

from __future__ import annotations

from typing import Any

import httpx

from tests.crm.helpers import Api, inbox, jid, register, team


async def test_the_timeline_merges_every_source_newest_first(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Acme", phones=["0555 111 22 33"])
    box = await inbox(shop.owner)
    await box.customer_writes("905551112233", "İlk mesaj")
    await run_jobs()
    await shop.agent.post(f"/crm/customers/{customer['id']}/notes", json={"body": "Not"})
    task = await shop.agent.post(f"/crm/customers/{customer['id']}/tasks", json={"title": "Ara"})
    await shop.agent.post(f"/crm/tasks/{task['id']}/comments", json={"body": "Aradım"})
    await shop.agent.put(
        f"/wa/chats/{jid('905551112233')}/assignment",
        json={"assigneeType": "user", "assigneeId": shop.agent.caller.user_id},
        params=box.params,
    )
    url = f"/crm/customers/{customer['id']}/timeline"
    everything = await shop.viewer.all_rows(url, limit=100)
    kinds = [i["kind"] for i in everything]
    assert set(kinds) == {"message", "note", "task", "comment", "assignment", "audit"}
    moments = [i["at"] for i in everything]
    assert moments == sorted(moments, reverse=True)
    assert kinds[0] == "assignment"
    message = next(i for i in everything if i["kind"] == "message")["message"]
    assert message["text"] == "İlk mesaj" and message["providerSessionId"] == box.psid
    # Page by page, the same feed: nothing lost or repeated at the seams.
    paged = await shop.viewer.all_rows(url, limit=2)
    assert [(i["kind"], i["id"]) for i in paged] == [(i["kind"], i["id"]) for i in everything]
    only = await shop.viewer.all_rows(url, kind=["note", "task"])
    assert [i["kind"] for i in only] == ["task", "note"]


async def test_the_timeline_is_the_accounts(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    other = Api(client, await register(client, name="Other"))
    await other.error("GET", f"/crm/customers/{customer['id']}/timeline", 404, "customer_not_found")
    await shop.viewer.error(
        "GET",
        f"/crm/customers/{customer['id']}/timeline",
        400,
        "invalid_cursor",
        params={"cursor": "x"},
    )
    await shop.viewer.error(
        "GET",
        f"/crm/customers/{customer['id']}/timeline",
        422,
        "validation_error",
        params={"kind": "invoice"},
    )
    await other.error("GET", f"/crm/customers/{customer['id']}/audit", 404, "customer_not_found")
