"""Four eyes through the real pages: an admin proposes a new caseworker, the team lead confirms
it on the start page (every page checked with axe-core)."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import follow, log_in, visit
from tests.conftest import outbox_messages

pytestmark = pytest.mark.browser


def test_admin_proposes_and_team_lead_confirms(factory, new_context, app):
    team = factory.team("Team Nord")
    admin = factory.user("admin", name="Ada Admin", totp_secret=pyotp.random_base32())
    lead = factory.user("team_lead", team=team, name="Tanja Teamleitung", totp_secret=pyotp.random_base32())

    page = new_context().new_page()
    log_in(page, admin)
    visit(page, "/verwaltung/benutzer/neu")
    page.get_by_label("Name").fill("Nina Neu")
    page.get_by_label("E-Mail-Adresse").fill("nina@jobcenter.example")
    page.get_by_label("Rolle").select_option(label="Fallmanagement")
    page.get_by_label("Team").select_option(label="Team Nord")
    follow(page, page.get_by_role("button", name="Speichern"))
    expect(page.get_by_role("status")).to_contain_text("sobald eine Teamleitung des Teams es bestätigt")
    follow(page, page.get_by_role("link", name="Nina Neu"))
    expect(page.get_by_text("Wartet auf Bestätigung durch die Teamleitung")).to_be_visible()

    page = new_context().new_page()
    log_in(page, lead)
    section = page.get_by_role("region", name="Kontoänderungen zur Bestätigung")
    expect(section.get_by_role("table")).to_contain_text("nina@jobcenter.example")
    expect(section.get_by_role("table")).to_contain_text("von Ada Admin")
    # The button names the account for screen readers ("Bestätigen: Nina Neu").
    follow(page, section.get_by_role("button", name=re.compile(r"^Bestätigen\W+Nina Neu$")))
    expect(page.get_by_role("status")).to_contain_text("Das Konto ist bestätigt")
    expect(page.get_by_role("region", name="Kontoänderungen zur Bestätigung")).to_have_count(0)
    assert "nina@jobcenter.example" in [m["To"] for m in outbox_messages(app)]
