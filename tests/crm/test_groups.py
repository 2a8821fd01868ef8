"""CRM groups and members: admins manage them, everyone reads them."""

from __future__ import annotations

import uuid

import httpx

from tests.crm.helpers import Api, add_member, register, team


async def test_an_admin_builds_a_team_and_members_see_their_groups(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    group = await shop.owner.post("/crm/groups", json={"name": "Satış", "description": "Ön büro"})
    assert group["memberCount"] == 0 and group["entityVersion"] == "1"
    url = f"/crm/groups/{group['id']}"
    members = await shop.owner.post(
        f"{url}/members", json={"userId": shop.agent.caller.user_id}, expect=200
    )
    assert [m["user"]["id"] for m in members["rows"]] == [shop.agent.caller.user_id]
    assert members["entityVersion"] == "2"
    members = await shop.owner.put(
        f"{url}/members",
        json={
            "userIds": [shop.agent.caller.user_id, shop.viewer.caller.user_id],
            "entityVersion": "2",
        },
    )
    assert {m["user"]["id"] for m in members["rows"]} == {
        shop.agent.caller.user_id,
        shop.viewer.caller.user_id,
    }
    assert (await shop.viewer.get(url))["memberCount"] == 2
    mine = await shop.agent.get(f"/crm/users/{shop.agent.caller.user_id}/groups")
    assert [g["name"] for g in mine["rows"]] == ["Satış"]
    left = await shop.owner.delete(f"{url}/members/{shop.viewer.caller.user_id}")
    assert [m["user"]["id"] for m in left["rows"]] == [shop.agent.caller.user_id]
    await shop.owner.error(
        "DELETE", f"{url}/members/{shop.viewer.caller.user_id}", 404, "user_not_found"
    )
    renamed = await shop.owner.patch(url, json={"name": "Satış Ekibi", "description": None})
    assert renamed["name"] == "Satış Ekibi" and renamed["description"] is None
    assert [
        g["name"] for g in (await shop.viewer.get("/crm/groups", params={"q": "ekıbı"}))["rows"]
    ] == ["Satış Ekibi"]
    assert await shop.owner.delete(url) == {"deleted": True}
    await shop.viewer.error("GET", url, 404, "group_not_found")


async def test_agents_and_viewers_cannot_manage_groups(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    group = await shop.owner.post("/crm/groups", json={"name": "Destek"})
    url = f"/crm/groups/{group['id']}"
    for api in (shop.agent, shop.viewer):
        await api.error("POST", "/crm/groups", 403, json={"name": "X"})
        await api.error("PATCH", url, 403, json={"name": "X"})
        await api.error("DELETE", url, 403)
        await api.error("POST", f"{url}/members", 403, json={"userId": api.caller.user_id})
        await api.error("PUT", f"{url}/members", 403, json={"userIds": []})
        await api.error("DELETE", f"{url}/members/{api.caller.user_id}", 403)
        assert (await api.get(url))["name"] == "Destek"
        assert (await api.get(f"{url}/members"))["rows"] == []


async def test_group_names_versions_and_bodies(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    group = await shop.owner.post("/crm/groups", json={"name": "Destek"})
    await shop.owner.error("POST", "/crm/groups", 409, "group_name_taken", json={"name": "DESTEK"})
    await shop.owner.error("POST", "/crm/groups", 422, "validation_error", json={"name": ""})
    await shop.owner.error("POST", "/crm/groups", 422, "validation_error", json={})
    url = f"/crm/groups/{group['id']}"
    await shop.owner.patch(url, json={"description": "x"})
    await shop.owner.error(
        "PATCH", url, 409, "version_conflict", json={"name": "Y", "entityVersion": "1"}
    )
    await shop.owner.error(
        "PUT", f"{url}/members", 409, "version_conflict", json={"userIds": [], "entityVersion": "1"}
    )
    await shop.owner.error(
        "POST", f"{url}/members", 422, "validation_error", json={"userId": "nope"}
    )


async def test_another_accounts_groups_and_users_are_not_found(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    group = await shop.owner.post("/crm/groups", json={"name": "Destek"})
    other_owner = await register(client, name="Other")
    other = Api(client, other_owner)
    outsider = await add_member(client, other_owner, "agent")
    url = f"/crm/groups/{group['id']}"
    await other.error("GET", url, 404, "group_not_found")
    await other.error("PATCH", url, 404, "group_not_found", json={"name": "Mine"})
    await other.error("DELETE", url, 404, "group_not_found")
    await other.error("GET", f"{url}/members", 404, "group_not_found")
    await other.error(
        "POST", f"{url}/members", 404, "group_not_found", json={"userId": outsider.user_id}
    )
    await other.error("PUT", f"{url}/members", 404, "group_not_found", json={"userIds": []})
    await other.error("DELETE", f"{url}/members/{outsider.user_id}", 404, "group_not_found")
    await other.error(
        "GET", f"/crm/users/{shop.agent.caller.user_id}/groups", 404, "user_not_found"
    )
    # A user of another account cannot join this account's group.
    await shop.owner.error(
        "POST", f"{url}/members", 404, "user_not_found", json={"userId": outsider.user_id}
    )
    await shop.owner.error(
        "PUT", f"{url}/members", 404, "user_not_found", json={"userIds": [str(uuid.uuid4())]}
    )
    assert (await shop.viewer.get(url))["name"] == "Destek"
