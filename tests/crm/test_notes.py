"""Private notes on customers."""

from __future__ import annotations

import httpx

from tests.crm.helpers import Api, events, register, team


async def test_notes_are_written_pinned_edited_and_soft_deleted(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    url = f"/crm/customers/{customer['id']}/notes"
    first = await shop.agent.post(url, json={"body": "Vade 60 gün istiyor."})
    second = await shop.agent.post(
        url, json={"body": "Yılbaşı indirimi sorulacak.", "pinned": True}
    )
    assert first["author"] == {"type": "user", "id": shop.agent.caller.user_id}
    listed = await shop.viewer.get(url)
    assert [n["id"] for n in listed["rows"]] == [second["id"], first["id"]]
    assert [n["id"] for n in (await shop.viewer.get(url, params={"pinned": True}))["rows"]] == [
        second["id"]
    ]
    changed = await shop.agent.patch(
        f"{url}/{first['id']}", json={"body": "Vade 45 gün.", "entityVersion": "1"}
    )
    assert changed["body"] == "Vade 45 gün." and changed["entityVersion"] == "2"
    await shop.agent.error(
        "PATCH",
        f"{url}/{first['id']}",
        409,
        "version_conflict",
        json={"pinned": True, "entityVersion": "1"},
    )
    assert await shop.agent.delete(f"{url}/{first['id']}") == {"deleted": True}
    assert [n["id"] for n in (await shop.viewer.get(url))["rows"]] == [second["id"]]
    await shop.agent.error(
        "PATCH", f"{url}/{first['id']}", 404, "note_not_found", json={"body": "x"}
    )
    # Private: no event ever carries a note.
    assert not [e for e in await events(shop.owner.caller.account_id) if "note" in e["type"]]
    assert "Vade" not in str(await events(shop.owner.caller.account_id, ""))


async def test_notes_need_an_agent_a_body_and_the_accounts_customer(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    url = f"/crm/customers/{customer['id']}/notes"
    note = await shop.agent.post(url, json={"body": "x"})
    await shop.viewer.error("POST", url, 403, json={"body": "y"})
    await shop.viewer.error("PATCH", f"{url}/{note['id']}", 403, json={"body": "y"})
    await shop.viewer.error("DELETE", f"{url}/{note['id']}", 403)
    await shop.agent.error("POST", url, 422, "validation_error", json={"body": ""})
    await shop.agent.error(
        "POST", url, 422, "validation_error", json={"body": "x", "pinned": "maybe"}
    )
    other = Api(client, await register(client, name="Other"))
    own = await other.customer("Kendi")
    await other.error("GET", url, 404, "customer_not_found")
    await other.error("POST", url, 404, "customer_not_found", json={"body": "x"})
    await other.error("PATCH", f"{url}/{note['id']}", 404, "customer_not_found", json={"body": "x"})
    await other.error("DELETE", f"{url}/{note['id']}", 404, "customer_not_found")
    # Another account's note under one's own customer is not found either.
    await other.error(
        "PATCH",
        f"/crm/customers/{own['id']}/notes/{note['id']}",
        404,
        "note_not_found",
        json={"body": "x"},
    )
    await other.error(
        "DELETE", f"/crm/customers/{own['id']}/notes/{note['id']}", 404, "note_not_found"
    )
