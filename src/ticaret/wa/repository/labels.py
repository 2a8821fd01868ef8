"""Account labels, their links to chats and messages, and their history (all account-scoped)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ScalarSelect, delete, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.ids import new_id
from ticaret.models import LabelStatus, WaChatLabel, WaLabel, WaLabelHistory, WaMessageLabel
from ticaret.wa.schemas import LabelFilter

# A chat's or a message's labels: the link table and its owner column.
LinkTable = type[WaChatLabel] | type[WaMessageLabel]


def labelled(
    column: Any, link_table: Any, link_column: Any, account_id: uuid.UUID, labels: LabelFilter
) -> Any:
    """`column IN (...)`: rows carrying any (or all) of the account's labels in `labels`."""
    links = select(link_column).where(
        link_table.account_id == account_id, link_table.label_id.in_(labels.ids)
    )
    if labels.mode == "all":
        links = links.group_by(link_column).having(
            func.count(func.distinct(link_table.label_id)) == len(labels.ids)
        )
    return column.in_(links)


async def labels_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
    status: LabelStatus | None,
) -> list[WaLabel]:
    stmt = select(WaLabel).where(WaLabel.account_id == account_id)
    if status:
        stmt = stmt.where(WaLabel.status == status)
    if after is not None:
        stmt = stmt.where(WaLabel.id < after)
    return list(await session.scalars(stmt.order_by(WaLabel.id.desc()).limit(limit + 1)))


async def label(
    session: AsyncSession, account_id: uuid.UUID, label_id: uuid.UUID, *, lock: bool = False
) -> WaLabel | None:
    stmt = select(WaLabel).where(WaLabel.id == label_id, WaLabel.account_id == account_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def labels_by_id(
    session: AsyncSession, account_id: uuid.UUID, label_ids: Sequence[uuid.UUID]
) -> list[WaLabel]:
    if not label_ids:
        return []
    return list(
        await session.scalars(
            select(WaLabel).where(WaLabel.account_id == account_id, WaLabel.id.in_(label_ids))
        )
    )


async def delete_links_of_label(
    session: AsyncSession, account_id: uuid.UUID, label_id: uuid.UUID
) -> None:
    for table in (WaChatLabel, WaMessageLabel):
        await session.execute(
            delete(table).where(table.label_id == label_id, table.account_id == account_id)
        )


async def history_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
    label_id: uuid.UUID | None,
    provider_session_id: str | None,
) -> list[WaLabelHistory]:
    stmt = select(WaLabelHistory).where(WaLabelHistory.account_id == account_id)
    if label_id is not None:
        stmt = stmt.where(WaLabelHistory.label_id == label_id)
    if provider_session_id:
        stmt = stmt.where(WaLabelHistory.provider_session_id == provider_session_id)
    if after is not None:
        stmt = stmt.where(WaLabelHistory.id < after)
    return list(await session.scalars(stmt.order_by(WaLabelHistory.id.desc()).limit(limit + 1)))


# Links --------------------------------------------------------------------------------------


def _owner_column(table: LinkTable) -> Any:
    return table.chat_id if table is WaChatLabel else table.message_id  # type: ignore[union-attr]


async def linked_labels(
    session: AsyncSession, account_id: uuid.UUID, table: LinkTable, owner_id: uuid.UUID
) -> list[WaLabel]:
    owner = _owner_column(table)
    return list(
        await session.scalars(
            select(WaLabel)
            .join(table, table.label_id == WaLabel.id)
            .where(table.account_id == account_id, owner == owner_id)
            .order_by(WaLabel.name)
        )
    )


async def link(
    session: AsyncSession,
    account_id: uuid.UUID,
    table: LinkTable,
    owner_id: uuid.UUID,
    label_id: uuid.UUID,
) -> bool:
    """False when the link existed already."""
    added = await session.scalar(
        insert(table)
        .values(
            id=new_id(),
            account_id=account_id,
            label_id=label_id,
            **{_owner_column(table).key: owner_id},
        )
        .on_conflict_do_nothing()
        .returning(table.id)
    )
    return added is not None


async def unlink(
    session: AsyncSession,
    account_id: uuid.UUID,
    table: LinkTable,
    owner_id: uuid.UUID,
    label_id: uuid.UUID,
) -> bool:
    """False when there was no such link."""
    gone = await session.scalar(
        delete(table)
        .where(
            table.account_id == account_id,
            table.label_id == label_id,
            _owner_column(table) == owner_id,
        )
        .returning(table.id)
    )
    return gone is not None


async def _labels_of(
    session: AsyncSession, account_id: uuid.UUID, table: LinkTable, owner_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WaLabel]]:
    found: dict[uuid.UUID, list[WaLabel]] = defaultdict(list)
    if not owner_ids:
        return found
    owner = _owner_column(table)
    rows = await session.execute(
        select(owner, WaLabel)
        .join(WaLabel, WaLabel.id == table.label_id)
        .where(table.account_id == account_id, owner.in_(owner_ids))
        .order_by(WaLabel.name)
    )
    for owner_id, found_label in rows.tuples():
        found[owner_id].append(found_label)
    return found


async def labels_of_chats(
    session: AsyncSession, account_id: uuid.UUID, chat_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WaLabel]]:
    return await _labels_of(session, account_id, WaChatLabel, chat_ids)


async def labels_of_messages(
    session: AsyncSession, account_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WaLabel]]:
    return await _labels_of(session, account_id, WaMessageLabel, message_ids)


# Labels as JSON inside the hot lists' one-statement pages. -----------------------------------


def _labels_json(table: LinkTable, account_id: Any, owner_id: Any) -> ScalarSelect[Any]:
    label = func.json_build_object("id", WaLabel.id, "name", WaLabel.name, "color", WaLabel.color)
    return (
        select(func.json_agg(aggregate_order_by(label, WaLabel.name)))
        .select_from(table)
        .join(WaLabel, WaLabel.id == table.label_id)
        .where(table.account_id == account_id, _owner_column(table) == owner_id)
        .scalar_subquery()
    )


def chat_labels_json(account_id: Any, chat_id: Any) -> ScalarSelect[Any]:
    """A chat's labels (`chat_id`: a column of the enclosing query) as one JSON array of
    {id, name, color} by name, NULL for none: the chat page reads them in its own statement.
    JSON keeps every value's text as is (ids as PostgreSQL spells a uuid, as `str` does)."""
    return _labels_json(WaChatLabel, account_id, chat_id)


def message_labels_json(account_id: Any, message_id: Any) -> ScalarSelect[Any]:
    """`chat_labels_json` of a message (`message_id`: a column of the enclosing query)."""
    return _labels_json(WaMessageLabel, account_id, message_id)
