"""What the tenancy walk (`test_walk.py`) must know about the API, one entry per fact.

The walk reads every route from the OpenAPI document. Victim A and attacker B each get the same
set of objects, made through the public API by the factories below; then B calls every route
with B's own values everywhere except one place that carries A's id, once per such place
(path, query, `x-account-id`, request body). The walk fails on any route or parameter this
registry does not explain, so a new domain is covered the day it lands:

- a new id parameter or id field in a body: add a `@factory("name")` that creates the object
  in the world's account and returns its id (or list the name in `NOT_IDS` if it is none);
  a name that means another object under another path (`threadId`, `commentId` and
  `operationId` of `/meta` and `/instagram`) is resolved through `SCOPED_IDS`;
- a new route with a request body: add an example body to `BODIES`;
- a new route without ids: add it to `EXEMPT` with the reason;
- an id whose foreign value is legitimately accepted somewhere (a filter, an address, the
  target of a share): say so in `FILTERS`, `ADDRESS_ROUTES` or `BODY_FIELDS_NOT_IDS`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from tests.helpers import Caller, add_member, register
from tests.social.helpers import (
    connect_instagram,
    connect_page,
    customer_message,
    deliver,
    feed_comment,
    instagram_body,
    instagram_comment,
    page_body,
    route_sends,
)
from tests.wa.helpers import create_session

# Parameter names and body fields that carry an id. Anything else must be in NOT_IDS.
ID_NAME = re.compile(r"(^|[a-z])(Id|Ids|Jid|jid)$|^x-account-id$")


@dataclass
class World:
    """One tenant: an owner, their account, and the objects the factories made in it."""

    client: httpx.AsyncClient
    owner: Caller
    run_jobs: Callable[[], Awaitable[Any]]
    # Each world talks to its own customer, so a chat never exists in both by coincidence,
    # and connects its own Page and Instagram account (Meta's ids derived from that phone).
    customer_phone: str
    # The faked Graph hosts: onboarding and Send API answers as Meta documents them.
    graph: respx.MockRouter
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def customer_jid(self) -> str:
        return f"{self.customer_phone}@s.whatsapp.net"

    @property
    def page_id(self) -> str:
        return f"104857{self.customer_phone[-9:]}"

    @property
    def ig_account_id(self) -> str:
        return f"17841{self.customer_phone}"

    @property
    def psid(self) -> str:
        return f"241{self.customer_phone}"

    @property
    def igsid(self) -> str:
        return f"665{self.customer_phone}"

    @property
    def headers(self) -> dict[str, str]:
        return {**self.owner.headers, "x-account-id": self.owner.account_id}

    async def id(self, name: str) -> str:
        if name not in self.ids:
            self.ids[name] = await FACTORIES[name](self)
        return self.ids[name]

    async def call(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, url, headers=self.headers, **kwargs)
        assert response.status_code in (200, 201, 202), (method, url, response.text)
        return response.json()["data"]


Factory = Callable[[World], Awaitable[str]]
FACTORIES: dict[str, Factory] = {}

# Parameter names that name another object under another path: the walk sends, on a route
# under the prefix, the id of the factory named here (`ids_for`).
SCOPED_IDS: dict[str, dict[str, str]] = {
    "/meta/": {
        "threadId": "meta:threadId",
        "commentId": "meta:commentId",
        "operationId": "meta:operationId",
    },
    "/instagram/": {
        "threadId": "instagram:threadId",
        "commentId": "instagram:commentId",
        "operationId": "instagram:operationId",
    },
}


def factory_name(path: str, name: str) -> str:
    """The factory whose object `name` means on this route."""
    for prefix, names in SCOPED_IDS.items():
        if path.startswith(prefix) and name in names:
            return names[name]
    return name


def ids_for(path: str, ids: dict[str, str]) -> dict[str, str]:
    """A world's ids as one route's parameters and bodies name them."""
    view = dict(ids)
    for prefix, names in SCOPED_IDS.items():
        if path.startswith(prefix):
            view.update({name: ids[key] for name, key in names.items() if key in ids})
    return view


def factory(*names: str) -> Callable[[Factory], Factory]:
    def register_factory(make: Factory) -> Factory:
        for name in names:
            FACTORIES[name] = make
        return make

    return register_factory


# Accounts ----------------------------------------------------------------------------------


@factory("accountId", "x-account-id")
async def own_account(world: World) -> str:
    return world.owner.account_id


@factory("userId")
async def member(world: World) -> str:
    return (await add_member(world.client, world.owner, "agent")).user_id


@factory("apiAccountId")
async def api_account(world: World) -> str:
    url = f"/accounts/{world.owner.account_id}/api-accounts"
    return str((await world.call("POST", url, json={"name": "Integration"}))["id"])


@factory("invitationId")
async def invitation(world: World) -> str:
    """An invitation this world's account sent to an address nobody has registered yet."""
    url = f"/accounts/{world.owner.account_id}/users"
    email = f"invitee-{world.owner.account_id}@example.com"
    # The membership id is the invitation's id (GET /auth/invitations, as the invitee sees it).
    return str((await world.call("POST", url, json={"email": email, "role": "agent"}))["id"])


# Webhooks ----------------------------------------------------------------------------------


