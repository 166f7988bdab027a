"""The footer's public pages (issue 13): Barrierefreiheit, Datenschutz, Impressum and Leichte
Sprache, without log-in, with texts configurable per deployment."""

import re

import pytest

from app.public_pages import blocks
from tests.conftest import login_as, text_of

PAGES = {
    "/barrierefreiheit": "Erklärung zur Barrierefreiheit",
    "/datenschutz": "Datenschutz",
    "/impressum": "Impressum",
    "/leichte-sprache": "Leichte Sprache",
}


@pytest.mark.parametrize("path,title", PAGES.items())
def test_public_pages_need_no_log_in_and_are_linked_from_every_footer(client, path, title):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<h1 class="kern-heading-large">{title}</h1>' in html
    footer = re.search(r'<footer class="site-footer">(.*?)</footer>', html, re.S).group(1)
    for other in PAGES:
        assert f'href="{other}"' in footer
    assert f'href="{path}" aria-current="page"' in footer


def test_the_footer_is_on_the_log_in_page_and_on_pages_behind_it(app, client, factory):
    assert 'href="/barrierefreiheit"' in client.get("/anmelden").get_data(as_text=True)
    login_as(client, app, factory.user("caseworker"))
    html = client.get("/faelle").get_data(as_text=True)
    assert all(f'href="{path}"' in html for path in PAGES)


def _configure(monkeypatch, app, **values):
    for key, value in values.items():
        monkeypatch.setitem(app.config, key, value)


def test_the_accessibility_statement_names_the_feedback_contact_and_the_enforcement_body(app, client, monkeypatch):
    _configure(
        monkeypatch, app, ACCESSIBILITY_CONTACT_EMAIL="barrieren@example.org", ACCESSIBILITY_CONTACT_PHONE="069 1234-0"
    )
    body = text_of(client.get("/barrierefreiheit"))
    html = client.get("/barrierefreiheit").get_data(as_text=True)
    assert 'href="mailto:barrieren@example.org"' in html and "069 1234-0" in body
    assert "BITV 2.0" in body and "HVBIT" in body and "HessBGG" in body
    assert "Durchsetzungs- und Überwachungsstelle" in body and 'href="https://lbit.hessen.de"' in html
    assert "Nicht barrierefreie Inhalte" in body and "sechs Wochen" in body


def test_a_deployment_replaces_a_text_with_plain_text_never_markup(app, client, monkeypatch):
    texts = {
        "impressum": {
            "de": "## Herausgeber\nStadt Testhausen\nRathausplatz 1\n\n- Punkt eins\n- <script>alert(1)</script>",
            "en": "## Publisher\nTown of Testhausen",
        }
    }
    _configure(monkeypatch, app, PUBLIC_PAGE_TEXTS=texts)
    html = client.get("/impressum").get_data(as_text=True)
    assert '<h2 class="kern-heading-medium">Herausgeber</h2>' in html
    assert '<p class="kern-body">Stadt Testhausen Rathausplatz 1</p>' in html
    assert "<li>Punkt eins</li>" in html and "<script>alert(1)" not in html and "&lt;script&gt;" in html
    # The other pages keep their default texts.
    assert "Herausgeber" not in client.get("/datenschutz").get_data(as_text=True)
    with client.session_transaction() as s:
        s["lang"] = "en"
    assert '<h2 class="kern-heading-medium">Publisher</h2>' in client.get("/impressum").get_data(as_text=True)


def test_the_details_come_from_the_configuration(app, client, monkeypatch):
    _configure(
        monkeypatch,
        app,
        ORGANISATION_NAME="Jobcenter Testhausen",
        ORGANISATION_ADDRESS="Hauptstraße 5, 12345 Testhausen",
    )
    for path in ("/impressum", "/datenschutz", "/barrierefreiheit"):
        body = text_of(client.get(path))
        assert "Jobcenter Testhausen" in body and "Hauptstraße 5, 12345 Testhausen" in body, path


def test_english_pages(client):
    with client.session_transaction() as s:
        s["lang"] = "en"
    assert "Accessibility statement" in text_of(client.get("/barrierefreiheit"))
    assert "Easy-to-read" in text_of(client.get("/leichte-sprache"))


def test_the_easy_read_page_uses_short_sentences(client):
    article = re.search(r"<article.*?</article>", client.get("/leichte-sprache").get_data(as_text=True), re.S).group(0)
    sentences = [s for s in re.split(r"(?<=[.?!:])\s+", re.sub(r"<[^>]+>", " ", article)) if s.strip()]
    assert sentences and max(len(s.split()) for s in sentences) <= 15


def test_blocks_of_plain_text():
    assert [(b.kind, b.text, b.items) for b in blocks("## Titel\nZeile 1\nZeile 2\n\n- a\n- b\n\nEnde")] == [
        ("heading", "Titel", []),
        ("paragraph", "Zeile 1 Zeile 2", []),
        ("list", "", ["a", "b"]),
        ("paragraph", "Ende", []),
    ]


def test_the_favicon_is_linked_and_served(client):
    html = client.get("/anmelden").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in html
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200 and b"<svg" in response.data
