"""Meta webhook bodies: signature check, splitting a batch into items, reading one item.

A POST carries `{"object": "page" | "instagram", "entry": [{"id", "time", "messaging": [...],
"changes": [...]}]}`, up to 1,000 items. Each `messaging` item and each change becomes an inbox
row of its own, keyed by its natural id (the message `mid`, the comment id, ...), so a
redelivered item is a duplicate and one malformed item never takes the others with it. Reading
an item (`read_item`) happens later, in the inbox job; a `MalformedItem` fails that row only,
and its stored payload stays as it came.

Sources: https://developers.facebook.com/documentation/business-messaging/messenger-platform/
webhooks/webhook-events (Messenger), https://developers.facebook.com/docs/instagram-platform/
webhooks/examples (Instagram), Page `feed` changes (`item: comment`, `verb: add|edited|remove`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ticaret.core.inbox import Inbound
from ticaret.social.graph.normalized import (
    Attachment,
    CommentEvent,
    DeliveryEvent,
    MentionEvent,
    MessageEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    UnusedEvent,
    WebhookEvent,
    as_list,
    as_object,
)

SIGNATURE_HEADER = "x-hub-signature-256"
OBJECTS = {"facebook": "page", "instagram": "instagram"}


class MalformedItem(ValueError):
    """The stored item is not what Meta documents; `str(exc)` says what is wrong."""


def signature_valid(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the app secret>`."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def sign(raw_body: bytes, app_secret: str) -> str:
    """The header value Meta would send for this body (the CLI and tests use it)."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# Splitting ----------------------------------------------------------------------------------


def _messaging_key(item: Mapping[str, Any]) -> tuple[str, str]:
    sender = (
        _str((item.get("sender") or {}).get("id")) if isinstance(item.get("sender"), dict) else None
    )
    message = item.get("message")
    if isinstance(message, dict) and _str(message.get("mid")):
        mid = str(message["mid"])
        if message.get("is_deleted"):
            return f"deleted:{mid}", "message_deleted"
        return f"message:{mid}", "message_echo" if message.get("is_echo") else "message"
    read = item.get("read")
    if isinstance(read, dict):
        mark = _str(read.get("watermark")) or _str(read.get("mid")) or _digest(read)
        return f"read:{sender}:{mark}", "read"
    delivery = item.get("delivery")
    if isinstance(delivery, dict):
        return (
            f"delivery:{sender}:{_str(delivery.get('watermark')) or _digest(delivery)}",
            "delivery",
        )
    reaction = item.get("reaction")
    if isinstance(reaction, dict):
        return f"reaction:{sender}:{item.get('timestamp')}:{_digest(reaction)}", "reaction"
    postback = item.get("postback")
    if isinstance(postback, dict):
        mark = _str(postback.get("mid")) or f"{item.get('timestamp')}:{_digest(postback)}"
        return f"postback:{sender}:{mark}", "postback"
    return f"messaging:{_digest(item)}", "messaging"


def _change_key(change: Mapping[str, Any]) -> tuple[str, str]:
    field = str(change.get("field") or "unknown")[:40]
    value = change.get("value")
    if isinstance(value, dict):
        if field == "feed" and value.get("item") == "comment" and _str(value.get("comment_id")):
            verb = str(value.get("verb") or "add")
            suffix = "" if verb == "add" else f":{_digest(value)}"
            return f"comment:{value['comment_id']}:{verb}{suffix}", "feed.comment"
        if field in ("comments", "live_comments") and _str(value.get("id")):
            return f"comment:{value['id']}:add", field
        if field == "mentions" and _str(value.get("media_id")):
            return f"mention:{value['media_id']}:{_str(value.get('comment_id')) or ''}", field
    return f"change:{field}:{_digest(change)}", field


