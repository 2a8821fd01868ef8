"""Outgoing email: stored first (never lost), delivered by a job."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import OutgoingEmail
from ticaret.notifications.tasks import email_job_id, send_email


async def queue_email(
    session: AsyncSession, *, to: str, subject: str, body: str, kind: str
) -> OutgoingEmail:
    email = OutgoingEmail(to_address=to, subject=subject, body_text=body, kind=kind)
    session.add(email)
    await session.flush()
    send_email.options(job_id=email_job_id(email.id)).after_commit(session, str(email.id))
    return email
