"""A customer's representatives (users) and teams (groups), one primary each."""

from __future__ import annotations

import httpx

from tests.crm.helpers import Api, events, register, team


async def test_representatives_are_set_with_a_primary_and_filter_the_list(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Acme")
    await shop.agent.customer("Başka")
    url = f"/crm/customers/{customer['id']}/representatives"
    reps = await shop.agent.put(
        url,
        json={
            "userIds": [shop.agent.caller.user_id, shop.owner.caller.user_id],
            "primaryUserId": shop.owner.caller.user_id,
            "entityVersion": "1",
        },
    )
    assert reps["primaryUserId"] == shop.owner.caller.user_id
    assert reps["rows"][0]["user"]["id"] == shop.owner.caller.user_id
    assert reps["entityVersion"] == "2"
    fetched = await shop.viewer.get(f"/crm/customers/{customer['id']}")
    assert fetched["primaryRepresentativeId"] == shop.owner.caller.user_id
    assert await shop.viewer.get(url) == reps
    by_rep = await shop.viewer.get(
        "/crm/customers", params={"representativeId": shop.agent.caller.user_id}
    )
    assert [c["title"] for c in by_rep["rows"]] == ["Acme"]
    # The first one is primary when none is named; a stale version is a conflict.
    reps = await shop.agent.put(url, json={"userIds": [shop.agent.caller.user_id]})
    assert reps["primaryUserId"] == shop.agent.caller.user_id
    await shop.agent.error(
        "PUT", url, 409, "version_conflict", json={"userIds": [], "entityVersion": "2"}
    )
    await shop.agent.error(
        "PUT",
        url,
        422,
        "invalid_primary",
        json={"userIds": [shop.agent.caller.user_id], "primaryUserId": shop.owner.caller.user_id},
    )
    updated = [e for e in await events(shop.owner.caller.account_id, "crm.customer.updated")]
    assert updated[0]["data"]["changedFields"] == ["primaryRepresentativeId", "representativeIds"]
    audit = await shop.viewer.get(f"/crm/customers/{customer['id']}/audit")
    assert "representativeIds" in audit["rows"][0]["changes"]


async def test_teams_are_set_with_a_primary_and_filter_the_list(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    sales = await shop.owner.post("/crm/groups", json={"name": "Satış"})
    support = await shop.owner.post("/crm/groups", json={"name": "Destek"})
    customer = await shop.agent.customer("Acme", primaryTeamId=support["id"])
    assert customer["primaryTeamId"] == support["id"]
    url = f"/crm/customers/{customer['id']}/teams"
    teams = await shop.agent.put(
        url, json={"groupIds": [sales["id"], support["id"]], "primaryGroupId": sales["id"]}
    )
    assert teams["primaryGroupId"] == sales["id"]
    assert {t["name"] for t in teams["rows"]} == {"Satış", "Destek"}
    found = await shop.viewer.get("/crm/customers", params={"teamId": support["id"]})
    assert [c["id"] for c in found["rows"]] == [customer["id"]]
    # Deleting a group takes it out of customers' teams.
    await shop.owner.delete(f"/crm/groups/{sales['id']}")
    teams = await shop.viewer.get(url)
    assert [t["name"] for t in teams["rows"]] == ["Destek"]


async def test_representatives_and_teams_belong_to_the_account(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Acme")
    other = Api(client, await register(client, name="Other"))
    their_group = await other.post("/crm/groups", json={"name": "Theirs"})
    base = f"/crm/customers/{customer['id']}"
    await shop.agent.error(
        "PUT",
        f"{base}/representatives",
        404,
        "user_not_found",
        json={"userIds": [other.caller.user_id]},
    )
    await shop.agent.error(
        "PUT", f"{base}/teams", 404, "group_not_found", json={"groupIds": [their_group["id"]]}
    )
    await shop.agent.error("PUT", f"{base}/teams", 422, "validation_error", json={"groupIds": "x"})
    await shop.viewer.error("PUT", f"{base}/teams", 403, json={"groupIds": []})
    await shop.viewer.error("PUT", f"{base}/representatives", 403, json={"userIds": []})
    for path in ("representatives", "teams"):
        await other.error("GET", f"{base}/{path}", 404, "customer_not_found")
    await other.error(
        "PUT", f"{base}/representatives", 404, "customer_not_found", json={"userIds": []}
    )
    await other.error("PUT", f"{base}/teams", 404, "customer_not_found", json={"groupIds": []})
