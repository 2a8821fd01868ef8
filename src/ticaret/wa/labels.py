"""Account labels, their links to chats and messages, and the history of both."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.errors import Conflict, NotFound, VersionConflict
from ticaret.core.events import emit
from ticaret.core.ids import new_id
from ticaret.models import (
    WaChatLabel,
    WaLabel,
    WaLabelHistory,
    WaMessage,
    WaMessageLabel,
)
from ticaret.wa.access import WaContext
from ticaret.wa.queries import chat_row, get_message
from ticaret.wa.schemas import LabelCreate, LabelHistoryOut, LabelOut, LabelUpdate

Target = Literal["label", "chat", "message"]


def label_out(label: WaLabel) -> LabelOut:
    return LabelOut(
        id=label.id,
        account_id=label.account_id,
        name=label.name,
        color=label.color,
        description=label.description,
        status=label.status,
        created_at=label.created_at,
        updated_at=label.updated_at,
        entity_version=label.entity_version,
    )


def _record(
    session: AsyncSession,
    ctx: AccountContext,
    label: WaLabel,
    action: str,
    target: Target,
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
        account_id=ctx.account_id,
        type="wa.label.changed",
        data={
            "action": action,
            "targetType": target,
            "label": {"id": str(label.id), "name": label.name, "color": label.color},
            "providerSessionId": provider_session_id,
            "remoteJid": remote_jid,
            "messageId": message_id,
        },
        actor=ctx.actor,
        provider_session_id=provider_session_id,
    )


# Labels -------------------------------------------------------------------------------------


async def list_labels(
    session: AsyncSession, ctx: AccountContext, page: PageParams, status: str | None
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
        raise NotFound("Label not found.", code="label_not_found")
    return label


async def _flush_unique(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("A label with this name exists already.", code="label_name_taken") from exc


async def create_label(session: AsyncSession, ctx: AccountContext, body: LabelCreate) -> LabelOut:
    label = WaLabel(
        account_id=ctx.account_id,
        name=body.name.strip(),
        color=body.color.lower(),
        description=body.description,
        status="active",
    )
    session.add(label)
    await _flush_unique(session)
    await session.refresh(label)
    _record(session, ctx, label, "created", "label")
    return label_out(label)


async def update_label(
    session: AsyncSession,
    ctx: AccountContext,
    label_id: uuid.UUID,
    body: LabelUpdate,
    expected: str | None,
) -> LabelOut:
    label = await _label_or_404(session, ctx, label_id, lock=True)
    if expected is not None and expected != label.entity_version:
        raise VersionConflict(details={"entityVersion": label.entity_version})
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
    await session.refresh(label)
    _record(session, ctx, label, "updated", "label")
    return label_out(label)


async def delete_label(session: AsyncSession, ctx: AccountContext, label_id: uuid.UUID) -> None:
    label = await _label_or_404(session, ctx, label_id, lock=True)
    # Links go with the label (FK cascade); the history keeps its name.
    _record(session, ctx, label, "deleted", "label")
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
        raise NotFound("Label not found.", code="label_not_found")
    return list(labels)


async def _linked(
    session: AsyncSession,
    table: type[WaChatLabel] | type[WaMessageLabel],
    column: str,
    account_id: uuid.UUID,
    owner_id: uuid.UUID,
) -> list[WaLabel]:
    link_column = getattr(table, column)
    return list(
        (
            await session.scalars(
                select(WaLabel)
                .join(table, table.label_id == WaLabel.id)
                .where(table.account_id == account_id, link_column == owner_id)
                .order_by(WaLabel.name)
            )
        ).all()
    )


async def chat_label_list(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str
) -> list[LabelOut]:
    chat = await chat_row(session, wa_ctx, remote_jid)
    return [
        label_out(x)
        for x in await _linked(session, WaChatLabel, "chat_id", wa_ctx.account_id, chat.id)
    ]


async def _link(
    session: AsyncSession,
    wa_ctx: WaContext,
    table: type[WaChatLabel] | type[WaMessageLabel],
    column: str,
    owner_id: uuid.UUID,
    labels: Sequence[WaLabel],
    *,
    remote_jid: str,
    message_id: str | None,
) -> None:
    target: Target = "message" if message_id else "chat"
    for label in labels:
        added = await session.scalar(
            insert(table)
            .values(
                id=new_id(), account_id=wa_ctx.account_id, label_id=label.id, **{column: owner_id}
            )
            .on_conflict_do_nothing()
            .returning(table.id)
        )
        if added is not None:
            _record(
                session,
                wa_ctx.ctx,
                label,
                "added",
                target,
                provider_session_id=wa_ctx.wa.provider_session_id,
                remote_jid=remote_jid,
                message_id=message_id,
            )


async def _unlink(
    session: AsyncSession,
    wa_ctx: WaContext,
    table: type[WaChatLabel] | type[WaMessageLabel],
    column: str,
    owner_id: uuid.UUID,
    labels: Sequence[WaLabel],
    *,
    remote_jid: str,
    message_id: str | None,
) -> int:
    target: Target = "message" if message_id else "chat"
    removed = 0
    for label in labels:
        gone = await session.scalar(
            delete(table)
            .where(
                table.account_id == wa_ctx.account_id,
                table.label_id == label.id,
                getattr(table, column) == owner_id,
            )
            .returning(table.id)
        )
        if gone is not None:
            removed += 1
            _record(
                session,
                wa_ctx.ctx,
                label,
                "removed",
                target,
                provider_session_id=wa_ctx.wa.provider_session_id,
                remote_jid=remote_jid,
                message_id=message_id,
            )
    return removed


async def add_chat_label(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, label_id: uuid.UUID
) -> list[LabelOut]:
    chat = await chat_row(session, wa_ctx, remote_jid)
    labels = await _labels_by_id(session, wa_ctx.ctx, [label_id])
    await _link(
        session,
        wa_ctx,
        WaChatLabel,
        "chat_id",
        chat.id,
        labels,
        remote_jid=remote_jid,
        message_id=None,
    )
    return await chat_label_list(session, wa_ctx, remote_jid)


async def set_chat_labels(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, label_ids: Sequence[uuid.UUID]
) -> list[LabelOut]:
    chat = await chat_row(session, wa_ctx, remote_jid)
    wanted = await _labels_by_id(session, wa_ctx.ctx, label_ids)
    current = await _linked(session, WaChatLabel, "chat_id", wa_ctx.account_id, chat.id)
    wanted_ids = {x.id for x in wanted}
    current_ids = {x.id for x in current}
    await _unlink(
        session,
        wa_ctx,
        WaChatLabel,
        "chat_id",
        chat.id,
        [x for x in current if x.id not in wanted_ids],
        remote_jid=remote_jid,
        message_id=None,
    )
    await _link(
        session,
        wa_ctx,
        WaChatLabel,
        "chat_id",
        chat.id,
        [x for x in wanted if x.id not in current_ids],
        remote_jid=remote_jid,
        message_id=None,
    )
    return await chat_label_list(session, wa_ctx, remote_jid)


async def remove_chat_label(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, label_id: uuid.UUID
) -> list[LabelOut]:
    chat = await chat_row(session, wa_ctx, remote_jid)
    labels = await _labels_by_id(session, wa_ctx.ctx, [label_id])
    removed = await _unlink(
        session,
        wa_ctx,
        WaChatLabel,
        "chat_id",
        chat.id,
        labels,
        remote_jid=remote_jid,
        message_id=None,
    )
    if not removed:
        raise NotFound("The chat does not have this label.", code="label_not_linked")
    return await chat_label_list(session, wa_ctx, remote_jid)


async def message_label_list(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str
) -> list[LabelOut]:
    message = await get_message(session, wa_ctx, remote_jid, message_id)
    return await _message_labels(session, wa_ctx, message)


async def _message_labels(
    session: AsyncSession, wa_ctx: WaContext, message: WaMessage
) -> list[LabelOut]:
    linked = await _linked(session, WaMessageLabel, "message_id", wa_ctx.account_id, message.id)
    return [label_out(x) for x in linked]


async def add_message_label(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str, label_id: uuid.UUID
) -> list[LabelOut]:
    message = await get_message(session, wa_ctx, remote_jid, message_id)
    labels = await _labels_by_id(session, wa_ctx.ctx, [label_id])
    await _link(
        session,
        wa_ctx,
        WaMessageLabel,
        "message_id",
        message.id,
        labels,
        remote_jid=remote_jid,
        message_id=message_id,
    )
    return await _message_labels(session, wa_ctx, message)


async def set_message_labels(
    session: AsyncSession,
    wa_ctx: WaContext,
    remote_jid: str,
    message_id: str,
    label_ids: Sequence[uuid.UUID],
) -> list[LabelOut]:
    message = await get_message(session, wa_ctx, remote_jid, message_id)
    wanted = await _labels_by_id(session, wa_ctx.ctx, label_ids)
    current = await _linked(session, WaMessageLabel, "message_id", wa_ctx.account_id, message.id)
    wanted_ids = {x.id for x in wanted}
    current_ids = {x.id for x in current}
    await _unlink(
        session,
        wa_ctx,
        WaMessageLabel,
        "message_id",
        message.id,
        [x for x in current if x.id not in wanted_ids],
        remote_jid=remote_jid,
        message_id=message_id,
    )
    await _link(
        session,
        wa_ctx,
        WaMessageLabel,
        "message_id",
        message.id,
        [x for x in wanted if x.id not in current_ids],
        remote_jid=remote_jid,
        message_id=message_id,
    )
    return await _message_labels(session, wa_ctx, message)


async def remove_message_label(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str, label_id: uuid.UUID
) -> list[LabelOut]:
    message = await get_message(session, wa_ctx, remote_jid, message_id)
    labels = await _labels_by_id(session, wa_ctx.ctx, [label_id])
    removed = await _unlink(
        session,
        wa_ctx,
        WaMessageLabel,
        "message_id",
        message.id,
        labels,
        remote_jid=remote_jid,
        message_id=message_id,
    )
    if not removed:
        raise NotFound("The message does not have this label.", code="label_not_linked")
    return await _message_labels(session, wa_ctx, message)
