"""Dates and calendars (issue 13): warnings for weekends, Hessian public holidays and times outside
the office hours, no new conference in the past, the changed-invitation notice of the edit form,
the organiser's own calendar entry, and calendar files nobody is asked to answer."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.clock import berlin_today, to_local
from app.conferences.models import Conference
from app.workdays import holiday_name
from tests.conferences.conftest import audit_actions, calendar_of, conference_form, count, event_of, fresh, future
from tests.conftest import login_as, outbox_messages, post, text_of, working_day


def next_weekday(weekday: int, after: int = 3) -> date:
    day = berlin_today() + timedelta(days=after)
    while day.weekday() != weekday or holiday_name(day):
        day += timedelta(days=1)
    return day


def next_holiday_on_a_weekday() -> tuple[date, str]:
    day = berlin_today() + timedelta(days=2)
    while not (holiday_name(day) and day.weekday() < 5):
        day += timedelta(days=1)
    return day, holiday_name(day)


def new_url(scene):
    return f"/faelle/{scene.case.id}/konferenzen/neu"


@pytest.mark.parametrize(
    "overrides,warning",
    [
        (lambda: {"day": next_weekday(6).isoformat()}, "ist ein Sonntag."),
        (lambda: {"day": next_weekday(5).isoformat()}, "ist ein Samstag."),
        (lambda: {"start_time": "07:00", "end_time": "08:30"}, "außerhalb der Bürozeiten (08:00 bis 18:00 Uhr)"),
        (lambda: {"start_time": "17:00", "end_time": "18:30"}, "außerhalb der Bürozeiten (08:00 bis 18:00 Uhr)"),
    ],
    ids=["sunday", "saturday", "before office hours", "after office hours"],
)
def test_a_date_off_working_hours_is_warned_and_saved_once_confirmed(app, client, session, scene, overrides, warning):
    login_as(client, app, scene.caseworker)
    data = conference_form(scene, **overrides())
    warned = post(client, app, new_url(scene), data)
    assert warned.status_code == 400
    body = text_of(warned)
    assert "Bitte prüfen Sie den Termin" in body and warning in body
    assert "Trotzdem an diesem Tag und zu dieser Zeit speichern" in body
    assert 'value="Erstes Fallgespräch"' in warned.get_data(as_text=True)  # the input is kept
    assert count(session, Conference) == 0
    confirmed = post(client, app, new_url(scene), {**data, "accept_date": "y"})
    assert confirmed.status_code == 302
    assert count(session, Conference) == 1


def test_a_hessian_public_holiday_is_named(app, client, session, scene):
    day, name = next_holiday_on_a_weekday()
    login_as(client, app, scene.caseworker)
    warned = post(client, app, new_url(scene), conference_form(scene, day=day.isoformat()))
    assert warned.status_code == 400
    assert f"ist in Hessen ein gesetzlicher Feiertag ({name})" in text_of(warned)
    assert count(session, Conference) == 0


def test_a_working_day_in_office_hours_saves_without_a_question(app, client, session, scene):
    login_as(client, app, scene.caseworker)
    assert post(client, app, new_url(scene), conference_form(scene)).status_code == 302


def test_holidays_of_hesse_and_not_of_other_states():
    year = berlin_today().year + 1
    assert holiday_name(date(year, 1, 1)) == "Neujahr"
    assert holiday_name(date(year, 10, 3)) == "Tag der Deutschen Einheit"
    assert holiday_name(date(year, 12, 26)) == "Zweiter Weihnachtstag"
    assert holiday_name(date(year, 1, 6)) is None  # Heilige Drei Könige: Bavaria, not Hesse
    assert holiday_name(date(year, 10, 31)) is None  # Reformationstag: not in Hesse


def test_a_new_conference_in_the_past_is_refused(app, client, session, factory, scene):
    login_as(client, app, scene.caseworker)
    yesterday = berlin_today() - timedelta(days=1)
    for url in (new_url(scene),):
        refused = post(client, app, url, conference_form(scene, day=yesterday.isoformat(), accept_date="y"))
        assert refused.status_code == 400
        assert "Der Termin liegt in der Vergangenheit" in text_of(refused)
    held = factory.conference(scene.case, location=scene.location, starts_at=future(days=-7), status="held")
    refused = post(
        client,
        app,
        f"/konferenzen/{held.id}/folgekonferenz",
        conference_form(scene, day=yesterday.isoformat(), accept_date="y"),
    )
    assert refused.status_code == 400 and "Der Termin liegt in der Vergangenheit" in text_of(refused)
    assert count(session, Conference) == 1


def _edit(conf, session, **overrides):
    fresh(session, conf)
    local = to_local(conf.starts_at)
    data = conference_form(
        type("S", (), {"location": type("L", (), {"id": conf.location_id})})(),
        day=local.date().isoformat(),
        start_time=local.strftime("%H:%M"),
        end_time=to_local(conf.ends_at).strftime("%H:%M"),
        occasion=conf.occasion,
        version=str(conf.version),
    )
    data.pop("person_attends")
    data.update(overrides)
    return data


def test_an_existing_conference_may_move_into_the_past_to_record_a_meeting(app, client, session, factory, scene):
    # Only new conferences are refused in the past: staff record a meeting held earlier than planned.
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    login_as(client, app, scene.caseworker)
    past = (berlin_today() - timedelta(days=2)).isoformat()
    moved = post(client, app, f"/konferenzen/{conf.id}/bearbeiten", _edit(conf, session, day=past, accept_date="y"))
    assert moved.status_code == 302
    fresh(session, conf)
    assert to_local(conf.starts_at).date().isoformat() == past


def test_a_confirmed_weekend_date_is_not_questioned_again_when_the_time_stays(app, client, session, factory, scene):
    from datetime import datetime

    from app.clock import local_to_utc

    sunday = next_weekday(6)
    conf = factory.conference(
        scene.case, location=scene.location, starts_at=local_to_utc(datetime.combine(sunday, datetime.min.time()))
    )
    conf.starts_at = local_to_utc(datetime(sunday.year, sunday.month, sunday.day, 10))
    conf.ends_at = local_to_utc(datetime(sunday.year, sunday.month, sunday.day, 11))
    session.commit()
    login_as(client, app, scene.caseworker)
    kept = post(client, app, f"/konferenzen/{conf.id}/bearbeiten", _edit(conf, session, occasion="Neuer Anlass"))
    assert kept.status_code == 302
    moved = post(client, app, f"/konferenzen/{conf.id}/bearbeiten", _edit(conf, session, start_time="10:30"))
    assert moved.status_code == 400 and "ist ein Sonntag" in text_of(moved)


def test_the_edit_form_says_how_many_agencies_get_a_changed_invitation(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    login_as(client, app, scene.caseworker)
    assert "Noch ist keine Einrichtung eingeladen" in text_of(client.get(f"/konferenzen/{conf.id}/bearbeiten"))
    factory.invitation(conf, scene.debt)
    one = text_of(client.get(f"/konferenzen/{conf.id}/bearbeiten"))
    assert (
        "Speichern sendet eine geänderte Einladung an 1 Einrichtung, wenn sich Datum, Uhrzeit oder Ort ändern." in one
    )
    factory.invitation(conf, scene.health, status="declined")
    factory.invitation(conf, scene.other, status="cancelled")  # withdrawn: gets nothing
    two = text_of(client.get(f"/konferenzen/{conf.id}/bearbeiten"))
    assert (
        "Speichern sendet eine geänderte Einladung an 2 Einrichtungen, wenn sich Datum, Uhrzeit oder Ort ändern." in two
    )


def _organiser_mails(app, scene):
    return [m for m in outbox_messages(app) if m["To"] == scene.caseworker.email]


def _assert_nothing_to_answer(cal, method):
    assert str(cal["method"]) == method
    raw = cal.to_ical()
    assert b"ATTENDEE" not in raw and b"RSVP" not in raw
    event = cal.walk("VEVENT")[0]
    assert "nicht über den Kalender antworten" in str(event["description"])


def test_the_organiser_gets_a_calendar_entry_when_scheduling_and_changing_and_its_removal(
    app, client, session, factory, scene
):
    login_as(client, app, scene.caseworker)
    assert post(client, app, new_url(scene), conference_form(scene)).status_code == 302
    conf = session.execute(select(Conference)).scalar_one()
    [scheduled] = _organiser_mails(app, scene)
    assert scheduled["Subject"].strip().startswith(f"Ihr Kalendereintrag: Fallkonferenz {scene.case.pseudonym}")
    cal = calendar_of(scheduled)
    _assert_nothing_to_answer(cal, "PUBLISH")
    event = cal.walk("VEVENT")[0]
    assert str(event["uid"]) == conf.ical_uid and int(event["sequence"]) == 0
    assert str(event["organizer"]) == f"mailto:{scene.caseworker.email}"
    assert event.decoded("dtstart") == to_local(conf.starts_at)
    body = scheduled.get_body(("plain",)).get_content()
    assert "GEHEIME" not in scheduled.as_string() and "INTREF" not in scheduled.as_string()
    assert f"http://localhost/konferenzen/{conf.id}" in body

    later = working_day((to_local(conf.starts_at).date() - berlin_today()).days + 1)
    moved = post(client, app, f"/konferenzen/{conf.id}/bearbeiten", _edit(conf, session, day=later.isoformat()))
    assert moved.status_code == 302
    updated = next(m for m in _organiser_mails(app, scene) if "Geänderter Termin" in m["Subject"])
    _assert_nothing_to_answer(calendar_of(updated), "PUBLISH")
    assert int(event_of(updated)["sequence"]) == 1
    assert event_of(updated).decoded("dtstart").date() == later
    assert "Bisher:" in updated.get_body(("plain",)).get_content()

    fresh(session, conf)
    cancelled = post(client, app, f"/konferenzen/{conf.id}/absagen", {"reason": "Entfällt.", "version": conf.version})
    assert cancelled.status_code == 302
    removal = next(m for m in _organiser_mails(app, scene) if m["Subject"].startswith("Abgesagt"))
    cal = calendar_of(removal)
    _assert_nothing_to_answer(cal, "CANCEL")
    assert cal.walk("VEVENT")[0]["status"] == "CANCELLED" and int(event_of(removal)["sequence"]) == 2
    kinds = [e.details["kind"] for e in audit_actions(session, "conference.calendar_mailed")]
    assert kinds == ["scheduled", "updated", "cancelled"]


def test_invitations_ask_for_no_calendar_reply_and_say_how_to_answer(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    login_as(client, app, scene.caseworker)
    post(client, app, f"/konferenzen/{conf.id}/einladungen", {"agencies": [str(scene.debt.id)]})
    [msg] = outbox_messages(app)
    _assert_nothing_to_answer(calendar_of(msg), "PUBLISH")
    body = msg.get_body(("plain",)).get_content()
    assert "wählen Sie auf der Seite der Fallkonferenz unter „Teilnahme“ Zusage oder Absage" in body
    assert "Antworten per E-Mail oder über Ihren Kalender erreichen uns nicht" in body


def test_without_base_url_e_mail_links_point_where_the_app_runs(app, session, factory, scene, monkeypatch):
    from app import db
    from app.conferences.services import invitations

    monkeypatch.setitem(app.config, "BASE_URL", None)
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    session.commit()
    with app.test_request_context("/", base_url="http://127.0.0.1:8123"):
        s = db.get_session()
        invitations.invite(s, s.get(Conference, conf.id), scene.caseworker, agency_ids=[scene.debt.id], user_ids=[])
        s.commit()
    [msg] = outbox_messages(app)
    assert f"http://127.0.0.1:8123/konferenzen/{conf.id}" in msg.get_body(("plain",)).get_content()
    assert str(event_of(msg)["url"]) == f"http://127.0.0.1:8123/konferenzen/{conf.id}"
