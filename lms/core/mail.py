"""Outgoing mail with three backends chosen by MAIL_BACKEND.

console prints the message (development), file writes one .eml per message into MAIL_FILE_DIR (tests read them,
operators can inspect them), smtp hands it to a relay with optional STARTTLS and login. Callers pass subjects and
bodies already translated (render them inside flask_babel.force_locale for the recipient's language).
"""
from __future__ import annotations

import os
import smtplib
import ssl
import sys
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app


class MailError(RuntimeError):
    """The message could not be handed over; the text says to whom and why."""


def build_message(to: str | list[str], subject: str, text: str, html: str | None = None) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join([to] if isinstance(to, str) else to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain="ni-academy.local")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send_mail(to: str | list[str], subject: str, text: str, html: str | None = None) -> EmailMessage:
    """Send one message through the configured backend; raises MailError if the backend refuses it."""
    message = build_message(to, subject, text, html)
    backend = current_app.config["MAIL_BACKEND"]
    {"console": _send_console, "file": _send_file, "smtp": _send_smtp}[backend](message)
    current_app.logger.info("mail sent via %s to %s: %s", backend, message["To"], subject)
    return message


def _send_console(message: EmailMessage) -> None:
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    print(f"----- mail -----\nFrom: {message['From']}\nTo: {message['To']}\nSubject: {message['Subject']}\n\n"
          f"{text}\n----- end of mail -----", file=sys.stdout, flush=True)


def _send_file(message: EmailMessage) -> None:
    directory = Path(current_app.config["MAIL_FILE_DIR"])
    try:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        (directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml").write_bytes(bytes(message))
    except OSError as error:
        raise MailError(f"cannot write mail into MAIL_FILE_DIR {directory}: {error}") from error


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    host, port = config["SMTP_HOST"], int(config["SMTP_PORT"])
    try:
        with smtplib.SMTP(host, port, timeout=15) as smtp:
            smtp.ehlo()
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"SMTP server {host}:{port} refused mail to {message['To']}: {error}") from error


def mail_health() -> dict:
    """/healthz component: can the configured backend take a message right now?"""
    config = current_app.config
    backend = config["MAIL_BACKEND"]
    if backend == "console":
        return {"status": "ok", "backend": backend}
    if backend == "file":
        directory = Path(config["MAIL_FILE_DIR"])
        probe = directory if directory.exists() else directory.parent
        writable = probe.is_dir() and os.access(probe, os.W_OK)
        return {"status": "ok" if writable else "down", "backend": backend,
                **({} if writable else {"error": f"{directory} is not writable"})}
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=3) as smtp:
            smtp.noop()
    except (OSError, smtplib.SMTPException) as error:
        return {"status": "down", "backend": backend, "error": f"{type(error).__name__}: {error}"}
    return {"status": "ok", "backend": backend}
