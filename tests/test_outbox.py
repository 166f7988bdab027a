"""The durable outbox (issue 11, finding 1): e-mails survive a mail server that refuses,
are retried with backoff until sent or finally failed, are never sent twice by two
deliverers, and each invitation shows its delivery state; team leads see failures.

Real SMTP servers (aiosmtpd) on loopback, real `flask send-mail` runs; no mocks.
"""

import asyncio
import email
import os
import subprocess
import sys
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text, update

from app import db, mail
from app.clock import utcnow
from app.conferences.models import Conference
from app.mail import OutboxMessage
from tests.conferences.conftest import future, scene  # noqa: F401  (fixture)
from tests.conftest import login_as, post, text_of
from tests.test_mail import free_port

ROOT = Path(__file__).resolve().parent.parent


class FlakyInbox:
    """An SMTP server that accepts, defers (451 on DATA) or rejects every recipient (550)."""

    def __init__(self, mode="accept", pause=0.0):
        self.mode = mode
        self.pause = pause
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "reject":
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "defer":
            return "451 4.3.0 Try again later"
        if self.pause:
            await asyncio.sleep(self.pause)  # lets two deliverers overlap; nothing is timed
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def message_ids(self):
        return [
            email.message_from_bytes(e.original_content, policy=policy.default)["Message-ID"] for e in self.envelopes
        ]


@pytest.fixture
def smtp(app, monkeypatch):
    """Start a FlakyInbox on a loopback port the app sends to: ``smtp.start(mode)``."""
    servers = []

    class Handle:
        port = free_port()
        inbox = FlakyInbox()

        def start(self, mode="accept", pause=0.0):
            self.inbox.mode, self.inbox.pause = mode, pause
            controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
            controller.start()
            servers.append(controller)
            return self.inbox

    handle = Handle()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", handle.port)
    yield handle
    for controller in servers:
        controller.stop()


def _messages(app):
    with app.app_context():
        s = db.new_session()
        try:
            return s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        finally:
            s.close()


def _send_mail(app, *args):
    result = app.test_cli_runner().invoke(args=["send-mail", *args])
    return result


def _invite(app, client, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=10))
    login_as(client, app, scene.caseworker)
    r = post(client, app, f"/konferenzen/{conf.id}/einladungen", {"agencies": [str(scene.debt.id)]})
    assert r.status_code == 302
    return conf


def _page(client, conf):
    r = client.get(f"/konferenzen/{conf.id}")
    assert r.status_code == 200
    return text_of(r)


