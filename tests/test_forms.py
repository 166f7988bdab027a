"""Shared form pieces (app/forms.py): free text normalised once, control and bidi characters
refused, the guard only on fields that passed their own checks, the directory's people not
flagged. Through the routes, as a partner writes a note or answers an invitation."""

import importlib
import inspect
import pkgutil

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.fields import HiddenField

import app as app_package
from app import pii
from app.conferences.models import Invitation, Note
from app.forms import GuardedForm, TextForm, normalise_text
from tests.conftest import login_as, post, text_of

NOTE = {"categories": ["debt"], "visibility": "shared"}


@pytest.fixture
def partner_scene(factory, session):
    team = factory.team("Team Nord")
    caseworker = factory.user("caseworker", team=team, name="Clara Fallmanagerin")
    case = factory.case(caseworker=caseworker, district=factory.district("Nordend"))
    agency = factory.agency("Bildungswerk Main")
    factory.consent(case, agency, scope=("general", "work", "debt"))
    partner = factory.user("partner", agency=agency, name="Berna Bildung (Demo)")
    conference = factory.conference(case, location=factory.location("Raum 2.14"))
    factory.invitation(conference, agency)
    session.commit()
    return conference, partner


def _notes(session) -> list[Note]:
    notes = session.execute(select(Note)).scalars().all()
    session.commit()
    return notes


# -- normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("0170\u200b1234567", "01701234567"),  # zero-width space
        ("Ter\u00admin", "Termin"),  # soft hyphen
        ("ayse.kaya\uff20gmx.de", "ayse.kaya@gmx.de"),  # full-width "@"
        ("\uff10\uff11\uff17\uff10 1234567", "0170 1234567"),  # full-width digits
        ("Wort\u2060verbinder\ufeff", "Wortverbinder"),
        ("\u200eLRM und RLM\u200f", "LRM und RLM"),
    ],
)
def test_normalise_text(raw, clean):
    assert normalise_text(raw) == clean


@pytest.mark.parametrize(
    "hidden, kind",
    [
        ("Mail: ayse.kaya\uff20gmx.de", "eine E-Mail-Adresse"),
        ("Rückruf unter 0170\u200b1234567", "eine Telefonnummer"),
        ("Rückruf unter \uff10\uff11\uff17\uff10 1234567", "eine Telefonnummer"),
        ("Frau Yıl\u00admaz kommt mit.", "einen Namen"),
    ],
)
def test_hidden_personal_data_is_found_after_normalisation(app, client, session, partner_scene, hidden, kind):
    conference, partner = partner_scene
    login_as(client, app, partner)
    response = post(client, app, f"/konferenzen/{conference.id}/stellungnahmen/neu", {**NOTE, "body": hidden})
    assert response.status_code == 400
    assert f"Enthält vermutlich {kind}" in text_of(response)
    assert _notes(session) == []


def test_a_note_is_stored_normalised(app, client, session, partner_scene):
    conference, partner = partner_scene
    login_as(client, app, partner)
    body = "Die Schulden\u00adregulierung ist \u200bbegonnen, Rate \uff12\uff15 Euro."
    assert (
        post(client, app, f"/konferenzen/{conference.id}/stellungnahmen/neu", {**NOTE, "body": body}).status_code == 302
    )
    [note] = _notes(session)
    assert note.body == "Die Schuldenregulierung ist begonnen, Rate 25 Euro."


@pytest.mark.parametrize("control", ["\u202e", "\u202a", "\u2066", "\u2069"])
def test_bidi_controls_are_refused_in_german_and_the_input_kept(app, client, session, partner_scene, control):
    conference, partner = partner_scene
    login_as(client, app, partner)
    body = f"Rate {control}52 Euro monatlich"
    response = post(client, app, f"/konferenzen/{conference.id}/stellungnahmen/neu", {**NOTE, "body": body})
    assert response.status_code == 400
    assert "Steuerzeichen, die die Schreibrichtung umkehren" in text_of(response)
    assert "52 Euro monatlich" in response.get_data(as_text=True)
    assert _notes(session) == []


