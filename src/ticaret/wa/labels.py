"""Account labels, their links to chats and messages, and the history of both."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.events import emit
from ticaret.core.ids import new_id
from ticaret.core.versioning import check_version
from ticaret.models import (
    LabelChange,
    LabelStatus,
    LabelTarget,
    WaChatLabel,
    WaLabel,
    WaLabelHistory,
    WaMessageLabel,
)
from ticaret.wa.access import WaContext
from ticaret.wa.errors import LabelNameTaken, LabelNotFound, LabelNotLinked
from ticaret.wa.events import LABEL_CHANGED, LabelChanged, LabelRef
from ticaret.wa.queries import chat_row, get_message
from ticaret.wa.schemas import LabelCreate, LabelHistoryOut, LabelOut, LabelUpdate


def label_out(label: WaLabel) -> LabelOut:
    return LabelOut.model_validate(label)


def _record(
    session: AsyncSession,
    ctx: AccountContext,
    label: WaLabel,
    action: LabelChange,
    target: LabelTarget,
    *,
    provider_session_id: str | None = None,
    remote_jid: str | None = None,
    message_id: str | None = None,
) -> None:
    session.add(
        WaLabelHistory(
            id=new_id(),
            account_id=ctx.account_id,
            label_id=label.id,
            label_name=label.name,
            action=action,
            target_type=target,
            provider_session_id=provider_session_id,
            remote_jid=remote_jid,
            message_id=message_id,
            actor_type=ctx.actor.type,
            actor_id=ctx.actor.id,
        )
    )
    emit(
        session,
        LABEL_CHANGED,
        LabelChanged(
            action=action,
            target_type=target,
            label=LabelRef.model_validate(label),
            provider_session_id=provider_session_id,
            remote_jid=remote_jid,
            message_id=message_id,
        ),
        account_id=ctx.account_id,
        actor=ctx.actor,
        provider_session_id=provider_session_id,
    )


# Labels -------------------------------------------------------------------------------------


async def list_labels(
    session: AsyncSession, ctx: AccountContext, page: PageParams, status: LabelStatus | None
) -> Page[LabelOut]:
    stmt = select(WaLabel).where(WaLabel.account_id == ctx.account_id)
    if status:
        stmt = stmt.where(WaLabel.status == status)
    after = page.after_id()
    if after is not None:
        stmt = stmt.where(WaLabel.id < after)
    rows = (await session.scalars(stmt.order_by(WaLabel.id.desc()).limit(page.limit + 1))).all()
    kept, cursor, more = build_page(rows, page.limit, lambda label: [label.id])
    return Page[LabelOut](rows=[label_out(x) for x in kept], next_cursor=cursor, has_more=more)


async def _label_or_404(
    session: AsyncSession, ctx: AccountContext, label_id: uuid.UUID, *, lock: bool = False
) -> WaLabel:
    stmt = select(WaLabel).where(WaLabel.id == label_id, WaLabel.account_id == ctx.account_id)
    if lock:
        stmt = stmt.with_for_update()
    label = await session.scalar(stmt)
    if label is None:
        raise LabelNotFound()
    return label


async def _flush_unique(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise LabelNameTaken() from exc


async def create_label(session: AsyncSession, ctx: AccountContext, body: LabelCreate) -> LabelOut:
    label = WaLabel(
        account_id=ctx.account_id,
        name=body.name.strip(),
        color=body.color.lower(),
        description=body.description,
        status=LabelStatus.active,
    )
    session.add(label)
    await _flush_unique(session)
    _record(session, ctx, label, LabelChange.created, LabelTarget.label)
    return label_out(label)


async def update_label(
    session: AsyncSession,
    ctx: AccountContext,
    label_id: uuid.UUID,
    body: LabelUpdate,
    expected: str | None,
) -> LabelOut:
    label = await _label_or_404(session, ctx, label_id, lock=True)
    check_version(label, expected)
    changes = body.model_dump(exclude_unset=True, exclude={"entity_version"})
    if changes.get("name"):
        label.name = changes["name"].strip()
    if changes.get("color"):
        label.color = changes["color"].lower()
    if "description" in changes:
        label.description = changes["description"]
    if changes.get("status"):
        label.status = changes["status"]
    await _flush_unique(session)
    _record(session, ctx, label, LabelChange.updated, LabelTarget.label)
    return label_out(label)


async def delete_label(session: AsyncSession, ctx: AccountContext, label_id: uuid.UUID) -> None:
    label = await _label_or_404(session, ctx, label_id, lock=True)
    # Links go with the label (FK cascade); the history keeps its name.
    _record(session, ctx, label, LabelChange.deleted, LabelTarget.label)
    await session.execute(
        delete(WaChatLabel).where(
            WaChatLabel.label_id == label.id, WaChatLabel.account_id == ctx.account_id
        )
    )
    await session.execute(
        delete(WaMessageLabel).where(
            WaMessageLabel.label_id == label.id, WaMessageLabel.account_id == ctx.account_id
        )
    )
    await session.delete(label)


async def history(
    session: AsyncSession,
    ctx: AccountContext,
    page: PageParams,
    label_id: uuid.UUID | None,
    provider_session_id: str | None,
) -> Page[LabelHistoryOut]:
    stmt = select(WaLabelHistory).where(WaLabelHistory.account_id == ctx.account_id)
    if label_id is not None:
        stmt = stmt.where(WaLabelHistory.label_id == label_id)
    if provider_session_id:
        stmt = stmt.where(WaLabelHistory.provider_session_id == provider_session_id)
    after = page.after_id()
    if after is not None:
        stmt = stmt.where(WaLabelHistory.id < after)
    rows = (
        await session.scalars(stmt.order_by(WaLabelHistory.id.desc()).limit(page.limit + 1))
    ).all()
    kept, cursor, more = build_page(rows, page.limit, lambda h: [h.id])
    return Page[LabelHistoryOut](
        rows=[LabelHistoryOut.model_validate(h) for h in kept], next_cursor=cursor, has_more=more
    )


# Links --------------------------------------------------------------------------------------


async def _labels_by_id(
    session: AsyncSession, ctx: AccountContext, label_ids: Sequence[uuid.UUID]
) -> list[WaLabel]:
    unique = list(dict.fromkeys(label_ids))
    if not unique:
        return []
    labels = (
        await session.scalars(
            select(WaLabel).where(WaLabel.account_id == ctx.account_id, WaLabel.id.in_(unique))
        )
    ).all()
    if len(labels) != len(unique):
        raise LabelNotFound()
    return list(labels)


@dataclass(frozen=True)
class _Labelled:
    """A chat or a message, as the thing labels are linked to."""

    wa_ctx: WaContext
    table: type[WaChatLabel] | type[WaMessageLabel]
    owner_column: Any  # WaChatLabel.chat_id or WaMessageLabel.message_id
    owner_id: uuid.UUID
    remote_jid: str
    message_id: str | None = None

    @property
    def kind(self) -> LabelTarget:
        return LabelTarget.message if self.message_id else LabelTarget.chat

    async def labels(self, session: AsyncSession) -> list[WaLabel]:
        rows = await session.scalars(
            select(WaLabel)
            .join(self.table, self.table.label_id == WaLabel.id)
            .where(
                self.table.account_id == self.wa_ctx.account_id, self.owner_column == self.owner_id
            )
            .order_by(WaLabel.name)
        )
        return list(rows.all())

    def _record(self, session: AsyncSession, label: WaLabel, action: LabelChange) -> None:
        _record(
            session,
            self.wa_ctx.ctx,
            label,
            action,
            self.kind,
            provider_session_id=self.wa_ctx.wa.provider_session_id,
            remote_jid=self.remote_jid,
            message_id=self.message_id,
        )

    async def link(self, session: AsyncSession, labels: Sequence[WaLabel]) -> None:
        column = self.owner_column.key
        for label in labels:
            added = await session.scalar(
                insert(self.table)
                .values(
                    id=new_id(),
                    account_id=self.wa_ctx.account_id,
                    label_id=label.id,
                    **{column: self.owner_id},
                )
                .on_conflict_do_nothing()
                .returning(self.table.id)
            )
            if added is not None:
                self._record(session, label, LabelChange.added)

    async def unlink(self, session: AsyncSession, labels: Sequence[WaLabel]) -> int:
        removed = 0
        for label in labels:
            gone = await session.scalar(
                delete(self.table)
                .where(
                    self.table.account_id == self.wa_ctx.account_id,
                    self.table.label_id == label.id,
                    self.owner_column == self.owner_id,
                )
                .returning(self.table.id)
            )
            if gone is not None:
                removed += 1
                self._record(session, label, LabelChange.removed)
        return removed


async def _chat(session: AsyncSession, wa_ctx: WaContext, remote_jid: str) -> _Labelled:
    chat = await chat_row(session, wa_ctx, remote_jid)
    return _Labelled(wa_ctx, WaChatLabel, WaChatLabel.chat_id, chat.id, remote_jid)


async def _message(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str
) -> _Labelled:
    message = await get_message(session, wa_ctx, remote_jid, message_id)
    return _Labelled(
        wa_ctx, WaMessageLabel, WaMessageLabel.message_id, message.id, remote_jid, message_id
    )


async def _list(session: AsyncSession, target: _Labelled) -> list[LabelOut]:
    return [label_out(x) for x in await target.labels(session)]


async def _add(session: AsyncSession, target: _Labelled, label_id: uuid.UUID) -> list[LabelOut]:
    await target.link(session, await _labels_by_id(session, target.wa_ctx.ctx, [label_id]))
    return await _list(session, target)


async def _replace(
    session: AsyncSession, target: _Labelled, label_ids: Sequence[uuid.UUID]
) -> list[LabelOut]:
    wanted = await _labels_by_id(session, target.wa_ctx.ctx, label_ids)
    current = await target.labels(session)
    wanted_ids, current_ids = {x.id for x in wanted}, {x.id for x in current}
    await target.unlink(session, [x for x in current if x.id not in wanted_ids])
    await target.link(session, [x for x in wanted if x.id not in current_ids])
    return await _list(session, target)


async def _remove(session: AsyncSession, target: _Labelled, label_id: uuid.UUID) -> list[LabelOut]:
    labels = await _labels_by_id(session, target.wa_ctx.ctx, [label_id])
    if not await target.unlink(session, labels):
        raise LabelNotLinked(f"The {target.kind} does not have this label.")
    return await _list(session, target)


async def chat_label_list(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str
) -> list[LabelOut]:
    return await _list(session, await _chat(session, wa_ctx, remote_jid))


async def add_chat_label(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, label_id: uuid.UUID
) -> list[LabelOut]:
    return await _add(session, await _chat(session, wa_ctx, remote_jid), label_id)


async def set_chat_labels(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, label_ids: Sequence[uuid.UUID]
) -> list[LabelOut]:
    return await _replace(session, await _chat(session, wa_ctx, remote_jid), label_ids)


async def remove_chat_label(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, label_id: uuid.UUID
) -> list[LabelOut]:
    return await _remove(session, await _chat(session, wa_ctx, remote_jid), label_id)


async def message_label_list(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str
) -> list[LabelOut]:
    return await _list(session, await _message(session, wa_ctx, remote_jid, message_id))


async def add_message_label(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str, label_id: uuid.UUID
) -> list[LabelOut]:
    target = await _message(session, wa_ctx, remote_jid, message_id)
    return await _add(session, target, label_id)


async def set_message_labels(
    session: AsyncSession,
    wa_ctx: WaContext,
    remote_jid: str,
    message_id: str,
    label_ids: Sequence[uuid.UUID],
) -> list[LabelOut]:
    target = await _message(session, wa_ctx, remote_jid, message_id)
    return await _replace(session, target, label_ids)


async def remove_message_label(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str, label_id: uuid.UUID
) -> list[LabelOut]:
    target = await _message(session, wa_ctx, remote_jid, message_id)
    return await _remove(session, target, label_id)
