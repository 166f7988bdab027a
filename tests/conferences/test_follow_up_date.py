"""The follow-up conference starts with the day the minutes agreed ("Nächster Termin", issue 13):
from the minutes' date field, or from a date written in the note of minutes made before it."""

from datetime import date, timedelta

from app.clock import berlin_today, to_local
from app.conferences.services.scheduling import date_in_text
from app.minutes.models import Minutes
from tests.conferences.conftest import future
from tests.conftest import login_as, post, text_of, working_day


def _held_with_minutes(factory, session, scene, **minutes):
    held = factory.conference(scene.case, location=scene.location, starts_at=future(days=-7), status="held")
    session.add(Minutes(conference_id=held.id, summary="Entwurf.", **minutes))
    session.commit()
    return held


def test_the_agreed_day_and_the_earlier_hours_are_filled_in(app, client, session, factory, scene):
    day = working_day(40)
    held = _held_with_minutes(factory, session, scene, next_date=day)
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{held.id}/folgekonferenz")
    html = page.get_data(as_text=True)
    assert f'value="{day.isoformat()}"' in html
    assert f'value="{to_local(held.starts_at).strftime("%H:%M")}"' in html
    assert "Übernommen aus dem Protokoll der früheren Fallkonferenz" in text_of(page)


def test_a_date_in_the_note_is_used_when_no_day_was_entered(app, client, session, factory, scene):
    day = working_day(50)
    held = _held_with_minutes(factory, session, scene, next_date_note=f"Folgetermin am {day:%d.%m.%Y} im Stadtteilbüro")
    login_as(client, app, scene.caseworker)
    assert f'value="{day.isoformat()}"' in client.get(f"/konferenzen/{held.id}/folgekonferenz").get_data(as_text=True)


def test_a_past_or_missing_day_is_not_filled_in(app, client, session, factory, scene):
    held = _held_with_minutes(factory, session, scene, next_date=berlin_today() - timedelta(days=3))
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{held.id}/folgekonferenz")
    assert "Übernommen aus dem Protokoll" not in text_of(page)


def test_dates_in_notes():
    assert date_in_text("Folgetermin am 3.2.2027, 10 Uhr") == date(2027, 2, 3)
    assert date_in_text("etwa am 15.06.27") == date(2027, 6, 15)
    assert date_in_text("am 31.02.2027 oder 01.03.2027") == date(2027, 3, 1)
    assert date_in_text("in etwa drei Monaten") is None
    assert date_in_text("Version 1.2.3.4") is None


def test_the_minutes_form_keeps_the_agreed_day(app, client, session, factory):
    from tests.minutes.conftest import MINUTES_DATA, latest, make_scene, page_url

    scene = make_scene(factory)
    login_as(client, app, scene.organiser)
    day = working_day(60)
    assert (
        post(client, app, page_url(scene.conference), {**MINUTES_DATA, "next_date": f"{day:%d.%m.%Y}"}).status_code
        == 302
    )
    assert latest(app, scene.conference).next_date == day
    bad = post(client, app, page_url(scene.conference), {**MINUTES_DATA, "next_date": "bald", "version": "2"})
    assert bad.status_code == 400 and "gültiges Datum" in text_of(bad)
    page = text_of(client.get(page_url(scene.conference)))
    assert "Nächster Termin am" in page
