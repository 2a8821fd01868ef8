"""Apply normalized gateway events to contacts, chats and messages.

Every write is idempotent: messages are inserted with ON CONFLICT DO NOTHING on their
(session, chat, key id), acks only move forward, edits and deletes only apply when they
change something. Counters (unread) move only when a message row is really inserted, so the
same event processed twice changes nothing and emits nothing.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import uuid_utils
from asyncpg import Record
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.events import Actor, D, Emission, EventType, emit_many
from ticaret.core.http import get_http_client
from ticaret.core.ids import new_id
from ticaret.core.inbox import ClaimedItem, Outcome
from ticaret.models import Ack, ChatType, InboxItem, MessageType, WaMessage, WaSession
from ticaret.wa.events import (
    CHAT_UPDATED,
    MESSAGE_DELETED,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    MESSAGE_UPDATED,
)
from ticaret.wa.gateways import GatewayConfig, WhatsAppGateway, gateway_for
from ticaret.wa.gateways._jid import (
    canonical_jid,
    canonical_or_none,
    is_group,
    is_lid,
    is_phone_jid,
    phone_jid,
    phone_of,
)
from ticaret.wa.gateways.normalized import (
    ChatLabelChanged,
    ChatUpserted,
    ContactUpserted,
    GatewayEvent,
    MalformedEvent,
    MessageAck,
    MessageDeletedForMe,
    MessageEdited,
    MessageRevoked,
    MessageUpserted,
    NormalizedMessage,
    QrUpdated,
    ReactionReceived,
    SessionStatusChanged,
    UnknownEvent,
)
from ticaret.wa.repository import chats as chat_repository
from ticaret.wa.repository import contacts as contact_repository
from ticaret.wa.repository import messages as message_repository
from ticaret.wa.repository import sessions as session_repository
from ticaret.wa.service.access import emit_to_session
from ticaret.wa.service.sessions import apply_status
from ticaret.wa.service.views import (
    chat_data,
    chat_data_record,
    message_data,
    message_data_record,
    message_deleted,
    preview_of,
)

logger = logging.getLogger("ticaret.wa.ingest")


@dataclass
class Applied:
    """What one gateway call's events did: applied, skipped as unused, or malformed."""

    applied: int = 0
    skipped: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        if self.malformed:
            return Outcome.failed("; ".join(self.malformed))
        if self.applied or not self.skipped:
            return Outcome.processed()
        return Outcome.ignored("; ".join(self.skipped))


# The first 8 bytes of the last message id handed out (uuid7: 48-bit milliseconds, version,
# 12 bits `rand_a`).
_last_prefix = 0
_RAND_A = 0xFFF


def arrival_ordered_id() -> uuid.UUID:
    """A new message id whose first 8 bytes are above every earlier one's. uuid7 orders whole
    ids, but within one millisecond their first 8 bytes are equal, and a conversation's copy of
    a message keeps only those (`conversations.service.mirror.mirrored_id`) to order messages
    of one moment: a batch builds its messages' rows within one millisecond."""
    global _last_prefix
    # uuid7's bytes straight from the generator: one UUID built per message, not two.
    raw = uuid_utils.uuid7().bytes
    prefix = int.from_bytes(raw[:8])
    if prefix <= _last_prefix:
        if _last_prefix & _RAND_A == _RAND_A:
            # `rand_a` is spent: the next millisecond (version 7, rand_a 0).
            prefix = ((_last_prefix >> 16) + 1) << 16 | 0x7000
        else:
            prefix = _last_prefix + 1
    _last_prefix = prefix
    return uuid.UUID(bytes=prefix.to_bytes(8) + raw[8:])