@factory("webhookId")
async def webhook(world: World) -> str:
    url = f"/accounts/{world.owner.account_id}/webhooks"
    created = await world.call(
        "POST", url, json={"url": "http://127.0.0.1:9/hook", "events": ["*"]}
    )
    # Paused: its deliveries are held, so the jobs other factories run never try to send them
    # (a burst worker would otherwise wait out the retry schedule).
    await world.call("POST", f"{url}/{created['id']}/pause")
    return str(created["id"])


@factory("deliveryId")
async def delivery(world: World) -> str:
    webhook_id = await world.id("webhookId")
    url = f"/accounts/{world.owner.account_id}/webhooks/{webhook_id}/test"
    made = await world.call("POST", url)
    world.ids["eventId"] = made["eventId"]
    return str(made["id"])


@factory("eventId")
async def event(world: World) -> str:
    await world.id("deliveryId")
    return world.ids["eventId"]


# WhatsApp ----------------------------------------------------------------------------------


@factory("providerSessionId")
async def wa_session(world: World) -> str:
    return str((await create_session(world.client, world.owner))["providerSessionId"])


@factory("messageId")
async def inbound_message(world: World) -> str:
    psid = await world.id("providerSessionId")
    injected = await world.call(
        "POST",
        f"/wa/sandbox/{psid}/inbound",
        # The account id in the text: a response that leaked this message would show it.
        json={
            "from": world.customer_phone,
            "text": f"Fiyat nedir? ({world.owner.account_id})",
            "withMedia": True,
        },
    )
    await world.run_jobs()  # the message lands in its chat, with its media stored
    return str(injected["messageId"])


@factory("remoteJid", "jid")
async def chat(world: World) -> str:
    await world.id("messageId")
    return world.customer_jid


@factory("labelId")
async def label(world: World) -> str:
    made = await world.call("POST", "/wa/labels", json={"name": "VIP", "color": "#aa0000"})
    label_id = str(made["id"])
    # Linked to the chat and the message, so a removal that crossed accounts would show.
    chat_url = f"/wa/chats/{await world.id('remoteJid')}"
    await world.call("POST", f"{chat_url}/labels", json={"labelId": label_id})
    message_url = f"{chat_url}/messages/{await world.id('messageId')}/labels"
    await world.call("POST", message_url, json={"labelId": label_id})
    return label_id


@factory("labelIds")
async def labels(world: World) -> str:
    return await world.id("labelId")  # a comma-separated list of one


@factory("operationId")
async def operation(world: World) -> str:
    sent = await world.call(
        "POST",
        f"/wa/chats/{await world.id('remoteJid')}/messages",
        json={"action": "send_text", "text": "Merhaba"},
    )
    return str(sent["operation"]["id"])


@factory("targetAccountId")
async def share_target(world: World) -> str:
    """An account this world's session is shared with."""
    target = await register(world.client, name="Share Target")
    psid = await world.id("providerSessionId")
    url = f"/accounts/{world.owner.account_id}/wa-sessions/{psid}/shares"
    await world.call("POST", url, json={"accountId": target.account_id})
    return target.account_id


@factory("shareId")
async def share_offer(world: World) -> str:
    """A session another account offered to this world's account (still pending)."""
    sharer = await register(world.client, name="Sharer")
    psid = (await create_session(world.client, sharer))["providerSessionId"]
    offered = await world.client.post(
        f"/accounts/{sharer.account_id}/wa-sessions/{psid}/shares",
        json={"accountId": world.owner.account_id},
        headers=sharer.headers,
    )
    assert offered.status_code == 201, offered.text
    return str(offered.json()["data"]["id"])


# CRM ---------------------------------------------------------------------------------------


@factory("groupId")
async def crm_group(world: World) -> str:
    group = await world.call("POST", "/crm/groups", json={"name": "Satış"})
    url = f"/crm/groups/{group['id']}/members"
    await world.call("POST", url, json={"userId": await world.id("userId")})
    return str(group["id"])


@factory("customerId")
async def crm_customer(world: World) -> str:
    """The world's customer, with the customer's phone: the world's chat is linked to it."""
    made = await world.call(
        "POST",
        "/crm/customers",
        json={"title": f"Müşteri {world.owner.account_id}", "phones": [world.customer_phone]},
    )
    await world.id("remoteJid")
    await world.run_jobs()  # the automatic link of the chat by phone
    return str(made["id"])


@factory("contactId")
async def crm_contact(world: World) -> str:
    url = f"/crm/customers/{await world.id('customerId')}/contacts"
    return str((await world.call("POST", url, json={"displayName": "Ayşe"}))["id"])


@factory("assignedGroupId", "teamId")
async def crm_team(world: World) -> str:
    return await world.id("groupId")


@factory("representativeId", "assignedUserId")
async def crm_representative(world: World) -> str:
    """A member who represents the customer and owns the chat."""
    user_id = await world.id("userId")
    customer = f"/crm/customers/{await world.id('customerId')}"
    await world.call("PUT", f"{customer}/representatives", json={"userIds": [user_id]})
    await world.call("PUT", f"{customer}/teams", json={"groupIds": [await world.id("groupId")]})
    await world.call(
        "PUT",
        f"/wa/chats/{await world.id('remoteJid')}/assignment",
        json={"assigneeType": "user", "assigneeId": user_id},
    )
    # Both names: the first asked for does the work, the other finds it done.
    world.ids.setdefault("representativeId", user_id)
    world.ids.setdefault("assignedUserId", user_id)
    return user_id


