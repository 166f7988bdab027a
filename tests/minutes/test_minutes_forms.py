"""Bad input on every minutes form: a German message, HTTP 400, the input kept, nothing saved."""

import pytest

from tests.conftest import login_as, post
from tests.dbstate import differences, snapshot
from tests.minutes.conftest import MINUTES_DATA, finalised, latest, page_url, save_draft

TOO_LONG = "Ä" * 20001
CONTROL = "Text mit\x00Nullbyte"


def assert_refused(app, before, response, message, kept=()):
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page, message
    for value in kept:
        assert value in page, value
    assert not differences(before, snapshot(app))


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("summary", TOO_LONG, "nicht länger als 20000 Zeichen"),
        ("decisions-0-text", "Ä" * 2001, "nicht länger als 2000 Zeichen"),
        ("next_date_note", "N" * 301, "nicht länger als 300 Zeichen"),
        ("summary", CONTROL, "Der Text enthält unzulässige Steuerzeichen."),
        ("decisions-1-text", "Kontakt: max.mustermann@example.org", "E-Mail-Adresse"),
        ("next_date_note", "Termin bei Frau Yılmaz", "Frau Yılmaz"),
    ],
)
def test_the_draft_form(app, client, scene, field, value, message):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    minutes = latest(app, scene.conference)
    before = snapshot(app)
    data = {**MINUTES_DATA, field: value, "version": str(minutes.version)}
    r = post(client, app, page_url(scene.conference), data)
    kept = [v for k, v in MINUTES_DATA.items() if k != field and isinstance(v, str)] + (
        [value] if "\x00" not in value else []
    )
    assert_refused(app, before, r, message, kept)


def test_finalising_with_bad_input_finalises_nothing(app, client, scene):
    login_as(client, app, scene.organiser)
    before = snapshot(app)
    r = save_draft(client, app, scene.conference, summary=TOO_LONG, finalise=True)
    assert_refused(app, before, r, "nicht länger als 20000 Zeichen", [MINUTES_DATA["decisions-0-text"]])


@pytest.mark.parametrize(
    "days,message",
    [
        ("", "Bitte füllen Sie dieses Feld aus."),
        ("sieben", "Bitte geben Sie eine ganze Zahl ein."),
        ("0", "Bitte wählen Sie eine Frist zwischen 1 und 30 Tagen."),
        ("31", "Bitte wählen Sie eine Frist zwischen 1 und 30 Tagen."),
    ],
)
def test_the_share_form(app, client, scene, days, message):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    minutes = latest(app, scene.conference)
    before = snapshot(app)
    r = post(client, app, f"/protokolle/{minutes.id}/teilen", {"days": days})
    assert_refused(app, before, r, message, [f'value="{days}"'] if days else [])


@pytest.mark.parametrize(
    "body,message",
    [
        ("", "Bitte füllen Sie dieses Feld aus."),
        ("A" * 5001, "nicht länger als 5000 Zeichen"),
        (CONTROL, "Der Text enthält unzulässige Steuerzeichen."),
        ("Bitte Herrn Dr. Weber anrufen.", "Herrn Dr. Weber"),
    ],
)
def test_the_comment_form(app, client, scene, body, message):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    minutes = latest(app, scene.conference)
    post(client, app, f"/protokolle/{minutes.id}/teilen", {"days": "7"})
    login_as(client, app, scene.partner_debt)
    before = snapshot(app)
    r = post(client, app, f"/protokolle/{minutes.id}/anmerkungen", {"body": body})
    assert_refused(app, before, r, message, [body] if body and "\x00" not in body else [])


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("reason", "", "Bitte füllen Sie dieses Feld aus."),
        ("reason", "R" * 2001, "nicht länger als 2000 Zeichen"),
        ("reason", "Korrektur nach Hinweis von Frau Yılmaz.", "Frau Yılmaz"),
        ("summary", TOO_LONG, "nicht länger als 20000 Zeichen"),
    ],
)
def test_the_correction_form(app, client, scene, field, value, message):
    minutes = finalised(client, app, scene)
    before = snapshot(app)
    data = {**MINUTES_DATA, "reason": "Tippfehler korrigiert.", field: value, "version": str(minutes.version)}
    r = post(client, app, f"/protokolle/{minutes.id}/korrektur", data)
    assert_refused(
        app, before, r, message, [v for k, v in data.items() if k not in (field, "version") and isinstance(v, str)]
    )


def test_an_expired_form_token_changes_nothing(app, client, scene):
    login_as(client, app, scene.organiser)
    before = snapshot(app)
    r = client.post(page_url(scene.conference), data={**MINUTES_DATA, "finalise": "1"})
    assert r.status_code == 400 and "Formular abgelaufen" in r.get_data(as_text=True)
    assert not differences(before, snapshot(app))