def split_batch(platform: str, payload: Any) -> list[Inbound]:
    """Every messaging item and change of a verified body, each under its natural id.

    Ids are prefixed with the entry id (the Page / Instagram account), which is what they are
    unique within. Anything that is not an entry as documented is kept too, under the digest
    of its content, and its job marks it failed with the reason.
    """
    expected = OBJECTS[platform]
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return [
            Inbound(f"malformed:{_digest(payload)}", {"object": None, "body": payload}, "malformed")
        ]
    obj = payload.get("object")
    items: list[Inbound] = []
    for entry in payload["entry"]:
        entry_id = _str(entry.get("id")) if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or entry_id is None:
            items.append(
                Inbound(f"malformed:{_digest(entry)}", {"object": obj, "entry": entry}, "malformed")
            )
            continue
        head = {"id": entry_id, "time": entry.get("time")}
        found = False
        for field in ("messaging", "standby"):
            for item in entry.get(field) or []:
                found = True
                if not isinstance(item, dict):
                    key, kind = f"malformed:{_digest(item)}", "malformed"
                else:
                    key, kind = _messaging_key(item)
                    if field == "standby":
                        key, kind = f"standby:{key}", "standby"
                items.append(
                    Inbound(
                        f"{entry_id}:{key}",
                        {"object": obj, "entry": head, "field": field, "item": item},
                        kind,
                    )
                )
        for change in entry.get("changes") or []:
            found = True
            if not isinstance(change, dict):
                key, kind = f"malformed:{_digest(change)}", "malformed"
            else:
                key, kind = _change_key(change)
            items.append(
                Inbound(
                    f"{entry_id}:{key}",
                    {"object": obj, "entry": head, "field": "changes", "item": change},
                    kind,
                )
            )
        if not found:
            items.append(
                Inbound(
                    f"{entry_id}:entry:{_digest(entry)}",
                    {"object": obj, "entry": entry, "field": None, "item": None},
                    "empty",
                )
            )
    if obj != expected:
        # Kept (the signature was right), but every item fails with the reason.
        for index, inbound in enumerate(items):
            items[index] = Inbound(inbound.external_id, inbound.payload, "wrong_object")
    return items


# Reading ------------------------------------------------------------------------------------