@factory("bulkId")
async def crm_bulk(world: World) -> str:
    made = await world.call(
        "POST",
        "/crm/assignments/messages/bulk-assign",
        json={
            "messages": [
                {
                    "providerSessionId": await world.id("providerSessionId"),
                    "remoteJid": await world.id("remoteJid"),
                    "messageId": await world.id("messageId"),
                }
            ],
            "assigneeType": "group",
            "assigneeId": await world.id("groupId"),
        },
    )
    return str(made["bulkId"])


@factory("mappingId")
async def crm_mapping(world: World) -> str:
    made = await world.call(
        "POST",
        "/crm/identity-mappings",
        json={
            "channel": "external",
            "scope": "erp",
            "value": f"C-{world.owner.account_id}",
            "customerId": await world.id("customerId"),
        },
    )
    return str(made["id"])


@factory("noteId")
async def crm_note(world: World) -> str:
    url = f"/crm/customers/{await world.id('customerId')}/notes"
    return str((await world.call("POST", url, json={"body": "Vade 60 gün"}))["id"])


@factory("taskId")
async def crm_task(world: World) -> str:
    url = f"/crm/customers/{await world.id('customerId')}/tasks"
    user_id = await world.id("userId")
    made = await world.call(
        "POST",
        url,
        json={"title": "Teklif", "assigneeUserId": user_id, "watcherUserIds": [user_id]},
    )
    return str(made["id"])


@factory("commentId")
async def crm_comment(world: World) -> str:
    url = f"/crm/tasks/{await world.id('taskId')}/comments"
    made = await world.call("POST", url, json={"body": "Aradım", "mentions": []})
    return str(made["id"])


@factory("itemId")
async def crm_checklist_item(world: World) -> str:
    url = f"/crm/tasks/{await world.id('taskId')}/checklist"
    return str((await world.call("POST", url, json={"title": "PDF"}))["id"])


@factory("assigneeUserId")
async def crm_assignee(world: World) -> str:
    return await world.id("userId")


@factory("sourceId")
async def crm_inbox(world: World) -> str:
    """The world's session, bound to its customer."""
    psid = await world.id("providerSessionId")
    url = f"/crm/inbox-links/whatsapp/{psid}"
    await world.call("PUT", url, json={"customerId": await world.id("customerId")})
    return psid


# Pages and Instagram -----------------------------------------------------------------------
# Each world connects its own Page and Instagram account through the real onboarding (the
# OAuth callback, Graph answered by respx) and receives signed webhooks on them, as Meta
# sends them: a DM (a thread), a comment (a post or media object and the comment), then
# sends an answer (an operation).


async def _webhook(world: World, body: dict[str, Any], platform: str) -> None:
    response = await deliver(world.client, body, platform=platform)
    assert response.status_code == 200, response.text
    await world.run_jobs()


@factory("assetId")
async def page(world: World) -> str:
    route_sends(world.graph)
    asset = await connect_page(world.client, world.owner, world.graph, page_id=world.page_id)
    return str(asset["id"])


@factory("meta:threadId")
async def page_thread(world: World) -> str:
    asset_id = await world.id("assetId")
    # The account id in the text: a response that leaked this message would show it.
    text = f"Bu elbise stokta var mı? ({world.owner.account_id})"
    message = customer_message(text, sender=world.psid, recipient=world.page_id)
    await _webhook(world, page_body(message, page_id=world.page_id), "meta")
    [thread] = (await world.call("GET", f"/meta/assets/{asset_id}/threads"))["rows"]
    return str(thread["id"])


@factory("postId")
async def page_post(world: World) -> str:
    """A post of the world's Page, seen through a comment on it."""
    asset_id = await world.id("assetId")
    body = feed_comment(
        comment_id=f"900000000000001_{world.customer_phone}",
        post_id=f"{world.page_id}_900000000000001",
        page_id=world.page_id,
    )
    await _webhook(world, body, "meta")
    [post] = (await world.call("GET", f"/meta/assets/{asset_id}/posts"))["rows"]
    url = f"/meta/assets/{asset_id}/posts/{post['id']}/comments"
    [comment] = (await world.call("GET", url))["rows"]
    world.ids.setdefault("meta:commentId", str(comment["id"]))
    return str(post["id"])


@factory("meta:commentId")
async def page_comment(world: World) -> str:
    await world.id("postId")
    return world.ids["meta:commentId"]


@factory("meta:operationId")
async def page_send(world: World) -> str:
    """An answer in the world's Page thread (inside the 24-hour window)."""
    url = f"/meta/assets/{await world.id('assetId')}/threads/{await world.id('meta:threadId')}"
    sent = await world.call("POST", f"{url}/messages", json={"text": "Evet, var."})
    return str(sent["operation"]["id"])


@factory("igAccountId")
async def instagram_account(world: World) -> str:
    route_sends(world.graph)
    account = await connect_instagram(
        world.client,
        world.owner,
        world.graph,
        ig_id=world.ig_account_id,
        app_scoped_id=f"70{world.customer_phone}",
    )
    return str(account["id"])


