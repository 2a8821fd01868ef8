"""Jobs: deliver stored emails by SMTP, or log them when SMTP is not configured (dev)."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import anyio.to_thread
from arq import Retry
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.jobs import JobContext, Lost, cron_job, job, requeue_lost
from ticaret.core.security import secret_box
from ticaret.models import EmailStatus, OutgoingEmail
from ticaret.notifications import repository
from ticaret.settings import Settings, SmtpSettings, get_settings

logger = logging.getLogger("ticaret.email")

MAX_ATTEMPTS = 6
# Where a mail's secret (a reset, invitation or verification token) goes in the stored body.
SECRET_PLACEHOLDER = "{{secret}}"  # noqa: S105 - a marker, not a secret
# A pending email untouched for this long has lost its job.
SWEEP_AFTER = timedelta(minutes=2)


def email_job_id(email_id: uuid.UUID | str) -> str:
    return f"email:{email_id}"


def _rendered_body(settings: Settings, email: OutgoingEmail) -> str:
    if email.secret_encrypted is None:
        return email.body_text
    secret = secret_box(settings).decrypt(email.secret_encrypted)
    return email.body_text.replace(SECRET_PLACEHOLDER, secret)


def _send_smtp(smtp: SmtpSettings, email: OutgoingEmail, body: str) -> None:
    assert smtp.host
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = f"<{email.id}@ticaret>"
    message.set_content(body)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.use_tls:
        client = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=context
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    with client:
        if smtp.starttls and not smtp.use_tls:
            client.starttls(context=context)
        if smtp.username and smtp.password:
            client.login(smtp.username, smtp.password.get_secret_value())
        client.send_message(message)


# The row counts the attempts (MAX_ATTEMPTS); arq's tries only need to outnumber them.
@job("send_email", max_tries=MAX_ATTEMPTS + 2, timeout=120)
async def send_email(ctx: JobContext, email_id: str) -> str:
    settings = get_settings()
    async with unit_of_work() as session:
        email = await repository.email_to_send(session, uuid.UUID(email_id))
        if email is None or email.status != EmailStatus.pending:
            return "skipped"
        try:
            body = _rendered_body(settings, email)
        except ValueError as exc:
            # The Fernet key that encrypted the token is gone: this mail can never be sent.
            email.status = EmailStatus.failed
            email.last_error = str(exc)
            email.secret_encrypted = None
            logger.error("email %s cannot be rendered: %s", email.id, exc)
            return "failed"
        if not settings.smtp.host:
            email.status = EmailStatus.logged
            email.sent_at = datetime.now(UTC)
            email.secret_encrypted = None
            if settings.is_production:
                logger.warning(
                    "SMTP is not configured; email %s to %s stored, not sent",
                    email.id,
                    email.to_address,
                )
            else:
                # Development: the log is the mailbox (reset links, invitations).
                logger.info(
                    "email (SMTP off) to=%s subject=%r\n%s",
                    email.to_address,
                    email.subject,
                    body,
                )
            return "logged"
        email.attempt_count += 1
        try:
            await anyio.to_thread.run_sync(_send_smtp, settings.smtp, email, body)
        except (OSError, smtplib.SMTPException) as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            if email.attempt_count >= MAX_ATTEMPTS:
                email.status = EmailStatus.failed
                email.secret_encrypted = None
                logger.error(
                    "giving up on email %s after %d attempts", email.id, email.attempt_count
                )
                return "failed"
            logger.warning("email %s attempt %d failed: %s", email.id, email.attempt_count, exc)
            retry_in = 10 * 2**email.attempt_count
        else:
            email.status = EmailStatus.sent
            email.sent_at = datetime.now(UTC)
            email.last_error = None
            # Sent: the token lives in the recipient's mailbox only.
            email.secret_encrypted = None
            return "sent"
    # Outside the unit of work so the failed attempt is committed before arq retries.
    raise Retry(defer=retry_in)


async def _stale_pending(session: AsyncSession) -> list[Lost]:
    ids = await repository.stale_pending_ids(session, datetime.now(UTC) - SWEEP_AFTER, 200)
    return [Lost(str(email_id), email_job_id(email_id)) for email_id in ids]


@cron_job("sweep_pending_emails", second={30})
async def sweep_pending_emails(ctx: JobContext) -> int:
    """Re-queue emails whose job was lost (Redis down at commit time, worker crash)."""
    return await requeue_lost(send_email, _stale_pending)
