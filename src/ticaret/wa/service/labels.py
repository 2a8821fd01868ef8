"""Account labels, their links to chats and messages, and the history of both."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

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
from ticaret.wa.errors import LabelNameTaken, LabelNotFound, LabelNotLinked
from ticaret.wa.events import LABEL_CHANGED, LabelChanged, LabelRef
from ticaret.wa.repository import labels as repository
from ticaret.wa.schemas import LabelCreate, LabelHistoryOut, LabelOut, LabelUpdate
from ticaret.wa.service.access import WaContext
from ticaret.wa.service.chats import chat_row
from ticaret.wa.service.messages import get_message
from ticaret.wa.service.views import label_out


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
    rows = await repository.labels_page(
        session, ctx.account_id, after=page.after_id(), limit=page.limit, status=status
    )
    kept, cursor, more = build_page(rows, page.limit, lambda label: [label.id])
    return Page[LabelOut](rows=[label_out(x) for x in kept], next_cursor=cursor, has_more=more)


async def _label_or_404(
    session: AsyncSession, ctx: AccountContext, label_id: uuid.UUID, *, lock: bool = False
) -> WaLabel:
    label = await repository.label(session, ctx.account_id, label_id, lock=lock)
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
    await repository.delete_links_of_label(session, ctx.account_id, label.id)
    await session.delete(label)


async def history(
    session: AsyncSession,
    ctx: AccountContext,
    page: PageParams,
    label_id: uuid.UUID | None,
    provider_session_id: str | None,
) -> Page[LabelHistoryOut]:
    rows = await repository.history_page(
        session,
        ctx.account_id,
        after=page.after_id(),
        limit=page.limit,
        label_id=label_id,
        provider_session_id=provider_session_id,
    )
    kept, cursor, more = build_page(rows, page.limit, lambda h: [h.id])
    return Page[LabelHistoryOut](
        rows=[LabelHistoryOut.model_validate(h) for h in kept], next_cursor=cursor, has_more=more
    )


# Links --------------------------------------------------------------------------------------


async def _labels_by_id(
    session: AsyncSession, ctx: AccountContext, label_ids: Sequence[uuid.UUID]
) -> list[WaLabel]:
    unique = list(dict.fromkeys(label_ids))
    labels = await repository.labels_by_id(session, ctx.account_id, unique)
    if len(labels) != len(unique):
        raise LabelNotFound()
    return list(labels)


@dataclass(frozen=True)
class _Labelled:
    """A chat or a message, as the thing labels are linked to."""

    wa_ctx: WaContext
    table: repository.LinkTable
    owner_id: uuid.UUID
    remote_jid: str
    message_id: str | None = None

    @property
    def kind(self) -> LabelTarget:
        return LabelTarget.message if self.message_id else LabelTarget.chat

    async def labels(self, session: AsyncSession) -> list[WaLabel]:
        return await repository.linked_labels(
            session, self.wa_ctx.account_id, self.table, self.owner_id
        )

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
        for label in labels:
            account_id = self.wa_ctx.account_id
            if await repository.link(session, account_id, self.table, self.owner_id, label.id):
                self._record(session, label, LabelChange.added)

    async def unlink(self, session: AsyncSession, labels: Sequence[WaLabel]) -> int:
        removed = 0
        for label in labels:
            account_id = self.wa_ctx.account_id
            if await repository.unlink(session, account_id, self.table, self.owner_id, label.id):
                removed += 1
                self._record(session, label, LabelChange.removed)
        return removed


async def _chat(session: AsyncSession, wa_ctx: WaContext, remote_jid: str) -> _Labelled:
    chat = await chat_row(session, wa_ctx, remote_jid)
    return _Labelled(wa_ctx, WaChatLabel, chat.id, remote_jid)


async def _message(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str
) -> _Labelled:
    message = await get_message(session, wa_ctx, remote_jid, message_id)
    return _Labelled(wa_ctx, WaMessageLabel, message.id, remote_jid, message_id)


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
