"""Several measures in one form (issue 13): rows added without JavaScript, all saved or none,
each refusal at its row, due dates on weekends and holidays warned of."""

from datetime import timedelta

from sqlalchemy import select

from app.clock import berlin_today
from app.conferences.models import Measure
from app.workdays import holiday_name
from tests.conferences.conftest import audit_actions, count, fresh, future
from tests.conftest import login_as, post, text_of, working_day


def _held(factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=-1), status="held")
    factory.invitation(conf, scene.debt, status="accepted")
    return conf


def _rows(*rows) -> dict:
    data = {}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"rows-{i}-{key}"] = value
    return data


def _row(what, responsible="jobcenter", days=14, categories=("work",), status="agreed"):
    return {
        "what": what,
        "responsible": responsible,
        "due_on": working_day(days).isoformat(),
        "categories": list(categories),
        "status": status,
    }


def _sunday():
    day = berlin_today() + timedelta(days=3)
    while day.weekday() != 6 or holiday_name(day):
        day += timedelta(days=1)
    return day


def test_the_form_offers_several_rows_and_more_without_javascript(app, client, session, factory, scene):
    conf = _held(factory, scene)
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}/massnahmen/neu")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert [f'name="rows-{i}-what"' in html for i in range(4)] == [True, True, True, False]
    assert f'value="agency:{scene.debt.id}"' in html
    more = post(
        client,
        app,
        f"/konferenzen/{conf.id}/massnahmen/neu",
        {**_rows(_row("Unterlagen sammeln"), {"what": ""}, {"what": ""}), "weitere_zeilen": "1"},
    )
    html = more.get_data(as_text=True)
    assert more.status_code == 200
    assert "Unterlagen sammeln" in html and 'name="rows-3-what"' in html and 'name="rows-4-what"' not in html
    assert count(session, Measure) == 0


def test_three_measures_are_saved_in_one_go(app, client, session, factory, scene):
    conf = _held(factory, scene)
    login_as(client, app, scene.caseworker)
    response = post(
        client,
        app,
        f"/konferenzen/{conf.id}/massnahmen/neu",
        _rows(
            _row("Ratenplan abstimmen", responsible=f"agency:{scene.debt.id}", categories=("debt",)),
            _row("Bewerbungstraining anbieten", days=21),
            {"what": "", "due_on": "", "responsible": ""},
            _row("Unterlagen sammeln", responsible="person", days=7, status="in_progress"),
        ),
    )
    assert response.status_code == 302 and response.location.endswith(f"/konferenzen/{conf.id}#massnahmen")
    measures = session.execute(select(Measure).order_by(Measure.id)).scalars().all()
    session.commit()
    assert [(m.what, m.responsible_kind, m.responsible_agency_id, m.status) for m in measures] == [
        ("Ratenplan abstimmen", "agency", scene.debt.id, "agreed"),
        ("Bewerbungstraining anbieten", "jobcenter", None, "agreed"),
        ("Unterlagen sammeln", "person", None, "in_progress"),
    ]
    assert measures[0].categories == ["debt"] and measures[0].due_on == working_day(14)
    assert len(audit_actions(session, "measure.created")) == 3
    assert "3 Maßnahmen sind gespeichert." in text_of(client.get(f"/konferenzen/{conf.id}"))


def test_one_bad_row_saves_none_and_names_its_row(app, client, session, factory, scene):
    conf = _held(factory, scene)
    login_as(client, app, scene.caseworker)
    outside = post(
        client,
        app,
        f"/konferenzen/{conf.id}/massnahmen/neu",
        _rows(
            _row("Bewerbungstraining anbieten"),
            _row("Arzttermin begleiten", responsible=f"agency:{scene.debt.id}", categories=("health",)),
        ),
    )
    assert outside.status_code == 400
    body = text_of(outside)
    assert "Die Einwilligung für Schuldnerberatung umfasst nicht: Gesundheit." in body
    assert "Maßnahmen, Zeile 2, Datenkategorien" in body  # the summary names the row
    assert "Bewerbungstraining anbieten" in body and "Arzttermin begleiten" in body  # all input kept
    missing = post(
        client,
        app,
        f"/konferenzen/{conf.id}/massnahmen/neu",
        _rows(_row("Bewerbungstraining anbieten"), {"what": "Ohne Datum", "due_on": "", "responsible": "jobcenter"}),
    )
    assert missing.status_code == 400
    assert "Maßnahmen, Zeile 2, Fällig am</a>: Bitte füllen Sie dieses Feld aus." in text_of(missing)
    nothing = post(client, app, f"/konferenzen/{conf.id}/massnahmen/neu", _rows({"what": "", "due_on": ""}))
    assert nothing.status_code == 400 and "Bitte geben Sie mindestens eine Maßnahme an." in text_of(nothing)
    assert count(session, Measure) == 0


def test_a_due_date_on_a_sunday_is_warned_and_saved_once_confirmed(app, client, session, factory, scene):
    conf = _held(factory, scene)
    login_as(client, app, scene.caseworker)
    data = _rows(_row("Bewerbung abschicken"), {**_row("Am Sonntag"), "due_on": _sunday().isoformat()})
    warned = post(client, app, f"/konferenzen/{conf.id}/massnahmen/neu", data)
    assert warned.status_code == 400
    assert "ist ein Sonntag." in text_of(warned) and "Trotzdem mit diesen Fälligkeitsdaten speichern" in text_of(warned)
    assert count(session, Measure) == 0
    assert post(client, app, f"/konferenzen/{conf.id}/massnahmen/neu", {**data, "accept_date": "y"}).status_code == 302
    assert count(session, Measure) == 2


def test_a_due_date_in_the_past_is_warned_of(app, client, session, factory, scene):
    conf = _held(factory, scene)
    login_as(client, app, scene.caseworker)
    past = berlin_today() - timedelta(days=3)
    data = _rows({**_row("Unterlagen nachreichen"), "due_on": past.isoformat()})
    warned = post(client, app, f"/konferenzen/{conf.id}/massnahmen/neu", data)
    assert warned.status_code == 400 and "liegt in der Vergangenheit." in text_of(warned)
    assert count(session, Measure) == 0
    assert post(client, app, f"/konferenzen/{conf.id}/massnahmen/neu", {**data, "accept_date": "y"}).status_code == 302
    assert count(session, Measure) == 1


def test_editing_a_measure_warns_of_a_new_due_date_only(app, client, session, factory, scene):
    conf = _held(factory, scene)
    measure = factory.measure(conf, what="Alt", due_on=_sunday())
    login_as(client, app, scene.caseworker)
    url = f"/konferenzen/{conf.id}/massnahmen/{measure.id}"
    form = {"what": "Neu", "responsible": "jobcenter", "status": "agreed", "outcome": "", "version": "1"}
    kept = post(client, app, url, {**form, "due_on": _sunday().isoformat()})
    assert kept.status_code == 302  # confirmed when it was agreed
    fresh(session, measure)
    moved = post(client, app, url, {**form, "version": "2", "due_on": (_sunday() + timedelta(days=7)).isoformat()})
    assert moved.status_code == 400 and "ist ein Sonntag." in text_of(moved)
    fresh(session, measure)
    assert measure.due_on == _sunday() and measure.what == "Neu"
