"""flask send-reminders: conferences in the next two days, measures due soon or overdue; once."""

from datetime import timedelta

from sqlalchemy import select

from app import db
from app.clock import berlin_today, to_local, utcnow
from app.conferences.models import Conference, Measure
from app.conferences.services import reminders
from tests.conferences.conftest import audit_actions, fresh
from tests.conftest import agenda_fields, login_as, outbox_messages, post


def _run_cli(app):
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _body(msg):
    return msg.get_body(("plain",)).get_content()


def test_reminders_go_out_once_to_whom_they_concern(app, session, factory, scene):
    soon = factory.conference(
        scene.case, location=scene.location, organiser=scene.caseworker, starts_at=utcnow() + timedelta(hours=30)
    )
    factory.invitation(soon, scene.debt, status="accepted", user=scene.partner_debt)
    factory.invitation(soon, scene.health, status="pending")
    factory.invitation(soon, scene.other, status="declined")
    gone = factory.agency("Widerrufen")
    factory.consent(scene.case, gone, withdrawn_on=berlin_today())
    factory.invitation(soon, gone, status="accepted")
    factory.conference(scene.case, location=scene.location, starts_at=utcnow() + timedelta(hours=50))
    factory.conference(
        scene.case, location=scene.location, starts_at=utcnow() + timedelta(hours=20), status="cancelled"
    )
    factory.conference(scene.case, location=scene.location, starts_at=utcnow() - timedelta(hours=2))
    today = berlin_today()
    held = factory.conference(
        scene.case, location=scene.location, starts_at=utcnow() - timedelta(days=20), status="held"
    )
    factory.invitation(held, scene.debt, status="accepted")
    factory.invitation(held, gone, status="accepted")
    debt_soon = factory.measure(
        held, what="GEHEIM-MASSNAHME-1", responsible_kind="agency", agency=scene.debt, due_on=today + timedelta(days=2)
    )
    overdue = factory.measure(held, what="GEHEIM-MASSNAHME-2", due_on=today - timedelta(days=5), status="in_progress")
    person = factory.measure(
        held, what="GEHEIM-MASSNAHME-3", responsible_kind="person", due_on=today + timedelta(days=1)
    )
    later = factory.measure(held, what="später", due_on=today + timedelta(days=10))
    done = factory.measure(held, what="fertig", due_on=today - timedelta(days=5), status="done")
    no_access = factory.measure(
        held, what="ohne Zugang", responsible_kind="agency", agency=gone, due_on=today - timedelta(days=1)
    )

    # The agencies without a valid consent get the calendar CANCEL of the same run (tested
    # below), never a reminder.
    assert _run_cli(app).startswith("Erinnerungen verschickt: 1 Fallkonferenz, 3 Maßnahmen;")
    sent_after_first_run = len(outbox_messages(app))
    messages = [m for m in outbox_messages(app) if m["Subject"].strip().startswith("Erinnerung")]
    by_to = {}
    for msg in messages:
        by_to.setdefault(msg["To"], []).append(msg)
    debt_to = ", ".join(sorted([scene.debt.contact_email, scene.partner_debt.email]))
    assert sorted(by_to) == sorted(
        [debt_to, scene.health.contact_email, scene.caseworker.email, scene.debt.contact_email]
    )
    conference_mails = [m for m in messages if m["Subject"].strip().startswith("Erinnerung: Fallkonferenz")]
    assert sorted(m["To"] for m in conference_mails) == sorted(
        [debt_to, scene.health.contact_email, scene.caseworker.email]
    )
    [debt_measures] = list(by_to[scene.debt.contact_email])
    assert debt_measures["Subject"].strip() == "Erinnerung: 1 Maßnahme fällig oder überfällig"
    [caseworker_measures] = [m for m in by_to[scene.caseworker.email] if "Maßnahmen" in m["Subject"]]
    assert caseworker_measures["Subject"].strip() == "Erinnerung: 2 Maßnahmen fällig oder überfällig"
    assert "überfällig seit" in _body(caseworker_measures) and "fällig am" in _body(caseworker_measures)
    assert f"http://localhost/konferenzen/{held.id}" in _body(caseworker_measures)
    for msg in messages:
        raw = msg.as_string() + _body(msg)
        assert scene.case.pseudonym in _body(msg)
        for secret in (scene.case.internal_reference, scene.case.summary, "GEHEIM-MASSNAHME"):
            assert secret not in raw
    session.expire_all()
    assert session.get(Conference, soon.id).reminder_sent_at is not None
    reminded = {m.id: m.reminded_on for m in session.execute(select(Measure)).scalars()}
    session.commit()
    assert reminded == {
        debt_soon.id: today,
        overdue.id: today,
        person.id: today,
        later.id: None,
        done.id: None,
        no_access.id: None,
    }
    assert len(audit_actions(session, "conference.reminded")) == 1
    assert len(audit_actions(session, "invitation.reminded")) == 2
    assert len(audit_actions(session, "measure.reminded")) == 3

    # A second run the same day (cron every hour): nothing new.
    assert _run_cli(app).startswith("Erinnerungen verschickt: 0 Fallkonferenzen, 0 Maßnahmen;")
    assert len(outbox_messages(app)) == sent_after_first_run


