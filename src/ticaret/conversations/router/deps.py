"""Path parameters of the conversation routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path

ConversationId = Annotated[uuid.UUID, Path(alias="conversationId")]
AttachmentId = Annotated[uuid.UUID, Path(alias="attachmentId")]