def message_values(session_id: uuid.UUID, m: NormalizedMessage, chat_id: str) -> dict[str, Any]:
    """The `wa_messages` row of a gateway message filed under `chat_id`."""
    sender_jid = canonical_or_none(m.sender_jid)
    sender_alt = canonical_or_none(m.sender_alt_jid)
    resolved = sender_alt or sender_jid
    values: dict[str, Any] = {
        "id": arrival_ordered_id(),
        "session_id": session_id,
        "remote_jid": chat_id,
        "message_id": m.message_id,
        "provider_message_id": m.provider_message_id,
        "from_me": m.from_me,
        "participant": canonical_or_none(m.participant),
        "sender_jid": sender_jid,
        "sender_jid_resolved": resolved,
        "sender_phone": m.sender_phone,
        "sender_name": None if m.from_me else m.push_name,
        "push_name": m.push_name,
        "chat_type": m.chat_type,
        "type": m.type,
        "text": m.text,
        "mentions": [canonical_jid(jid) for jid in m.mentions],
        "quoted_message": (
            {
                "messageId": m.quoted.message_id,
                "participant": canonical_or_none(m.quoted.participant),
                "text": m.quoted.text,
            }
            if m.quoted
            else None
        ),
        "has_media": m.has_media,
        "mimetype": m.mimetype,
        "media": dict(m.media) if m.has_media else None,
        "location": (
            {
                "latitude": m.location.latitude,
                "longitude": m.location.longitude,
                "name": m.location.name,
                "address": m.location.address,
            }
            if m.location
            else None
        ),
        "contacts": list(m.contacts) or None,
        "reactions": {},
        "status": m.ack if m.ack is not None else (int(Ack.DEVICE) if not m.from_me else 0),
        "receipt": {},
        "is_forwarded": m.is_forwarded,
        "origin": {"source": m.origin or "gateway"} if m.from_me else None,
        "source_timestamp": m.timestamp or datetime.now(UTC),
        "version": 1,
    }
    return values


