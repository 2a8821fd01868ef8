"""Rows to response models and event payloads."""

from __future__ import annotations

from datetime import datetime, timedelta

from ticaret.core.envelope import from_row
from ticaret.crm.schemas.identities import ChatLink
from ticaret.models import MetaAsset, MetaComment, MetaMessage, MetaOperation, MetaPost, MetaThread
from ticaret.social.schemas import (
    AssetOut,
    CommentOut,
    MessageOut,
    OperationOut,
    PostOut,
    ThreadData,
    ThreadOut,
)

STANDARD_WINDOW = timedelta(hours=24)
# Meta's HUMAN_AGENT tag allows a person to answer for 7 days after the customer's message.
HUMAN_AGENT_WINDOW = timedelta(days=7)
PREVIEW_LENGTH = 200


def asset_out(asset: MetaAsset) -> AssetOut:
    return from_row(AssetOut, asset, enabled_features=list(asset.features))


def thread_out(thread: MetaThread, customer_link: ChatLink | None = None) -> ThreadOut:
    last = thread.last_customer_message_at
    return from_row(
        ThreadOut,
        thread,
        messaging_window_ends_at=last + STANDARD_WINDOW if last else None,
        customer_link=customer_link,
    )


def thread_data(thread: MetaThread) -> ThreadData:
    return ThreadData.model_validate(thread)


def message_out(message: MetaMessage, participant_id: str) -> MessageOut:
    return from_row(MessageOut, message, participant_id=participant_id)


def participant_of(message: MetaMessage) -> str:
    return message.recipient_id if message.from_me else message.sender_id


def post_out(post: MetaPost) -> PostOut:
    return PostOut.model_validate(post)


def comment_out(comment: MetaComment) -> CommentOut:
    return CommentOut.model_validate(comment)


def operation_out(operation: MetaOperation) -> OperationOut:
    return OperationOut.model_validate(operation)


def preview_of(message_type: str, text: str | None) -> str:
    if text:
        return text[:PREVIEW_LENGTH]
    return f"[{message_type}]"


def window_open(last_customer_message_at: datetime | None, now: datetime, tagged: bool) -> bool:
    if last_customer_message_at is None:
        return False
    return now - last_customer_message_at <= (HUMAN_AGENT_WINDOW if tagged else STANDARD_WINDOW)
