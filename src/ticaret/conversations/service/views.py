"""Rows as the API shows them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from ticaret.conversations.schemas.attachments import AttachmentOut
from ticaret.conversations.schemas.messages import (
    ChannelOperationOut,
    ConversationMessageOut,
    FunctionCall,
    SenderOut,
)
from ticaret.models import (
    ConversationAttachment,
    ConversationMessage,
    ConversationType,
    MetaOperation,
    WaMessageOperation,
)


def message_out(
    row: ConversationMessage, files: Mapping[uuid.UUID, ConversationAttachment]
) -> ConversationMessageOut:
    return ConversationMessageOut(
        id=row.id,
        conversation_id=row.conversation_id,
        role=row.role,
        sender=SenderOut(
            type=row.sender,
            customer_id=row.customer_id,
            actor_type=row.actor_type,
            actor_id=row.actor_id,
        ),
        content=row.content,
        language=row.language,
        text=row.text,
        parent_id=row.parent_id,
        attachments=[
            AttachmentOut.model_validate(files[file_id])
            for file_id in row.attachment_ids
            if file_id in files
        ],
        flags=list(row.flags),
        function_calls=[FunctionCall.model_validate(call) for call in row.function_calls]
        if row.function_calls is not None
        else None,
        agent_run_id=row.agent_run_id,
        tokens=row.tokens,
        cost=row.cost,
        channel_identifier=row.channel_identifier,
        operation_id=row.operation_id,
        source=row.source,
        source_message_id=row.source_message_id,
        created_at=row.created_at,
    )


def wa_operation_out(row: WaMessageOperation) -> ChannelOperationOut:
    return ChannelOperationOut(
        id=row.id,
        channel=ConversationType.whatsapp,
        kind=row.action,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
    )


def meta_operation_out(row: MetaOperation, channel: ConversationType) -> ChannelOperationOut:
    return ChannelOperationOut(
        id=row.id,
        channel=channel,
        kind=row.kind,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
    )