def when(value: Any) -> datetime:
    """Meta's timestamps: milliseconds in messaging items, seconds in changes."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("+0000", "+00:00"))
            except ValueError:
                pass
        return datetime.now(UTC)
    seconds = value / 1000 if value > 100_000_000_000 else value
    return datetime.fromtimestamp(seconds, UTC)


def _party(item: Mapping[str, Any], key: str) -> str:
    party = item.get(key)
    value = _str(party.get("id")) if isinstance(party, dict) else None
    if value is None:
        raise MalformedItem(f"the item has no {key}.id")
    return value


def _attachments(message: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    raw = message.get("attachments")
    for attachment in raw if isinstance(raw, list) else []:
        if not isinstance(attachment, dict):
            continue
        payload = as_object(attachment.get("payload"))
        kind = str(attachment.get("type") or "unknown")
        url = payload.get("url") if isinstance(payload.get("url"), str) else None
        extra = {k: v for k, v in payload.items() if k != "url" and isinstance(v, str | int)}
        found.append(Attachment(kind, url, extra))
    return tuple(found)


def _message(item: Mapping[str, Any]) -> MessageEvent:
    message = item["message"]
    mid = _str(message.get("mid"))
    if mid is None:
        raise MalformedItem("the message has no mid")
    text = message.get("text") if isinstance(message.get("text"), str) else None
    reply_to = message.get("reply_to")
    quick_reply = message.get("quick_reply")
    return MessageEvent(
        mid=mid,
        sender_id=_party(item, "sender"),
        recipient_id=_party(item, "recipient"),
        timestamp=when(item.get("timestamp")),
        text=text,
        attachments=_attachments(message),
        reply_to_mid=_str(reply_to.get("mid")) if isinstance(reply_to, dict) else None,
        is_echo=bool(message.get("is_echo")),
        metadata=message.get("metadata") if isinstance(message.get("metadata"), str) else None,
        quick_reply_payload=_str(quick_reply.get("payload"))
        if isinstance(quick_reply, dict)
        else None,
        deleted=bool(message.get("is_deleted")),
        unsupported=bool(message.get("is_unsupported")),
    )


def _messaging(item: Mapping[str, Any]) -> WebhookEvent:
    if isinstance(item.get("message"), dict):
        return _message(item)
    timestamp = when(item.get("timestamp"))
    read = item.get("read")
    if isinstance(read, dict):
        watermark = read.get("watermark")
        return ReadEvent(
            sender_id=_party(item, "sender"),
            recipient_id=_party(item, "recipient"),
            timestamp=timestamp,
            watermark=when(watermark) if watermark is not None else None,
            mid=_str(read.get("mid")),
        )
    delivery = item.get("delivery")
    if isinstance(delivery, dict):
        mids = as_list(delivery.get("mids"))
        return DeliveryEvent(
            sender_id=_party(item, "sender"),
            recipient_id=_party(item, "recipient"),
            watermark=when(delivery.get("watermark")),
            mids=tuple(str(m) for m in mids if isinstance(m, str)),
        )
    reaction = item.get("reaction")
    if isinstance(reaction, dict):
        mid = _str(reaction.get("mid"))
        if mid is None:
            raise MalformedItem("the reaction names no message (mid)")
        return ReactionEvent(
            sender_id=_party(item, "sender"),
            recipient_id=_party(item, "recipient"),
            timestamp=timestamp,
            mid=mid,
            action=str(reaction.get("action") or "react"),
            reaction=_str(reaction.get("reaction")),
            emoji=_str(reaction.get("emoji")),
        )
    postback = item.get("postback")
    if isinstance(postback, dict):
        return PostbackEvent(
            sender_id=_party(item, "sender"),
            recipient_id=_party(item, "recipient"),
            timestamp=timestamp,
            mid=_str(postback.get("mid")),
            title=_str(postback.get("title")),
            payload=_str(postback.get("payload")),
        )
    kinds = sorted(k for k in item if k not in ("sender", "recipient", "timestamp"))
    return UnusedEvent(f"messaging item {', '.join(kinds) or 'without content'} is not kept")


def _feed_comment(value: Mapping[str, Any], entry_time: Any) -> CommentEvent:
    comment_id, post_id = _str(value.get("comment_id")), _str(value.get("post_id"))
    if comment_id is None or post_id is None:
        raise MalformedItem("the feed comment has no comment_id or post_id")
    sender = as_object(value.get("from"))
    parent = _str(value.get("parent_id"))
    return CommentEvent(
        verb=str(value.get("verb") or "add"),
        comment_id=comment_id,
        post_id=post_id,
        # A comment on the post itself names the post as its parent.
        parent_id=None if parent == post_id else parent,
        from_id=_str(sender.get("id")),
        from_name=_str(sender.get("name")),
        from_username=None,
        text=value.get("message") if isinstance(value.get("message"), str) else None,
        timestamp=when(value.get("created_time") or entry_time),
    )


def _instagram_comment(value: Mapping[str, Any], entry_time: Any) -> CommentEvent:
    comment_id = _str(value.get("id"))
    media = as_object(value.get("media"))
    media_id = _str(media.get("id"))
    if comment_id is None or media_id is None:
        raise MalformedItem("the comment has no id or media.id")
    sender = as_object(value.get("from"))
    return CommentEvent(
        verb="add",
        comment_id=comment_id,
        post_id=media_id,
        parent_id=_str(value.get("parent_id")),
        from_id=_str(sender.get("id")),
        from_name=None,
        from_username=_str(sender.get("username")),
        text=value.get("text") if isinstance(value.get("text"), str) else None,
        timestamp=when(entry_time),
        product_type=_str(media.get("media_product_type")),
    )


def _change(platform: str, change: Mapping[str, Any], entry_time: Any) -> WebhookEvent:
    field = change.get("field")
    value = change.get("value")
    if not isinstance(value, dict):
        raise MalformedItem(f"the {field} change has no value object")
    if platform == "facebook" and field == "feed":
        if value.get("item") != "comment":
            return UnusedEvent(f"feed item {value.get('item')!r} is not kept")
        return _feed_comment(value, entry_time)
    if platform == "instagram" and field in ("comments", "live_comments"):
        return _instagram_comment(value, entry_time)
    if platform == "instagram" and field == "mentions":
        media_id = _str(value.get("media_id"))
        if media_id is None:
            raise MalformedItem("the mention has no media_id")
        return MentionEvent(media_id, _str(value.get("comment_id")), when(entry_time))
    return UnusedEvent(f"change field {field!r} is not kept")


def read_item(platform: str, payload: Any) -> tuple[str, WebhookEvent]:
    """(entry id, event) of a stored item; `MalformedItem` when it is not as documented."""
    if not isinstance(payload, dict):
        raise MalformedItem("the stored item is not an object")
    if "body" in payload:
        raise MalformedItem("the body is not {object, entry: [...]}")
    if payload.get("object") != OBJECTS[platform]:
        raise MalformedItem(f"object is {payload.get('object')!r}, expected {OBJECTS[platform]!r}")
    entry = as_object(payload.get("entry"))
    entry_id = _str(entry.get("id"))
    if entry_id is None:
        raise MalformedItem("the entry is not an object with an id")
    item = payload.get("item")
    field = payload.get("field")
    if item is None:
        return entry_id, UnusedEvent("the entry carries no messaging items or changes")
    if not isinstance(item, dict):
        raise MalformedItem(f"the {field} item is not an object")
    try:
        if field == "messaging":
            return entry_id, _messaging(item)
        if field == "standby":
            return entry_id, UnusedEvent("standby items belong to the app in control")
        if field == "changes":
            return entry_id, _change(platform, item, entry.get("time"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedItem(f"the {field} item could not be read: {exc!r}") from exc
    raise MalformedItem(f"unknown field {field!r}")
