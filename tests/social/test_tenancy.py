"""Another account's assets, threads, posts, comments and operations are 404 on every path;
viewers read and change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.helpers import add_member, assert_error, register
from tests.social.helpers import (
    GRAPH,
    IG_ID,
    IGSID,
    PAGE_ID,
    PSID,
    connect_instagram,
    connect_page,
    customer_message,
    deliver,
    feed_comment,
    headers,
    instagram_body,
    instagram_comment,
    page_body,
)


async def _world(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any, owner: Any
) -> dict[str, dict[str, str]]:
    """An owner's Page and Instagram account, each with a thread, a post, a comment and an
    operation; returns their ids per platform."""
    page = await connect_page(client, owner, graph)
    account = await connect_instagram(client, owner, graph)
    await deliver(client, page_body(customer_message("hi", mid="m_t1")))
    await deliver(client, feed_comment(comment_id="900_1"))
    await deliver(
        client,
        instagram_body(customer_message("hi", mid="ig_t1", sender=IGSID, recipient=IG_ID)),
        platform="instagram",
    )
    await deliver(client, instagram_comment(comment_id="17870000000000001"), platform="instagram")
    await run_jobs()
    ids: dict[str, dict[str, str]] = {}
    for platform, asset, base, posts in (
        ("meta", page, "assets", "posts"),
        ("instagram", account, "accounts", "media"),
    ):
        root = f"/{platform}/{base}/{asset['id']}"
        thread = (await client.get(f"{root}/threads", headers=headers(owner))).json()["data"][
            "rows"
        ][0]
        post = (await client.get(f"{root}/{posts}", headers=headers(owner))).json()["data"]["rows"][
            0
        ]
        comment = (
            await client.get(f"{root}/{posts}/{post['id']}/comments", headers=headers(owner))
        ).json()["data"]["rows"][0]
        graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(200, json={"recipient_id": PSID})
        seen = await client.post(f"{root}/threads/{thread['id']}/read", headers=headers(owner))
        operation = seen.json()["data"]["operation"]
        ids[platform] = {
            "root": root,
            "posts": posts,
            "thread": thread["id"],
            "post": post["id"],
            "comment": comment["id"],
            "operation": operation["id"],
        }
    return ids


def _calls(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    root, posts = ids["root"], ids["posts"]
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PATCH", root, {"name": "mine now"}),
        ("DELETE", root, None),
        ("POST", f"{root}/sync", None),
        ("GET", f"{root}/operations/{ids['operation']}", None),
        ("GET", f"{root}/threads", None),
        ("GET", f"{root}/threads/{ids['thread']}/messages", None),
        ("POST", f"{root}/threads/{ids['thread']}/messages", {"text": "hi"}),
        ("POST", f"{root}/threads/{ids['thread']}/read", None),
        ("GET", f"{root}/{posts}", None),
        ("GET", f"{root}/{posts}/{ids['post']}/comments", None),
        ("POST", f"{root}/comments/{ids['comment']}/replies", {"message": "hi"}),
    ]
    if posts == "posts":
        calls.append(("POST", f"{root}/posts", {"message": "hi"}))
    else:
        calls += [
            ("POST", f"{root}/media/feed", {"imageUrl": "https://cdn.example.com/a.jpg"}),
            ("POST", f"{root}/media/reels", {"videoUrl": "https://cdn.example.com/a.mp4"}),
            ("POST", f"{root}/media/stories", {"imageUrl": "https://cdn.example.com/a.jpg"}),
        ]
    return calls


async def test_another_accounts_objects_are_not_found_on_every_path(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    intruder = await register(client)
    world = await _world(client, graph, run_jobs, owner)
    for ids in world.values():
        for method, path, body in _calls(ids):
            response = await client.request(method, path, json=body, headers=headers(intruder))
            assert response.status_code == 404, (method, path, response.text)
    # The owner's ids under an asset of the intruder's own are 404 as well.
    own_page = await connect_page(client, intruder, graph)
    ids = world["meta"]
    mixed_root = f"/meta/assets/{own_page['id']}"
    for path in (
        f"{mixed_root}/threads/{ids['thread']}/messages",
        f"{mixed_root}/posts/{ids['post']}/comments",
        f"{mixed_root}/operations/{ids['operation']}",
    ):
        assert_error(await client.get(path, headers=headers(intruder)), 404)
    # The Instagram account's id is not a Page id (nor the other way round).
    ig_root = world["instagram"]["root"]
    assert_error(
        await client.get(
            ig_root.replace("/instagram/accounts", "/meta/assets") + "/threads",
            headers=headers(owner),
        ),
        404,
    )
    # The owner still sees everything, untouched.
    listed = await client.get("/meta/assets", headers=headers(owner))
    assert listed.json()["data"]["rows"][0]["name"] == "Ayşe Butik"


async def test_viewers_read_everything_and_change_nothing(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    viewer = await add_member(client, owner, "viewer")
    world = await _world(client, graph, run_jobs, owner)
    for ids in world.values():
        for method, path, body in _calls(ids):
            response = await client.request(method, path, json=body, headers=headers(viewer))
            if method == "GET":
                assert response.status_code == 200, (path, response.text)
            else:
                assert_error(response, 403, "insufficient_role")


async def test_soft_deleted_assets_unsubscribe_forget_their_token_and_disappear(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    from tests.social.helpers import sql

    owner = await register(client)
    other = await register(client)
    page = await connect_page(client, owner, graph)
    await connect_page(client, other, graph)  # the same Page, in a second account
    unsubscribe = graph.delete(f"{GRAPH}/{PAGE_ID}/subscribed_apps").respond(
        200, json={"success": True}
    )
    response = await client.delete(f"/meta/assets/{page['id']}", headers=headers(owner))
    assert response.status_code == 200, response.text
    # The other account still has it: the app stays subscribed to the Page.
    assert response.json()["data"] == {"deleted": True, "unsubscribed": False}
    assert not unsubscribe.called
    [(token, deleted)] = await sql(
        "SELECT token_encrypted, deleted_at FROM meta_assets WHERE id = :id", id=page["id"]
    )
    assert token is None and deleted is not None
    assert (await client.get("/meta/assets", headers=headers(owner))).json()["data"]["rows"] == []
    assert_error(
        await client.get(f"/meta/assets/{page['id']}/threads", headers=headers(owner)), 404
    )

    [left] = (await client.get("/meta/assets", headers=headers(other))).json()["data"]["rows"]
    response = await client.delete(f"/meta/assets/{left['id']}", headers=headers(other))
    assert response.json()["data"] == {"deleted": True, "unsubscribed": True}
    assert unsubscribe.calls.last.request.headers["authorization"].startswith("Bearer EAA")
    # Webhooks for it are now kept but ignored.
    await deliver(client, page_body(customer_message("anyone?", mid="m_gone")))
    await run_jobs()
    [(status,)] = await sql("SELECT status FROM inbox_items WHERE external_id LIKE '%m_gone'")
    assert status == "ignored"


async def test_asset_settings(client: httpx.AsyncClient, graph: respx.MockRouter) -> None:
    owner = await register(client)
    agent = await add_member(client, owner, "agent")
    outsider = await register(client)
    page = await connect_page(client, owner, graph)
    url = f"/meta/assets/{page['id']}"
    response = await client.patch(
        url,
        json={
            "name": "Ayşe Butik TR",
            "enabledFeatures": ["messaging"],
            "defaultAssigneeId": agent.user_id,
            "entityVersion": page["entityVersion"],
        },
        headers=headers(owner),
    )
    assert response.status_code == 200, response.text
    updated = response.json()["data"]
    assert updated["name"] == "Ayşe Butik TR"
    assert updated["enabledFeatures"] == ["messaging"]
    assert updated["defaultAssigneeId"] == agent.user_id
    stale = await client.patch(
        url, json={"name": "x", "entityVersion": page["entityVersion"]}, headers=headers(owner)
    )
    error = assert_error(stale, 409, "version_conflict")
    assert error["details"]["currentEntityVersion"] == updated["entityVersion"]
    foreign = await client.patch(
        url, json={"defaultAssigneeId": outsider.user_id}, headers=headers(owner)
    )
    assert_error(foreign, 422, "unknown_assignee")
    unknown_feature = await client.patch(
        url, json={"enabledFeatures": ["telepathy"]}, headers=headers(owner)
    )
    assert_error(unknown_feature, 422)
    # Publishing is off now: the post route says so before calling Meta.
    publish = await client.post(f"{url}/posts", json={"message": "x"}, headers=headers(owner))
    assert_error(publish, 409, "feature_disabled")