class Ingest:
    """One inbox event's worth of changes, in the caller's transaction."""

    def __init__(self, session: AsyncSession, wa: WaSession) -> None:
        self.session = session
        self.wa = wa
        self.actor = Actor.system()
        self._accounts: list[uuid.UUID] | None = None
        self._linked: set[str] = set()

    async def _session_accounts(self) -> list[uuid.UUID]:
        """The accounts that see the session (owner and shares), every event goes to each."""
        if self._accounts is None:
            # Once per session per transaction: an inbox batch applies many items of one.
            known: dict[uuid.UUID, list[uuid.UUID]] = self.session.info.setdefault(
                "wa_session_accounts", {}
            )
            if self.wa.id not in known:
                known[self.wa.id] = await session_repository.account_ids(self.session, self.wa)
            self._accounts = known[self.wa.id]
        return self._accounts

    async def _emit(self, type: EventType[D], data: D) -> None:
        accounts = await self._session_accounts()
        await emit_to_session(
            self.session, self.wa, type, data, actor=self.actor, accounts=accounts
        )

    async def apply(self, events: Sequence[GatewayEvent]) -> Applied:
        outcome = Applied()
        for event in events:
            # No event name at all means the body is not a webhook of this gateway: malformed.
            if isinstance(event, MalformedEvent) or (
                isinstance(event, UnknownEvent) and event.event_type is None
            ):
                outcome.malformed.append(f"{event.event_type}: {event.reason}")
            elif isinstance(event, UnknownEvent):
                outcome.skipped.append(f"{event.event_type}: {event.reason}")
            elif isinstance(event, ChatLabelChanged):
                # Gateway (WhatsApp Business) labels are not our account labels.
                outcome.skipped.append("chat label change: gateway labels are not synced")
            else:
                await self._apply_one(event)
                outcome.applied += 1
        return outcome

    async def _apply_one(self, event: GatewayEvent) -> None:
        if isinstance(event, MessageUpserted):
            await self.message(event.message)
        elif isinstance(event, MessageAck):
            await self.ack(event)
        elif isinstance(event, MessageEdited):
            await self.edited(event)
        elif isinstance(event, MessageRevoked):
            await self.deleted(event.message_id, for_everyone=event.for_everyone)
        elif isinstance(event, MessageDeletedForMe):
            await self.deleted(event.message_id, for_everyone=False)
        elif isinstance(event, ReactionReceived):
            await self.reaction(event)
        elif isinstance(event, SessionStatusChanged):
            await apply_status(self.session, self.wa, event.state, self.actor)
        elif isinstance(event, QrUpdated):
            self.wa.pairing = {
                "qr": event.qr,
                "qrImage": event.qr_image,
                "pairingCode": event.pairing_code,
                "at": datetime.now(UTC).isoformat(),
            }
        elif isinstance(event, ContactUpserted):
            await self.contact(
                event.jid,
                name=event.name,
                push_name=event.push_name,
                phone=event.phone,
                lid=event.lid,
                is_group_contact=event.is_group,
                picture=event.profile_pic_url,
            )
        elif isinstance(event, ChatUpserted):
            await self.chat_seen(event)

    # JIDs ------------------------------------------------------------------------------------

    async def chat_jid(self, chat_id: str, alt: str | None) -> tuple[str, str | None]:
        """(the chat's canonical JID, its alternative): one chat per person. A `@lid` chat is
        filed under the person's phone JID once the gateway (now or before) names it; what was
        filed under the LID until then moves over."""
        chat = canonical_jid(chat_id)
        alternative = canonical_or_none(alt)
        if is_lid(chat):
            phone = phone_jid(alternative) if is_phone_jid(alternative) else None
            phone = phone or await chat_repository.phone_for_lid(self.session, self.wa.id, chat)
            if phone is None:
                return chat, None
            await self._link(chat, phone)
            return phone, chat
        if alternative is not None and is_lid(alternative) and is_phone_jid(chat):
            await self._link(alternative, chat)
            return chat, alternative
        return chat, None

    async def _link(self, lid: str, phone: str) -> None:
        """`lid` is `phone`: merge what is still filed under the LID (once per event)."""
        if lid in self._linked:
            return
        self._linked.add(lid)
        if await chat_repository.has_rows_under(self.session, self.wa.id, lid):
            await chat_repository.merge_jid(self.session, self.wa.id, lid, phone, alt_jid=lid)

    # Contacts and chats ---------------------------------------------------------------------

    async def contact(
        self,
        jid: str,
        *,
        name: str | None = None,
        push_name: str | None = None,
        phone: str | None = None,
        lid: str | None = None,
        is_group_contact: bool = False,
        picture: str | None = None,
    ) -> None:
        jid = canonical_jid(jid)
        lid = canonical_or_none(lid) or (jid if is_lid(jid) else None)
        if is_lid(jid):
            # Filed under the phone when we know it, so the person has one contact.
            known = phone_jid(phone) if phone else None
            known = known or await chat_repository.phone_for_lid(self.session, self.wa.id, jid)
            if known is not None:
                await self._link(jid, known)
                jid = known
        await contact_repository.record_contact(
            self.session,
            self.wa.id,
            jid,
            lid=lid,
            phone=phone or phone_of(jid),
            name=name,
            push_name=push_name,
            is_group=is_group_contact or is_group(jid),
            picture=picture,
        )

    async def chat_seen(self, event: ChatUpserted) -> None:
        chat_id, _ = await self.chat_jid(event.chat_id, None)
        await chat_repository.record_chat_seen(
            self.session,
            self.wa.id,
            chat_id,
            event.chat_type,
            event.name,
            event.unread_count,
        )

    # Messages -------------------------------------------------------------------------------

    async def message(self, m: NormalizedMessage) -> None:
        if m.type == MessageType.reaction:
            return
        chat_id, chat_alt = await self.chat_jid(m.chat_id, m.chat_alt_jid)
        sender_jid = canonical_or_none(m.sender_jid)
        values = message_values(self.wa.id, m, chat_id)
        inserted = await message_repository.insert_message(self.session, values)
        if inserted is None:
            # Known already (a redelivery, or the echo of our own send): only a newer ack.
            if m.ack is not None:
                await self._acked((m.message_id,), m.ack)
            return
        # Acks that raced ahead of the message are applied before anyone hears of it.
        await message_repository.apply_early_acks(self.session, self.wa.id, m.message_id)
        if not m.from_me and m.chat_type == ChatType.individual and sender_jid:
            await self.contact(
                sender_jid,
                push_name=m.push_name,
                phone=m.sender_phone,
                lid=sender_jid if is_lid(sender_jid) else None,
            )
        elif m.participant and not m.from_me:
            await self.contact(m.participant, push_name=m.push_name, phone=m.sender_phone)
        if m.chat_type == ChatType.group:
            await self.contact(chat_id, is_group_contact=True)
        chat_name = m.push_name if m.chat_type == ChatType.individual and not m.from_me else None
        chat = await chat_repository.record_message_in_chat(
            self.session,
            inserted,
            name=chat_name,
            preview=preview_of(inserted.type, inserted.text),
        )
        if chat_alt and chat.alt_jid != chat_alt:
            chat.alt_jid = chat_alt
        kind = MESSAGE_SENT if m.from_me else MESSAGE_RECEIVED
        await self._emit(kind, message_data(inserted, self.wa.provider_session_id))
        await self._emit(CHAT_UPDATED, chat_data(chat, self.wa.provider_session_id))

    async def _acked(self, message_ids: Sequence[str], ack: int) -> None:
        changed = await message_repository.record_ack(self.session, self.wa.id, message_ids, ack)
        for message in changed:
            await self._emit(MESSAGE_UPDATED, message_data(message, self.wa.provider_session_id))
        unchanged = set(message_ids) - {m.message_id for m in changed}
        if unchanged and ack in Ack._value2member_map_:
            known = await message_repository.known_message_ids(self.session, self.wa.id, unchanged)
            missing = sorted(unchanged - known)
            if missing:
                # The gateway's webhooks raced, or our send's answer is still on its way: kept
                # until the message lands (`apply_early_acks`).
                await message_repository.keep_early_acks(self.session, self.wa.id, missing, ack)

    async def ack(self, event: MessageAck) -> None:
        await self._acked(event.message_ids, event.ack)

    async def edited(self, event: MessageEdited) -> None:
        changed = await message_repository.record_edit(
            self.session,
            self.wa.id,
            event.message_id,
            event.new_text,
            event.edited_at or datetime.now(UTC),
        )
        for message in changed:
            await self._emit(MESSAGE_UPDATED, message_data(message, self.wa.provider_session_id))

    async def deleted(self, message_id: str, *, for_everyone: bool) -> None:
        changed = await message_repository.record_deletion(
            self.session, self.wa.id, message_id, for_everyone=for_everyone
        )
        scope: Literal["everyone", "me"] = "everyone" if for_everyone else "me"
        for message in changed:
            await self._emit(
                MESSAGE_DELETED, message_deleted(message, self.wa.provider_session_id, scope)
            )

    async def reaction(self, event: ReactionReceived) -> None:
        chat_id, _ = await self.chat_jid(event.chat_id, None)
        sender_jid = canonical_or_none(event.sender_jid)
        sender_alt = canonical_or_none(event.sender_alt_jid)
        sender = sender_alt or sender_jid or ("me" if event.from_me else "unknown")
        reaction_id = event.reaction_message_id or f"reaction:{event.target_message_id}:{sender}"
        at = event.timestamp or datetime.now(UTC)
        # The reaction itself is a message row (type reaction) so it shows in the timeline.
        await message_repository.record_reaction_message(
            self.session,
            {
                "id": new_id(),
                "session_id": self.wa.id,
                "remote_jid": chat_id,
                "message_id": reaction_id,
                "from_me": event.from_me,
                "sender_jid": sender_jid,
                "sender_jid_resolved": sender,
                "sender_phone": phone_of(sender_alt or sender_jid),
                "chat_type": ChatType.group if is_group(chat_id) else ChatType.individual,
                "type": MessageType.reaction,
                "emoji": event.emoji or None,
                "reaction_target": event.target_message_id,
                "mentions": [],
                "reactions": {},
                "receipt": {},
                "status": int(Ack.DEVICE),
                "source_timestamp": at,
                "version": 1,
            },
        )
        target = await message_repository.message(
            self.session, self.wa.id, chat_id, event.target_message_id, lock=True
        )
        if target is None:
            return
        reactions = dict(target.reactions)
        if event.emoji:
            reactions[sender] = event.emoji
        else:
            reactions.pop(sender, None)
        if reactions == target.reactions:
            return
        target.reactions = reactions
        await self.session.flush()
        await self._emit(MESSAGE_UPDATED, message_data(target, self.wa.provider_session_id))


