"""Instagram professional accounts through the Instagram API with Instagram Login.

Onboarding (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-
login/business-login): the authorization window `https://www.instagram.com/oauth/authorize`, the
code exchanged at `POST https://api.instagram.com/oauth/access_token` for a short-lived token
(`{"data": [{"access_token", "user_id", "permissions"}]}`), made long-lived (60 days) with
`GET https://graph.instagram.com/access_token?grant_type=ig_exchange_token` and renewed with
`GET /refresh_access_token?grant_type=ig_refresh_token` (once at least 24 hours old).

Content publishing: a container (`POST /{ig-user-id}/media`), its `status_code` polled
(IN_PROGRESS, FINISHED, ERROR, EXPIRED, PUBLISHED), then `POST /{ig-user-id}/media_publish`
within the account's `content_publishing_limit`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ticaret.social.graph.base import SocialGraph, page_of, required, with_query
from ticaret.social.graph.errors import GraphResponseInvalid
from ticaret.social.graph.normalized import (
    DiscoveredAsset,
    GraphPage,
    PublishingLimit,
    UserGrant,
    as_object,
)
from ticaret.social.graph.transport import GraphTransport, UsageRecorder

ACCOUNT_FIELDS = (
    "comments",
    "messages",
    "messaging_seen",
    "message_reactions",
    "messaging_postbacks",
)
_VERSION = re.compile(r"/v\d+(\.\d+)?/?$")


def unversioned(base_url: str) -> str:
    """Token endpoints live at the host's root: `.../v25.0` -> `https://graph.instagram.com`."""
    return _VERSION.sub("", base_url.rstrip("/"))


