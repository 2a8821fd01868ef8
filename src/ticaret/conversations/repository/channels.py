"""SQL of the channel rows a batch of message events names, for the mirror job (by primary
key: the ids come from events we emitted; the events carry the account)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, Uuid, any_, bindparam, cast, exists, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery, RowView
from ticaret.core.events import relayed
from ticaret.core.ids import first_event_id_at
from ticaret.models import ChatType, ConversationMessage, Event, MessageType, WaMessage, WaSession

# A batch's events and messages by `= ANY(array)`: one statement text whatever the batch's size,
# so it is compiled and prepared once (an `IN` list is a new statement for every length).
_EVENT_MESSAGES = RawQuery(
    select(Event.id, Event.account_id, Event.data["id"].astext).where(
        Event.id == any_(bindparam("event_ids", type_=ARRAY(String)))
    )
)
_MIRRORABLE = RawQuery(
    select(
        WaMessage.id,
        WaMessage.session_id,
        WaMessage.remote_jid,
        WaMessage.from_me,
        WaMessage.text,
        WaMessage.type,
        WaMessage.source_timestamp,
        WaMessage.created_at,
    )
    .join(WaSession, WaSession.id == WaMessage.session_id)
    .where(
        WaMessage.id == any_(bindparam("message_pks", type_=ARRAY(Uuid))),
        WaMessage.chat_type == ChatType.individual,
        WaMessage.type != MessageType.reaction,
        WaMessage.deleted_for_everyone.is_(False),
        WaSession.deleted_at.is_(None),
    )
)


async def event_messages(
    session: AsyncSession, event_ids: Collection[str]
) -> list[tuple[str, uuid.UUID, str | None]]:
    """(event id, account, its `data.id` as text) of each event found."""
    if not event_ids:
        return []
    rows = await _EVENT_MESSAGES.fetch(session, event_ids=list(event_ids))
    return [(row[0], row[1], row[2]) for row in rows]


async def mirrorable_messages(
    session: AsyncSession, message_pks: Collection[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """The messages among these a conversation shows (a live session's individual chat, not
    a reaction, not deleted for everyone: what `wa_events_not_mirrored` counts), with the
    columns their copies take."""
    if not message_pks:
        return {}
    rows = await _MIRRORABLE.fetch(session, message_pks=list(message_pks))
    return {row["id"]: RowView(row) for row in rows}


async def wa_events_not_mirrored(
    session: AsyncSession,
    types: Sequence[str],
    *,
    since: datetime,
    relayed_before: datetime,
    limit: int,
) -> list[str]:
    """Message events relayed a while ago whose message is one a conversation shows (a live
    session's individual chat, not a reaction, not deleted) but has no copy in the event's
    account: the mirror's job was lost."""
    message_pk = cast(Event.data["id"].astext, Uuid)
    mirrored = exists().where(
        ConversationMessage.account_id == Event.account_id,
        ConversationMessage.source == "wa",
        ConversationMessage.source_message_id == message_pk,
    )
    mirrorable = exists(
        select(WaMessage.id)
        .join(WaSession, WaSession.id == WaMessage.session_id)
        .where(
            WaMessage.id == message_pk,
            WaMessage.chat_type == ChatType.individual,
            WaMessage.type != MessageType.reaction,
            WaMessage.deleted_for_everyone.is_(False),
            WaSession.deleted_at.is_(None),
        )
    )
    ids = await session.scalars(
        select(Event.id)
        .where(
            Event.id >= first_event_id_at(since),
            Event.created_at >= since,
            Event.type.in_(list(types)),
            Event.created_at < relayed_before,
            relayed(),
            mirrorable,
            ~mirrored,
        )
        .order_by(Event.seq)
        .limit(limit)
    )
    return list(ids)