def test_invitation_survives_a_server_that_defers_then_accepts(app, client, session, factory, scene, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RETRY_BASE_SECONDS", 0)  # due again at once
    inbox = smtp.start("defer")
    conf = _invite(app, client, factory, scene)

    [msg] = _messages(app)
    assert (msg.status, msg.attempts, msg.last_error) == ("pending", 1, "SMTPDataError 451")
    assert (msg.ref_type, msg.template) == ("invitation", "conference_invitation")
    assert inbox.envelopes == []
    assert "E-Mail: wird erneut versucht" in _page(client, conf)

    inbox.mode = "accept"
    result = _send_mail(app)
    assert result.exit_code == 0, result.output
    assert "1 versandt" in result.output
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == [scene.debt.contact_email]
    [msg] = _messages(app)
    assert (msg.status, msg.attempts, msg.last_error) == ("sent", 2, None)
    assert "E-Mail: zugestellt" in _page(client, conf)

    assert _send_mail(app).exit_code == 0  # nothing due: nothing sent twice
    assert len(inbox.envelopes) == 1


def test_invitation_survives_a_server_that_is_down_then_up(app, client, session, factory, scene, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RETRY_BASE_SECONDS", 0)
    conf = _invite(app, client, factory, scene)  # nobody listens on the port yet
    [msg] = _messages(app)
    assert (msg.status, msg.attempts, msg.last_error) == ("pending", 1, "ConnectionRefusedError")

    result = _send_mail(app)  # still down: exit 1, so the timer's log shows it
    assert result.exit_code == 1 and "nicht erreichbar" in result.output

    inbox = smtp.start("accept")
    assert _send_mail(app).exit_code == 0
    assert len(inbox.envelopes) == 1
    assert [m.status for m in _messages(app)] == ["sent"]
    assert "E-Mail: zugestellt" in _page(client, conf)


def test_retries_back_off_exponentially_and_wait_until_due(app, client, session, factory, scene, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RETRY_BASE_SECONDS", 60)
    smtp.start("defer")
    before_first = utcnow()
    _invite(app, client, factory, scene)
    [msg] = _messages(app)
    assert msg.attempts == 1
    assert msg.next_attempt_at >= before_first + timedelta(seconds=60)

    assert _send_mail(app).exit_code == 0
    assert _messages(app)[0].attempts == 1  # not due yet: not tried

    session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    before_second = utcnow()
    assert _send_mail(app).exit_code == 0
    [msg] = _messages(app)
    assert msg.attempts == 2
    assert msg.next_attempt_at >= before_second + timedelta(seconds=120)  # doubled


def test_after_the_last_attempt_the_message_fails_and_can_be_requeued(
    app, client, session, factory, scene, smtp, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_RETRY_BASE_SECONDS", 0)
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    inbox = smtp.start("defer")
    conf = _invite(app, client, factory, scene)
    _send_mail(app)
    _send_mail(app)
    [msg] = _messages(app)
    assert (msg.status, msg.attempts) == ("failed", 3)
    _send_mail(app)
    assert _messages(app)[0].attempts == 3  # a failed message is left alone
    assert "E-Mail: fehlgeschlagen" in _page(client, conf)

    inbox.mode = "accept"
    result = _send_mail(app, "--retry-failed")
    assert result.exit_code == 0 and "1 fehlgeschlagene E-Mail wieder in der Warteschlange" in result.output
    assert [m.status for m in _messages(app)] == ["sent"] and len(inbox.envelopes) == 1


def test_a_refused_recipient_fails_at_once_and_the_team_lead_sees_it(app, client, session, factory, scene, smtp):
    inbox = smtp.start("reject")
    conf = _invite(app, client, factory, scene)
    [msg] = _messages(app)
    assert (msg.status, msg.attempts, msg.last_error) == ("failed", 1, "SMTPRecipientsRefused 550")
    assert "E-Mail: fehlgeschlagen" in _page(client, conf)

    lead = app.test_client()
    login_as(lead, app, scene.team_lead)
    overview = text_of(lead.get("/team"))
    assert "Einladungen, deren E-Mail nicht zugestellt werden konnte" in overview
    assert f"{scene.case.pseudonym} –" in overview and "Schuldnerberatung (fehlgeschlagen" in overview
    assert "SMTPRecipientsRefused 550" in overview

    # Another team's lead does not see it.
    other_lead = app.test_client()
    login_as(other_lead, app, factory.user("team_lead"))
    assert "Schuldnerberatung (fehlgeschlagen" not in text_of(other_lead.get("/team"))

    # The address was fixed: a resend goes out, and the failure leaves the overview.
    inbox.mode = "accept"
    [inv_id] = [m.ref_id for m in _messages(app)]
    assert post(client, app, f"/konferenzen/{conf.id}/einladungen/{inv_id}/erneut-senden").status_code == 302
    assert len(inbox.envelopes) == 1
    assert "E-Mail: zugestellt" in _page(client, conf)
    assert "Keine fehlgeschlagenen Einladungs-E-Mails." in text_of(lead.get("/team"))


def test_a_rolled_back_change_leaves_no_outbox_row(app, factory):
    user = factory.user(email="erika@example.org")
    with app.test_request_context():
        s = db.get_session()
        mail.queue([user.email], "account_reset", user=user, link="http://localhost/x", hours=1)
        s.rollback()
        s.commit()
    assert _messages(app) == []


def test_a_savepoint_inside_the_change_does_not_send_its_e_mails_early(app, factory, smtp):
    """A service that releases a savepoint after queueing (``begin_nested``, as adding a minutes
    version does) must not have the e-mail delivered before the real commit."""
    inbox = smtp.start("accept")
    user = factory.user(email="erika@example.org")
    with app.test_request_context():
        s = db.get_session()
        mail.queue([user.email], "account_reset", user=user, link="http://localhost/x", hours=1)
        with s.begin_nested():
            pass
        assert s.info.get("outbox"), "the e-mail still waits for the commit"
        assert inbox.envelopes == []
        s.commit()
    assert [m.status for m in _messages(app)] == ["sent"]
    assert len(inbox.envelopes) == 1


def _queue_many(app, n, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", False)  # left for the job
    with app.test_request_context():
        s = db.get_session()
        for i in range(n):
            mail.queue(
                [f"person{i}@example.org"],
                "account_reset",
                user={"name": f"Person {i}"},
                link="http://localhost/x",
                hours=1,
            )
        s.commit()


def _cli_env(app, smtp):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "DATABASE_URL"))}
    env.update(
        FLASK_APP="app:create_app",
        DATABASE_URL=app.config["DATABASE_URL"],
        SECRET_KEY="test",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp.port),
        MAIL_SEND_AFTER_COMMIT="false",
    )
    return env


@pytest.mark.committed  # other processes and connections read what the test wrote
def test_two_send_mail_runs_at_once_send_every_message_exactly_once(app, smtp, monkeypatch):
    n = 30
    _queue_many(app, n, monkeypatch)
    inbox = smtp.start("accept", pause=0.02)
    env = _cli_env(app, smtp)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "send-mail"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=240)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    ids = inbox.message_ids()
    assert len(ids) == n and len(set(ids)) == n
    assert {m.status for m in _messages(app)} == {"sent"}
    assert all(m.attempts == 1 for m in _messages(app))


@pytest.mark.committed  # other processes and connections read what the test wrote
def test_send_mail_skips_a_message_another_deliverer_holds(app, smtp, monkeypatch, database_url):
    """PostgreSQL: a row locked by another run is skipped (SKIP LOCKED), not waited for."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises deliverers with its write lock instead")
    _queue_many(app, 3, monkeypatch)
    inbox = smtp.start("accept")
    first = _messages(app)[0].id
    with app.app_context(), db.engine().connect() as other:
        other.execute(text("SELECT id FROM outbox_message WHERE id = :id FOR UPDATE"), {"id": first})
        result = _send_mail(app)
        other.rollback()
    assert result.exit_code == 0, result.output
    assert len(inbox.envelopes) == 2
    assert [m.status for m in _messages(app)] == ["pending", "sent", "sent"]
    assert _send_mail(app).exit_code == 0
    assert len(inbox.envelopes) == 3


def test_send_reminders_also_delivers_the_outbox(app, smtp, monkeypatch):
    _queue_many(app, 2, monkeypatch)
    inbox = smtp.start("accept")
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "E-Mails: 2 versandt" in result.output
    assert len(inbox.envelopes) == 2


def test_delivery_state_is_not_shown_to_partners(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=10))
    login_as(client, app, scene.caseworker)
    post(client, app, f"/konferenzen/{conf.id}/einladungen", {"agencies": [str(scene.debt.id)]})
    assert "E-Mail: zugestellt" in _page(client, conf)  # the outbox folder: delivered at once
    partner = app.test_client()
    login_as(partner, app, scene.partner_debt)
    assert "E-Mail:" not in _page(partner, session.get(Conference, conf.id))
