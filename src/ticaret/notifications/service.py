"""Outgoing email: stored first (never lost), delivered by a job."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.security import secret_box
from ticaret.models import OutgoingEmail
from ticaret.notifications.tasks import SECRET_PLACEHOLDER, email_job_id, send_email
from ticaret.settings import get_settings

__all__ = ["SECRET_PLACEHOLDER", "queue_email"]


async def queue_email(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    body: str,
    kind: str,
    secret: str | None = None,
) -> OutgoingEmail:
    """Store the email and send it after commit.

    A ``secret`` never enters the stored body: the body names it with SECRET_PLACEHOLDER, the
    secret is kept encrypted beside it until the mail is sent, then erased. What stays in the
    table (for support and audit) cannot be used to take over an account.
    """
    if secret is not None and SECRET_PLACEHOLDER not in body:
        raise ValueError("the body must show the secret through SECRET_PLACEHOLDER")
    email = OutgoingEmail(
        to_address=to,
        subject=subject,
        body_text=body,
        kind=kind,
        secret_encrypted=secret_box(get_settings()).encrypt(secret) if secret else None,
    )
    session.add(email)
    await session.flush()
    send_email.options(job_id=email_job_id(email.id)).after_commit(session, str(email.id))
    return email