def _parser(provider: str) -> WhatsAppGateway:
    # Parsing needs no credentials; a config with none keeps secrets out of this path.
    config = GatewayConfig(
        base_url="http://parser.invalid",
        api_key=None,
        instance="",
        webhook_url="",
        webhook_secret="",
    )
    return gateway_for(provider, get_http_client(), config)


async def apply_gateway_event(session: AsyncSession, item: InboxItem) -> Outcome:
    """The inbox handler of source "wa": one stored gateway call, applied in one transaction."""
    wa = await session_repository.session_by_id(session, uuid.UUID(item.scope))
    if wa is None or wa.deleted_at is not None:
        return Outcome.ignored("session deleted")
    events = _parser(wa.provider).parse_webhook(item.payload)
    return (await Ingest(session, wa).apply(events)).outcome


# A claimed batch at once ---------------------------------------------------------------------


def _set_based(event: GatewayEvent) -> bool:
    """A new-message event the batch path applies with set-based statements: no `@lid` in
    sight (a LID means looking up and maybe merging a person's two JIDs, done per event)."""
    if not isinstance(event, MessageUpserted):
        return False
    m = event.message
    if m.type == MessageType.reaction:
        return True  # `Ingest.message` ignores these too
    if m.location is not None and not (
        math.isfinite(m.location.latitude) and math.isfinite(m.location.longitude)
    ):
        # A position of "NaN" or "inf" (read from text): JSON has no such number, so the
        # per-event insert fails on it and the call is marked failed; orjson, which the run
        # writes its rows with, would quietly write null instead.
        return False
    return not any(
        is_lid(canonical_or_none(jid))
        for jid in (m.chat_id, m.chat_alt_jid, m.sender_jid, m.participant)
    )


