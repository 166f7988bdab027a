"""The language switch: German by default, English on request, and back."""

import re

import pyotp

from tests.accounts.flows import full_login, logout, session_value
from tests.conftest import csrf_token, login_as, post


def _language(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.get_data(as_text=True)).group(1)


def _switch_button(response) -> str:
    return re.search(r'name="lang" value="([a-z]+)"', response.get_data(as_text=True)).group(1)


def _heading(response) -> str:
    return re.search(r"<h1[^>]*>([^<]+)</h1>", response.get_data(as_text=True)).group(1).strip()


def test_language_switch_to_english_and_back(app, client):
    page = client.get("/anmelden")
    assert _language(page) == "de" and _switch_button(page) == "en"
    assert _heading(page) == "Anmelden"

    r = post(client, app, "/sprache", {"lang": "en", "next": "/anmelden"})
    assert r.status_code == 302 and r.location == "/anmelden"
    page = client.get("/anmelden")
    assert _language(page) == "en" and _switch_button(page) == "de"
    assert 'lang="de"><span class="kern-label">Deutsch</span>' in page.get_data(as_text=True)
    assert _heading(page) == "Log in"

    post(client, app, "/sprache", {"lang": "de", "next": "/anmelden"})
    page = client.get("/anmelden")
    assert _language(page) == "de" and _switch_button(page) == "en"
    assert _heading(page) == "Anmelden"


def test_the_switch_form_on_a_page_points_back_to_it(app, client, factory):
    login_as(client, app, factory.user())
    page = client.get("/konto").get_data(as_text=True)
    assert re.search(r'name="next" value="/konto\??"', page)
    r = post(client, app, "/sprache", {"lang": "en", "next": "/konto"})
    assert r.location == "/konto"
    assert _language(client.get("/konto")) == "en"


def test_chosen_language_survives_log_in_and_log_out(app, client, factory, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    post(client, app, "/sprache", {"lang": "en"})
    full_login(client, app, user.email, secret, totp_clock)
    assert _language(client.get("/")) == "en"
    r = logout(client, app)
    page = client.get(r.location)
    assert _language(page) == "en"
    assert "You have been logged out." in page.get_data(as_text=True)


def test_unknown_language_and_foreign_next_are_ignored(app, client):
    r = post(client, app, "/sprache", {"lang": "fr", "next": "https://evil.example/"})
    assert r.status_code == 302 and r.location == "/"
    assert session_value(client, "lang") is None
    r = post(client, app, "/sprache", {"lang": "en", "next": "//evil.example"})
    assert r.location == "/"
    assert session_value(client, "lang") == "en"


def test_language_switch_needs_post_with_csrf_token(app, client):
    assert client.get("/sprache").status_code == 405
    r = client.post("/sprache", data={"lang": "en"})
    assert r.status_code == 400
    assert session_value(client, "lang") is None
    r = client.post("/sprache", data={"lang": "en", "csrf_token": csrf_token(client, app)})
    assert r.status_code == 302
    assert session_value(client, "lang") == "en"
