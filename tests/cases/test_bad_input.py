"""Bad input on every case and consent form: a German message, 4xx, the input kept, nothing saved, never 500."""

import html
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cases.models import Case
from app.clock import berlin_today
from app.forms import normalise_text
from tests.cases.conftest import case_data, count
from tests.conftest import login_as, post
from tests.dbstate import differences, snapshot

REQUIRED = "Bitte füllen Sie dieses Feld aus."
BAD_CHOICE = "Bitte wählen Sie einen der angebotenen Einträge."
NOT_A_NUMBER = "Bitte wählen Sie einen der angebotenen Einträge."
NOT_A_DATE = "Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ)."


def page_text(response) -> str:
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def refused(app, client, url, data, status, message, kept=None):
    before = snapshot(app)
    r = post(client, app, url, data)
    page = page_text(r)
    assert r.status_code == status, page[:500]
    assert message in page
    if kept is not None:
        assert kept in page
    assert differences(before, snapshot(app)) == []
    return page


@pytest.fixture
def case(factory, team, caseworker, district):
    return factory.case(team=team, caseworker=caseworker, district=district)


@pytest.fixture
def logged_in(app, client, caseworker):
    login_as(client, app, caseworker)
    return client


# --- the case form (open and edit) ----------------------------------------------------------

LONG = "Lange Beschreibung ohne Personenbezug. " * 120  # more than 4000 characters

CASE_FORM_CASES = [
    ("empty", lambda d: dict.fromkeys(case_data(d), ""), REQUIRED, None),
    ("summary whitespace only", lambda d: case_data(d, summary="   \n  "), REQUIRED, None),
    (
        "summary too long",
        lambda d: case_data(d, summary=LONG),
        "Feld kann nicht länger als 4000 Zeichen sein.",
        "Lange Beschreibung ohne Personenbezug.",
    ),
    ("goals too long", lambda d: case_data(d, goals=LONG), "Feld kann nicht länger als 4000 Zeichen sein.", None),
    (
        "reference too long",
        lambda d: case_data(d, internal_reference="1" * 41),
        "Feld kann nicht länger als 40 Zeichen sein.",
        "1" * 41,
    ),
    ("district not a number", lambda d: case_data(d, district_id="abc"), NOT_A_NUMBER, None),
    ("unknown district", lambda d: case_data(d, district_id="999999"), BAD_CHOICE, None),
    ("unknown age band", lambda d: case_data(d, age_band="42"), BAD_CHOICE, None),
    ("unknown household", lambda d: case_data(d, household_type="villa"), BAD_CHOICE, None),
    ("unknown obstacle", lambda d: case_data(d, obstacles=["debt", "gossip"]), "gossip", None),
    (
        "script in the reference",
        lambda d: case_data(d, internal_reference="<script>alert(1)</script>"),
        "Bitte nur Buchstaben, Ziffern",
        "<script>alert(1)</script>",
    ),
    (
        "NUL byte",
        lambda d: case_data(d, summary="Sucht\x00Arbeit"),
        "Der Text enthält unzulässige Steuerzeichen.",
        None,
    ),
    (
        "name in the summary",
        lambda d: case_data(d, summary="Frau Yılmaz sucht Arbeit."),
        "Enthält vermutlich einen Namen",
        "Frau Yılmaz sucht Arbeit.",
    ),
]


@pytest.mark.parametrize("name,data,message,kept", CASE_FORM_CASES, ids=[c[0] for c in CASE_FORM_CASES])
def test_open_case_refuses_bad_input(app, logged_in, district, name, data, message, kept):
    refused(app, logged_in, "/faelle/neu", data(district), 400, message, kept)


@pytest.mark.parametrize("name,data,message,kept", CASE_FORM_CASES, ids=[c[0] for c in CASE_FORM_CASES])
def test_edit_case_refuses_bad_input(app, logged_in, case, district, name, data, message, kept):
    refused(app, logged_in, f"/faelle/{case.id}/bearbeiten", {**data(district), "version": "1"}, 400, message, kept)


def test_edit_with_a_version_that_is_not_a_number(app, logged_in, case, district):
    refused(
        app,
        logged_in,
        f"/faelle/{case.id}/bearbeiten",
        case_data(district, version="zwei"),
        400,
        "Keine gültige, ganze Zahl.",
        None,
    )


def test_unknown_and_foreign_case_ids_are_not_found(app, logged_in, factory, district):
    foreign = factory.case()
    for case_id in (999999, foreign.id):
        for suffix in ("", "/bearbeiten", "/zustaendigkeit", "/schliessen", "/einwilligungen/neu"):
            assert logged_in.get(f"/faelle/{case_id}{suffix}").status_code == 404
        refused(
            app,
            logged_in,
            f"/faelle/{case_id}/bearbeiten",
            case_data(district, version="1"),
            404,
            "Diese Seite gibt es nicht",
        )
    assert logged_in.get("/faelle/abc").status_code == 404


