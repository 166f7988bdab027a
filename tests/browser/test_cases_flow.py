"""A caseworker opens a case and records consents; a partner cannot reach the case."""

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from app.clock import berlin_today
from tests.browser.conftest import check_a11y, follow, log_in, visit

pytestmark = pytest.mark.browser

SCREENSHOTS = "/tmp/cases-{}.png"


def german(day):
    return day.strftime("%d.%m.%Y")


def test_caseworker_opens_case_is_warned_of_phone_number_and_records_two_consents(factory, new_context):
    team = factory.team("Team Mitte")
    worker = factory.user("caseworker", team=team, name="Clara Fallmann", totp_secret=pyotp.random_base32())
    factory.district("Lauterborn")
    factory.district("Nordend")
    factory.agency("Schuldnerberatung Nordend")
    factory.agency("Suchtberatung Main")

    page = new_context().new_page()
    log_in(page, worker)
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    follow(page, nav.get_by_role("link", name="Fälle"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Fälle Ihres Teams")
    expect(page.get_by_text("Keine Fälle gefunden.")).to_be_visible()

    follow(page, page.get_by_role("link", name="Fall anlegen"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Fall anlegen")
    page.get_by_label("Stadtteil").select_option(label="Nordend")
    page.get_by_label("Altersgruppe").select_option(label="35 bis 49")
    page.get_by_label("Haushalt").select_option(label="alleinerziehend")
    obstacles = page.get_by_role("group", name="Vermittlungshemmnisse")
    obstacles.get_by_label("Schulden").check()
    obstacles.get_by_label("Kinderbetreuung").check()
    summary = page.get_by_label("Situation")
    summary.fill("Seit zwei Jahren ohne Arbeit, Schulden bei mehreren Gläubigern. Erreichbar unter 0170 1234567.")
    page.get_by_label("Ziele").fill("Teilzeitstelle im Einzelhandel, Schuldenregulierung beginnen.")
    page.get_by_label("Interne Kennung (Nummer im Fachverfahren)").fill("BG-4711/23")
    follow(page, page.get_by_role("button", name="Speichern"))

    # The guard stops the save, names what it found, and keeps every input.
    error_summary = page.locator("#fehler")
    expect(error_summary).to_be_focused()
    expect(error_summary).to_contain_text("Situation: Enthält vermutlich eine Telefonnummer: „0170 …“")
    expect(summary).to_have_attribute("aria-invalid", "true")
    expect(summary).to_have_value(re.compile(r"Erreichbar unter 0170 1234567\.$"))
    expect(page.get_by_label("Stadtteil")).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_label("Stadtteil").locator("option:checked")).to_have_text("Nordend")
    expect(obstacles.get_by_label("Schulden")).to_be_checked()
    expect(page.get_by_label("Interne Kennung (Nummer im Fachverfahren)")).to_have_value("BG-4711/23")
    expect(page.get_by_text("Möglicherweise personenbezogene Angaben")).to_be_visible()
    expect(page.get_by_label("Kein Bezug zur Person – trotzdem speichern")).not_to_be_checked()
    page.screenshot(path=SCREENSHOTS.format("form-guard"), full_page=True)

    summary.fill("Seit zwei Jahren ohne Arbeit, Schulden bei mehreren Gläubigern. Kontakt nur über die Fachkraft.")
    follow(page, page.get_by_role("button", name="Speichern"))
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"Der Fall FK-\d{4}-\d{4} wurde angelegt\."))
    pseudonym = re.search(r"FK-\d{4}-\d{4}", status.inner_text()).group(0)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fall {pseudonym}")
    expect(page.get_by_text("Kontakt nur über die Fachkraft.")).to_be_visible()
    expect(page.get_by_text("Kinderbetreuung, Schulden", exact=True)).to_be_visible()
    expect(page.get_by_text("BG-4711/23")).to_be_visible()  # the owning team sees its reference
    expect(page.get_by_text("Noch keine Einwilligung erfasst")).to_be_visible()
    case_url = page.url

    today = berlin_today()
    half_year = today + timedelta(days=182)

    follow(page, page.get_by_role("link", name="Einwilligung erfassen"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Einwilligung erfassen")
    page.get_by_label("Partnereinrichtung").select_option(label="Schuldnerberatung Nordend")
    expect(page.get_by_label("Unterschrieben am")).to_have_value(today.isoformat())
    expect(page.get_by_label("Gültig bis einschließlich")).to_have_value((today + timedelta(days=365)).isoformat())
    scope = page.get_by_role("group", name=re.compile("Umfang"))
    scope.get_by_label("Allgemeine Lebenssituation").check()
    scope.get_by_label("Schulden").check()
    page.get_by_label("Ablageort der unterschriebenen Erklärung").fill("E-Akte, Dokument 12")
    follow(page, page.get_by_role("button", name="Speichern"))
    expect(page.get_by_role("status")).to_have_text("Die Einwilligung wurde erfasst.")

    follow(page, page.get_by_role("link", name="Einwilligung erfassen"))
    page.get_by_label("Partnereinrichtung").select_option(label="Suchtberatung Main")
    page.get_by_label("Gültig bis einschließlich").fill(half_year.isoformat())
    scope = page.get_by_role("group", name=re.compile("Umfang"))
    scope.get_by_label("Sucht").check()
    scope.get_by_label("Gesundheit").check()
    page.get_by_label("Ablageort der unterschriebenen Erklärung").fill("E-Akte, Dokument 13")
    page.get_by_label("Bemerkung").fill("Gilt zunächst für ein halbes Jahr.")
    follow(page, page.get_by_role("button", name="Speichern"))
    expect(page.get_by_role("status")).to_have_text("Die Einwilligung wurde erfasst.")
    expect(page).to_have_url(case_url + "#einwilligungen")

    consents = page.locator(".consent-list > li")
    expect(consents).to_have_count(2)
    expect(consents.nth(0)).to_contain_text(
        f"Schuldnerberatung Nordend: Datenweitergabe erlaubt bis {german(today + timedelta(days=365))} "
        "für: Allgemeine Lebenssituation, Schulden"
    )
    expect(consents.nth(1)).to_contain_text(
        f"Suchtberatung Main: Datenweitergabe erlaubt bis {german(half_year)} für: Gesundheit, Sucht"
    )
    expect(consents.nth(1).get_by_role("link", name="Widerruf erfassen (Suchtberatung Main)")).to_be_visible()
    page.get_by_text("Verlauf aller Einwilligungen").click()
    history = page.get_by_role("table", name="Alle erfassten Fassungen, neueste zuerst")
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(history).to_contain_text("E-Akte, Dokument 13")
    expect(history).to_contain_text("Clara Fallmann")
    check_a11y(page)  # again, with the history table open
    page.screenshot(path=SCREENSHOTS.format("view"), full_page=True)

    follow(page, page.get_by_role("link", name="Zur Fallliste"))
    table = page.get_by_role("table", name="1 Fall, Seite 1 von 1")
    expect(table.get_by_role("link", name=pseudonym)).to_be_visible()
    expect(table).to_contain_text("Nordend")
    expect(table).to_contain_text("Clara Fallmann")
    page.screenshot(path=SCREENSHOTS.format("list"), full_page=True)


def test_partner_with_valid_consent_cannot_open_the_case(factory, new_context):
    team = factory.team()
    worker = factory.user("caseworker", team=team)
    agency = factory.agency("Schuldnerberatung Nordend")
    case = factory.case(team=team, caseworker=worker, internal_reference="GEHEIM-4711")
    consent = factory.consent(case, agency, scope=("general", "debt"))
    partner = factory.user("partner", agency=agency, name="Paula Partner", totp_secret=pyotp.random_base32())

    page = new_context().new_page()
    log_in(page, partner)
    expect(page.get_by_role("heading", level=1)).to_have_text("Willkommen, Paula Partner")
    assert "GEHEIM-4711" not in page.content()

    for path in (
        f"/faelle/{case.id}",
        f"/faelle/{case.id}/bearbeiten",
        f"/faelle/{case.id}/einwilligungen/{consent.id}/aendern",
    ):
        assert visit(page, path).status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Seite nicht gefunden")
        expect(page.get_by_text("Diese Seite gibt es nicht oder sie ist für Sie nicht sichtbar.")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "de")
        content = page.content()
        assert "GEHEIM-4711" not in content
        assert case.pseudonym not in content, path

    # Nor does the staff case list lead there.
    assert visit(page, "/faelle").status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Kein Zugriff")
    assert "GEHEIM-4711" not in page.content()
    expect(page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Fälle")).to_have_count(0)
