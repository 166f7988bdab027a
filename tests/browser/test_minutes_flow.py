"""Minutes in the browser: the organiser drafts and finalises, the team lead downloads the
PDF and a ZIP of the month. Every page visited is checked with axe-core."""

import csv
import hashlib
import io
import re
import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.clock import to_local
from tests.browser.conftest import follow, visit
from tests.conftest import PASSWORD
from tests.minutes.conftest import make_scene

pytestmark = pytest.mark.browser


def log_in(page, email):
    visit(page, "/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Anmelden"))


def test_organiser_finalises_and_team_lead_downloads_pdf_and_zip(app, factory, new_context, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_TWO_FACTOR", False)
    scene = make_scene(factory)
    minutes_page = f"/konferenzen/{scene.conference.id}/protokoll"

    organiser = new_context().new_page()
    log_in(organiser, scene.organiser.email)
    visit(organiser, minutes_page)
    expect(organiser.get_by_role("heading", level=1)).to_have_text(
        f"Protokoll der Fallkonferenz {scene.case.pseudonym}"
    )
    organiser.get_by_label("Zusammenfassung").fill("Die Lage hat sich stabilisiert; Übergang in Arbeit geplant.")
    organiser.get_by_role("textbox", name=re.compile("^Beschluss 1( |$)")).fill("Bewerbungstraining wird gefördert.")
    organiser.get_by_role("group", name="Datenkategorien von Beschluss 1").get_by_label(
        "Qualifikation und Arbeit"
    ).check()
    organiser.get_by_role("textbox", name=re.compile("^Beschluss 2( |$)")).fill("Ratenplan bis April.")
    organiser.get_by_role("group", name="Datenkategorien von Beschluss 2").get_by_label("Schulden").check()
    follow(organiser, organiser.get_by_role("button", name="Entwurf speichern"))
    expect(organiser.get_by_role("status").first).to_have_text("Der Entwurf wurde gespeichert.")
    follow(organiser, organiser.get_by_role("button", name="Speichern und abschließen"))
    # The confirmation page: what each agency will receive; confirming finalises.
    expect(organiser.get_by_role("heading", level=1)).to_have_text("Protokoll abschließen: bitte prüfen und bestätigen")
    expect(organiser.get_by_role("heading", name="Was jede Einrichtung erhält")).to_be_visible()
    follow(organiser, organiser.get_by_role("button", name="Jetzt endgültig abschließen"))
    expect(organiser.get_by_role("status").first).to_have_text(
        "Das Protokoll ist abgeschlossen und als PDF/A gespeichert."
    )
    expect(organiser.get_by_role("table", name="Abgeschlossene Versionen des Protokolls")).to_contain_text("gültig")

    lead = new_context(accept_downloads=True).new_page()
    log_in(lead, scene.team_lead.email)
    visit(lead, minutes_page)
    with lead.expect_download() as download:
        lead.get_by_role("link", name="Version 1 herunterladen").click()
    day = to_local(scene.conference.starts_at).date()
    assert download.value.suggested_filename == f"Protokoll_{scene.case.pseudonym}_{day.isoformat()}_v1.pdf"
    with open(download.value.path(), "rb") as f:
        document = f.read()
    assert document.startswith(b"%PDF-")
    expect(lead.get_by_role("table", name="Abgeschlossene Versionen des Protokolls")).to_contain_text(
        hashlib.sha256(document).hexdigest()
    )

    follow(lead, lead.get_by_role("link", name="Korrektur anlegen (neue Version)"))
    expect(lead.get_by_label("Grund der Korrektur")).to_be_empty()
    visit(lead, "/protokolle/export")
    expect(lead.get_by_text("Bitte haben Sie etwas Geduld")).to_be_visible()
    lead.get_by_label("Von").fill((day - timedelta(days=day.day - 1)).isoformat())
    lead.get_by_label("Bis").fill(day.isoformat())
    with lead.expect_download() as download:
        lead.get_by_role("button", name="ZIP-Datei herunterladen").click()
    assert re.fullmatch(r"Protokolle_\d{4}-\d\d-01_bis_\d{4}-\d\d-\d\d\.zip", download.value.suggested_filename)
    with open(download.value.path(), "rb") as f:
        archive = zipfile.ZipFile(io.BytesIO(f.read()))
    rows = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig")), delimiter=";"))
    assert [r["Pseudonym"] for r in rows] == [scene.case.pseudonym]
    assert archive.read(rows[0]["Dateiname"]) == document
    assert rows[0]["SHA-256"] == hashlib.sha256(document).hexdigest()


def test_partner_page_with_shared_draft_and_final_minutes(app, factory, new_context, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_TWO_FACTOR", False)
    scene = make_scene(factory)
    minutes_page = f"/konferenzen/{scene.conference.id}/protokoll"
    organiser = new_context().new_page()
    log_in(organiser, scene.organiser.email)
    visit(organiser, minutes_page)
    organiser.get_by_label("Zusammenfassung").fill("Entwurf zur Abstimmung.")
    organiser.get_by_role("group", name="Datenkategorien der Zusammenfassung").get_by_label(
        "Allgemeine Lebenssituation"
    ).check()
    follow(organiser, organiser.get_by_role("button", name="Entwurf speichern"))
    organiser.get_by_label("Frist für Anmerkungen in Tagen").fill("5")
    follow(organiser, organiser.get_by_role("button", name="Freigeben und benachrichtigen"))

    partner = new_context().new_page()
    log_in(partner, scene.partner_debt.email)
    visit(partner, minutes_page)
    expect(partner.get_by_text("Entwurf zur Abstimmung.")).to_be_visible()
    partner.get_by_label("Ihre Anmerkung").fill("Bitte die Ratenhöhe ergänzen.")
    follow(partner, partner.get_by_role("button", name="Anmerkung senden"))
    expect(partner.get_by_role("status").first).to_have_text("Ihre Anmerkung wurde an die Moderation übermittelt.")

    visit(organiser, minutes_page)
    expect(organiser.get_by_text("Bitte die Ratenhöhe ergänzen.")).to_be_visible()
    follow(organiser, organiser.get_by_role("button", name="Speichern und abschließen"))
    # The comment period (5 days) still runs: the confirmation page warns, and confirming still finalises.
    expect(organiser.get_by_text(re.compile("Die Anmerkungsfrist läuft noch bis einschließlich"))).to_be_visible()
    expect(organiser.get_by_text("Bitte die Ratenhöhe ergänzen.")).to_be_visible()
    follow(organiser, organiser.get_by_role("button", name="Trotz laufender Frist jetzt endgültig abschließen"))
    visit(partner, minutes_page)
    expect(partner.get_by_role("link", name="Protokoll herunterladen (PDF)")).to_be_visible()
