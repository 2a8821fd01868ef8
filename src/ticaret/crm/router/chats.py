"""The CRM's routes on a WhatsApp chat: its assignment, its messages' assignments and its
customer link. Reads take `providerSessionId` from the query; writes also from the body."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent
from ticaret.core.envelope import Envelope, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.crm.schemas.assignments import AssignmentOut, AssignmentSet
from ticaret.crm.schemas.identities import (
    CustomerFromChat,
    CustomerFromChatOut,
    CustomerLinkOut,
    CustomerLinkSet,
)
from ticaret.crm.service import chats as service
from ticaret.wa.router.deps import MessageId, ProviderSessionQuery, Reader, RemoteJid

router = APIRouter(prefix="/wa/chats/{remoteJid}", tags=["CRM chats"])

ReasonQuery = Annotated[str | None, Query(max_length=500, description="Kept in the history.")]


@router.get(
    "/assignment",
    summary="Who owns the chat in this account",
    description="Chat assignment bilgisini getirir.",
    response_model=Envelope[AssignmentOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def get_chat_assignment(
    remote_jid: RemoteJid, wa_ctx: Reader, session: DbSession
) -> Envelope[AssignmentOut]:
    return ok(await service.get_chat_assignment(session, wa_ctx, remote_jid))


@router.put(
    "/assignment",
    summary="Assign the chat to a member or a CRM group (or change it)",
    description="Chat assignment set/change eder. A member of another account or another "
    "account's group is a 422. The change is in the history and a `crm.assignment.changed` "
    "event.",
    response_model=Envelope[AssignmentOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def set_chat_assignment(
    remote_jid: RemoteJid,
    body: AssignmentSet,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
    if_match: IfMatch = None,
) -> Envelope[AssignmentOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(
        await service.set_chat_assignment(
            session, ctx, remote_jid, provider_session_id, body, version
        )
    )


@router.delete(
    "/assignment",
    summary="Unassign the chat",
    description="Chat assignment kaldırır.",
    response_model=Envelope[AssignmentOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def clear_chat_assignment(
    remote_jid: RemoteJid,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
    reason: ReasonQuery = None,
    if_match: IfMatch = None,
) -> Envelope[AssignmentOut]:
    version = expected_version(None, if_match)
    return ok(
        await service.clear_chat_assignment(
            session, ctx, remote_jid, provider_session_id, reason, version
        )
    )


@router.get(
    "/messages/{messageId}/assignment",
    summary="Who owns the message (its own assignment, or its chat's)",
    description="Mesaj assignment bilgisini getirir.",
    response_model=Envelope[AssignmentOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def get_message_assignment(
    remote_jid: RemoteJid, message_id: MessageId, wa_ctx: Reader, session: DbSession
) -> Envelope[AssignmentOut]:
    return ok(await service.get_message_assignment(session, wa_ctx, remote_jid, message_id))


@router.put(
    "/messages/{messageId}/assignment",
    summary="Assign one message to a member or a CRM group",
    description="Mesaj assignment set/change eder. `entityVersion` is of the message's own "
    "assignment (`0` before its first).",
    response_model=Envelope[AssignmentOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def set_message_assignment(
    remote_jid: RemoteJid,
    message_id: MessageId,
    body: AssignmentSet,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
    if_match: IfMatch = None,
) -> Envelope[AssignmentOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(
        await service.set_message_assignment(
            session, ctx, remote_jid, message_id, provider_session_id, body, version
        )
    )


@router.delete(
    "/messages/{messageId}/assignment",
    summary="Remove the message's own assignment (it follows its chat's again)",
    description="Mesaj assignment kaldırır.",
    response_model=Envelope[AssignmentOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def clear_message_assignment(
    remote_jid: RemoteJid,
    message_id: MessageId,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
    reason: ReasonQuery = None,
    if_match: IfMatch = None,
) -> Envelope[AssignmentOut]:
    version = expected_version(None, if_match)
    return ok(
        await service.clear_message_assignment(
            session, ctx, remote_jid, message_id, provider_session_id, reason, version
        )
    )


@router.get(
    "/customer-link",
    summary="The chat's customer and contact in this account, with its mappings",
    description="Chat customer link bilgisini getirir.",
    response_model=Envelope[CustomerLinkOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def get_customer_link(
    remote_jid: RemoteJid, wa_ctx: Reader, session: DbSession
) -> Envelope[CustomerLinkOut]:
    return ok(await service.get_customer_link(session, wa_ctx, remote_jid))


@router.put(
    "/customer-link",
    summary="Link the chat to an existing customer (and contact)",
    description="Chat mevcut customer/contact ile eslestirilir. Maps every JID of the chat "
    "(its own and the phone JID behind a `@lid`); links belong to this account only.",
    response_model=Envelope[CustomerLinkOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def set_customer_link(
    remote_jid: RemoteJid,
    body: CustomerLinkSet,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[CustomerLinkOut]:
    return ok(await service.set_customer_link(session, ctx, remote_jid, provider_session_id, body))


@router.delete(
    "/customer-link",
    summary="Unlink the chat from its customer",
    description="Chat customer link kaldirilir.",
    response_model=Envelope[CustomerLinkOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def clear_customer_link(
    remote_jid: RemoteJid,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[CustomerLinkOut]:
    return ok(await service.clear_customer_link(session, ctx, remote_jid, provider_session_id))


@router.post(
    "/customer-link",
    summary="Create a customer (and contact) from the chat and link it",
    description="Chat uzerinden customer/contact olusturup eslestirir. Prefilled with the "
    "chat's name and phone; 409 when the chat is linked already.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[CustomerFromChatOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def create_customer_from_chat(
    remote_jid: RemoteJid,
    body: CustomerFromChat,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[CustomerFromChatOut]:
    return ok(
        await service.create_customer_from_chat(session, ctx, remote_jid, provider_session_id, body)
    )
