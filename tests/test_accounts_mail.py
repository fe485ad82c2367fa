"""lms.core.mail backends: console, file (.eml) and SMTP against a small SMTP server started by the test."""
from __future__ import annotations

import base64
import socket
import socketserver
import threading
from email import policy
from email.parser import BytesParser

import pytest

from lms.core.mail import MailError, send_mail



class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough ESMTP (RFC 5321) to receive messages and an AUTH PLAIN login."""

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 test.local ESMTP ready")
        in_data, lines = False, []
        while line := self.rfile.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    self.server.received.append(b"".join(lines))
                    lines = []
                    self._reply("250 2.0.0 queued")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                self._reply("250-test.local")
                self._reply("250 AUTH PLAIN")
            elif verb == b"AUTH":
                self.server.logins.append(base64.b64decode(line.split()[2]).split(b"\0")[1:])
                self._reply("235 2.7.0 accepted")
            elif verb == b"DATA":
                in_data = True
                self._reply("354 go ahead")
            elif verb == b"QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 OK")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.received, server.logins = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_file_backend_writes_a_multipart_eml(app, mailbox):
    with app.app_context():
        send_mail("trainee@example.com", "證書已簽發", "Plain text body", "<p>HTML body</p>")
    [message] = mailbox()
    assert message["Subject"] == "證書已簽發"
    assert message["To"] == "trainee@example.com" and "no-reply" in message["From"]
    assert message.get_body(("plain",)).get_content().strip() == "Plain text body"
    assert message.get_body(("html",)).get_content().strip() == "<p>HTML body</p>"


def test_console_backend_prints(app, monkeypatch, capsys):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "console")
    with app.app_context():
        send_mail(["a@example.com", "b@example.com"], "Hello", "Console body")
    printed = capsys.readouterr().out
    assert "To: a@example.com, b@example.com" in printed and "Console body" in printed


def test_smtp_backend_delivers_with_login(app, monkeypatch, smtp_server):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.server_address[1])
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "mailer")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "s3cret")
    with app.app_context():
        send_mail("trainee@example.com", "Via SMTP", "Body over SMTP")
    [raw] = smtp_server.received
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["Subject"] == "Via SMTP" and "Body over SMTP" in message.get_content()
    assert smtp_server.logins == [[b"mailer", b"s3cret"]]


def test_smtp_starttls_required_but_not_offered_is_a_clear_error(app, monkeypatch, smtp_server):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.server_address[1])
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", True)
    with app.app_context(), pytest.raises(MailError, match="STARTTLS"):
        send_mail("trainee@example.com", "Never sent", "x")
    assert smtp_server.received == []


def test_smtp_down_does_not_break_or_reveal_password_reset(app, monkeypatch, make_user, post_form):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", _free_port())
    with app.app_context(), pytest.raises(MailError, match="refused mail"):
        send_mail("x@example.com", "s", "t")
    user = make_user()
    response = post_form("/accounts/reset", {"email": user.email}, follow_redirects=True)
    assert response.status_code == 200
    assert "If an account exists for that address" in response.get_data(as_text=True)


def test_health_reports_mail_backend(app, client, monkeypatch, smtp_server):
    assert client.get("/healthz").get_json()["components"]["mail"] == {"status": "ok", "backend": "file"}
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.server_address[1])
    assert client.get("/healthz").get_json()["components"]["mail"]["status"] == "ok"
    monkeypatch.setitem(app.config, "SMTP_PORT", _free_port())
    body = client.get("/healthz").get_json()
    assert body["components"]["mail"]["status"] == "down" and body["status"] == "degraded"
