"""Outgoing email: stored first (never lost), delivered by a job."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.queue import enqueue_after_commit
from ticaret.models import OutgoingEmail


async def queue_email(
    session: AsyncSession, *, to: str, subject: str, body: str, kind: str
) -> OutgoingEmail:
    email = OutgoingEmail(to_address=to, subject=subject, body_text=body, kind=kind)
    session.add(email)
    await session.flush()
    enqueue_after_commit(session, "send_email", str(email.id), job_id=f"email:{email.id}")
    return email
