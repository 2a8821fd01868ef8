"""Attachments: what an upload answers, and how a message shows its files."""

from __future__ import annotations

import uuid

from ticaret.core.envelope import ResponseModel, Timestamp


class AttachmentOut(ResponseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    created_at: Timestamp