@dataclass
class _ChatFold:
    """`record_message_in_chat` folded over one chat's new messages, in arrival order (see
    `chat_repository.record_messages_in_chats` for how it meets the stored chat)."""

    remote_jid: str
    type: str
    name: str | None = None
    last_at: datetime | None = None
    preview: str | None = None
    from_me: bool | None = None
    inbound: int = 0
    reset_at: datetime | None = None
    after_reset: int = 0

    def add(self, message: Mapping[str, Any], name: str | None) -> None:
        self.name = self.name or name
        at = message["source_timestamp"]
        from_me = message["from_me"]
        if self.last_at is None or self.last_at <= at:
            self.last_at = at
            self.preview = preview_of(message["type"], message["text"])
            self.from_me = from_me
            if from_me:
                # Our reply, newest when it came: the customer has been answered.
                self.reset_at, self.after_reset = at, 0
        if not from_me:
            self.inbound += 1
            self.after_reset += 1

    def row(self) -> dict[str, Any]:
        return {
            "remote_jid": self.remote_jid,
            "type": self.type,
            "name": self.name,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "preview": self.preview,
            "from_me": self.from_me,
            "inbound": self.inbound,
            "reset_at": self.reset_at.isoformat() if self.reset_at else None,
            "after_reset": self.after_reset,
        }


