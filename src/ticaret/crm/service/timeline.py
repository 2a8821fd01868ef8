"""A customer's timeline: the messages of every chat, Page / Instagram thread and inbox
linked to it, its notes, comments, tasks, assignment changes of its chats and its audit
entries, newest first in one feed with one cursor.

A source is registered with `@source(kind)`: a class with `fetch` (the newest rows of its
kind after a position, with when each happened) and `render` (the kept rows as items, in one
batch). The feed asks every source for `limit` rows, merges them and keeps `limit`; only those
are rendered. The cursor is the position of the last one kept, so a deep page costs what the
first one does (each source reads its own index from the position). Orders join as one more
source (and its item model in `schemas/timeline.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, decode_cursor, encode_cursor
from ticaret.core.errors import InvalidCursor
from ticaret.crm.repository import chats as chats_repo
from ticaret.crm.repository import identities as identities_repo
from ticaret.crm.repository import inbox_links as inbox_links_repo
from ticaret.crm.repository import threads as threads_repo
from ticaret.crm.repository import timeline as repository
from ticaret.crm.repository.threads import PLATFORM_OF_CHANNEL
from ticaret.crm.repository.timeline import Position
from ticaret.crm.schemas.timeline import (
    AssignmentItem,
    AuditItem,
    CommentItem,
    MessageItem,
    NoteItem,
    SocialMessageItem,
    TaskItem,
    TimelineItem,
    TimelineKind,
    TimelineMessage,
    TimelineSocialMessage,
)
from ticaret.crm.service.assignments import change_out
from ticaret.crm.service.audit import entry_out
from ticaret.crm.service.comments import comment_out
from ticaret.crm.service.customers import customer_or_404
from ticaret.crm.service.notes import note_out
from ticaret.crm.service.tasks import task_outs
from ticaret.models import CrmCustomer, IdentityChannel, InboxChannel, WaSession


@dataclass(frozen=True)
class Scope:
    """What belongs to the customer: its chats and whole inboxes (sessions) it is bound to,
    the Page / Instagram threads of its people and the whole Pages / accounts bound to it."""

    account_id: uuid.UUID
    customer_id: uuid.UUID
    chats: list[tuple[uuid.UUID, str]]
    inbox_sessions: list[uuid.UUID]
    sessions: dict[uuid.UUID, WaSession]
    threads: list[uuid.UUID]
    inbox_assets: list[uuid.UUID]


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    id: uuid.UUID
    row: Any

    @property
    def key(self) -> tuple[datetime, str, uuid.UUID]:
        return (self.at, self.kind, self.id)


class Source(Protocol):
    async def fetch(
        self, session: AsyncSession, scope: Scope, position: Position | None, limit: int
    ) -> list[Entry]: ...

    async def render(
        self, session: AsyncSession, scope: Scope, entries: list[Entry]
    ) -> list[TimelineItem]: ...


SOURCES: dict[str, Source] = {}
S = TypeVar("S", bound=Source)


def source(kind: str) -> Callable[[type[S]], type[S]]:
    def register(cls: type[S]) -> type[S]:
        SOURCES[kind] = cls()
        return cls

    return register


@source("message")
class _Messages:
    async def fetch(
        self, session: AsyncSession, scope: Scope, position: Position | None, limit: int
    ) -> list[Entry]:
        rows = await repository.messages(
            session, scope.chats, scope.inbox_sessions, position, limit
        )
        return [Entry(m.source_timestamp, "message", m.id, m) for m in rows]

    async def render(
        self, session: AsyncSession, scope: Scope, entries: list[Entry]
    ) -> list[TimelineItem]:
        items: list[TimelineItem] = []
        for entry in entries:
            m = entry.row
            shown = {k: getattr(m, k) for k in TimelineMessage.model_fields if hasattr(m, k)}
            shown["provider_session_id"] = scope.sessions[m.session_id].provider_session_id
            shown["text"] = None if m.deleted_for_everyone else m.text
            message = TimelineMessage.model_validate(shown)
            items.append(MessageItem(id=m.id, at=entry.at, message=message))
        return items


@source("social_message")
class _SocialMessages:
    async def fetch(
        self, session: AsyncSession, scope: Scope, position: Position | None, limit: int
    ) -> list[Entry]:
        rows = await repository.social_messages(
            session, scope.threads, scope.inbox_assets, position, limit
        )
        return [Entry(m.source_timestamp, "social_message", m.id, m) for m in rows]

    async def render(
        self, session: AsyncSession, scope: Scope, entries: list[Entry]
    ) -> list[TimelineItem]:
        threads = await threads_repo.threads_by_id(
            session, scope.account_id, [e.row.thread_id for e in entries]
        )
        items: list[TimelineItem] = []
        for entry in entries:
            m = entry.row
            thread = threads[m.thread_id]
            message = TimelineSocialMessage(
                id=m.id,
                platform=m.platform,
                asset_id=m.asset_id,
                thread_id=m.thread_id,
                participant_id=thread.participant_id,
                participant_name=thread.participant_name or thread.participant_username,
                mid=m.mid,
                from_me=m.from_me,
                type=m.type,
                text=m.text,
                has_attachments=bool(m.attachments),
                status=m.status,
                deleted=m.deleted,
                source_timestamp=m.source_timestamp,
            )
            items.append(SocialMessageItem(id=m.id, at=entry.at, message=message))
        return items


@source("note")
class _Notes:
    async def fetch(
        self, session: AsyncSession, scope: Scope, position: Position | None, limit: int
    ) -> list[Entry]:
        rows = await repository.notes(session, scope.account_id, scope.customer_id, position, limit)
        return [Entry(n.created_at, "note", n.id, n) for n in rows]

    async def render(
        self, session: AsyncSession, scope: Scope, entries: list[Entry]
    ) -> list[TimelineItem]:
        return [NoteItem(id=e.id, at=e.at, note=note_out(e.row)) for e in entries]


@source("comment")
class _Comments:
    async def fetch(
        self, session: AsyncSession, scope: Scope, position: Position | None, limit: int
    ) -> list[Entry]:
        rows = await repository.comments(
            session, scope.account_id, scope.customer_id, position, limit
        )
        return [Entry(c.created_at, "comment", c.id, c) for c in rows]

    async def render(
        self, session: AsyncSession, scope: Scope, entries: list[Entry]
    ) -> list[TimelineItem]:
        return [CommentItem(id=e.id, at=e.at, comment=comment_out(e.row)) for e in entries]


@source("task")
class _Tasks:
    async def fetch(
        self, session: AsyncSession, scope: Scope, position: Position | None, limit: int
    ) -> list[Entry]:
        rows = await repository.tasks(session, scope.account_id, scope.customer_id, position, limit)
        return [Entry(t.created_at, "task", t.id, t) for t in rows]

    async def render(
        self, session: AsyncSession, scope: Scope, entries: list[Entry]
    ) -> list[TimelineItem]:
        outs = await task_outs(session, scope.account_id, [e.row for e in entries])
        return [TaskItem(id=e.id, at=e.at, task=o) for e, o in zip(entries, outs, strict=True)]


@source("assignment")
class _Assignments:
    async def fetch(
        self, session: AsyncSession, scope: Scope, position: Position | None, limit: int
    ) -> list[Entry]:
        rows = await repository.assignment_changes(
            session, scope.account_id, scope.chats, position, limit
        )
        return [Entry(c.created_at, "assignment", c.id, c) for c in rows]

    async def render(
        self, session: AsyncSession, scope: Scope, entries: list[Entry]
    ) -> list[TimelineItem]:
        return [AssignmentItem(id=e.id, at=e.at, assignment=change_out(e.row)) for e in entries]


@source("audit")
class _Audit:
    async def fetch(
        self, session: AsyncSession, scope: Scope, position: Position | None, limit: int
    ) -> list[Entry]:
        rows = await repository.audit_entries(
            session, scope.account_id, scope.customer_id, position, limit
        )
        return [Entry(a.created_at, "audit", a.id, a) for a in rows]

    async def render(
        self, session: AsyncSession, scope: Scope, entries: list[Entry]
    ) -> list[TimelineItem]:
        return [AuditItem(id=e.id, at=e.at, audit=entry_out(e.row)) for e in entries]


async def _scope(session: AsyncSession, customer: CrmCustomer) -> Scope:
    identities = await identities_repo.identities_of(
        session, customer.account_id, customer_id=customer.id, lock=False
    )
    jids = [i.value for i in identities if i.channel == IdentityChannel.whatsapp]
    chats = await chats_repo.chats_of_values(session, customer.account_id, jids)
    links = await inbox_links_repo.links_of_customer(session, customer.account_id, customer.id)
    visible = {s.id: s for s in await chats_repo.visible_sessions(session, customer.account_id)}
    inbox = [link.session_id for link in links if link.session_id in visible]
    people = [
        (PLATFORM_OF_CHANNEL[IdentityChannel(i.channel)].value, i.scope, i.value)
        for i in identities
        if i.channel in (IdentityChannel.messenger, IdentityChannel.instagram)
    ]
    threads = await threads_repo.threads_of_people(session, customer.account_id, people)
    bound = {
        (PLATFORM_OF_CHANNEL[IdentityChannel(link.channel)].value, link.source_id)
        for link in links
        if link.channel != InboxChannel.whatsapp
    }
    inbox_assets = [
        a.id
        for a in (await threads_repo.live_assets(session, customer.account_id) if bound else [])
        if (a.platform, a.external_id) in bound
    ]
    return Scope(
        account_id=customer.account_id,
        customer_id=customer.id,
        # A chat already covered by a whole inbox is read once, through the inbox.
        chats=[(c.session_id, c.remote_jid) for c in chats if c.session_id not in inbox],
        inbox_sessions=[s for s in inbox if s is not None],
        sessions=visible,
        threads=[t.id for t in threads if t.asset_id not in inbox_assets],
        inbox_assets=inbox_assets,
    )


def _position(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    raw_at, kind, raw_id = decode_cursor(cursor, 3)
    if kind not in SOURCES:
        raise InvalidCursor()
    try:
        return Position(datetime.fromisoformat(raw_at), kind, uuid.UUID(raw_id))
    except ValueError as exc:
        raise InvalidCursor() from exc


async def customer_timeline(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    page: PageParams,
    kinds: Sequence[TimelineKind] | None,
) -> Page[TimelineItem]:
    customer = await customer_or_404(session, ctx.account_id, customer_id)
    scope = await _scope(session, customer)
    position = _position(page.cursor)
    wanted = [k for k in SOURCES if not kinds or k in kinds]
    entries: list[Entry] = []
    for kind in wanted:
        entries += await SOURCES[kind].fetch(session, scope, position, page.limit + 1)
    entries.sort(key=lambda e: e.key, reverse=True)
    kept = entries[: page.limit]
    more = len(entries) > page.limit
    rendered: dict[tuple[str, uuid.UUID], TimelineItem] = {}
    for kind in wanted:
        mine = [e for e in kept if e.kind == kind]
        if mine:
            for entry, item in zip(
                mine, await SOURCES[kind].render(session, scope, mine), strict=True
            ):
                rendered[(kind, entry.id)] = item
    cursor = (
        encode_cursor([kept[-1].at.isoformat(), kept[-1].kind, kept[-1].id])
        if more and kept
        else None
    )
    return Page[TimelineItem](
        rows=[rendered[(e.kind, e.id)] for e in kept], next_cursor=cursor, has_more=more
    )