class InstagramGraph(SocialGraph):
    platform = "instagram"
    subscribed_fields = ACCOUNT_FIELDS

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        graph_base_url: str,
        authorize_url: str,
        token_url: str,
        timeout: float,
        record_usage: UsageRecorder | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.authorize_endpoint = authorize_url
        self.token_url = token_url
        self.root = unversioned(graph_base_url)
        self.transport = GraphTransport(
            graph_base_url,
            timeout=timeout,
            other_hosts=(token_url,),
            record_usage=record_usage,
        )

    def authorize_url(self, *, state: str, redirect_uri: str, scopes: Sequence[str]) -> str:
        return with_query(
            self.authorize_endpoint,
            {
                "client_id": self.app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": ",".join(scopes),
                "state": state,
            },
        )

    async def exchange_code(self, code: str, redirect_uri: str) -> UserGrant:
        body = (
            await self.transport.call(
                "POST",
                self.token_url,
                form={
                    "client_id": self.app_id,
                    "client_secret": self.app_secret,
                    "grant_type": "authorization_code",
                    "redirect_uri": redirect_uri,
                    "code": code,
                },
            )
        ).object()
        # Business Login answers `{"data": [{...}]}`; older apps got the object itself.
        data = body.get("data")
        grant = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else body
        permissions = grant.get("permissions")
        if isinstance(permissions, str):
            granted = tuple(p for p in permissions.split(",") if p)
        elif isinstance(permissions, list):
            granted = tuple(str(p) for p in permissions)
        else:
            granted = ()
        user_id = grant.get("user_id")
        return UserGrant(
            required(grant, "access_token"),
            None,
            str(user_id) if user_id is not None else None,
            granted,
        )

    async def long_lived(self, grant: UserGrant) -> UserGrant:
        body = (
            await self.transport.call(
                "GET",
                f"{self.root}/access_token",
                params={
                    "grant_type": "ig_exchange_token",
                    "client_secret": self.app_secret,
                    "access_token": grant.access_token,
                },
            )
        ).object()
        expires = body.get("expires_in")
        return UserGrant(
            required(body, "access_token"),
            expires if isinstance(expires, int) else None,
            grant.user_id,
            grant.permissions,
        )

    async def refresh(self, token: str) -> UserGrant:
        body = (
            await self.transport.call(
                "GET",
                f"{self.root}/refresh_access_token",
                params={"grant_type": "ig_refresh_token", "access_token": token},
            )
        ).object()
        expires = body.get("expires_in")
        return UserGrant(
            required(body, "access_token"), expires if isinstance(expires, int) else None
        )

    async def connected_assets(self, grant: UserGrant) -> list[DiscoveredAsset]:
        lasting = await self.long_lived(grant)
        me = (
            await self.transport.call(
                "GET",
                "me",
                token=lasting.access_token,
                params={"fields": "user_id,username,name,account_type,profile_picture_url"},
            )
        ).object()
        # `user_id` is the professional account id webhooks name; `id` is app-scoped.
        account_id = me.get("user_id") or grant.user_id
        if not account_id:
            raise GraphResponseInvalid("/me named no user_id")
        username = me.get("username") if isinstance(me.get("username"), str) else None
        return [
            DiscoveredAsset(
                external_id=str(account_id),
                name=str(me.get("name") or username or account_id),
                access_token=lasting.access_token,
                username=username,
                category=me.get("account_type")
                if isinstance(me.get("account_type"), str)
                else None,
                picture_url=me.get("profile_picture_url")
                if isinstance(me.get("profile_picture_url"), str)
                else None,
                app_scoped_id=str(me["id"]) if me.get("id") else None,
                token_expires_in=lasting.expires_in,
                scopes=grant.permissions,
            )
        ]

    async def subscribe(self, external_id: str, token: str) -> list[str]:
        body = (
            await self.transport.call(
                "POST",
                "me/subscribed_apps",
                token=token,
                form={"subscribed_fields": ",".join(self.subscribed_fields)},
            )
        ).object()
        if body.get("success") is not True:
            raise GraphResponseInvalid("subscribed_apps did not answer success")
        return list(self.subscribed_fields)

    async def unsubscribe(self, external_id: str, token: str) -> None:
        await self.transport.call("DELETE", "me/subscribed_apps", token=token)

    async def conversations(self, external_id: str, token: str, after: str | None) -> GraphPage:
        return page_of(
            await self.transport.call(
                "GET",
                f"{external_id}/conversations",
                token=token,
                params={
                    "platform": "instagram",
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
                f"{external_id}/media",
                token=token,
                params={
                    "fields": "id,caption,media_type,media_product_type,media_url,permalink,"
                    "thumbnail_url,timestamp,comments_count",
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
                    "fields": "id,text,timestamp,username,from,parent_id",
                    "limit": 50,
                    "after": after,
                },
            )
        )

    async def reply_to_comment(self, comment_id: str, token: str, text: str) -> str:
        body = (
            await self.transport.call(
                "POST", f"{comment_id}/replies", token=token, form={"message": text}
            )
        ).object()
        return required(body, "id")

    # Content publishing ---------------------------------------------------------------------

    async def publishing_limit(self, external_id: str, token: str) -> PublishingLimit:
        body = (
            await self.transport.call(
                "GET",
                f"{external_id}/content_publishing_limit",
                token=token,
                params={"fields": "quota_usage,config"},
            )
        ).object()
        data = body.get("data")
        row: dict[str, Any] = data[0] if isinstance(data, list) and data else {}
        config = as_object(row.get("config"))
        used = row.get("quota_usage")
        total = config.get("quota_total")
        window = config.get("quota_duration")
        return PublishingLimit(
            used=used if isinstance(used, int) else 0,
            total=total if isinstance(total, int) else None,
            window_seconds=window if isinstance(window, int) else None,
        )

    async def create_container(self, external_id: str, token: str, params: dict[str, Any]) -> str:
        body = (
            await self.transport.call("POST", f"{external_id}/media", token=token, form=params)
        ).object()
        return required(body, "id")

    async def container_status(self, container_id: str, token: str) -> tuple[str, str | None]:
        """(`status_code`, `status` detail such as `Error: ...`)."""
        body = (
            await self.transport.call(
                "GET", container_id, token=token, params={"fields": "status_code,status"}
            )
        ).object()
        detail = body.get("status")
        return required(body, "status_code"), detail if isinstance(detail, str) else None

    async def publish_container(self, external_id: str, token: str, container_id: str) -> str:
        body = (
            await self.transport.call(
                "POST",
                f"{external_id}/media_publish",
                token=token,
                form={"creation_id": container_id},
            )
        ).object()
        return required(body, "id")

    async def media_info(self, media_id: str, token: str) -> dict[str, Any]:
        return (
            await self.transport.call(
                "GET",
                media_id,
                token=token,
                params={
                    "fields": "id,caption,media_type,media_product_type,media_url,permalink,"
                    "timestamp"
                },
            )
        ).object()
