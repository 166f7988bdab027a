"""Request limits (issue 10, findings 1 and 2): the body's size, the number of multipart parts,
and file parts, refused before any form is read, with a German page and nothing saved."""

import io

from sqlalchemy import select

from app.conferences.models import Note
from tests.conftest import csrf_token, login_as, text_of
from tests.dbstate import differences, scalars, snapshot

NOTE_460_KB = "Hauptstraße 1 " * 34000  # 476,000 bytes in UTF-8, more once form-encoded


def _partner_with_conference(factory):
    team = factory.team()
    case = factory.case(team=team)
    agency = factory.agency()
    factory.consent(case, agency)
    conference = factory.conference(case)
    factory.invitation(conference, agency)
    return factory.user("partner", agency=agency), conference


def _note(body):
    return {"body": body, "categories": ["general"], "visibility": "shared"}


def test_a_460_kb_note_is_refused_with_413_before_the_form_is_read(app, client, factory, session):
    partner, conference = _partner_with_conference(factory)
    login_as(client, app, partner)
    url = f"/konferenzen/{conference.id}/stellungnahmen/neu"
    before = snapshot(app)

    r = client.post(url, data={**_note(NOTE_460_KB), "csrf_token": csrf_token(client, app)})

    assert len(NOTE_460_KB.encode()) > app.config["MAX_CONTENT_LENGTH"]
    assert r.status_code == 413
    page = text_of(r)
    assert "Anfrage zu groß" in page and "nichts wurde gespeichert" in page
    assert differences(before, snapshot(app)) == []
    # The same request with a note of ordinary length is read and saved.
    r = client.post(url, data={**_note("Kurze Stellungnahme."), "csrf_token": csrf_token(client, app)})
    assert r.status_code == 302
    assert scalars(session, select(Note.body)) == ["Kurze Stellungnahme."]


def test_a_body_beyond_the_limit_is_refused_as_multipart_too(app, client, factory):
    partner, conference = _partner_with_conference(factory)
    login_as(client, app, partner)
    r = client.post(
        f"/konferenzen/{conference.id}/stellungnahmen/neu",
        content_type="multipart/form-data",
        data={**_note(NOTE_460_KB), "csrf_token": csrf_token(client, app)},
    )
    assert r.status_code == 413


def test_the_limit_is_configurable(app, client, factory, monkeypatch):
    partner, conference = _partner_with_conference(factory)
    login_as(client, app, partner)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    r = client.post(
        f"/konferenzen/{conference.id}/stellungnahmen/neu",
        data={**_note("Eine Stellungnahme. " * 200), "csrf_token": csrf_token(client, app)},
    )
    assert r.status_code == 413


def test_more_multipart_parts_than_allowed_are_refused(app, client):
    data = {f"feld{i}": "x" for i in range(5000)}
    data["csrf_token"] = csrf_token(client, app)
    r = client.post("/anmelden", data=data, content_type="multipart/form-data")
    assert r.status_code == 413
    assert "Anfrage zu groß" in text_of(r)


def test_5000_form_encoded_fields_are_no_error(app, client):
    data = {f"feld{i}": "x" for i in range(5000)}
    data.update(email="niemand@example.org", password="falsch", csrf_token=csrf_token(client, app))
    assert client.post("/anmelden", data=data).status_code == 401


def test_a_file_where_text_is_expected_is_refused_before_log_in(app, client, factory):
    """Once, for every route: the log-in and reset forms are reachable without an account."""
    user = factory.user()
    for url, fields in (("/anmelden", ("email", "password")), ("/passwort-vergessen", ("email",))):
        before = snapshot(app)
        data = {name: (io.BytesIO(b"x" * 300), "datei.txt") for name in fields}
        data["csrf_token"] = csrf_token(client, app)
        r = client.post(url, data=data, content_type="multipart/form-data")
        assert r.status_code == 400
        assert "Diese Anwendung nimmt keine Dateien an." in text_of(r)
        assert differences(before, snapshot(app)) == []
    # One text field and one file: still refused, even when the text would log in.
    data = {"email": user.email, "password": (io.BytesIO(b"x"), "p.txt"), "csrf_token": csrf_token(client, app)}
    assert client.post("/anmelden", data=data, content_type="multipart/form-data").status_code == 400


def test_a_multipart_form_without_files_is_read_as_usual(app, client, factory):
    user = factory.user()
    r = client.post(
        "/anmelden",
        content_type="multipart/form-data",
        data={"email": user.email, "password": "falsch", "csrf_token": csrf_token(client, app)},
    )
    assert r.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in text_of(r)
