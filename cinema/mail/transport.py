"""Mail transports: SMTP (aiosmtplib) when `SMTP_HOST` is set, else `.eml` files in the outbox."""

from __future__ import annotations

import logging
import uuid
from email.message import EmailMessage

import aiosmtplib

from cinema.clock import utcnow
from cinema.config import get_settings

log = logging.getLogger("cinema.mail")


async def send(message: EmailMessage) -> None:
    """Deliver one message. Raises `aiosmtplib.SMTPException`/`OSError` on failure (the task retries)."""
    settings = get_settings()
    if settings.smtp_host:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )
        log.info("mail sent via SMTP to=%s subject=%r", message["To"], message["Subject"])
        return
    outbox = settings.mail_outbox_dir
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message.as_bytes())
    log.info("mail written to outbox path=%s to=%s", path, message["To"])
