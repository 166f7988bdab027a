"""The shared form fields against extreme input (issue 10, finding 2): every date field has a
plausible range (the year 1 and the year 9999 are refused in German with the input kept,
nothing is saved, no service computes with them); a checkbox sent many times counts once."""

from datetime import date, timedelta

import pytest

from app.clock import add_years, berlin_today
from app.forms import GermanDateField
from tests.conftest import login_as, post, text_of
from tests.dbstate import differences, snapshot

EXTREMES = ["0001-01-01", "01.01.0001", "9999-12-31", "31.12.9999"]


def de(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def test_add_years_keeps_the_day_and_moves_29_february():
    assert add_years(date(2026, 3, 14), 10) == date(2036, 3, 14)
    assert add_years(date(2028, 2, 29), -1) == date(2027, 2, 28)


def test_default_range_is_ten_years_either_way(app):
    with app.test_request_context():
        from flask_wtf import FlaskForm

        class F(FlaskForm):
            day = GermanDateField()

        field = F(meta={"csrf": False}).day
        today = berlin_today()
        assert field.plausible_range() == (add_years(today, -10), add_years(today, 10))


@pytest.fixture
def staff(factory):
    team = factory.team()
    caseworker = factory.user("caseworker", team=team)
    case = factory.case(team=team, caseworker=caseworker)
    return team, caseworker, case


@pytest.mark.parametrize("value", EXTREMES)
def test_consent_dates_outside_the_range_are_refused(app, client, factory, staff, value):
    _team, caseworker, case = staff
    agency = factory.agency()
    login_as(client, app, caseworker)
    today = berlin_today()
    valid = {
        "agency_id": str(agency.id),
        "signed_on": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "scope": ["general"],
        "proof_reference": "E-Akte, Dokument 12",
        "note": "Bleibt stehen",
    }
    earliest, latest = de(add_years(today, -10)), de(add_years(today, 10))
    before = snapshot(app)
    for name in ("signed_on", "valid_until"):
        r = post(client, app, f"/faelle/{case.id}/einwilligungen/neu", {**valid, name: value})
        assert r.status_code == 400, name
        page = text_of(r)
        assert f"Bitte geben Sie ein Datum zwischen dem {earliest} und dem {latest} ein." in page
        assert "Bleibt stehen" in page and value in r.get_data(as_text=True)
    assert differences(before, snapshot(app)) == []


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_withdrawal_date_outside_the_range_is_refused(app, client, factory, staff, value):
    _team, caseworker, case = staff
    consent = factory.consent(case, factory.agency())
    login_as(client, app, caseworker)
    before = snapshot(app)
    r = post(client, app, f"/faelle/{case.id}/einwilligungen/{consent.id}/widerrufen", {"withdrawn_on": value})
    assert r.status_code == 400
    assert "Bitte geben Sie ein Datum zwischen dem" in text_of(r)
    assert differences(before, snapshot(app)) == []


@pytest.mark.parametrize(
    "date_from, date_to",
    [
        ("0001-01-01", "0001-06-01"),
        ("9999-01-01", "9999-12-31"),
        ("0001-01-01", "9999-12-31"),
        ("01.01.0001", "01.06.0001"),
    ],
)
def test_export_with_extreme_dates_is_refused_in_german(app, client, factory, date_from, date_to):
    login_as(client, app, factory.user("team_lead"))
    before = snapshot(app)
    r = post(client, app, "/protokolle/export", {"date_from": date_from, "date_to": date_to})
    assert r.status_code == 400
    today = berlin_today()
    assert (
        f"Bitte geben Sie ein Datum zwischen dem {de(add_years(today, -10))} und dem {de(add_years(today, 1))} ein."
    ) in text_of(r)
    assert differences(before, snapshot(app)) == []


def test_export_at_the_edges_of_the_range_is_answered(app, client, factory):
    login_as(client, app, factory.user("team_lead"))
    today = berlin_today()
    r = post(
        client,
        app,
        "/protokolle/export",
        {"date_from": add_years(today, 1).isoformat(), "date_to": add_years(today, 1).isoformat()},
    )
    # Accepted, not refused: there are no minutes that far ahead, and the page says so
    # (no empty ZIP, issue 13).
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert "Keine abgeschlossenen Protokolle vom" in text_of(r)
    assert "Bitte geben Sie ein Datum zwischen dem" not in text_of(r)
    r = post(
        client,
        app,
        "/protokolle/export",
        {
            "date_from": add_years(today, -10).isoformat(),
            "date_to": (add_years(today, -10) + timedelta(days=30)).isoformat(),
        },
    )
    assert r.status_code == 200


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_conference_and_measure_dates_keep_their_own_range(app, client, factory, staff, value):
    team, caseworker, case = staff
    location = factory.location()
    login_as(client, app, caseworker)
    message = "Bitte wählen Sie ein Datum zwischen einem Jahr zurück und zwei Jahren voraus."
    r = post(
        client,
        app,
        f"/faelle/{case.id}/konferenzen/neu",
        {
            "occasion": "Fallgespräch",
            "day": value,
            "start_time": "10:00",
            "end_time": "11:00",
            "location_id": str(location.id),
            "agenda": "Situation",
        },
    )
    assert r.status_code == 400 and message in text_of(r)
    conference = factory.conference(case, location=location)
    r = post(
        client,
        app,
        f"/konferenzen/{conference.id}/massnahmen/neu",
        {"what": "Unterlagen sichten", "responsible": "jobcenter", "due_on": value, "status": "agreed"},
    )
    assert r.status_code == 400 and message in text_of(r)


def test_a_checkbox_sent_many_times_is_chosen_once(app):
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from app.forms import MultiCheckboxField

    class F(FlaskForm):
        scope = MultiCheckboxField(choices=[("general", "Allgemein"), ("debt", "Schulden")])

    with app.test_request_context():
        form = F(
            MultiDict([("scope", "debt")] * 5000 + [("scope", "general"), ("scope", "debt")]), meta={"csrf": False}
        )
        assert form.validate()
        assert form.scope.data == ["debt", "general"]
