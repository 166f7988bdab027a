"""`flask send-reminders` started on every application server at the same moment (issue 17).

Each server's timer runs the job; two runs overlap. Every reminder and every calendar CANCEL
must still go out once: a run locks what it chooses and skips what another run holds
(PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: one writer at a time), and what was sent is
marked in the same transaction.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import audit, db, mail
from app.clock import berlin_today, utcnow
from app.conferences.services import reminders

# Two runs on connections of their own, at once: real transactions.
pytestmark = pytest.mark.committed


def _run(app, started: threading.Event, may_commit: threading.Event, result: dict):
    """One server's job: cancel invitations without consent, remind, commit when told to."""
    with app.app_context():
        s = db.get_session()  # as the command does: the policy's helpers read the same session
        try:
            result["cancelled"] = reminders.cancel_invitations_without_consent(s)
            result["reminded"] = reminders.send_reminders(s)
            started.set()
            may_commit.wait(timeout=60)
            s.commit()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            result["error"] = exc
            started.set()
            s.rollback()


def test_two_servers_running_the_reminders_at_once_send_every_e_mail_once(app, session, factory, scene):
    soon = factory.conference(
        scene.case, location=scene.location, organiser=scene.caseworker, starts_at=utcnow() + timedelta(hours=30)
    )
    factory.invitation(soon, scene.debt, status="accepted")
    factory.invitation(soon, scene.health, status="pending")
    later = factory.conference(
        scene.case, location=scene.location, organiser=scene.caseworker, starts_at=utcnow() + timedelta(days=10)
    )
    lapsed = factory.agency("Abgelaufen")
    factory.consent(
        scene.case,
        lapsed,
        signed_on=berlin_today() - timedelta(days=400),
        valid_until=berlin_today() - timedelta(days=1),
    )
    factory.invitation(later, lapsed, status="accepted")
    held = factory.conference(
        scene.case, location=scene.location, starts_at=utcnow() - timedelta(days=20), status="held"
    )
    factory.invitation(held, scene.debt, status="accepted")
    factory.measure(held, responsible_kind="agency", agency=scene.debt, due_on=berlin_today() + timedelta(days=1))
    factory.measure(held, due_on=berlin_today() - timedelta(days=3))

    first, second = {}, {}
    first_started, second_started, commit_first, commit_second = (threading.Event() for _ in range(4))
    commit_second.set()  # the second commits as soon as it is through
    a = threading.Thread(target=_run, args=(app, first_started, commit_first, first))
    b = threading.Thread(target=_run, args=(app, second_started, commit_second, second))
    a.start()
    assert first_started.wait(timeout=60)
    # The first run holds what it chose, uncommitted, while the second runs: on PostgreSQL the
    # second skips it and is through at once; on SQLite it waits for the write lock.
    b.start()
    b.join(timeout=3)
    commit_first.set()
    a.join(timeout=60)
    b.join(timeout=60)
    assert not a.is_alive() and not b.is_alive()
    assert "error" not in first and "error" not in second, (first.get("error"), second.get("error"))

    # Between them, each thing was done once.
    assert first["cancelled"] + second["cancelled"] == 1
    assert first["reminded"][0] + second["reminded"][0] == 1  # the conference in 30 hours
    assert first["reminded"][1] + second["reminded"][1] == 2  # the two measures
    session.expire_all()
    rows = session.execute(select(mail.OutboxMessage.template, mail.OutboxMessage.message)).all()
    recipients = Counter()
    for template, raw in rows:
        to = next(line for line in raw.decode().splitlines() if line.startswith("To:"))
        recipients[template, to] += 1
    assert recipients and max(recipients.values()) == 1, recipients
    assert Counter(t for t, _to in recipients) == {
        "conference_reminder": 3,  # the two agencies and the organiser
        "invitation_cancelled": 1,
        "measure_reminder": 2,  # the agency and the caseworker
    }
    assert audit.verify(session)[1] is None