@factory("instagram:threadId")
async def instagram_thread(world: World) -> str:
    account_id = await world.id("igAccountId")
    text = f"Bedeni var mı? ({world.owner.account_id})"
    message = customer_message(text, sender=world.igsid, recipient=world.ig_account_id)
    await _webhook(world, instagram_body(message, account_id=world.ig_account_id), "instagram")
    [thread] = (await world.call("GET", f"/instagram/accounts/{account_id}/threads"))["rows"]
    return str(thread["id"])


@factory("mediaId")
async def instagram_media(world: World) -> str:
    """A media object of the world's Instagram account, seen through a comment on it."""
    account_id = await world.id("igAccountId")
    body = instagram_comment(
        comment_id=f"1787{world.customer_phone}",
        media_id=f"1790{world.customer_phone}",
        account_id=world.ig_account_id,
        sender=world.igsid,
    )
    await _webhook(world, body, "instagram")
    [media] = (await world.call("GET", f"/instagram/accounts/{account_id}/media"))["rows"]
    url = f"/instagram/accounts/{account_id}/media/{media['id']}/comments"
    [comment] = (await world.call("GET", url))["rows"]
    world.ids.setdefault("instagram:commentId", str(comment["id"]))
    return str(media["id"])


@factory("instagram:commentId")
async def instagram_comment_of_world(world: World) -> str:
    await world.id("mediaId")
    return world.ids["instagram:commentId"]


@factory("instagram:operationId")
async def instagram_send(world: World) -> str:
    account_id = await world.id("igAccountId")
    thread_id = await world.id("instagram:threadId")
    url = f"/instagram/accounts/{account_id}/threads/{thread_id}/messages"
    sent = await world.call("POST", url, json={"text": "Evet, var."})
    return str(sent["operation"]["id"])


# Catalog -----------------------------------------------------------------------------------


@factory("productId")
async def product(world: World) -> str:
    made = await world.call(
        "POST",
        "/products",
        json={
            # The account id in the name: a response that leaked this product would show it.
            "sku": f"WALK-{world.owner.account_id[:8]}",
            "name": f"Walk product {world.owner.account_id}",
            "price": "10.00",
            "variants": [{"sku": f"WALK-V-{world.owner.account_id[:8]}"}],
        },
    )
    return str(made["id"])


@factory("imageId")
async def product_image(world: World) -> str:
    url = f"/products/{await world.id('productId')}/images"
    return str((await world.call("POST", url, json={"url": "https://cdn.example.com/a.jpg"}))["id"])


@factory("importId")
async def product_import(world: World) -> str:
    rows = [{"sku": f"IMP-{world.owner.account_id[:8]}", "name": world.owner.account_id}]
    return str((await world.call("POST", "/products/import", json={"rows": rows}))["importId"])


# Orders ------------------------------------------------------------------------------------


@factory("orderId")
async def order(world: World) -> str:
    made = await world.call(
        "POST",
        "/orders",
        json={
            "customerId": await world.id("customerId"),
            "contactId": await world.id("contactId"),
            "items": [{"productId": await world.id("productId"), "quantity": 2}],
            # The account id in the notes: a response that leaked this order would show it.
            "notes": f"Walk order {world.owner.account_id}",
        },
    )
    world.ids["orderItemId"] = str(made["items"][0]["id"])
    return str(made["id"])


@factory("orderItemId")
async def order_item(world: World) -> str:
    await world.id("orderId")
    return world.ids["orderItemId"]


# What another account's id gives -----------------------------------------------------------

# Default: 404, the answer for an object the caller cannot see (never reveal it exists).
# x-account-id naming an account the caller is no member of is 403 `not_a_member` (API.md).
FORBIDDEN = {("header", "x-account-id"): "not_a_member"}

# Filters match nothing of another account: 200 with an empty page, never its rows.
FILTERS = {
    ("query", "labelId"),
    ("query", "labelIds"),
    ("query", "eventId"),
    # The CRM's filters (customers, contacts, tasks, mappings, history, WhatsApp lists).
    ("query", "assignedUserId"),
    ("query", "assignedGroupId"),
    ("query", "customerId"),
    ("query", "contactId"),
    ("query", "representativeId"),
    ("query", "teamId"),
    ("query", "userId"),
    ("query", "groupId"),
    ("query", "bulkId"),
    ("query", "assigneeUserId"),
    ("query", "remoteJid"),
    ("query", "messageId"),
}

