"""The Graph interface every provider adapter implements (Facebook Pages, Instagram).

Services and jobs talk to `SocialGraph`; only the adapters know paths, fields and the shapes
Meta answers with. Each call returns what the rest of the code needs (`normalized`), or raises
a `GraphError` subclass that says whether to retry, re-authorize or give up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from ticaret.social.graph.errors import GraphResponseInvalid
from ticaret.social.graph.normalized import (
    DiscoveredAsset,
    GraphPage,
    SentMessage,
    UserGrant,
    as_object,
)
from ticaret.social.graph.transport import GraphResponse, GraphTransport


def page_of(response: GraphResponse) -> GraphPage:
    """`{"data": [...], "paging": {"cursors": {"after": ...}, "next": ...}}`: the next page
    exists only when Meta gives a `next` link; its cursor is `cursors.after`."""
    body = response.object()
    data = body.get("data")
    if not isinstance(data, list):
        raise GraphResponseInvalid("the list answer has no data array")
    paging = as_object(body.get("paging"))
    cursors = as_object(paging.get("cursors"))
    after = cursors.get("after") if paging.get("next") else None
    return GraphPage([row for row in data if isinstance(row, dict)], after or None)


def required(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise GraphResponseInvalid(f"the answer has no {key}")
    return value


def with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urlencode(params)}"


class SocialGraph(ABC):
    """What both providers do, in our words."""

    platform: str
    # Webhook fields the app subscribes each connected asset to.
    subscribed_fields: tuple[str, ...]
    transport: GraphTransport

    @abstractmethod
    def authorize_url(self, *, state: str, redirect_uri: str, scopes: Sequence[str]) -> str: ...

    @abstractmethod
    async def exchange_code(self, code: str, redirect_uri: str) -> UserGrant: ...

    @abstractmethod
    async def connected_assets(self, grant: UserGrant) -> list[DiscoveredAsset]:
        """Long-lived tokens and the assets they reach (Pages; the Instagram account)."""

    @abstractmethod
    async def subscribe(self, external_id: str, token: str) -> list[str]: ...

    @abstractmethod
    async def unsubscribe(self, external_id: str, token: str) -> None: ...

    async def send_message(
        self, external_id: str, token: str, payload: dict[str, Any]
    ) -> SentMessage:
        """Send API: `POST /{page-id | ig-user-id}/messages`."""
        body = (
            await self.transport.call("POST", f"{external_id}/messages", token=token, json=payload)
        ).object()
        recipient = body.get("recipient_id")
        return SentMessage(required(body, "message_id"), str(recipient) if recipient else None)

    async def mark_seen(self, external_id: str, token: str, participant_id: str) -> None:
        await self.transport.call(
            "POST",
            f"{external_id}/messages",
            token=token,
            json={"recipient": {"id": participant_id}, "sender_action": "mark_seen"},
        )

    @abstractmethod
    async def conversations(self, external_id: str, token: str, after: str | None) -> GraphPage:
        """Conversations API: `GET /{id}/conversations?platform=messenger|instagram`."""

    async def conversation_messages(
        self, conversation_id: str, token: str, after: str | None
    ) -> GraphPage:
        response = await self.transport.call(
            "GET",
            f"{conversation_id}/messages",
            token=token,
            params={
                "fields": "id,created_time,from,to,message,attachments",
                "limit": 50,
                "after": after,
            },
        )
        return page_of(response)

    @abstractmethod
    async def posts(self, external_id: str, token: str, after: str | None) -> GraphPage: ...

    @abstractmethod
    async def comments(self, post_id: str, token: str, after: str | None) -> GraphPage: ...

    @abstractmethod
    async def reply_to_comment(self, comment_id: str, token: str, text: str) -> str: ...
