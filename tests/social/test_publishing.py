"""Publishing Page posts and Instagram media, and replying to comments."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.helpers import add_member, assert_error, register
from tests.social.helpers import (
    GRAPH,
    IG_GRAPH,
    IG_ID,
    IG_TOKEN,
    PAGE_ID,
    PAGE_TOKEN,
    connect_instagram,
    connect_page,
    deliver,
    events_of,
    feed_comment,
    form_of,
    graph_error,
    headers,
    instagram_comment,
)


async def _operation(client: httpx.AsyncClient, owner: Any, url: str) -> dict[str, Any]:
    response = await client.get(url, headers=headers(owner))
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def test_page_posts_text_link_and_photo(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    feed = graph.post(f"{GRAPH}/{PAGE_ID}/feed").mock(
        side_effect=[
            httpx.Response(200, json={"id": f"{PAGE_ID}_1001"}),
            httpx.Response(200, json={"id": f"{PAGE_ID}_1002"}),
        ]
    )
    photos = graph.post(f"{GRAPH}/{PAGE_ID}/photos").respond(
        200, json={"id": "3003", "post_id": f"{PAGE_ID}_1003"}
    )
    url = f"/meta/assets/{asset['id']}/posts"
    bodies = [
        {"message": "Yeni sezon geldi!"},
        {"message": "Kampanya", "link": "https://shop.example.com/kampanya"},
        {"message": "Bugünün elbisesi", "photoUrl": "https://cdn.example.com/elbise.jpg"},
    ]
    published = []
    for body in bodies:
        response = await client.post(url, json=body, headers=headers(owner))
        assert response.status_code == 202, response.text
        data = response.json()["data"]
        assert data["post"]["status"] == "publishing"
        assert data["post"]["externalId"] is None
        published.append(data)
        await run_jobs()
    assert [form_of(c.request) for c in feed.calls] == [
        {"message": "Yeni sezon geldi!"},
        {"message": "Kampanya", "link": "https://shop.example.com/kampanya"},
    ]
    assert feed.calls.last.request.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert form_of(photos.calls.last.request) == {
        "url": "https://cdn.example.com/elbise.jpg",
        "caption": "Bugünün elbisesi",
    }
    listed = (await client.get(url, headers=headers(owner))).json()["data"]["rows"]
    by_id = {p["id"]: p for p in listed}
    expected = [f"{PAGE_ID}_1001", f"{PAGE_ID}_1002", f"{PAGE_ID}_1003"]
    for data, external in zip(published, expected, strict=True):
        post = by_id[data["post"]["id"]]
        assert post["status"] == "published"
        assert post["externalId"] == external
        operation = await _operation(
            client, owner, f"/meta/assets/{asset['id']}/operations/{data['operation']['id']}"
        )
        assert operation["status"] == "succeeded"
        assert operation["result"]["postId"] == external
    assert by_id[published[2]["post"]["id"]]["mediaType"] == "photo"
    assert len(await events_of("meta.post.published")) == 3
    for bad in ({}, {"link": "https://a.example", "photoUrl": "https://b.example/x.jpg"}):
        assert_error(await client.post(url, json=bad, headers=headers(owner)), 422)


def _container_routes(
    graph: respx.MockRouter, statuses: list[str], *, used: int = 2
) -> dict[str, respx.Route]:
    return {
        "limit": graph.get(f"{IG_GRAPH}/{IG_ID}/content_publishing_limit").respond(
            200,
            json={
                "data": [
                    {"quota_usage": used, "config": {"quota_total": 50, "quota_duration": 86400}}
                ]
            },
        ),
        "create": graph.post(f"{IG_GRAPH}/{IG_ID}/media").mock(
            side_effect=[
                httpx.Response(200, json={"id": f"1789000000000000{n}"}) for n in range(1, 12)
            ]
        ),
        "status": graph.get(
            host="graph.instagram.com", path__regex=r"^/v25\.0/1789000000000000\d+$"
        ).mock(
            side_effect=[
                httpx.Response(
                    200,
                    json={"status_code": s, "id": "17890000000000001"}
                    | ({"status": "Error: Media download has failed."} if s == "ERROR" else {}),
                )
                for s in statuses
            ]
        ),
        "publish": graph.post(f"{IG_GRAPH}/{IG_ID}/media_publish").respond(
            200, json={"id": "17920238422030506"}
        ),
        "info": graph.get(f"{IG_GRAPH}/17920238422030506").respond(
            200,
            json={
                "id": "17920238422030506",
                "media_type": "IMAGE",
                "media_product_type": "FEED",
                "permalink": "https://www.instagram.com/p/Cx1AbCdEfGh/",
                "timestamp": "2026-12-01T10:00:00+0000",
            },
        ),
    }


async def test_instagram_feed_image_goes_through_the_container(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    routes = _container_routes(graph, ["IN_PROGRESS", "IN_PROGRESS", "FINISHED"])
    response = await client.post(
        f"/instagram/accounts/{account['id']}/media/feed",
        json={"imageUrl": "https://cdn.example.com/elbise.jpg", "caption": "Yeni sezon #moda"},
        headers=headers(owner),
    )
    assert response.status_code == 202, response.text
    data = response.json()["data"]
    assert data["post"]["productType"] == "FEED"
    await run_jobs()
    assert routes["limit"].called
    create = routes["create"].calls.last.request
    assert create.headers["authorization"] == f"Bearer {IG_TOKEN}"
    assert form_of(create) == {
        "image_url": "https://cdn.example.com/elbise.jpg",
        "caption": "Yeni sezon #moda",
    }
    assert routes["status"].call_count == 3
    assert dict(routes["status"].calls.last.request.url.params) == {"fields": "status_code,status"}
    assert form_of(routes["publish"].calls.last.request) == {"creation_id": "17890000000000001"}
    operation = await _operation(
        client,
        owner,
        f"/instagram/accounts/{account['id']}/operations/{data['operation']['id']}",
    )
    assert operation["status"] == "succeeded"
    assert operation["attempts"] == 1  # polling used no retries
    progress = operation["progress"]
    assert progress["step"] == "published"
    assert progress["containerId"] == "17890000000000001"
    assert progress["containerStatus"] == "FINISHED"
    assert progress["polls"] == 3
    assert progress["quota"] == {"used": 2, "total": 50, "windowSeconds": 86400}
    assert progress["permalink"] == "https://www.instagram.com/p/Cx1AbCdEfGh/"
    media = await client.get(f"/instagram/accounts/{account['id']}/media", headers=headers(owner))
    [post] = media.json()["data"]["rows"]
    assert post["status"] == "published"
    assert post["externalId"] == "17920238422030506"
    assert post["permalink"] == "https://www.instagram.com/p/Cx1AbCdEfGh/"
    [event] = await events_of("instagram.media.published")
    assert event["data"]["permalink"] == "https://www.instagram.com/p/Cx1AbCdEfGh/"


async def test_a_container_that_ends_in_error_fails_the_publication(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    routes = _container_routes(graph, ["IN_PROGRESS", "ERROR"])
    response = await client.post(
        f"/instagram/accounts/{account['id']}/media/reels",
        json={"videoUrl": "https://cdn.example.com/defile.mp4", "caption": "Defile"},
        headers=headers(owner),
    )
    data = response.json()["data"]
    await run_jobs()
    assert form_of(routes["create"].calls.last.request) == {
        "media_type": "REELS",
        "video_url": "https://cdn.example.com/defile.mp4",
        "caption": "Defile",
    }
    assert not routes["publish"].called
    operation = await _operation(
        client,
        owner,
        f"/instagram/accounts/{account['id']}/operations/{data['operation']['id']}",
    )
    assert operation["status"] == "failed"
    assert "ERROR" in operation["lastError"]
    assert "Media download has failed" in operation["lastError"]
    assert operation["progress"]["containerStatus"] == "ERROR"
    media = await client.get(f"/instagram/accounts/{account['id']}/media", headers=headers(owner))
    assert media.json()["data"]["rows"][0]["status"] == "failed"


async def test_carousels_create_their_children_first(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    routes = _container_routes(graph, ["FINISHED"])
    response = await client.post(
        f"/instagram/accounts/{account['id']}/media/feed",
        json={
            "caption": "Üçlü kombin",
            "children": [
                {"imageUrl": "https://cdn.example.com/1.jpg"},
                {"videoUrl": "https://cdn.example.com/2.mp4"},
                {"imageUrl": "https://cdn.example.com/3.jpg"},
            ],
        },
        headers=headers(owner),
    )
    assert response.status_code == 202, response.text
    assert response.json()["data"]["post"]["mediaType"] == "CAROUSEL_ALBUM"
    await run_jobs()
    forms = [form_of(c.request) for c in routes["create"].calls]
    assert forms == [
        {"image_url": "https://cdn.example.com/1.jpg", "is_carousel_item": "true"},
        {
            "video_url": "https://cdn.example.com/2.mp4",
            "media_type": "VIDEO",
            "is_carousel_item": "true",
        },
        {"image_url": "https://cdn.example.com/3.jpg", "is_carousel_item": "true"},
        {
            "media_type": "CAROUSEL",
            "caption": "Üçlü kombin",
            "children": "17890000000000001,17890000000000002,17890000000000003",
        },
    ]
    assert form_of(routes["publish"].calls.last.request) == {"creation_id": "17890000000000004"}


async def test_stories_and_the_publishing_limit(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    routes = _container_routes(graph, ["FINISHED"], used=50)
    response = await client.post(
        f"/instagram/accounts/{account['id']}/media/stories",
        json={"imageUrl": "https://cdn.example.com/story.jpg"},
        headers=headers(owner),
    )
    data = response.json()["data"]
    assert data["post"]["productType"] == "STORY"
    await run_jobs()
    assert not routes["create"].called
    operation = await _operation(
        client,
        owner,
        f"/instagram/accounts/{account['id']}/operations/{data['operation']['id']}",
    )
    assert operation["status"] == "failed"
    assert "content_publishing_limit" in operation["lastError"]
    assert operation["progress"]["step"] == "limit_reached"

    routes["limit"].respond(
        200,
        json={"data": [{"quota_usage": 3, "config": {"quota_total": 50, "quota_duration": 86400}}]},
    )
    response = await client.post(
        f"/instagram/accounts/{account['id']}/media/stories",
        json={"videoUrl": "https://cdn.example.com/story.mp4"},
        headers=headers(owner),
    )
    await run_jobs()
    assert form_of(routes["create"].calls.last.request) == {
        "media_type": "STORIES",
        "video_url": "https://cdn.example.com/story.mp4",
    }
    bad = await client.post(
        f"/instagram/accounts/{account['id']}/media/stories",
        json={
            "imageUrl": "https://cdn.example.com/a.jpg",
            "videoUrl": "https://cdn.example.com/b.mp4",
        },
        headers=headers(owner),
    )
    assert_error(bad, 422)


async def test_replying_to_a_page_comment(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    await deliver(client, feed_comment(comment_id="900000000000001_111"))
    await run_jobs()
    [post] = (await client.get(f"/meta/assets/{asset['id']}/posts", headers=headers(owner))).json()[
        "data"
    ]["rows"]
    [comment] = (
        await client.get(
            f"/meta/assets/{asset['id']}/posts/{post['id']}/comments", headers=headers(owner)
        )
    ).json()["data"]["rows"]
    reply_route = graph.post(f"{GRAPH}/900000000000001_111/comments").respond(
        200, json={"id": "900000000000001_555"}
    )
    response = await client.post(
        f"/meta/assets/{asset['id']}/comments/{comment['id']}/replies",
        json={"message": "Fiyatı 499 TL, DM'den yazabilirsiniz."},
        headers=headers(owner),
    )
    assert response.status_code == 202, response.text
    reply = response.json()["data"]["comment"]
    assert reply["status"] == "pending"
    assert reply["fromMe"] is True
    assert reply["parentExternalId"] == "900000000000001_111"
    await run_jobs()
    assert form_of(reply_route.calls.last.request) == {
        "message": "Fiyatı 499 TL, DM'den yazabilirsiniz."
    }
    # Our reply comes back through the feed webhook: recognised, not duplicated.
    await deliver(
        client,
        feed_comment(
            comment_id="900000000000001_555",
            message="Fiyatı 499 TL, DM'den yazabilirsiniz.",
            parent_id="900000000000001_111",
            sender=(PAGE_ID, "Ayşe Butik"),
        ),
    )
    await run_jobs()
    rows = (
        await client.get(
            f"/meta/assets/{asset['id']}/posts/{post['id']}/comments", headers=headers(owner)
        )
    ).json()["data"]["rows"]
    assert len(rows) == 2
    ours = next(r for r in rows if r["fromMe"])
    assert ours["id"] == reply["id"]
    assert ours["externalId"] == "900000000000001_555"
    assert ours["status"] == "sent"
    assert len(await events_of("meta.comment.received")) == 1


async def test_replying_to_an_instagram_comment_and_a_refused_reply(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    await deliver(client, instagram_comment(comment_id="17870913679156914"), platform="instagram")
    await run_jobs()
    [media] = (
        await client.get(f"/instagram/accounts/{account['id']}/media", headers=headers(owner))
    ).json()["data"]["rows"]
    [comment] = (
        await client.get(
            f"/instagram/accounts/{account['id']}/media/{media['id']}/comments",
            headers=headers(owner),
        )
    ).json()["data"]["rows"]
    replies = graph.post(f"{IG_GRAPH}/17870913679156914/replies").mock(
        side_effect=[
            httpx.Response(200, json={"id": "17881770991003328"}),
            httpx.Response(
                400,
                json=graph_error(
                    100, "Invalid parameter", error_type="IGApiException", subcode=2534023
                ),
            ),
        ]
    )
    url = f"/instagram/accounts/{account['id']}/comments/{comment['id']}/replies"
    first = await client.post(url, json={"message": "S, M ve L var 🙌"}, headers=headers(owner))
    await run_jobs()
    assert form_of(replies.calls[0].request) == {"message": "S, M ve L var 🙌"}
    second = await client.post(url, json={"message": "Tekrar"}, headers=headers(owner))
    await run_jobs()
    assert replies.call_count == 2
    rows = {
        r["id"]: r
        for r in (
            await client.get(
                f"/instagram/accounts/{account['id']}/media/{media['id']}/comments",
                headers=headers(owner),
            )
        ).json()["data"]["rows"]
    }
    assert rows[first.json()["data"]["comment"]["id"]]["externalId"] == "17881770991003328"
    assert rows[second.json()["data"]["comment"]["id"]]["status"] == "failed"


async def test_agents_reply_but_only_admins_publish(
    client: httpx.AsyncClient, graph: respx.MockRouter
) -> None:
    owner = await register(client)
    agent = await add_member(client, owner, "agent")
    asset = await connect_page(client, owner, graph)
    response = await client.post(
        f"/meta/assets/{asset['id']}/posts", json={"message": "x"}, headers=headers(agent)
    )
    assert_error(response, 403, "insufficient_role")