# A chat's remoteJid is a WhatsApp address, not an object: A's customer is just a number in B's
# session. Where B may act on a number it has no chat with, the walk checks only that the
# answer carries none of A's data (and, as everywhere, that A's data did not change).
ADDRESS_ROUTES: dict[tuple[str, str], str] = {
    ("POST /wa/chats/{remoteJid}/messages", "remoteJid"): "writing to a new number starts a chat",
    ("GET /wa/chats/{remoteJid}/labels", "remoteJid"): "B's labels on that number: none yet",
    ("POST /wa/chats/{remoteJid}/labels", "remoteJid"): "B labels its own view of that number",
    ("PUT /wa/chats/{remoteJid}/labels", "remoteJid"): "B labels its own view of that number",
    (
        "DELETE /wa/chats/{remoteJid}/labels/{labelId}",
        "remoteJid",
    ): "removing a label B never put there removes nothing",
    **{
        (route, "remoteJid"): "B's own chat with that number (B may have written to it), "
        "with B's own assignment and customer link"
        for route in (
            "GET /wa/chats/{remoteJid}/assignment",
            "PUT /wa/chats/{remoteJid}/assignment",
            "DELETE /wa/chats/{remoteJid}/assignment",
            "GET /wa/chats/{remoteJid}/customer-link",
            "PUT /wa/chats/{remoteJid}/customer-link",
            "DELETE /wa/chats/{remoteJid}/customer-link",
            "POST /wa/chats/{remoteJid}/customer-link",
            "POST /crm/assignments/chats/bulk-assign",
            "POST /crm/assignments/chats/bulk-unassign",
        )
    },
}

# Required parameters that are not ids, and the value the walk sends (never an id of A's, so
# it is not among what A's answers must not show).
VALUES: dict[str, str] = {"channel": "whatsapp"}

# Parameters that are not ids of stored objects.
NOT_IDS: dict[str, str] = {
    "cursor": "pagination",
    "limit": "pagination",
    "q": "search text",
    "type": "enum filter",
    "status": "enum filter",
    "unread": "flag filter",
    "archived": "flag filter",
    "isGroup": "flag filter",
    "labelMode": "enum filter",
    "eventType": "event type filter",
    "phone": "the phone number to pair a session with",
    "If-Match": "entity version",
    "Idempotency-Key": "the caller's own key, scoped to the caller's account",
    "Range": "byte range",
    "assignmentStatus": "enum filter",
    "assignedToMe": "flag filter",
    "assignedToMyGroups": "flag filter",
    "crmIdentityStatus": "enum filter",
    "tag": "tag filter",
    "city": "city filter",
    "hasOpenTasks": "flag filter",
    "includeGroups": "flag filter",
    "includeTasks": "flag filter",
    "channel": "identity or inbox channel (enum)",
    "value": "an identity's value (a JID or another system's id), matched in the account",
    "source": "enum filter",
    "targetType": "enum filter",
    "pinned": "flag filter",
    "priority": "enum filter",
    "unassigned": "flag filter",
    "watchedByMe": "flag filter",
    "dueBefore": "time filter",
    "dueAfter": "time filter",
    "overdue": "flag filter",
    "sort": "list order",
    "kind": "timeline item kinds",
    "entityType": "enum filter",
    "reason": "free text kept in the assignment history",
    "stockStatus": "enum filter",
    "category": "text filter",
    "brand": "text filter",
    "currency": "currency code filter",
    "minPrice": "amount filter",
    "maxPrice": "amount filter",
    "intent": "enum filter",
    "matchStatus": "enum filter",
    "dateFrom": "time filter",
    "dateTo": "time filter",
    "paymentStatus": "enum filter",
    "fulfillmentStatus": "enum filter",
    "orderNo": "order number text filter",
}

# Issue 10 makes an assignee outside the account (a user who is no member, another account's
# group) a 422 `invalid_assignee`, not a 404 (tests/crm/test_assignments.py and
# test_chat_assignments.py check it); the other ids of these bodies are walked.
_ASSIGNEE_422 = "another account's user or group as assignee is a 422 invalid_assignee (issue 10)"

# Id-named body fields that name something other than another tenant's object.
BODY_FIELDS_NOT_IDS: dict[tuple[str, str, str], str] = {
    (
        "POST",
        "/accounts/{accountId}/wa-sessions/{providerSessionId}/shares",
        "accountId",
    ): "the account B offers its own session to; naming any account is the point of sharing "
    "(whether the target takes it is the share invitation's business, API.md)",
    (
        "POST",
        "/wa/chats/{remoteJid}/messages",
        "toRemoteJid",
    ): "a WhatsApp address to forward to, not a stored object",
    (
        "POST",
        "/wa/sandbox/{providerSessionId}/inbound",
        "messageId",
    ): "the id the injected customer message will carry (message ids are per session)",
    **{
        ("PATCH", path, "defaultAssigneeId"): "another account's user as a Page's or Instagram "
        "account's default assignee is a 422 unknown_assignee (tests/social/test_tenancy.py "
        "test_asset_settings)"
        for path in ("/meta/assets/{assetId}", "/instagram/accounts/{igAccountId}")
    },
    **{
        (method, path, "assigneeId"): _ASSIGNEE_422
        for method, path in (
            ("PUT", "/wa/chats/{remoteJid}/assignment"),
            ("PUT", "/wa/chats/{remoteJid}/messages/{messageId}/assignment"),
            ("POST", "/crm/assignments/chats/bulk-assign"),
            ("POST", "/crm/assignments/messages/bulk-assign"),
        )
    },
    **{
        ("POST", "/orders", field): "where the order came from, as the channel names it (a "
        "gateway session, a chat, a message id): a reference kept on the order, no object of "
        "ours; it only scopes the duplicate check, within the caller's account"
        for field in ("sourceId", "threadId", "messageId")
    },
}