# --- reassign and close ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,message", [("", REQUIRED), ("abc", NOT_A_NUMBER), ("999999", BAD_CHOICE), ("1.5", NOT_A_NUMBER)]
)
def test_reassign_refuses_bad_input(app, logged_in, case, value, message):
    refused(app, logged_in, f"/faelle/{case.id}/zustaendigkeit", {"caseworker_id": value}, 400, message)


@pytest.mark.parametrize("value,message", [("", REQUIRED), ("fired", BAD_CHOICE), ("<b>x</b>", BAD_CHOICE)])
def test_close_refuses_bad_input(app, logged_in, case, value, message):
    refused(app, logged_in, f"/faelle/{case.id}/schliessen", {"reason": value}, 400, message)


def test_closed_case_refuses_every_form(app, logged_in, factory, team, caseworker, district):
    closed = factory.case(team=team, caseworker=caseworker, district=district, status="closed")
    consent = factory.consent(closed, factory.agency())
    message = "Dieser Fall ist abgeschlossen und kann nicht bearbeitet werden."
    forms = {
        f"/faelle/{closed.id}/bearbeiten": case_data(district, version="1"),
        f"/faelle/{closed.id}/zustaendigkeit": {"caseworker_id": str(caseworker.id)},
        f"/faelle/{closed.id}/einwilligungen/neu": {"agency_id": str(consent.agency_id)},
        f"/faelle/{closed.id}/einwilligungen/{consent.id}/aendern": {"scope": ["debt"]},
        f"/faelle/{closed.id}/einwilligungen/{consent.id}/widerrufen": {"withdrawn_on": berlin_today().isoformat()},
    }
    for url, data in forms.items():
        refused(app, logged_in, url, data, 409, message)
    refused(
        app,
        logged_in,
        f"/faelle/{closed.id}/schliessen",
        {"reason": "work"},
        409,
        "Dieser Fall ist bereits abgeschlossen.",
    )


# --- consents -------------------------------------------------------------------------------


def consent_form(agency=None, **overrides):
    today = berlin_today()
    data = {
        "signed_on": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "scope": ["debt"],
        "proof_reference": "E-Akte, Dokument 12",
        "note": "Notiz bleibt erhalten",
    }
    if agency is not None:
        data["agency_id"] = str(agency.id)
    data.update(overrides)
    return data


def _consent_cases():
    today = berlin_today()
    return [
        ("empty", {"signed_on": "", "valid_until": "", "scope": [], "proof_reference": "", "note": ""}, REQUIRED),
        ("no scope", {"scope": []}, "Bitte wählen Sie mindestens einen Bereich aus."),
        ("unknown scope", {"scope": ["debt", "gossip"]}, "gossip"),
        ("German date typed wrongly", {"signed_on": "31.02.2026"}, NOT_A_DATE),
        ("slashes", {"valid_until": "31/12/2027"}, NOT_A_DATE),
        ("a word", {"signed_on": "gestern"}, NOT_A_DATE),
        (
            "signed in the future",
            {"signed_on": (today + timedelta(days=1)).isoformat()},
            "Das Datum der Unterschrift darf nicht in der Zukunft liegen.",
        ),
        (
            "ends before signed",
            {
                "signed_on": (today - timedelta(days=10)).isoformat(),
                "valid_until": (today - timedelta(days=11)).isoformat(),
            },
            "Das Ende der Gültigkeit liegt vor dem Datum der Unterschrift.",
        ),
        (
            "already expired",
            {
                "signed_on": (today - timedelta(days=10)).isoformat(),
                "valid_until": (today - timedelta(days=1)).isoformat(),
            },
            "Das Ende der Gültigkeit liegt in der Vergangenheit.",
        ),
        ("proof too long", {"proof_reference": "A" * 201}, "Feld kann nicht länger als 200 Zeichen sein."),
        ("note too long", {"note": "Notiz " * 400}, "Feld kann nicht länger als 2000 Zeichen sein."),
        ("phone in the note", {"note": "Rückruf unter 0170 1234567"}, "Enthält vermutlich eine Telefonnummer"),
        ("NUL in the proof", {"proof_reference": "Akte\x00"}, "Der Text enthält unzulässige Steuerzeichen."),
    ]


CONSENT_CASES = _consent_cases()


@pytest.mark.parametrize("name,overrides,message", CONSENT_CASES, ids=[c[0] for c in CONSENT_CASES])
def test_record_consent_refuses_bad_input(app, logged_in, factory, case, name, overrides, message):
    agency = factory.agency()
    data = consent_form(agency, **overrides)
    kept = data["note"] if data["note"] and len(data["note"]) < 100 else None
    refused(app, logged_in, f"/faelle/{case.id}/einwilligungen/neu", data, 400, message, kept)


