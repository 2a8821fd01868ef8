"""Time-ordered UUIDs (v7) for primary keys: new rows land at the right edge of the index."""

from __future__ import annotations

import secrets
import uuid

import uuid_utils


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def new_event_id() -> str:
    return f"evt_{uuid_utils.uuid7().hex}"


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