# Routes that take no id of a tenant's object, or whose ids are guarded by something other
# than the caller's account.
EXEMPT: dict[str, str] = {
    "GET /health": "no ids: liveness",
    "GET /health/ready": "no ids: readiness",
    "GET /metrics": "no ids: process metrics",
    "POST /auth/register": "no ids: creates the caller's own user and account",
    "POST /auth/login": "no ids: credentials",
    "POST /auth/logout": "no ids: the caller's own token",
    "POST /auth/forgot-password": "no ids: an email address",
    "POST /auth/reset-password": "no ids: a reset token",
    "GET /auth/me": "no ids: the caller",
    "GET /accounts": "no ids: the caller's own memberships",
    "POST /accounts": "no ids: creates an account the caller owns",
    "GET /console": "no ids: a static page",
    "GET /console/events": "an SSE stream opened by a stream token minted for one account; "
    "foreign events, filters and Last-Event-ID are covered by tests/console/test_stream.py "
    "(test_another_accounts_events_never_appear)",
    "POST /wa/provider-events/{providerSessionId}": "gateway webhooks: authenticated by the "
    "session's own secret, not by an account (tests/wa/test_gateway_sessions.py)",
    "POST /auth/refresh": "no ids: the caller's own refresh token",
    "POST /auth/verify-email": "no ids: an email confirmation token",
    "GET /auth/invitations": "no ids: invitations addressed to the caller",
    "GET /events/types": "no ids: the event type catalogue",
    "GET /meta/oauth/callback": "Facebook's redirect: the account is in the signed `state` "
    "(tests/social/test_onboarding.py)",
    "GET /instagram/oauth/callback": "Instagram's redirect: the account is in the signed `state` "
    "(tests/social/test_onboarding.py)",
    "GET /meta/webhook": "Meta's subscription handshake: the app's verify token, no account",
    "POST /meta/webhook": "Meta's webhooks: signed with the app secret, routed by Page id",
    "GET /instagram/webhook": "Meta's subscription handshake: the app's verify token, no account",
    "POST /instagram/webhook": "Meta's webhooks: signed with the app secret, routed by account",
}

# Routes the walk does not cover yet, and what covers them meanwhile.
PENDING: dict[str, str] = {}


# Example bodies ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    """A multipart body."""

    data: dict[str, str]
    files: dict[str, tuple[str, bytes, str]]


Ids = Callable[[str], str]
Body = dict[str, Any] | Form
BodyExample = Callable[[Ids], Body]

_JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


