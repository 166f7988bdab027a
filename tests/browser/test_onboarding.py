"""An admin and a new partner user on their first log-ins, through the real pages."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import follow, visit
from tests.conftest import PASSWORD, outbox_messages

pytestmark = pytest.mark.browser


def log_in(page, email, password):
    visit(page, "/")
    expect(page).to_have_url(re.compile(r"/anmelden"))
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(password)
    follow(page, page.get_by_role("button", name="Anmelden"))


def enrol_two_factor(page):
    """Sets up the authenticator from the manual key, and reads the recovery codes."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Zwei-Faktor-Anmeldung einrichten")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Sechsstelliger Code aus der Authenticator-App").fill(pyotp.TOTP(secret).now())
    follow(page, page.get_by_role("button", name="Einrichtung abschließen"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Wiederherstellungscodes")
    expect(page.locator("#recovery-codes li")).not_to_have_count(0)
    follow(page, page.get_by_role("link", name="Weiter"))


def test_admin_sets_up_agency_and_partner_who_then_logs_in(app, factory, new_context, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_TWO_FACTOR", True)
    factory.user(role="admin", email="admin@example.org", name="Ada Admin")

    admin = new_context().new_page()
    log_in(admin, "admin@example.org", PASSWORD)
    enrol_two_factor(admin)
    expect(admin.get_by_role("heading", level=1)).to_have_text("Verwaltung")
    expect(admin.get_by_text("Ada Admin · Administration")).to_be_visible()

    follow(
        admin, admin.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Partnereinrichtungen")
    )
    follow(admin, admin.get_by_role("link", name="Partnereinrichtung anlegen"))
    admin.get_by_label("Name").fill("Schuldnerberatung Nordend")
    admin.get_by_label("Art der Einrichtung").select_option(label="Beratungsstelle")
    admin.get_by_label("Kontakt-E-Mail-Adresse").fill("kontakt@schuldnerberatung.example.org")
    follow(admin, admin.get_by_role("button", name="Speichern"))
    expect(admin.get_by_role("status")).to_have_text("Gespeichert.")
    expect(admin.get_by_role("table")).to_contain_text("Schuldnerberatung Nordend")

    follow(admin, admin.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Benutzer:innen"))
    follow(admin, admin.get_by_role("link", name="Konto anlegen"))
    admin.get_by_label("Name").fill("Paula Partner")
    admin.get_by_label("E-Mail-Adresse").fill("paula@schuldnerberatung.example.org")
    admin.get_by_label("Rolle").select_option(label="Partnereinrichtung")
    admin.get_by_label("Partnereinrichtung").select_option(label="Schuldnerberatung Nordend")
    follow(admin, admin.get_by_role("button", name="Speichern"))
    expect(admin.get_by_role("status")).to_contain_text("Einladung per E-Mail verschickt")
    expect(admin.get_by_role("table")).to_contain_text("paula@schuldnerberatung.example.org")

    [invitation] = [m for m in outbox_messages(app) if m["To"] == "paula@schuldnerberatung.example.org"]
    link = re.search(re.escape(live_server) + r"/konto/link/invite/\S+", invitation.get_content()).group(0)

    partner = new_context().new_page()
    visit(partner, link)
    expect(partner.get_by_role("heading", level=1)).to_have_text("Konto einrichten")
    partner.get_by_label("Neues Passwort", exact=True).fill("Paulas-eigenes-Passwort-7")
    partner.get_by_label("Neues Passwort wiederholen").fill("Paulas-eigenes-Passwort-7")
    follow(partner, partner.get_by_role("button", name="Passwort speichern"))
    expect(partner.get_by_role("status")).to_contain_text("Ihr Passwort ist gesetzt")

    log_in(partner, "paula@schuldnerberatung.example.org", "Paulas-eigenes-Passwort-7")
    enrol_two_factor(partner)
    expect(partner).to_have_url(live_server + "/")
    expect(partner.get_by_role("heading", level=1)).to_have_text("Willkommen, Paula Partner")
    expect(partner.get_by_text("Paula Partner · Partnereinrichtung")).to_be_visible()