def _run(app, today, now=None):
    with app.app_context():
        s = db.get_session()
        result = reminders.send_reminders(s, now=now, today=today)
        s.commit()
    return result


def test_a_measure_is_reminded_before_when_overdue_and_then_weekly(app, session, factory, scene):
    held = factory.conference(
        scene.case, location=scene.location, starts_at=utcnow() - timedelta(days=20), status="held"
    )
    d = berlin_today()
    measure = factory.measure(held, due_on=d + timedelta(days=2))
    far = utcnow() + timedelta(days=30)  # no conference in reach
    expected = {0: 1, 1: 0, 2: 0, 3: 1, 4: 0, 9: 0, 10: 1, 11: 0, 17: 1}
    for offset, reminded in expected.items():
        assert _run(app, d + timedelta(days=offset), now=far)[1] == reminded, offset
        assert _run(app, d + timedelta(days=offset), now=far)[1] == 0, offset  # same day again
    measure.status = "done"
    session.commit()
    assert _run(app, d + timedelta(days=24), now=far)[1] == 0


def test_rescheduling_brings_a_new_conference_reminder(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=utcnow() + timedelta(hours=30))
    factory.invitation(conf, scene.debt, status="accepted")
    assert _run(app, berlin_today())[0] == 1
    assert _run(app, berlin_today())[0] == 0
    fresh(session, conf)
    login_as(client, app, scene.caseworker)
    tomorrow = berlin_today() + timedelta(days=1)  # 10:00 tomorrow is always within two days
    start = "10:00" if to_local(conf.starts_at).strftime("%H:%M") != "10:00" else "10:30"
    response = post(
        client,
        app,
        f"/konferenzen/{conf.id}/bearbeiten",
        {
            "occasion": conf.occasion,
            "day": tomorrow.isoformat(),
            "start_time": start,
            "end_time": "11:30",
            "location_id": str(scene.location.id),
            **agenda_fields("Lage"),
            "version": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    fresh(session, conf)
    assert conf.reminder_sent_at is None
    assert _run(app, berlin_today())[0] == 1


def test_expired_consent_cancels_the_open_invitation_with_a_calendar_cancel(app, session, factory, scene):
    conference = factory.conference(
        scene.case, location=scene.location, organiser=scene.caseworker, starts_at=utcnow() + timedelta(days=10)
    )
    lapsed = factory.agency("Abgelaufen")
    factory.consent(
        scene.case,
        lapsed,
        signed_on=berlin_today() - timedelta(days=400),
        valid_until=berlin_today() - timedelta(days=1),
    )
    factory.invitation(conference, lapsed, status="accepted")
    factory.invitation(conference, scene.debt, status="accepted")
    assert "1 Einladung wegen abgelaufener Einwilligung" in _run_cli(app)
    cancels = [m for m in outbox_messages(app) if lapsed.contact_email in m["To"]]
    assert len(cancels) == 1
    ics = next(p for p in cancels[0].iter_attachments() if p.get_content_type() == "text/calendar")
    assert "METHOD:CANCEL" in ics.get_content()
    # The agency with a valid consent keeps its invitation; a second run cancels nothing more.
    assert "0 Einladungen" in _run_cli(app)
    assert [e.details["reason"] for e in audit_actions(session, "invitation.cancelled")] == ["consent_expired"]