@pytest.mark.parametrize("name,overrides,message", CONSENT_CASES, ids=[c[0] for c in CONSENT_CASES])
def test_change_consent_refuses_bad_input(app, logged_in, factory, case, name, overrides, message):
    consent = factory.consent(case, factory.agency())
    refused(
        app,
        logged_in,
        f"/faelle/{case.id}/einwilligungen/{consent.id}/aendern",
        consent_form(**overrides),
        400,
        message,
    )


@pytest.mark.parametrize("value,message", [("", REQUIRED), ("abc", NOT_A_NUMBER), ("999999", BAD_CHOICE)])
def test_record_consent_for_an_unknown_agency(app, logged_in, factory, case, value, message):
    inactive = factory.agency()
    inactive.active = False
    factory.s.commit()
    refused(app, logged_in, f"/faelle/{case.id}/einwilligungen/neu", consent_form(agency_id=value), 400, message)
    refused(app, logged_in, f"/faelle/{case.id}/einwilligungen/neu", consent_form(inactive), 400, BAD_CHOICE)


def test_consent_ids_of_another_case_or_team_are_not_found(app, logged_in, factory, team, caseworker, case):
    own_other_case = factory.case(team=team, caseworker=caseworker)
    foreign_case = factory.case()
    agency = factory.agency()
    for consent in (factory.consent(own_other_case, agency), factory.consent(foreign_case, agency)):
        for action, data in (("aendern", consent_form()), ("widerrufen", {"withdrawn_on": berlin_today().isoformat()})):
            url = f"/faelle/{case.id}/einwilligungen/{consent.id}/{action}"
            assert logged_in.get(url).status_code == 404
            refused(app, logged_in, url, data, 404, "Diese Seite gibt es nicht")
    refused(
        app,
        logged_in,
        f"/faelle/{case.id}/einwilligungen/999999/widerrufen",
        {"withdrawn_on": berlin_today().isoformat()},
        404,
        "Diese Seite gibt es nicht",
    )


def test_missing_csrf_token_is_refused_in_german(app, logged_in, district):
    before = snapshot(app)
    r = logged_in.post("/faelle/neu", data=case_data(district))
    assert r.status_code == 400 and "Das Formular war abgelaufen" in page_text(r)
    assert differences(before, snapshot(app)) == []


# --- random text into the case form ------------------------------------------------------------

# Any text a browser can send: every Unicode character except lone surrogates.
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    summary=texts,
    goals=texts,
    reference=st.text(max_size=50),
    district_id=st.none() | st.text(max_size=8),
    age_band=st.sampled_from(["u25", "50plus", "", "x"]) | st.text(max_size=5),
    obstacles=st.lists(st.sampled_from(["debt", "health", "?"]) | st.text(max_size=5), max_size=3),
    confirm=st.booleans(),
)
def test_random_text_in_the_case_form_never_breaks_it(
    app, client, session, caseworker, district, summary, goals, reference, district_id, age_band, obstacles, confirm
):
    login_as(client, app, caseworker)
    before = count(session, Case)
    data = {
        "district_id": str(district.id) if district_id is None else district_id,
        "age_band": age_band,
        "household_type": "single",
        "obstacles": obstacles,
        "summary": summary,
        "goals": goals,
        "internal_reference": reference,
    }
    if confirm:
        data["confirm_not_personal"] = "y"
    r = post(client, app, "/faelle/neu", data)
    assert r.status_code in (302, 400), r.status_code
    after = count(session, Case)
    assert after == before + (1 if r.status_code == 302 else 0)
    if r.status_code == 400:
        assert "Bitte prüfen Sie Ihre Eingaben." in page_text(r)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(summary=texts, goals=texts, reference=st.text(max_size=50), version=st.text(max_size=6) | st.just("1"))
def test_random_text_in_the_edit_form_never_breaks_it(
    app, client, session, factory, team, caseworker, district, summary, goals, reference, version
):
    case = factory.case(team=team, caseworker=caseworker, district=district)
    login_as(client, app, caseworker)
    r = post(
        client,
        app,
        f"/faelle/{case.id}/bearbeiten",
        case_data(
            district,
            summary=summary,
            goals=goals,
            internal_reference=reference,
            version=version,
            confirm_not_personal="y",
        ),
    )
    assert r.status_code in (302, 400, 409), r.status_code
    session.expire_all()
    stored = session.get(Case, case.id)
    session.commit()
    if r.status_code == 302:
        # Free text is stored normalised (NFKC, no invisible characters): app/forms.py.
        assert (stored.summary, stored.goals) == (normalise_text(summary).strip(), normalise_text(goals).strip())
    else:
        assert stored.version == 1
