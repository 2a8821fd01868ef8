"""Facebook Pages through the Graph API: Login for Business, Page tokens, Messenger, posts.

Onboarding (https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow):
the Login dialog `https://www.facebook.com/{version}/dialog/oauth`, the code exchanged at
`GET /oauth/access_token`, the short-lived user token turned long-lived with
`grant_type=fb_exchange_token`, and the Pages with their own tokens from `GET /me/accounts`
(a Page token obtained from a long-lived user token does not expire).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ticaret.social.graph.base import SocialGraph, page_of, required, with_query
from ticaret.social.graph.errors import GraphResponseInvalid
from ticaret.social.graph.normalized import DiscoveredAsset, GraphPage, UserGrant
from ticaret.social.graph.transport import GraphTransport, UsageRecorder

# Messenger events and Page feed (comments) the app subscribes each Page to.
PAGE_FIELDS = (
    "messages",
    "message_echoes",
    "message_reads",
    "message_reactions",
    "messaging_postbacks",
    "feed",
)


def graph_version(base_url: str) -> str:
    """`https://graph.facebook.com/v25.0` -> `v25.0` (the dialog uses the same version)."""
    last = urlsplit(base_url).path.rstrip("/").rsplit("/", 1)[-1]
    return last if last.startswith("v") else "v25.0"


class FacebookGraph(SocialGraph):
    platform = "facebook"
    subscribed_fields = PAGE_FIELDS

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        graph_base_url: str,
        dialog_base_url: str,
        timeout: float,
        record_usage: UsageRecorder | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.transport = GraphTransport(graph_base_url, timeout=timeout, record_usage=record_usage)
        self.dialog_url = (
            f"{dialog_base_url.rstrip('/')}/{graph_version(graph_base_url)}/dialog/oauth"
        )

    def authorize_url(self, *, state: str, redirect_uri: str, scopes: Sequence[str]) -> str:
        return with_query(
            self.dialog_url,
            {
                "client_id": self.app_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "response_type": "code",
                "scope": ",".join(scopes),
            },
        )

    async def exchange_code(self, code: str, redirect_uri: str) -> UserGrant:
        body = (
            await self.transport.call(
                "GET",
                "oauth/access_token",
                params={
                    "client_id": self.app_id,
                    "redirect_uri": redirect_uri,
                    "client_secret": self.app_secret,
                    "code": code,
                },
            )
        ).object()
        return UserGrant(required(body, "access_token"), _int(body.get("expires_in")))

    async def long_lived(self, grant: UserGrant) -> UserGrant:
        body = (
            await self.transport.call(
                "GET",
                "oauth/access_token",
                params={
                    "grant_type": "fb_exchange_token",
                    "client_id": self.app_id,
                    "client_secret": self.app_secret,
                    "fb_exchange_token": grant.access_token,
                },
            )
        ).object()
        return UserGrant(required(body, "access_token"), _int(body.get("expires_in")))

    async def connected_assets(self, grant: UserGrant) -> list[DiscoveredAsset]:
        user = await self.long_lived(grant)
        pages: list[DiscoveredAsset] = []
        after: str | None = None
        for _ in range(50):  # 50 pages of 100 Pages each is more than anyone manages
            page = page_of(
                await self.transport.call(
                    "GET",
                    "me/accounts",
                    token=user.access_token,
                    params={
                        "fields": "id,name,access_token,category,picture{url}",
                        "limit": 100,
                        "after": after,
                    },
                )
            )
            for row in page.rows:
                pages.append(_page(row))
            after = page.after
            if after is None:
                break
        return pages

    async def subscribe(self, external_id: str, token: str) -> list[str]:
        body = (
            await self.transport.call(
                "POST",
                f"{external_id}/subscribed_apps",
                token=token,
                form={"subscribed_fields": ",".join(self.subscribed_fields)},
            )
        ).object()
        if body.get("success") is not True:
            raise GraphResponseInvalid("subscribed_apps did not answer success")
        return list(self.subscribed_fields)

    async def unsubscribe(self, external_id: str, token: str) -> None:
        await self.transport.call("DELETE", f"{external_id}/subscribed_apps", token=token)

    async def conversations(self, external_id: str, token: str, after: str | None) -> GraphPage:
        return page_of(
            await self.transport.call(
                "GET",
                f"{external_id}/conversations",
                token=token,
                params={
                    "platform": "messenger",
                    "fields": "id,updated_time,participants",
                    "limit": 50,
                    "after": after,
                },
            )
        )

    async def posts(self, external_id: str, token: str, after: str | None) -> GraphPage:
        return page_of(
            await self.transport.call(
                "GET",
                f"{external_id}/posts",
                token=token,
                params={
                    "fields": "id,message,created_time,permalink_url,full_picture,status_type",
                    "limit": 25,
                    "after": after,
                },
            )
        )

    async def comments(self, post_id: str, token: str, after: str | None) -> GraphPage:
        return page_of(
            await self.transport.call(
                "GET",
                f"{post_id}/comments",
                token=token,
                params={
                    # `stream`: every comment and reply, each naming its parent.
                    "filter": "stream",
                    "fields": "id,message,from,created_time,parent{id}",
                    "limit": 100,
                    "after": after,
                },
            )
        )

    async def reply_to_comment(self, comment_id: str, token: str, text: str) -> str:
        body = (
            await self.transport.call(
                "POST", f"{comment_id}/comments", token=token, form={"message": text}
            )
        ).object()
        return required(body, "id")

    async def publish_feed(
        self, page_id: str, token: str, message: str | None, link: str | None
    ) -> str:
        """`POST /{page-id}/feed` with `message` and/or `link` -> `{"id": "{page}_{post}"}`."""
        body = (
            await self.transport.call(
                "POST", f"{page_id}/feed", token=token, form={"message": message, "link": link}
            )
        ).object()
        return required(body, "id")

    async def publish_photo(
        self, page_id: str, token: str, url: str, caption: str | None
    ) -> tuple[str, str]:
        """`POST /{page-id}/photos` with `url` -> `{"id": photo id, "post_id": post id}`."""
        body = (
            await self.transport.call(
                "POST", f"{page_id}/photos", token=token, form={"url": url, "caption": caption}
            )
        ).object()
        photo_id = required(body, "id")
        post_id = body.get("post_id")
        return photo_id, str(post_id) if post_id else photo_id


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _page(row: dict[str, Any]) -> DiscoveredAsset:
    picture = row.get("picture")
    url = None
    if isinstance(picture, dict) and isinstance(picture.get("data"), dict):
        url = picture["data"].get("url")
    return DiscoveredAsset(
        external_id=required(row, "id"),
        name=str(row.get("name") or row.get("id")),
        access_token=required(row, "access_token"),
        category=row.get("category") if isinstance(row.get("category"), str) else None,
        picture_url=url if isinstance(url, str) else None,
    )
