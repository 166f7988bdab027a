"""Consent-exact sharing in the browser: the caseworker tags an agenda item "Schulden", looks at
the conference as the education provider sees it (the item is not there), and the provider's
partner, logged in, does not see it either. Every page is checked with axe-core."""

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from app.clock import berlin_today
from tests.browser.conftest import follow, log_in, visit

pytestmark = pytest.mark.browser


def test_a_debt_item_is_hidden_from_the_education_provider_in_the_preview_and_for_real(app, factory, new_context):
    team = factory.team("Team Nord")
    worker = factory.user("caseworker", team=team, name="Clara Fallmann", totp_secret=pyotp.random_base32())
    education = factory.agency("Bildungswerk Main", type="education")
    debt = factory.agency("Schuldnerberatung Nordend")
    debt.reveals = ["debt"]
    factory.s.commit()
    case = factory.case(team=team, caseworker=worker)
    factory.consent(case, education, scope=("general", "work", "residence"))
    factory.consent(case, debt, scope=("general", "debt"))
    factory.location("Jobcenter, Raum 2.14")
    partner = factory.user("partner", agency=education, name="Berna Bildung", totp_secret=pyotp.random_base32())

    staff = new_context().new_page()
    log_in(staff, worker)
    visit(staff, f"/faelle/{case.id}/konferenzen/neu")
    staff.get_by_label("Anlass").fill("Erstes Fallgespräch")
    staff.get_by_label("Datum").fill((berlin_today() + timedelta(days=7)).isoformat())
    staff.get_by_label("Beginn").fill("10:00")
    staff.get_by_label("Ende").fill("11:00")
    staff.get_by_label("Ort").select_option(label="Jobcenter, Raum 2.14")
    rows = (
        ("Begrüßung und Anlass", "Allgemeine Lebenssituation"),
        ("Stand der Schuldenregulierung", "Schulden"),
        ("Bewerbungen und Qualifizierung", "Qualifikation und Arbeit"),
        ("", None),
    )
    for n, (title, category) in enumerate(rows, start=1):
        staff.get_by_role("textbox", name=re.compile(f"^Tagesordnungspunkt {n}( |$)")).fill(title)
        if category:
            staff.get_by_role("group", name=f"Datenkategorien von Punkt {n}").get_by_label(category).check()
    follow(staff, staff.get_by_role("button", name="Fallkonferenz planen"))
    follow(staff, staff.get_by_role("link", name="Einrichtungen einladen"))
    invite = staff.get_by_role("group", name="Einrichtungen einladen")
    invite.get_by_label("Bildungswerk Main").check()
    invite.get_by_label("Schuldnerberatung Nordend").check()
    follow(staff, staff.get_by_role("button", name="Einladungen verschicken"))
    agenda = staff.locator("ol.agenda")
    expect(agenda).to_contain_text("Stand der Schuldenregulierung")
    expect(agenda).to_contain_text("Weitergabe: Schulden")

    # The preview: exactly what the education provider sees, read-only.
    staff.get_by_label("Ansicht für").select_option(label="Bildungswerk Main")
    follow(staff, staff.get_by_role("button", name="Ansicht zeigen"))
    expect(staff.get_by_role("status").first).to_contain_text("Vorschau: So sieht Bildungswerk Main diese Seite.")
    preview_agenda = staff.locator("ol.agenda")
    expect(preview_agenda).to_contain_text("Begrüßung und Anlass")
    expect(preview_agenda).to_contain_text("Bewerbungen und Qualifizierung")
    expect(preview_agenda).not_to_contain_text("Stand der Schuldenregulierung")
    # Its taking part would reveal debt: the debt counselling service is "another agency" there.
    expect(staff.locator("#teilnehmende ~ ul").first).to_contain_text("eine weitere Einrichtung")
    expect(staff.get_by_text("Schuldnerberatung Nordend")).to_have_count(0)
    expect(staff.get_by_role("button", name="Antwort speichern")).to_have_count(0)

    # And the partner itself.
    education_page = new_context().new_page()
    log_in(education_page, partner)
    follow(education_page, education_page.get_by_role("link", name=re.compile(case.pseudonym)).first)
    expect(education_page.locator("ol.agenda")).to_contain_text("Bewerbungen und Qualifizierung")
    expect(education_page.locator("ol.agenda")).not_to_contain_text("Stand der Schuldenregulierung")
    expect(education_page.get_by_text("Schuldnerberatung Nordend")).to_have_count(0)
