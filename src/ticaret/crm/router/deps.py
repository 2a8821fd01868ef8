"""Path and query parameters several CRM routes share."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query

CustomerId = Annotated[uuid.UUID, Path(alias="customerId")]
ContactId = Annotated[uuid.UUID, Path(alias="contactId")]
GroupId = Annotated[uuid.UUID, Path(alias="groupId")]
UserId = Annotated[uuid.UUID, Path(alias="userId")]
MappingId = Annotated[uuid.UUID, Path(alias="mappingId")]
NoteId = Annotated[uuid.UUID, Path(alias="noteId")]
CommentId = Annotated[uuid.UUID, Path(alias="commentId")]
TaskId = Annotated[uuid.UUID, Path(alias="taskId")]
ItemId = Annotated[uuid.UUID, Path(alias="itemId")]
SearchQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Search text: case, accents and Turkish letters (ı/i/İ, ş/s, ç/c, ğ/g, "
        "ö/o, ü/u) are ignored; a phone number matches in any format, whole or partial.",
    ),
]