# Valid bodies for every route that takes one; `ids(name)` is the world's id (B's, or A's for
# the field being attacked). Several examples per route cover every id field of a union.
BODIES: dict[str, list[BodyExample]] = {
    "POST /wa/chats/{remoteJid}/messages/{messageId}/ai-actions/create-order": [
        lambda ids: {
            "providerSessionId": ids("providerSessionId"),
            "customerId": ids("customerId"),
            "contactId": ids("contactId"),
            "items": [{"productId": ids("productId"), "quantity": 1}],
        }
    ],
    "PUT /ai/settings": [lambda ids: {"temperature": 0.3, "autoReply": False}],
    "POST /ai/settings/test": [lambda ids: {"model": "gpt-4o-mini"}],
    "POST /wa/chats/{remoteJid}/messages/{messageId}/ai-analysis/retry": [
        lambda ids: {"providerSessionId": ids("providerSessionId")}
    ],
    "POST /wa/chats/{remoteJid}/messages/{messageId}/ai-analysis/feedback": [
        lambda ids: {
            "providerSessionId": ids("providerSessionId"),
            "productCorrect": False,
            "correctProductId": ids("productId"),
        }
    ],
    "POST /accounts/{accountId}/users": [lambda ids: {"email": "x@example.com", "role": "agent"}],
    "PATCH /accounts/{accountId}/users/{userId}": [lambda ids: {"role": "viewer"}],
    "POST /accounts/{accountId}/api-accounts": [lambda ids: {"name": "Another"}],
    "POST /accounts/{accountId}/webhooks": [
        lambda ids: {"url": "http://127.0.0.1:9/other", "events": ["*"]}
    ],
    "PATCH /accounts/{accountId}/webhooks/{webhookId}": [lambda ids: {"description": "x"}],
    "POST /accounts/{accountId}/wa-sessions": [
        lambda ids: {"name": "Another", "provider": "sandbox"}
    ],
    "POST /accounts/{accountId}/wa-sessions/{providerSessionId}/shares": [
        lambda ids: {"accountId": ids("targetAccountId")}
    ],
    "POST /wa/chats/{remoteJid}/messages": [
        lambda ids: {
            "providerSessionId": ids("providerSessionId"),
            "action": "send_text",
            "text": "x",
        },
        lambda ids: {
            "providerSessionId": ids("providerSessionId"),
            "action": "reply",
            "quotedMessageId": ids("messageId"),
            "text": "x",
        },
        lambda ids: {
            "providerSessionId": ids("providerSessionId"),
            "action": "send_media",
            "media": {"data": "aGVsbG8=", "mimetype": "text/plain", "filename": "a.txt"},
            "quotedMessageId": ids("messageId"),
        },
        lambda ids: {"action": "react", "messageId": ids("messageId"), "emoji": "+"},
        lambda ids: {"action": "edit", "messageId": ids("messageId"), "text": "y"},
        lambda ids: {"action": "delete", "messageId": ids("messageId")},
        lambda ids: {
            "action": "forward",
            "messageId": ids("messageId"),
            "toRemoteJid": "905550000001@s.whatsapp.net",
        },
    ],
    "POST /wa/chats/{remoteJid}/messages/upload": [
        lambda ids: Form(
            data={
                "providerSessionId": ids("providerSessionId"),
                "quotedMessageId": ids("messageId"),
            },
            files={"file": ("a.jpg", _JPEG, "image/jpeg")},
        )
    ],
    "POST /wa/chats/{remoteJid}/read": [
        lambda ids: {
            "providerSessionId": ids("providerSessionId"),
            "messageIds": [ids("messageId")],
        }
    ],
    "POST /wa/labels": [lambda ids: {"name": "Other", "color": "#00aa00"}],
    "PATCH /wa/labels/{labelId}": [lambda ids: {"name": "Renamed"}],
    "POST /wa/chats/{remoteJid}/labels": [
        lambda ids: {"providerSessionId": ids("providerSessionId"), "labelId": ids("labelId")}
    ],
    "PUT /wa/chats/{remoteJid}/labels": [
        lambda ids: {"providerSessionId": ids("providerSessionId"), "labelIds": [ids("labelId")]}
    ],
    "POST /wa/chats/{remoteJid}/messages/{messageId}/labels": [
        lambda ids: {"providerSessionId": ids("providerSessionId"), "labelId": ids("labelId")}
    ],
    "PUT /wa/chats/{remoteJid}/messages/{messageId}/labels": [
        lambda ids: {"providerSessionId": ids("providerSessionId"), "labelIds": [ids("labelId")]}
    ],
    "POST /meta/oauth/url": [lambda ids: {"redirectUrl": "https://app.example.com/done"}],
    "POST /instagram/oauth/url": [lambda ids: {"redirectUrl": "https://app.example.com/done"}],
    "POST /wa/sandbox/{providerSessionId}/inbound": [
        lambda ids: {"from": "905550000002", "text": "x"}
    ],
    "POST /wa/operations/{operationId}/retry": [
        lambda ids: {"providerSessionId": ids("providerSessionId")}
    ],
    "PATCH /accounts/{accountId}/settings": [lambda ids: {"defaultPhoneRegion": "TR"}],
    "POST /crm/groups": [lambda ids: {"name": "Another"}],
    "PATCH /crm/groups/{groupId}": [lambda ids: {"description": "x"}],
    "POST /crm/groups/{groupId}/members": [lambda ids: {"userId": ids("userId")}],
    "PUT /crm/groups/{groupId}/members": [lambda ids: {"userIds": [ids("userId")]}],
    "POST /crm/customers": [
        lambda ids: {
            "title": "X",
            "primaryRepresentativeId": ids("userId"),
            "primaryTeamId": ids("groupId"),
        }
    ],
    "PATCH /crm/customers/{customerId}": [
        lambda ids: {
            "city": "X",
            "primaryRepresentativeId": ids("userId"),
            "primaryTeamId": ids("groupId"),
        }
    ],
    "PUT /crm/customers/{customerId}/representatives": [
        lambda ids: {"userIds": [ids("userId")], "primaryUserId": ids("userId")}
    ],
    "PUT /crm/customers/{customerId}/teams": [
        lambda ids: {"groupIds": [ids("groupId")], "primaryGroupId": ids("groupId")}
    ],
    "POST /crm/customers/{customerId}/contacts": [lambda ids: {"displayName": "X"}],
    "PATCH /crm/contacts/{contactId}": [
        lambda ids: {"title": "X", "customerId": ids("customerId")}
    ],
    "POST /crm/identity-mappings": [
        lambda ids: {
            "channel": "external",
            "scope": "other",
            "value": "X",
            "customerId": ids("customerId"),
            "contactId": ids("contactId"),
        }
    ],
    "PATCH /crm/identity-mappings/{mappingId}": [
        lambda ids: {"customerId": ids("customerId"), "contactId": ids("contactId")}
    ],
    "POST /crm/assignments/chats/bulk-assign": [
        lambda ids: {
            "chats": [
                {"providerSessionId": ids("providerSessionId"), "remoteJid": ids("remoteJid")}
            ],
            "assigneeType": "user",
            "assigneeId": ids("userId"),
        }
    ],
    "POST /crm/assignments/chats/bulk-unassign": [
        lambda ids: {
            "chats": [
                {"providerSessionId": ids("providerSessionId"), "remoteJid": ids("remoteJid")}
            ]
        }
    ],
    "POST /crm/assignments/messages/bulk-assign": [
        lambda ids: {
            "messages": [
                {
                    "providerSessionId": ids("providerSessionId"),
                    "remoteJid": ids("remoteJid"),
                    "messageId": ids("messageId"),
                }
            ],
            "assigneeType": "user",
            "assigneeId": ids("userId"),
        }
    ],
    "POST /crm/assignments/messages/bulk-unassign": [
        lambda ids: {
            "messages": [
                {
                    "providerSessionId": ids("providerSessionId"),
                    "remoteJid": ids("remoteJid"),
                    "messageId": ids("messageId"),
                }
            ]
        }
    ],
    "PUT /wa/chats/{remoteJid}/assignment": [
        lambda ids: {
            "providerSessionId": ids("providerSessionId"),
            "assigneeType": "user",
            "assigneeId": ids("userId"),
        }
    ],
    "PUT /wa/chats/{remoteJid}/messages/{messageId}/assignment": [
        lambda ids: {
            "providerSessionId": ids("providerSessionId"),
            "assigneeType": "user",
            "assigneeId": ids("userId"),
        }
    ],
    "PUT /wa/chats/{remoteJid}/customer-link": [
        lambda ids: {
            "providerSessionId": ids("providerSessionId"),
            "customerId": ids("customerId"),
            "contactId": ids("contactId"),
        }
    ],
    "POST /wa/chats/{remoteJid}/customer-link": [
        lambda ids: {"providerSessionId": ids("providerSessionId")}
    ],
    "POST /crm/customers/{customerId}/notes": [lambda ids: {"body": "x"}],
    "PATCH /crm/customers/{customerId}/notes/{noteId}": [lambda ids: {"body": "y"}],
    "POST /crm/customers/{customerId}/comments": [lambda ids: {"body": "x"}],
    "PATCH /crm/comments/{commentId}": [lambda ids: {"body": "y"}],
    "POST /crm/customers/{customerId}/tasks": [
        lambda ids: {
            "title": "x",
            "contactId": ids("contactId"),
            "assigneeUserId": ids("userId"),
            "watcherUserIds": [ids("userId")],
        }
    ],
    "PATCH /crm/tasks/{taskId}": [
        lambda ids: {
            "title": "y",
            "contactId": ids("contactId"),
            "assigneeUserId": ids("userId"),
        }
    ],
    "PUT /crm/tasks/{taskId}/watchers": [lambda ids: {"userIds": [ids("userId")]}],
    "POST /crm/tasks/{taskId}/comments": [lambda ids: {"body": "x"}],
    "POST /crm/tasks/{taskId}/checklist": [lambda ids: {"title": "x"}],
    "PATCH /crm/tasks/{taskId}/checklist/{itemId}": [lambda ids: {"done": True}],
    "PUT /crm/inbox-links/{channel}/{sourceId}": [lambda ids: {"customerId": ids("customerId")}],
    "PATCH /meta/assets/{assetId}": [lambda ids: {"name": "Renamed"}],
    "PATCH /instagram/accounts/{igAccountId}": [lambda ids: {"name": "Renamed"}],
    "POST /meta/assets/{assetId}/threads/{threadId}/messages": [lambda ids: {"text": "x"}],
    "POST /instagram/accounts/{igAccountId}/threads/{threadId}/messages": [
        lambda ids: {"text": "x"}
    ],
    "POST /meta/assets/{assetId}/posts": [lambda ids: {"message": "x"}],
    "POST /instagram/accounts/{igAccountId}/media/feed": [
        lambda ids: {"imageUrl": "https://cdn.example.com/a.jpg"}
    ],
    "POST /instagram/accounts/{igAccountId}/media/reels": [
        lambda ids: {"videoUrl": "https://cdn.example.com/a.mp4"}
    ],
    "POST /instagram/accounts/{igAccountId}/media/stories": [
        lambda ids: {"imageUrl": "https://cdn.example.com/a.jpg"}
    ],
    "POST /meta/assets/{assetId}/comments/{commentId}/replies": [lambda ids: {"message": "x"}],
    "POST /instagram/accounts/{igAccountId}/comments/{commentId}/replies": [
        lambda ids: {"message": "x"}
    ],
    **{
        f"PUT {root}/threads/{{threadId}}/customer-link": [
            lambda ids: {"customerId": ids("customerId"), "contactId": ids("contactId")}
        ]
        for root in ("/meta/assets/{assetId}", "/instagram/accounts/{igAccountId}")
    },
    **{
        f"POST {root}/threads/{{threadId}}/customer-link": [lambda ids: {"title": "X"}]
        for root in ("/meta/assets/{assetId}", "/instagram/accounts/{igAccountId}")
    },
    "POST /products": [lambda ids: {"sku": "WALK-NEW", "name": "New", "price": "1.00"}],
    "PATCH /products/{productId}": [lambda ids: {"name": "Renamed", "price": "2.00"}],
    "POST /products/{productId}/images": [lambda ids: {"url": "https://cdn.example.com/b.jpg"}],
    "POST /products/import": [
        lambda ids: {"rows": [{"sku": "WALK-IMPORTED", "name": "Imported", "price": "3"}]},
        lambda ids: Form(
            data={},
            files={"file": ("walk.csv", b"sku,name\r\nWALK-CSV,From a file\r\n", "text/csv")},
        ),
    ],
    "POST /orders": [
        lambda ids: {
            "customerId": ids("customerId"),
            "contactId": ids("contactId"),
            "items": [{"productId": ids("productId")}],
        }
    ],
    "PATCH /orders/{orderId}": [lambda ids: {"contactId": ids("contactId"), "notes": "x"}],
    "POST /orders/{orderId}/items": [lambda ids: {"productId": ids("productId")}],
    "PATCH /orders/{orderId}/items/{orderItemId}": [lambda ids: {"quantity": 3}],
    "POST /orders/{orderId}/status": [lambda ids: {"status": "confirmed"}],
}
