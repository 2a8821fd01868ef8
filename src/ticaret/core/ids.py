"""Time-ordered UUIDs (v7) for primary keys: new rows land at the right edge of the index."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

import uuid_utils


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def new_event_id() -> str:
    return f"evt_{uuid_utils.uuid7().hex}"


def first_event_id_at(moment: datetime) -> str:
    """The smallest event id an event created at `moment` can have: event ids are time-ordered,
    so `Event.id >= first_event_id_at(t)` is a primary-key range scan from `t` on."""
    return f"evt_{int(moment.timestamp() * 1000):012x}" + "0" * 20


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
