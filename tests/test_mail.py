"""E-mail: by SMTP when MAIL_SERVER is set, else .eml files; only after a commit."""

import email
import re
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from app import create_app, db, mail
from app.permissions import public
from tests.conftest import outbox_messages, post

RESET_SUBJECT = "Neues Passwort für die Fallkonferenz-Anwendung"


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(app, monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    yield inbox
    controller.stop()


def test_password_reset_is_sent_through_a_real_smtp_server(app, client, factory, smtp_server):
    user = factory.user(email="erika@example.org")
    r = post(client, app, "/passwort-vergessen", {"email": "Erika@Example.org"})
    assert r.status_code == 302

    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["erika@example.org"]
    msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert msg["Subject"] == RESET_SUBJECT
    assert msg["To"] == "erika@example.org"
    body = msg.get_content()
    assert body.startswith(f"Guten Tag {user.name},")
    assert re.search(r"http://localhost/konto/link/reset/\S+", body)
    assert outbox_messages(app) == []  # sent, not written to the folder


def test_unknown_address_gets_no_mail_but_the_same_answer(app, client, factory, smtp_server):
    r = post(client, app, "/passwort-vergessen", {"email": "niemand@example.org"})
    assert r.status_code == 302
    assert smtp_server.envelopes == []


def test_unreachable_smtp_server_is_no_500(app, client, factory, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens
    factory.user(email="erika@example.org")
    assert post(client, app, "/passwort-vergessen", {"email": "erika@example.org"}).status_code == 302


def test_without_mail_server_an_eml_lands_in_the_outbox(app, client, factory):
    factory.user(email="erika@example.org")
    assert post(client, app, "/passwort-vergessen", {"email": "erika@example.org"}).status_code == 302
    [msg] = outbox_messages(app)
    assert msg["Subject"] == RESET_SUBJECT
    assert msg["To"] == "erika@example.org"
    assert msg["From"] == app.config["MAIL_SENDER"]
    assert "/konto/link/reset/" in msg.get_content()


def test_queued_mail_leaves_only_on_commit(app, factory):
    user = factory.user(email="erika@example.org")
    with app.test_request_context():
        s = db.get_session()
        mail.queue([user.email], "account_reset", user=user, link="http://localhost/x", hours=1)
        s.rollback()
        assert outbox_messages(app) == []
        s.commit()  # the rolled-back message stays dropped
        assert outbox_messages(app) == []
        mail.queue([user.email], "account_reset", user=user, link="http://localhost/x", hours=1)
        s.commit()
    assert len(outbox_messages(app)) == 1


def test_a_savepoint_rollback_keeps_the_queued_mail(app, factory):
    user = factory.user(email="erika@example.org")
    with app.test_request_context():
        s = db.get_session()
        mail.queue([user.email], "account_reset", user=user, link="http://localhost/x", hours=1)
        s.begin_nested().rollback()
        s.commit()
    assert len(outbox_messages(app)) == 1


@pytest.mark.committed
def test_a_request_that_fails_after_queueing_sends_nothing(app, tmp_path, factory):
    """A real request: the route queues an e-mail, then fails; the rollback drops the e-mail."""
    other = create_app(
        {
            "TESTING": True,
            "PROPAGATE_UNEXPECTED": False,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": "test",
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "MAIL_SERVER": None,
        },
        instance_path=str(tmp_path / "instance"),
    )
    user = factory.user(email="erika@example.org")

    @other.route("/test/mail-then-fail")
    @public
    def mail_then_fail():
        from app.accounts import services

        services.send_account_link(
            db.session,
            db.session.get(type(user), user.id),
            "reset",
            actor=None,
            lifetime=other.config["ACCOUNT_TOKEN_LIFETIME"],
            base_url="http://localhost",
        )
        raise RuntimeError("after the e-mail was queued")

    try:
        r = other.test_client().get("/test/mail-then-fail")
        assert r.status_code == 500
        assert not (tmp_path / "outbox").exists() or list((tmp_path / "outbox").iterdir()) == []
    finally:
        with other.app_context():
            db.engine().dispose()
