"""Attachments: uploads kept by their SHA-256 in the attachments directory, served back to
the account that uploaded them.

The stored content type comes from the bytes, never from the name: the declared type is
kept only when the bytes agree with it (a `.docx` is a ZIP, a CSV is text), and a file that
looks like nothing known is `application/octet-stream`. Downloads add `nosniff` and an
`attachment` disposition, so nothing uploaded runs in a browser as our page.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.conversations.errors import AttachmentNotFound, AttachmentRejected
from ticaret.conversations.repository import attachments as repository
from ticaret.conversations.schemas.attachments import AttachmentOut
from ticaret.core.auth import AccountContext
from ticaret.models import ConversationAttachment
from ticaret.settings import get_settings

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"\x1aE\xdf\xa3", 0, "video/webm"),
    (b"ftyp", 4, "video/mp4"),
)
# Containers whose declared type says more than their magic (Office files are ZIPs).
_ZIP_FAMILY = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/epub+zip",
    }
)
_MP4_FAMILY = frozenset({"video/mp4", "audio/mp4", "video/quicktime", "video/3gpp", "image/heic"})
# Text the browser shows as text; anything else textual (HTML, SVG, JS) is stored as text/plain.
_SAFE_TEXT = frozenset({"text/plain", "text/csv", "application/json", "text/markdown"})
# Executables are refused outright: nobody attaches one to a shop conversation on purpose.
_REFUSED_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")


def _essence(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _looks_like_text(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is still text.
        return exc.start >= len(sample) - 3
    return True


def sniff(data: bytes, declared: str | None) -> str:
    declared = _essence(declared)
    if any(data.startswith(magic) for magic in _REFUSED_MAGIC):
        raise AttachmentRejected("Executable files cannot be attached.")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    for magic, offset, content_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if content_type == "application/zip" and declared in _ZIP_FAMILY:
                return declared
            if content_type == "video/mp4" and declared in _MP4_FAMILY:
                return declared
            return content_type
    if _looks_like_text(data):
        return declared if declared in _SAFE_TEXT else "text/plain"
    return "application/octet-stream"


def attachments_dir() -> Path:
    settings = get_settings()
    configured = settings.attachments.dir or str(Path(settings.data_dir) / "attachments")
    return Path(configured).resolve()


def path_of(sha256: str) -> Path:
    return attachments_dir() / sha256[:2] / sha256


def _store(data: bytes, sha256: str) -> None:
    target = path_of(sha256)
    if target.exists() and target.stat().st_size == len(data):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a reader never sees half a file, two writers of one hash agree.
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_filename(name: str | None) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:255] or "file"


async def upload(
    session: AsyncSession,
    ctx: AccountContext,
    data: bytes,
    filename: str | None,
    declared_type: str | None,
) -> AttachmentOut:
    if not data:
        raise AttachmentRejected("The file is empty.")
    content_type = sniff(data, declared_type)
    sha256 = content_digest(data)
    await asyncio.to_thread(_store, data, sha256)
    row = await repository.add(
        session,
        account_id=ctx.account_id,
        filename=safe_filename(filename),
        content_type=content_type,
        size=len(data),
        sha256=sha256,
        created_by_type=ctx.actor.type,
        created_by_id=ctx.actor.id,
    )
    return AttachmentOut.model_validate(row)


async def open_attachment(
    session: AsyncSession, ctx: AccountContext, attachment_id: uuid.UUID
) -> tuple[ConversationAttachment, Path]:
    row = await repository.attachment(session, ctx.account_id, attachment_id)
    if row is None:
        raise AttachmentNotFound()
    path = path_of(row.sha256)
    if not path.is_file():
        raise AttachmentNotFound("The attachment's file is missing from storage.")
    return row, path
