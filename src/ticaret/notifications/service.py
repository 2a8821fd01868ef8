"""Outgoing email: stored first (never lost), delivered by a job."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.queue import enqueue_after_commit
from ticaret.core.security import secret_box
from ticaret.models import OutgoingEmail
from ticaret.settings import get_settings

# Where a mail's secret (a reset, invitation or verification token) goes in the stored body.
SECRET_PLACEHOLDER = "{{secret}}"  # noqa: S105 - a marker, not a secret


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
    enqueue_after_commit(session, "send_email", str(email.id), job_id=f"email:{email.id}")
    return email
