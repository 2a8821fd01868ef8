"""What the CRM adds to the WhatsApp chat and message lists: its filters (as conditions for
the WhatsApp repository's queries, so `q`, labels and the keyset cursor keep working) and the
`assignment` and `customerLink` of each row, for the calling account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asyncpg import Connection
from sqlalchemy import ColumnElement, and_, false, not_, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core import phones
from ticaret.core.auth import AccountContext
from ticaret.core.db import RowView
from ticaret.core.envelope import format_timestamp
from ticaret.crm.repository import assignments as assignments_repo
from ticaret.crm.repository import groups as groups_repo
from ticaret.crm.repository import identities as identities_repo
from ticaret.crm.repository import members as members_repo
from ticaret.crm.repository import overlay as repository
from ticaret.crm.schemas.assignments import Assignee, AssignmentBrief
from ticaret.crm.schemas.filters import CrmListFilter
from ticaret.crm.schemas.identities import ChatLink
from ticaret.crm.service import autolink
from ticaret.crm.service.assignments import Target, current_target, names_of
from ticaret.crm.service.identities import links_for_chats, links_for_messages
from ticaret.models import (
    AssigneeType,
    ChatType,
    CrmChatAssignment,
    CrmMessageAssignment,
    WaChat,
    WaMessage,
)


@dataclass(frozen=True)
class _Who:
    """The assignment part of a filter, as a test on a target and as SQL on a row."""

    user_ids: list[uuid.UUID]
    group_ids: list[uuid.UUID] | None
    assigned: bool | None

    def matches(self, target: Target | None) -> bool:
        if self.assigned is False:
            return target is None
        if target is None:
            return False
        if any(target.type != AssigneeType.user or target.id != u for u in self.user_ids):
            return False
        return self.group_ids is None or (
            target.type == AssigneeType.group and target.id in self.group_ids
        )

    def sql(
        self, table: type[CrmChatAssignment] | type[CrmMessageAssignment]
    ) -> ColumnElement[bool]:
        return repository.assignee_matches(
            table, user_ids=self.user_ids, group_ids=self.group_ids, assigned=self.assigned
        )


async def _who(session: AsyncSession, ctx: AccountContext, filters: CrmListFilter) -> _Who | None:
    if not filters.on_assignment:
        return None
    me = ctx.principal.user_id
    users = [u for u in (filters.assigned_user_id, me if filters.assigned_to_me else None) if u]
    if filters.assigned_to_me and me is None:
        # An API account is nobody's "me": nothing is assigned to it.
        users.append(uuid.UUID(int=0))
    groups: list[uuid.UUID] | None = None
    if filters.assigned_group_id is not None:
        groups = [filters.assigned_group_id]
    if filters.assigned_to_my_groups:
        mine = await groups_repo.groups_of_user(session, ctx.account_id, me) if me else []
        groups = [g for g in groups if g in mine] if groups is not None else mine
    assigned = {"assigned": True, "unassigned": False, None: None}[filters.assignment_status]
    return _Who(users, groups, assigned)


async def chat_conditions(
    session: AsyncSession, ctx: AccountContext, filters: CrmListFilter | None
) -> list[ColumnElement[bool]]:
    """Conditions on `wa_chats` rows for the chat list."""
    if filters is None:
        return []
    conditions: list[ColumnElement[bool]] = []
    who = await _who(session, ctx, filters)
    if who is not None:
        if who.assigned is False:
            conditions.append(
                not_(
                    repository.chat_assignment_exists(
                        ctx.account_id, CrmChatAssignment.assignee_type.is_not(None)
                    )
                )
            )
        else:
            conditions.append(
                repository.chat_assignment_exists(ctx.account_id, who.sql(CrmChatAssignment))
            )
    if filters.customer_id or filters.contact_id:
        conditions.append(
            repository.chat_linked_to(ctx.account_id, filters.customer_id, filters.contact_id)
        )
    if filters.identity_status is not None:
        linked = repository.chat_linked(ctx.account_id)
        conditions.append(linked if filters.identity_status == "matched" else not_(linked))
    return conditions


def _link_matches(link: ChatLink | None, filters: CrmListFilter) -> bool:
    if filters.identity_status == "matched" and link is None:
        return False
    if filters.identity_status == "unmatched" and link is not None:
        return False
    if filters.customer_id and (link is None or link.customer.id != filters.customer_id):
        return False
    return not (
        filters.contact_id
        and (link is None or link.contact is None or link.contact.id != filters.contact_id)
    )


async def message_conditions(
    session: AsyncSession, ctx: AccountContext, chat: WaChat, filters: CrmListFilter | None
) -> list[ColumnElement[bool]]:
    """Conditions on `wa_messages` rows of one chat's list. What holds for the whole chat is
    decided once here, so the per-row part stays one index probe."""
    if filters is None:
        return []
    conditions: list[ColumnElement[bool]] = []
    who = await _who(session, ctx, filters)
    if who is not None:
        chat_row = (
            await assignments_repo.chat_assignments(session, ctx.account_id, [chat.id])
        ).get(chat.id)
        chat_matches = who.matches(current_target(chat_row))
        if who.assigned is False:
            conditions.append(
                not_(
                    repository.message_assignment_exists(
                        ctx.account_id, CrmMessageAssignment.assignee_type.is_not(None)
                    )
                )
                if chat_matches
                else false()
            )
        else:
            conditions.append(
                repository.own_assignment_follows(
                    ctx.account_id, who.sql(CrmMessageAssignment), chat_matches
                )
            )
    if filters.on_link:
        chat_link = (await links_for_chats(session, ctx.account_id, [chat])).get(chat.id)
        chat_ok = _link_matches(chat_link, filters)
        if chat.type != ChatType.group:
            conditions.append(true() if chat_ok else false())
        else:
            any_sender = repository.sender_linked(ctx.account_id)
            fallback = and_(not_(any_sender), true() if chat_ok else false())
            if filters.identity_status == "unmatched":
                conditions.append(fallback)
            elif filters.customer_id or filters.contact_id:
                wanted = repository.sender_linked(
                    ctx.account_id, filters.customer_id, filters.contact_id
                )
                conditions.append(or_(wanted, fallback))
            else:
                conditions.append(or_(any_sender, fallback))
    return conditions


# What each row shows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlay:
    assignment: AssignmentBrief | None
    customer_link: ChatLink | None


def _brief(
    row: CrmChatAssignment | CrmMessageAssignment | None, scope: str, names: dict[uuid.UUID, str]
) -> AssignmentBrief | None:
    target = current_target(row)
    if target is None or row is None:
        return None
    return AssignmentBrief(
        scope=scope,
        assignee=Assignee(type=target.type, id=target.id, name=names.get(target.id)),
        assigned_at=row.assigned_at,
    )


async def for_chats(
    session: AsyncSession, account_id: uuid.UUID, chats: Sequence[WaChat]
) -> dict[uuid.UUID, Overlay]:
    rows = await assignments_repo.chat_assignments(session, account_id, [c.id for c in chats])
    names = await names_of(session, account_id, list(rows.values()))
    links = await links_for_chats(session, account_id, chats)
    return {c.id: Overlay(_brief(rows.get(c.id), "chat", names), links.get(c.id)) for c in chats}


async def for_messages(
    session: AsyncSession, account_id: uuid.UUID, chat: WaChat, messages: Sequence[WaMessage]
) -> dict[uuid.UUID, Overlay]:
    own = await assignments_repo.message_assignments(session, account_id, [m.id for m in messages])
    chat_row = (await assignments_repo.chat_assignments(session, account_id, [chat.id])).get(
        chat.id
    )
    names = await names_of(session, account_id, [*own.values(), chat_row])
    links = await links_for_messages(session, account_id, chat, messages)
    found: dict[uuid.UUID, Overlay] = {}
    for message in messages:
        mine = own.get(message.id)
        brief = (
            _brief(mine, "message", names)
            if current_target(mine)
            else _brief(chat_row, "chat", names)
        )
        found[message.id] = Overlay(brief, links.get(message.id))
    return found


# Hot lists read outside a transaction -------------------------------------------------------
# The assignments of a page, straight to `AssignmentBrief` JSON. Customer links take several
# lookups (identities, customers, contacts, inbox links); when the page has any, these return
# None and the list is built by the full path above.


async def _names_raw(
    conn: Connection, account_id: uuid.UUID, rows: Sequence[Any]
) -> dict[uuid.UUID, str]:
    user_ids = [r.user_id for r in rows if r is not None and r.user_id]
    group_ids = [r.group_id for r in rows if r is not None and r.group_id]
    return {
        **await members_repo.user_names_raw(conn, user_ids),
        **await groups_repo.group_names_raw(conn, account_id, group_ids),
    }


def _brief_json(row: Any, scope: str, names: dict[uuid.UUID, str]) -> dict[str, Any] | None:
    """`_brief` as it goes on the wire."""
    target = current_target(row)
    if target is None or row is None:
        return None
    return {
        "scope": scope,
        "assignee": {"type": target.type.value, "id": target.id, "name": names.get(target.id)},
        "assignedAt": None if row.assigned_at is None else format_timestamp(row.assigned_at),
    }


def _as_stored(jid: str) -> str:
    """A JID as a page statement looks it up among identities (`crm.repository.canonical_jid`)."""
    return jid.replace("@c.us", "@s.whatsapp.net")


def _respelled(chats: Sequence[Any]) -> list[str]:
    """The chats' JIDs as identities store them (`normalize_jid`) where that is not how the
    page statement spelled them (`canonical_jid`: as stored, `@c.us` as `@s.whatsapp.net`):
    a device suffix or capitals. Normally none."""
    found = []
    for chat in chats:
        for jid in (chat["remote_jid"], chat["alt_jid"]):
            if jid and (normal := phones.normalize_jid(jid)) != _as_stored(jid):
                found.append(normal)
    return found


def _respelled_senders(messages: Sequence[Any]) -> list[str]:
    """`_respelled` of a group page's senders: `_sender_jids` the page statement did not look
    up as spelled."""
    found: list[str] = []
    for m in messages:
        if m["from_me"]:
            continue
        values = (m["sender_jid_resolved"], m["sender_jid"], m["participant"])
        looked_up = {_as_stored(value) for value in values if value}
        found.extend(jid for jid in autolink.person_jids(values) if jid not in looked_up)
    return found


async def chat_page_json_raw(
    conn: Connection, account_id: uuid.UUID, chats: Sequence[Any]
) -> dict[uuid.UUID, dict[str, Any]] | None:
    """`for_chats`' assignments as JSON by chat id (chats without one left out), for rows read
    with their overlay columns (`wa.repository.chats.chats_page_raw`), or None when a customer
    link may be involved (then `for_chats` must build the page): a row says `linked`, or a JID
    the statement could not spell as identities do is mapped."""
    if any(chat["linked"] for chat in chats):
        return None
    respelled = _respelled(chats)
    if respelled and await identities_repo.any_whatsapp_identity_raw(conn, account_id, respelled):
        return None
    assigned = [RowView(chat) for chat in chats if chat["assignee_type"] is not None]
    if not assigned:
        return {}
    names = await _names_raw(conn, account_id, assigned)
    briefs = {chat.id: _brief_json(chat, "chat", names) for chat in assigned}
    return {key: brief for key, brief in briefs.items() if brief is not None}


@dataclass(frozen=True)
class _Assigned:
    """An assignment's columns read off a page row (what `current_target` and `_brief_json`
    read), for the chat's (`chat_*`) or the message's own (`own_*`)."""

    assignee_type: str
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    assigned_at: Any

    @classmethod
    def of(cls, row: Any, prefix: str) -> _Assigned | None:
        if row[f"{prefix}assignee_type"] is None:
            return None
        return cls(
            row[f"{prefix}assignee_type"],
            row[f"{prefix}user_id"],
            row[f"{prefix}group_id"],
            row[f"{prefix}assigned_at"],
        )


async def message_page_json_raw(
    conn: Connection, account_id: uuid.UUID, messages: Sequence[Any]
) -> dict[uuid.UUID, dict[str, Any]] | None:
    """`for_messages`' assignments as JSON by message id (messages without one left out), for
    one chat's rows read with their overlay columns
    (`wa.repository.messages.messages_page_with_overlay_raw`), or None when a customer link
    may be involved (then `for_messages` must build the page): the chat or a group sender is
    `linked`, or a JID the statement could not spell as identities do is mapped."""
    if not messages:
        return {}
    first = messages[0]
    if first["chat_linked"] or any(m["sender_linked"] for m in messages):
        return None
    respelled = _respelled(
        [{"remote_jid": first["chat_remote_jid"], "alt_jid": first["chat_alt_jid"]}]
    )
    if first["chat_is_group"]:
        respelled.extend(_respelled_senders(messages))
    if respelled and await identities_repo.any_whatsapp_identity_raw(conn, account_id, respelled):
        return None
    chat = _Assigned.of(first, "chat_")
    own = {m["id"]: mine for m in messages if (mine := _Assigned.of(m, "own_")) is not None}
    if chat is None and not own:
        return {}
    names = await _names_raw(conn, account_id, [*own.values(), chat])
    briefs: dict[uuid.UUID, dict[str, Any]] = {}
    for message in messages:
        mine = own.get(message["id"])
        # The message's own assignment, else its chat's (as `for_messages`).
        brief = (
            _brief_json(mine, "message", names)
            if current_target(mine)  # type: ignore[arg-type]
            else _brief_json(chat, "chat", names)
        )
        if brief is not None:
            briefs[message["id"]] = brief
    return briefs