def test_every_form_with_free_text_is_a_text_form():
    """One place for normalisation: a new form with a text field cannot forget it.

    The log-in, code and password forms of app/accounts are left out: they carry
    credentials and codes, no free text that is stored or guarded; so are search forms
    sent by GET (no CSRF token), which store nothing.
    """
    for info in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(info.name)
    forms = [
        cls
        for cls in _subclasses(FlaskForm)
        if cls.__module__.startswith("app.")
        and not cls.__module__.startswith("app.accounts")
        and getattr(cls.Meta, "csrf", True) is not False
    ]
    assert forms
    for cls in forms:
        text_fields = [
            name
            for name, value in inspect.getmembers(cls)
            if getattr(value, "field_class", None) is not None
            and issubclass(value.field_class, StringField)
            and not issubclass(value.field_class, (PasswordField, HiddenField))
        ]
        if text_fields:
            assert issubclass(cls, TextForm), (cls, text_fields)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# -- the guard only where it is needed (issue 10, finding 1) ------------------------------------


def test_a_huge_note_is_refused_without_running_the_guard(app, client, session, partner_scene):
    conference, partner = partner_scene
    login_as(client, app, partner)
    # The report's 460 KB body is refused by the request limit (413, tests/test_request_limits.py);
    # a body below that limit but far beyond the field's length is refused by the length check.
    body = "Hauptstraße 1 " * 10000  # encoded in the request about 190 KB
    assert 100_000 < len(body.encode()) < app.config["MAX_CONTENT_LENGTH"]
    calls = pii.usage.calls
    response = post(client, app, f"/konferenzen/{conference.id}/stellungnahmen/neu", {**NOTE, "body": body})
    assert response.status_code == 400
    assert "10000" in text_of(response)
    assert pii.usage.calls == calls  # the length check refused it; the guard never saw it
    assert _notes(session) == []


def test_the_guard_runs_on_a_field_that_passed_its_checks(app, client, session, partner_scene):
    conference, partner = partner_scene
    login_as(client, app, partner)
    calls = pii.usage.calls
    response = post(
        client, app, f"/konferenzen/{conference.id}/stellungnahmen/neu", {**NOTE, "body": "Rückruf unter 0170 1234567."}
    )
    assert response.status_code == 400
    assert pii.usage.calls == calls + 1


# -- the directory's own people (issue 12) ----------------------------------------------------


def test_a_partner_may_name_who_of_its_agency_takes_part(app, client, session, partner_scene):
    conference, partner = partner_scene
    login_as(client, app, partner)
    response = post(
        client,
        app,
        f"/konferenzen/{conference.id}/antwort",
        {"answer": "accepted", "comment": "Frau Bildung nimmt teil, Rückfragen an Berna Bildung."},
    )
    assert response.status_code == 302
    answer = session.execute(select(Invitation.answer_comment)).scalar_one()
    session.commit()
    assert answer == "Frau Bildung nimmt teil, Rückfragen an Berna Bildung."


def test_the_person_is_still_flagged_beside_the_professionals(app, client, session, partner_scene):
    conference, partner = partner_scene
    login_as(client, app, partner)
    response = post(
        client,
        app,
        f"/konferenzen/{conference.id}/stellungnahmen/neu",
        {**NOTE, "body": "Frau Bildung hat mit Emine Doğan gesprochen."},
    )
    assert response.status_code == 400
    assert "Enthält vermutlich einen Namen: „Em" in text_of(response)


def test_an_inactive_user_is_no_longer_known(app, client, session, factory, partner_scene):
    conference, partner = partner_scene
    factory.user("caseworker", name="Olga Ausgeschieden", active=False)
    session.commit()
    login_as(client, app, partner)
    response = post(
        client,
        app,
        f"/konferenzen/{conference.id}/stellungnahmen/neu",
        {**NOTE, "body": "Frau Ausgeschieden hat die Unterlagen."},
    )
    assert response.status_code == 400
    assert session.execute(select(func.count()).select_from(Note)).scalar_one() == 0
    session.commit()


def test_guarded_forms_are_text_forms():
    assert issubclass(GuardedForm, TextForm)
