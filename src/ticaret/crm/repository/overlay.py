"""Conditions on `wa_chats` / `wa_messages` rows of an enclosing WhatsApp list query: the
CRM's filters, handed to the WhatsApp repository (its `conditions` seam)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Join, Subquery, and_, exists, false, not_, or_

from ticaret.crm.repository import canonical_jid
from ticaret.crm.repository.chats import chat_is_linked
from ticaret.models import (
    CrmChatAssignment,
    CrmCustomer,
    CrmIdentity,
    CrmInboxLink,
    CrmMessageAssignment,
    IdentityChannel,
    InboxChannel,
    WaChat,
    WaMessage,
)


def assignee_matches(
    table: Any,
    *,
    user_ids: Sequence[uuid.UUID] = (),
    group_ids: Sequence[uuid.UUID] | None = None,
    assigned: bool | None = None,
) -> ColumnElement[bool]:
    """A predicate on an assignment row (`table`: the chat or message assignment model)."""
    parts: list[ColumnElement[bool]] = [table.assignee_type.is_not(None)]
    for user_id in user_ids:
        parts.append(table.user_id == user_id)
    if group_ids is not None:
        parts.append(table.group_id.in_(list(group_ids)) if group_ids else false())
    if assigned is False:
        parts.append(false())
    return and_(*parts)


def chat_assignment_exists(
    account_id: uuid.UUID, predicate: ColumnElement[bool]
) -> ColumnElement[bool]:
    return exists().where(
        CrmChatAssignment.account_id == account_id,
        CrmChatAssignment.chat_id == WaChat.id,
        predicate,
    )


def message_assignment_exists(
    account_id: uuid.UUID, predicate: ColumnElement[bool]
) -> ColumnElement[bool]:
    return exists().where(
        CrmMessageAssignment.account_id == account_id,
        CrmMessageAssignment.message_pk == WaMessage.id,
        predicate,
    )


def own_assignment_follows(
    account_id: uuid.UUID, predicate: ColumnElement[bool], chat_matches: bool
) -> ColumnElement[bool]:
    """A message's effective assignment (its own, else its chat's) meets `predicate`, knowing
    whether the chat's does: then only a contrary own assignment excludes it."""
    if chat_matches:
        return not_(
            message_assignment_exists(
                account_id, and_(CrmMessageAssignment.assignee_type.is_not(None), not_(predicate))
            )
        )
    return message_assignment_exists(account_id, predicate)


def _identity_of(
    account_id: Any, values: Sequence[Any], *extra: ColumnElement[bool]
) -> ColumnElement[bool]:
    return exists().where(
        CrmIdentity.account_id == account_id,
        CrmIdentity.channel == IdentityChannel.whatsapp,
        CrmIdentity.scope == "",
        CrmIdentity.value.in_(list(values)),
        exists().where(CrmCustomer.id == CrmIdentity.customer_id, CrmCustomer.deleted_at.is_(None)),
        *extra,
    )


def chat_linked_to(
    account_id: uuid.UUID, customer_id: uuid.UUID | None, contact_id: uuid.UUID | None
) -> ColumnElement[bool]:
    """The chat's customer (by one of its JIDs, else by its session's inbox link) is this one."""
    values = [canonical_jid(WaChat.remote_jid), canonical_jid(WaChat.alt_jid)]
    extra: list[ColumnElement[bool]] = []
    if customer_id is not None:
        extra.append(CrmIdentity.customer_id == customer_id)
    if contact_id is not None:
        extra.append(CrmIdentity.contact_id == contact_id)
    by_identity = _identity_of(account_id, values, *extra)
    if contact_id is not None or customer_id is None:
        return by_identity
    by_inbox = and_(
        not_(_identity_of(account_id, values)),
        exists().where(
            CrmInboxLink.account_id == account_id,
            CrmInboxLink.channel == InboxChannel.whatsapp,
            CrmInboxLink.session_id == WaChat.session_id,
            CrmInboxLink.customer_id == customer_id,
            exists().where(
                CrmCustomer.id == CrmInboxLink.customer_id, CrmCustomer.deleted_at.is_(None)
            ),
        ),
    )
    return or_(by_identity, by_inbox)


def chat_linked(account_id: Any, chat: Any = WaChat) -> ColumnElement[bool]:
    return chat_is_linked(account_id, chat)


def chat_assignment_joined(page: Subquery, account_id: Any) -> tuple[Join, list[Any]]:
    """A page of chats (a subquery with their `id`) outer-joined to the account's assignment
    of each (at most one: unique by account and chat), and the columns `current_target`
    reads, all NULL for a chat without one."""
    joined = page.outerjoin(
        CrmChatAssignment,
        and_(CrmChatAssignment.account_id == account_id, CrmChatAssignment.chat_id == page.c.id),
    )
    return joined, [
        CrmChatAssignment.assignee_type,
        CrmChatAssignment.user_id,
        CrmChatAssignment.group_id,
        CrmChatAssignment.assigned_at,
    ]


def message_assignment_joined(
    left: Any, page: FromClause, account_id: Any
) -> tuple[Join, list[Any]]:
    """`chat_assignment_joined` for a page of messages (a subquery with their `id`) joined to
    `left`: the account's own assignment of each message, its columns labelled `own_*` (all
    NULL for a message without one), beside the chat's."""
    joined = left.outerjoin(
        CrmMessageAssignment,
        and_(
            CrmMessageAssignment.account_id == account_id,
            CrmMessageAssignment.message_pk == page.c.id,
        ),
    )
    return joined, [
        CrmMessageAssignment.assignee_type.label("own_assignee_type"),
        CrmMessageAssignment.user_id.label("own_user_id"),
        CrmMessageAssignment.group_id.label("own_group_id"),
        CrmMessageAssignment.assigned_at.label("own_assigned_at"),
    ]


def sender_linked(
    account_id: Any,
    customer_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    *,
    message: Any = WaMessage,
) -> ColumnElement[bool]:
    """A group message's sender is mapped (to this customer/contact when given). `message`:
    the `wa_messages` row of the enclosing query, or the columns of a subquery of them."""
    values = [
        canonical_jid(message.sender_jid_resolved),
        canonical_jid(message.sender_jid),
        canonical_jid(message.participant),
    ]
    extra: list[ColumnElement[bool]] = []
    if customer_id is not None:
        extra.append(CrmIdentity.customer_id == customer_id)
    if contact_id is not None:
        extra.append(CrmIdentity.contact_id == contact_id)
    return and_(message.from_me.is_(False), _identity_of(account_id, values, *extra))
