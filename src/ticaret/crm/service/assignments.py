"""Who owns a chat or a message, in one account: a member or a CRM group. Every change is a
history row and a `crm.assignment.changed` event, written in the request's transaction (a
bulk request of 500 chats is one transaction with 500 of each)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.events import Actor, emit
from ticaret.core.ids import new_id
from ticaret.core.versioning import check_version
from ticaret.crm.errors import InvalidAssignee, field_error
from ticaret.crm.events import ASSIGNMENT_CHANGED, AssignmentChanged
from ticaret.crm.repository import assignments as repository
from ticaret.crm.repository import chats as chats_repo
from ticaret.crm.repository import groups as groups_repo
from ticaret.crm.repository import members as members_repo
from ticaret.crm.repository.assignments import HistoryFilter
from ticaret.crm.schemas.assignments import (
    Assignee,
    AssigneeRef,
    AssignmentChangeOut,
    AssignmentOut,
    BulkAssignChats,
    BulkAssignMessages,
    BulkResult,
    ChatRef,
    MessageRef,
)
from ticaret.crm.service.common import actor_out
from ticaret.models import (
    AssigneeType,
    AssignmentTarget,
    CrmAssignmentChange,
    CrmChatAssignment,
    CrmGroup,
    CrmMessageAssignment,
    WaChat,
    WaMessage,
    WaSession,
)
from ticaret.wa.errors import ChatNotFound, MessageNotFound, SessionNotFound

Row = CrmChatAssignment | CrmMessageAssignment
Scope = Literal["chat", "message"]


@dataclass(frozen=True)
class Target:
    """Whom to assign to; None means nobody."""

    type: AssigneeType
    id: uuid.UUID

    def ref(self) -> AssigneeRef:
        return AssigneeRef(type=self.type, id=self.id)


def current_target(row: Row | None) -> Target | None:
    if row is None or row.assignee_type is None:
        return None
    assignee_id = row.user_id if row.assignee_type == AssigneeType.user else row.group_id
    return Target(AssigneeType(row.assignee_type), assignee_id) if assignee_id else None


async def valid_target(
    session: AsyncSession,
    account_id: uuid.UUID,
    assignee_type: AssigneeType,
    assignee_id: uuid.UUID,
) -> Target:
    """422 unless the assignee is an active member or a group of this account."""
    if assignee_type == AssigneeType.user:
        ok = bool(await members_repo.members(session, account_id, [assignee_id]))
    else:
        ok = await groups_repo.group(session, account_id, assignee_id) is not None
    if not ok:
        raise InvalidAssignee(
            f"No {assignee_type.value} {assignee_id} in this account.",
            details=field_error("assigneeId", f"not a {assignee_type.value} of this account"),
        )
    return Target(assignee_type, assignee_id)


# Views ---------------------------------------------------------------------------------------


async def names_of(
    session: AsyncSession, account_id: uuid.UUID, rows: Sequence[Row | None]
) -> dict[uuid.UUID, str]:
    user_ids = [r.user_id for r in rows if r is not None and r.user_id]
    group_ids = [r.group_id for r in rows if r is not None and r.group_id]
    users = await members_repo.users_by_id(session, user_ids)
    groups = await groups_repo.groups_by_id(session, account_id, group_ids)
    return {**{k: u.name for k, u in users.items()}, **{k: g.name for k, g in groups.items()}}


def _out(
    target_type: AssignmentTarget,
    wa: WaSession,
    remote_jid: str,
    message_id: str | None,
    row: Row | None,
    names: dict[uuid.UUID, str],
    *,
    scope: Scope,
    version_row: Row | None,
) -> AssignmentOut:
    current = current_target(row)
    return AssignmentOut(
        target_type=target_type,
        provider_session_id=wa.provider_session_id,
        remote_jid=remote_jid,
        message_id=message_id,
        status="assigned" if current else "unassigned",
        assignee=Assignee(type=current.type, id=current.id, name=names.get(current.id))
        if current
        else None,
        scope=scope,
        reason=row.reason if row is not None and current else None,
        assigned_at=row.assigned_at if row is not None and current else None,
        assigned_by=actor_out(row.assigned_by_type, row.assigned_by_id)
        if row is not None and current and row.assigned_by_type
        else None,
        entity_version=version_row.entity_version if version_row is not None else "0",
    )


async def chat_assignment_out(
    session: AsyncSession, account_id: uuid.UUID, wa: WaSession, chat: WaChat
) -> AssignmentOut:
    row = (await repository.chat_assignments(session, account_id, [chat.id])).get(chat.id)
    names = await names_of(session, account_id, [row])
    return _out(
        AssignmentTarget.chat, wa, chat.remote_jid, None, row, names, scope="chat", version_row=row
    )


async def message_assignment_out(
    session: AsyncSession, account_id: uuid.UUID, wa: WaSession, message: WaMessage
) -> AssignmentOut:
    """The message's own assignment, or its chat's when it has none (`scope`)."""
    own = (await repository.message_assignments(session, account_id, [message.id])).get(message.id)
    shown: Row | None = own
    scope: Scope = "message"
    if current_target(own) is None:
        chat = await chats_repo.chat(session, wa.id, message.remote_jid)
        if chat is not None:
            shown = (await repository.chat_assignments(session, account_id, [chat.id])).get(chat.id)
            scope = "chat" if current_target(shown) else "message"
    names = await names_of(session, account_id, [shown])
    return _out(
        AssignmentTarget.message,
        wa,
        message.remote_jid,
        message.message_id,
        shown,
        names,
        scope=scope,
        version_row=own,
    )


# Changing ------------------------------------------------------------------------------------


def _change(
    session: AsyncSession,
    account_id: uuid.UUID,
    actor: Actor,
    row: Row,
    target_type: AssignmentTarget,
    wa: WaSession,
    target: Target | None,
    reason: str | None,
    bulk_id: uuid.UUID | None,
    now: datetime,
) -> CrmAssignmentChange | None:
    """Point the row at `target`; the history row to store, or None when nothing changed."""
    before = current_target(row)
    if before == target:
        return None
    row.assignee_type = target.type if target else None
    row.user_id = target.id if target and target.type == AssigneeType.user else None
    row.group_id = target.id if target and target.type == AssigneeType.group else None
    row.reason = reason
    row.assigned_at = now if target else None
    row.assigned_by_type = actor.type
    row.assigned_by_id = actor.id
    message_id = row.message_id if isinstance(row, CrmMessageAssignment) else None
    emit(
        session,
        ASSIGNMENT_CHANGED,
        AssignmentChanged(
            target_type=target_type,
            provider_session_id=wa.provider_session_id,
            remote_jid=row.remote_jid,
            message_id=message_id,
            from_assignee=before.ref() if before else None,
            to_assignee=target.ref() if target else None,
            reason=reason,
            bulk_id=bulk_id,
        ),
        account_id=account_id,
        actor=actor,
        provider_session_id=wa.provider_session_id,
    )
    return CrmAssignmentChange(
        id=new_id(),
        account_id=account_id,
        target_type=target_type,
        session_id=wa.id,
        provider_session_id=wa.provider_session_id,
        remote_jid=row.remote_jid,
        message_id=message_id,
        from_type=before.type if before else None,
        from_id=before.id if before else None,
        to_type=target.type if target else None,
        to_id=target.id if target else None,
        reason=reason,
        bulk_id=bulk_id,
        actor_type=actor.type,
        actor_id=actor.id,
    )


async def set_chat_assignment(
    session: AsyncSession,
    ctx: AccountContext,
    wa: WaSession,
    chat: WaChat,
    target: Target | None,
    reason: str | None,
    expected_version: str | None,
) -> AssignmentOut:
    rows = await repository.ensure_chat_rows(
        session, ctx.account_id, [(chat.id, wa.id, chat.remote_jid)]
    )
    row = rows[chat.id]
    check_version(row, expected_version)
    change = _change(
        session,
        ctx.account_id,
        ctx.actor,
        row,
        AssignmentTarget.chat,
        wa,
        target,
        reason,
        None,
        datetime.now(UTC),
    )
    if change is not None:
        repository.add_history(session, [change])
    await session.flush()
    return await chat_assignment_out(session, ctx.account_id, wa, chat)


async def set_message_assignment(
    session: AsyncSession,
    ctx: AccountContext,
    wa: WaSession,
    message: WaMessage,
    target: Target | None,
    reason: str | None,
    expected_version: str | None,
) -> AssignmentOut:
    rows = await repository.ensure_message_rows(
        session, ctx.account_id, [(message.id, wa.id, message.remote_jid, message.message_id)]
    )
    row = rows[message.id]
    check_version(row, expected_version)
    change = _change(
        session,
        ctx.account_id,
        ctx.actor,
        row,
        AssignmentTarget.message,
        wa,
        target,
        reason,
        None,
        datetime.now(UTC),
    )
    if change is not None:
        repository.add_history(session, [change])
    await session.flush()
    return await message_assignment_out(session, ctx.account_id, wa, message)


async def _chats_named(
    session: AsyncSession, ctx: AccountContext, refs: Sequence[ChatRef]
) -> list[tuple[WaChat, WaSession]]:
    keys = list(dict.fromkeys((r.provider_session_id, r.remote_jid) for r in refs))
    found = await chats_repo.chats_by_ref(session, ctx.account_id, keys)
    missing = [k for k in keys if k not in found]
    if missing:
        raise ChatNotFound(
            f"{len(missing)} chat(s) not found; nothing was changed.",
            details={
                "missing": [{"providerSessionId": p, "remoteJid": j} for p, j in missing[:50]]
            },
        )
    return [found[k] for k in keys]


async def _messages_named(
    session: AsyncSession, ctx: AccountContext, refs: Sequence[MessageRef]
) -> list[tuple[WaMessage, WaSession]]:
    keys = list(dict.fromkeys((r.provider_session_id, r.remote_jid, r.message_id) for r in refs))
    found = await chats_repo.messages_by_ref(session, ctx.account_id, keys)
    missing = [k for k in keys if k not in found]
    if missing:
        raise MessageNotFound(
            f"{len(missing)} message(s) not found; nothing was changed.",
            details={
                "missing": [
                    {"providerSessionId": p, "remoteJid": j, "messageId": m}
                    for p, j, m in missing[:50]
                ]
            },
        )
    return [found[k] for k in keys]


async def bulk_chats(
    session: AsyncSession,
    ctx: AccountContext,
    refs: Sequence[ChatRef],
    target: Target | None,
    reason: str | None,
) -> BulkResult:
    chats = await _chats_named(session, ctx, refs)
    rows = await repository.ensure_chat_rows(
        session, ctx.account_id, [(chat.id, wa.id, chat.remote_jid) for chat, wa in chats]
    )
    bulk_id, now = new_id(), datetime.now(UTC)
    changes = [
        _change(
            session,
            ctx.account_id,
            ctx.actor,
            rows[chat.id],
            AssignmentTarget.chat,
            wa,
            target,
            reason,
            bulk_id,
            now,
        )
        for chat, wa in chats
    ]
    stored = [c for c in changes if c is not None]
    repository.add_history(session, stored)
    await session.flush()
    names = await names_of(session, ctx.account_id, list(rows.values()))
    return BulkResult(
        bulk_id=bulk_id,
        changed=len(stored),
        unchanged=len(chats) - len(stored),
        rows=[
            _out(
                AssignmentTarget.chat,
                wa,
                chat.remote_jid,
                None,
                rows[chat.id],
                names,
                scope="chat",
                version_row=rows[chat.id],
            )
            for chat, wa in chats
        ],
    )


async def bulk_messages(
    session: AsyncSession,
    ctx: AccountContext,
    refs: Sequence[MessageRef],
    target: Target | None,
    reason: str | None,
) -> BulkResult:
    messages = await _messages_named(session, ctx, refs)
    rows = await repository.ensure_message_rows(
        session,
        ctx.account_id,
        [(m.id, wa.id, m.remote_jid, m.message_id) for m, wa in messages],
    )
    bulk_id, now = new_id(), datetime.now(UTC)
    changes = [
        _change(
            session,
            ctx.account_id,
            ctx.actor,
            rows[m.id],
            AssignmentTarget.message,
            wa,
            target,
            reason,
            bulk_id,
            now,
        )
        for m, wa in messages
    ]
    stored = [c for c in changes if c is not None]
    repository.add_history(session, stored)
    await session.flush()
    names = await names_of(session, ctx.account_id, list(rows.values()))
    return BulkResult(
        bulk_id=bulk_id,
        changed=len(stored),
        unchanged=len(messages) - len(stored),
        rows=[
            _out(
                AssignmentTarget.message,
                wa,
                m.remote_jid,
                m.message_id,
                rows[m.id],
                names,
                scope="message",
                version_row=rows[m.id],
            )
            for m, wa in messages
        ],
    )


async def bulk_assign_chats(
    session: AsyncSession, ctx: AccountContext, body: BulkAssignChats
) -> BulkResult:
    target = await valid_target(session, ctx.account_id, body.assignee_type, body.assignee_id)
    return await bulk_chats(session, ctx, body.chats, target, body.reason)


async def bulk_assign_messages(
    session: AsyncSession, ctx: AccountContext, body: BulkAssignMessages
) -> BulkResult:
    target = await valid_target(session, ctx.account_id, body.assignee_type, body.assignee_id)
    return await bulk_messages(session, ctx, body.messages, target, body.reason)


async def release_group(session: AsyncSession, ctx: AccountContext, group: CrmGroup) -> None:
    """A group is deleted: what it was assigned goes back to nobody, with history."""
    chats, messages = await repository.assigned_to_group(session, ctx.account_id, group.id)
    session_ids = [r.session_id for r in chats] + [r.session_id for r in messages]
    sessions = await chats_repo.sessions_by_id(session, session_ids)
    now = datetime.now(UTC)
    reason = f"group {group.name} was deleted"
    changes: list[CrmAssignmentChange | None] = []
    for chat_row in chats:
        changes.append(
            _change(
                session,
                ctx.account_id,
                ctx.actor,
                chat_row,
                AssignmentTarget.chat,
                sessions[chat_row.session_id],
                None,
                reason,
                None,
                now,
            )
        )
    for message_row in messages:
        changes.append(
            _change(
                session,
                ctx.account_id,
                ctx.actor,
                message_row,
                AssignmentTarget.message,
                sessions[message_row.session_id],
                None,
                reason,
                None,
                now,
            )
        )
    repository.add_history(session, [c for c in changes if c is not None])
    await session.flush()


# History -------------------------------------------------------------------------------------


def change_out(change: CrmAssignmentChange) -> AssignmentChangeOut:
    return from_row(
        AssignmentChangeOut,
        change,
        from_assignee=AssigneeRef(type=change.from_type, id=change.from_id)
        if change.from_type and change.from_id
        else None,
        to_assignee=AssigneeRef(type=change.to_type, id=change.to_id)
        if change.to_type and change.to_id
        else None,
        actor=actor_out(change.actor_type, change.actor_id),
    )


async def list_history(
    session: AsyncSession,
    ctx: AccountContext,
    page: PageParams,
    *,
    target_type: AssignmentTarget | None,
    provider_session_id: str | None,
    remote_jid: str | None,
    message_id: str | None,
    user_id: uuid.UUID | None,
    group_id: uuid.UUID | None,
    bulk_id: uuid.UUID | None,
) -> Page[AssignmentChangeOut]:
    session_id = None
    if provider_session_id is not None:
        wa = await chats_repo.visible_session(session, ctx.account_id, provider_session_id)
        if wa is None:
            raise SessionNotFound()
        session_id = wa.id
    filters = HistoryFilter(
        target_type=target_type,
        session_id=session_id,
        remote_jid=remote_jid,
        message_id=message_id,
        user_id=user_id,
        group_id=group_id,
        bulk_id=bulk_id,
    )
    rows = await repository.history_page(
        session, ctx.account_id, filters, after=page.after_id(), limit=page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda c: [c.id])
    return Page[AssignmentChangeOut](
        rows=[change_out(c) for c in kept], next_cursor=cursor, has_more=more
    )
