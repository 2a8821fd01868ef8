"""`/wa/labels` and the label links of chats and messages."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from ticaret.core.auth import AccountContext
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.models import LabelStatus
from ticaret.wa.router.deps import LabelId, MessageId, ProviderSessionQuery, Reader, RemoteJid
from ticaret.wa.schemas import (
    LabelCreate,
    LabelHistoryOut,
    LabelLink,
    LabelOut,
    LabelSet,
    LabelUpdate,
    Removed,
)
from ticaret.wa.service import labels as service
from ticaret.wa.service.access import resolve_wa

router = APIRouter(prefix="/wa", tags=["WhatsApp labels"])

Labels = Envelope[list[LabelOut]]


async def _session_if_named(
    session: DbSession, ctx: AccountContext, provider_session_id: str | None
) -> None:
    # Labels belong to the account; a named session must still be one it can see.
    if provider_session_id:
        await resolve_wa(session, ctx, provider_session_id)


@router.get(
    "/labels",
    summary="List the account's labels",
    response_model=Envelope[Page[LabelOut]],
    responses=error_responses(400, 401, 403, 404),
)
async def list_labels(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    label_status: Annotated[LabelStatus | None, Query(alias="status")] = None,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[Page[LabelOut]]:
    await _session_if_named(session, ctx, provider_session_id)
    return ok(await service.list_labels(session, ctx, page, label_status))


@router.post(
    "/labels",
    summary="Create a label",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[LabelOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def create_label(
    body: LabelCreate,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[LabelOut]:
    await _session_if_named(session, ctx, provider_session_id)
    return ok(await service.create_label(session, ctx, body))


@router.get(
    "/labels/history",
    summary="Who created, changed, added or removed which label, newest first",
    response_model=Envelope[Page[LabelHistoryOut]],
    responses=error_responses(400, 401, 403, 404),
)
async def label_history(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    label_id: Annotated[uuid.UUID | None, Query(alias="labelId")] = None,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[Page[LabelHistoryOut]]:
    await _session_if_named(session, ctx, provider_session_id)
    return ok(await service.history(session, ctx, page, label_id, provider_session_id))


@router.patch(
    "/labels/{labelId}",
    summary="Update a label",
    response_model=Envelope[LabelOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def update_label(
    label_id: LabelId,
    body: LabelUpdate,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[LabelOut]:
    await _session_if_named(session, ctx, provider_session_id)
    expected = expected_version(body.entity_version, if_match)
    return ok(await service.update_label(session, ctx, label_id, body, expected))


@router.delete(
    "/labels/{labelId}",
    summary="Delete a label and its chat and message links",
    response_model=Envelope[Removed],
    responses=error_responses(400, 401, 403, 404),
)
async def delete_label(
    label_id: LabelId,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[Removed]:
    await _session_if_named(session, ctx, provider_session_id)
    await service.delete_label(session, ctx, label_id)
    return ok(Removed(removed=True))


# Chat labels ---------------------------------------------------------------------------------


@router.get(
    "/chats/{remoteJid}/labels",
    summary="The chat's labels",
    response_model=Labels,
    responses=error_responses(400, 401, 403, 404),
)
async def chat_labels(remote_jid: RemoteJid, wa_ctx: Reader, session: DbSession) -> Labels:
    return ok(await service.chat_label_list(session, wa_ctx, remote_jid))


@router.post(
    "/chats/{remoteJid}/labels",
    summary="Add a label to the chat",
    response_model=Labels,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def add_chat_label(
    remote_jid: RemoteJid,
    body: LabelLink,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Labels:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    return ok(await service.add_chat_label(session, wa_ctx, remote_jid, body.label_id))


@router.put(
    "/chats/{remoteJid}/labels",
    summary="Replace the chat's labels",
    response_model=Labels,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def set_chat_labels(
    remote_jid: RemoteJid,
    body: LabelSet,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Labels:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    return ok(await service.set_chat_labels(session, wa_ctx, remote_jid, body.label_ids))


@router.delete(
    "/chats/{remoteJid}/labels/{labelId}",
    summary="Remove a label from the chat",
    response_model=Labels,
    responses=error_responses(400, 401, 403, 404),
)
async def remove_chat_label(
    remote_jid: RemoteJid,
    label_id: LabelId,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Labels:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id)
    return ok(await service.remove_chat_label(session, wa_ctx, remote_jid, label_id))


# Message labels ------------------------------------------------------------------------------


@router.get(
    "/chats/{remoteJid}/messages/{messageId}/labels",
    summary="The message's labels",
    response_model=Labels,
    responses=error_responses(400, 401, 403, 404),
)
async def message_labels(
    remote_jid: RemoteJid, message_id: MessageId, wa_ctx: Reader, session: DbSession
) -> Labels:
    return ok(await service.message_label_list(session, wa_ctx, remote_jid, message_id))


@router.post(
    "/chats/{remoteJid}/messages/{messageId}/labels",
    summary="Add a label to the message",
    response_model=Labels,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def add_message_label(
    remote_jid: RemoteJid,
    message_id: MessageId,
    body: LabelLink,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Labels:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    return ok(
        await service.add_message_label(session, wa_ctx, remote_jid, message_id, body.label_id)
    )


@router.put(
    "/chats/{remoteJid}/messages/{messageId}/labels",
    summary="Replace the message's labels",
    response_model=Labels,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def set_message_labels(
    remote_jid: RemoteJid,
    message_id: MessageId,
    body: Annotated[LabelSet, Body()],
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Labels:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    return ok(
        await service.set_message_labels(session, wa_ctx, remote_jid, message_id, body.label_ids)
    )


@router.delete(
    "/chats/{remoteJid}/messages/{messageId}/labels/{labelId}",
    summary="Remove a label from the message",
    response_model=Labels,
    responses=error_responses(400, 401, 403, 404),
)
async def remove_message_label(
    remote_jid: RemoteJid,
    message_id: MessageId,
    label_id: LabelId,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Labels:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id)
    return ok(await service.remove_message_label(session, wa_ctx, remote_jid, message_id, label_id))