class MessageRun(Ingest):
    """Consecutive new-message events of one batch, applied together: one multi-row insert
    for the messages, one statement for the early acks they meet, one upsert for the people
    and one for the chats, their events in the outbox (one insert, `emit_many`).

    No ORM instance is made for what the run writes: the rows go in as one JSON array per
    statement, and the event payloads are built from the rows (`views.message_data_record`,
    `views.chat_data_record`: what `message_data` / `chat_data` dump, byte for byte, which
    `tests/wa/test_inbox_payloads.py` holds them to).

    The same guarantees as `Ingest.message` event by event: a message known already (stored
    before, or earlier in the run) inserts nothing and emits nothing, only its ack moves the
    stored one forward; counters move only for inserted rows. One difference: a chat's
    `wa.chat.updated` is emitted once per run with the chat's final state, after the
    messages' own events, rather than after each message."""

    def __init__(self, session: AsyncSession, wa: WaSession) -> None:
        super().__init__(session, wa)
        self.pending: list[NormalizedMessage] = []

    def add(self, events: Sequence[GatewayEvent]) -> None:
        for event in events:
            if isinstance(event, MessageUpserted) and event.message.type != MessageType.reaction:
                self.pending.append(event.message)

    async def flush(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:
            return
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for m in pending:
            chat_id = canonical_jid(m.chat_id)
            rows.setdefault((chat_id, m.message_id), message_values(self.wa.id, m, chat_id))
        inserted = await message_repository.insert_messages(self.session, list(rows.values()))
        new: list[tuple[NormalizedMessage, dict[str, Any]]] = []
        known: list[NormalizedMessage] = []
        for m in pending:
            row = inserted.pop((canonical_jid(m.chat_id), m.message_id), None)
            if row is not None:
                new.append((m, row))
            elif m.ack is not None:
                known.append(m)
        if new:
            acked = await self._early_acks([row for _, row in new])
            await self._people(new)
            chats = await self._chats(new)
            await self._emit_new(new, acked, chats)
        for m in known:
            # A redelivery, or the echo of our own send: only a newer ack.
            assert m.ack is not None
            await self._acked((m.message_id,), m.ack)

    async def _emit_new(
        self,
        new: Sequence[tuple[NormalizedMessage, dict[str, Any]]],
        acked: dict[uuid.UUID, WaMessage],
        chats: Sequence[Record],
    ) -> None:
        """The run's events, as `Ingest._emit` would emit them one by one (each to every
        account that sees the session, in that order), in one statement: the payloads are
        built from the rows as `message_data` / `chat_data` dump them."""
        psid = self.wa.provider_session_id
        accounts = await self._session_accounts()
        emissions: list[Emission] = []
        for m, row in new:
            kind = MESSAGE_SENT if m.from_me else MESSAGE_RECEIVED
            moved = acked.get(row["id"])
            data = (
                message_data_record(row, psid)
                if moved is None
                # An early ack changed the row after its insert: the payload shows it.
                else message_data(moved, psid).model_dump(mode="json", by_alias=True)
            )
            emissions.extend(Emission(kind, data, account, psid) for account in accounts)
        for chat in chats:
            data = chat_data_record(chat, psid)
            emissions.extend(Emission(CHAT_UPDATED, data, account, psid) for account in accounts)
        await emit_many(self.session, emissions, actor=self.actor)

    async def _early_acks(self, rows: Sequence[Mapping[str, Any]]) -> dict[uuid.UUID, WaMessage]:
        """Acks that raced ahead of their message, applied before anyone hears of it: the
        messages they changed, by id (an ack names a key id, which two chats of a person may
        both hold: its LID's and its phone's)."""
        taken = await message_repository.take_early_acks(
            self.session, self.wa.id, [row["message_id"] for row in rows]
        )
        changed: dict[uuid.UUID, WaMessage] = {}
        for message_id, acks in taken.items():
            for message in await message_repository.apply_taken_acks(
                self.session, self.wa.id, message_id, acks
            ):
                changed[message.id] = message
        return changed

    async def _people(self, new: Sequence[tuple[NormalizedMessage, dict[str, Any]]]) -> None:
        """The contacts `Ingest.message` records, one row per JID (later values win)."""
        people: dict[str, dict[str, Any]] = {}

        def seen(jid: str, *, push_name: str | None, phone: str | None, group: bool) -> None:
            values = {"phone": phone or phone_of(jid), "push_name": push_name}
            known = people.get(jid)
            if known is None:
                people[jid] = {"jid": jid, "is_group": group or is_group(jid), **values}
            else:
                known.update({k: v for k, v in values.items() if v is not None})

        for m, row in new:
            sender_jid = canonical_or_none(m.sender_jid)
            if not m.from_me and m.chat_type == ChatType.individual and sender_jid:
                seen(sender_jid, push_name=m.push_name, phone=m.sender_phone, group=False)
            elif m.participant and not m.from_me:
                seen(
                    canonical_jid(m.participant),
                    push_name=m.push_name,
                    phone=m.sender_phone,
                    group=False,
                )
            if m.chat_type == ChatType.group:
                seen(row["remote_jid"], push_name=None, phone=None, group=True)
        await contact_repository.record_contacts(self.session, self.wa.id, list(people.values()))

    async def _chats(self, new: Sequence[tuple[NormalizedMessage, dict[str, Any]]]) -> list[Record]:
        folds: dict[str, _ChatFold] = {}
        for m, row in new:
            jid = row["remote_jid"]
            fold = folds.get(jid)
            if fold is None:
                fold = folds[jid] = _ChatFold(jid, row["chat_type"])
            individual_inbound = m.chat_type == ChatType.individual and not m.from_me
            fold.add(row, m.push_name if individual_inbound else None)
        chats = await chat_repository.record_messages_in_chats(
            self.session, self.wa.id, [fold.row() for fold in folds.values()]
        )
        # In the order the run first met them.
        by_jid = {chat["remote_jid"]: chat for chat in chats}
        return [by_jid[jid] for jid in folds if jid in by_jid]


async def apply_gateway_batch(session: AsyncSession, items: Sequence[ClaimedItem]) -> list[Outcome]:
    """The batch handler of source "wa": a claimed batch of one session's gateway calls, in
    arrival order, in one transaction. Runs of calls that carry only new messages go through
    `MessageRun` (set-based); any other call goes through `Ingest` as `apply_gateway_event`
    would, after the run before it is written, so the order of effects is kept."""
    outcomes: list[Outcome] = []
    sessions: dict[str, WaSession | None] = {}
    runs: dict[str, MessageRun] = {}
    for item in items:
        if item.scope not in sessions:
            wa, accounts = await session_repository.session_with_accounts(
                session, uuid.UUID(item.scope)
            )
            sessions[item.scope] = wa
            if wa is not None:
                # What `Ingest._session_accounts` would ask for: known already.
                session.info.setdefault("wa_session_accounts", {})[wa.id] = accounts
        wa = sessions[item.scope]
        if wa is None or wa.deleted_at is not None:
            outcomes.append(Outcome.ignored("session deleted"))
            continue
        run = runs.get(item.scope) or runs.setdefault(item.scope, MessageRun(session, wa))
        events = _parser(wa.provider).parse_webhook(item.payload)
        if events and all(_set_based(event) for event in events):
            run.add(events)
            outcomes.append(Outcome.processed())
            continue
        await run.flush()
        outcomes.append((await Ingest(session, wa).apply(events)).outcome)
    for run in runs.values():
        await run.flush()
    return outcomes


# Acks kept for messages that landed in a transaction that could not see them yet.
EARLY_ACK_BATCH = 500
# An ack whose message has not come in a week never will (sent before the session was linked).
EARLY_ACK_MAX_AGE = timedelta(days=7)


async def apply_stranded_early_acks(session: AsyncSession) -> int:
    """The sweeper's half of `apply_early_acks`: acks whose message exists by now."""
    stranded = await message_repository.stranded_early_acks(session, EARLY_ACK_BATCH)
    sessions: dict[uuid.UUID, WaSession | None] = {}
    for session_id, message_id in stranded:
        if session_id not in sessions:
            sessions[session_id] = await session_repository.session_by_id(session, session_id)
        wa = sessions[session_id]
        changed = await message_repository.apply_early_acks(session, session_id, message_id)
        if wa is None:
            continue
        for message in changed:
            await emit_to_session(
                session,
                wa,
                MESSAGE_UPDATED,
                message_data(message, wa.provider_session_id),
                actor=Actor.system(),
            )
    await message_repository.forget_early_acks(session, datetime.now(UTC) - EARLY_ACK_MAX_AGE)
    return len(stranded)
