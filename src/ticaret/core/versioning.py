"""entityVersion checks: from the body or an `If-Match` header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="entityVersion the change was based on; 409 if stale."),
]


def expected_version(body_version: str | None, if_match: str | None) -> str | None:
    if body_version is not None:
        return body_version
    if if_match:
        return if_match.strip().removeprefix("W/").strip('"')
    return None
