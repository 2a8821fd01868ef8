"""entityVersion checks: from the body or an `If-Match` header, one conflict shape everywhere."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Header

from ticaret.core.errors import VersionConflict

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="entityVersion the change was based on; 409 if stale."),
]


class Versioned(Protocol):
    @property
    def entity_version(self) -> str: ...


def expected_version(body_version: str | None, if_match: str | None) -> str | None:
    if body_version is not None:
        return body_version
    if if_match:
        return if_match.strip().removeprefix("W/").strip('"')
    return None


def check_version(entity: Versioned, expected: str | None) -> None:
    """409 `version_conflict` when the caller's change was based on another version.

    Every conflict carries `details.currentEntityVersion`, so a client can reload and retry.
    """
    if expected is not None and expected != entity.entity_version:
        raise VersionConflict(details={"currentEntityVersion": entity.entity_version})
