"""Finding a date in the tool, three people in their own browser contexts: the organiser proposes
three slots to two agencies; partner A answers; the person withdraws the consent for agency B
half-way, after B answered; B has lost the poll (and its answers are gone from the organiser's
table); the organiser picks the best slot: the conference is scheduled there and A is invited
with a calendar file, B is not. Every page is checked with axe-core."""

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from app.clock import berlin_today
from tests.browser.conftest import follow, log_in, visit
from tests.conferences.conftest import event_of
from tests.conftest import outbox_messages

pytestmark = pytest.mark.browser


def test_organiser_finds_a_date_with_two_agencies_one_consent_withdrawn_halfway(app, factory, new_context):
    today = berlin_today()
    team = factory.team("Team Mitte")
    worker = factory.user("caseworker", team=team, name="Clara Fallmann", totp_secret=pyotp.random_base32())
    debt = factory.agency("Schuldnerberatung Nordend")
    addiction = factory.agency("Suchtberatung Main")
    case = factory.case(team=team, caseworker=worker, internal_reference="BG-4711/23")
    factory.consent(case, debt, scope=("general", "debt"))
    factory.consent(case, addiction, scope=("general", "addiction"))
    room = factory.location("Jobcenter, Raum 2.14")
    office = factory.location("Stadtteilbüro Nordend, Gruppenraum", kind="neighbourhood_office")
    conference = factory.conference(case, location=room, organiser=worker, occasion="Vertraulicher Anlass")
    partner_a = factory.user("partner", agency=debt, name="Paula Partner", totp_secret=pyotp.random_base32())
    partner_b = factory.user("partner", agency=addiction, name="Bernd Berater", totp_secret=pyotp.random_base32())
    days = [today + timedelta(days=n) for n in (10, 11, 12)]

    # --- the organiser proposes three slots --------------------------------------------------------
    staff = new_context().new_page()
    log_in(staff, worker)
    visit(staff, f"/konferenzen/{conference.id}")
    follow(staff, staff.get_by_role("link", name="Termin abstimmen"))
    for n, (day, place) in enumerate(zip(days, (room, office, room), strict=True), start=1):
        staff.get_by_label(f"Datum, Termin {n}").fill(day.isoformat())
        staff.get_by_label(f"Beginn, Termin {n}").fill("10:00")
        staff.get_by_label(f"Ende, Termin {n}").fill("11:30")
        staff.get_by_label(f"Ort, Termin {n}").select_option(label=place.name)
    staff.get_by_label("Schuldnerberatung Nordend").check()
    staff.get_by_label("Suchtberatung Main").check()
    follow(staff, staff.get_by_role("button", name="Terminabstimmung starten"))
    expect(staff.get_by_role("heading", level=1)).to_have_text("Terminabstimmung")
    asked = [m for m in outbox_messages(app) if m["Subject"].startswith("Terminabstimmung")]
    assert sorted(m["To"] for m in asked) == sorted([debt.contact_email, addiction.contact_email])
    link = re.search(r"http://\S+/terminabstimmung", asked[0].get_body().get_content()).group(0)

    # --- partner A answers from the e-mail's link ---------------------------------------------------------
    a = new_context().new_page()
    log_in(a, partner_a)
    visit(a, link)
    body = a.locator("main")
    expect(body).to_contain_text(case.pseudonym)
    expect(body).not_to_contain_text("Vertraulicher Anlass")
    expect(body).not_to_contain_text("Suchtberatung")
    groups = a.get_by_role("group")
    groups.nth(0).get_by_label("ja").check()
    groups.nth(1).get_by_label("ja").check()
    groups.nth(2).get_by_label("nein").check()
    a.get_by_label("Kommentar (optional)").fill("Vormittags passt es uns.")
    follow(a, a.get_by_role("button", name="Antwort speichern"))
    expect(a.get_by_role("status")).to_contain_text("Ihre Antwort ist gespeichert.")

    # --- partner B answers too ------------------------------------------------------------------------------
    b = new_context().new_page()
    log_in(b, partner_b)
    visit(b, link)
    groups = b.get_by_role("group")
    groups.nth(0).get_by_label("nein").check()
    groups.nth(1).get_by_label("nein").check()
    groups.nth(2).get_by_label("ja").check()
    follow(b, b.get_by_role("button", name="Antwort speichern"))

    visit(staff, f"/konferenzen/{conference.id}/terminabstimmung")
    table = staff.get_by_role("table", name="Antworten je Termin")
    expect(table).to_contain_text("Suchtberatung Main")

    # --- half-way: the consent for agency B is withdrawn on the case page -----------------------------------
    visit(staff, f"/faelle/{case.id}")
    follow(staff, staff.get_by_role("link", name="Widerruf erfassen (Suchtberatung Main)"))
    follow(staff, staff.get_by_role("button", name="Widerruf speichern"))

    # B has lost the poll at once: its next page is refused.
    response = visit(b, link)
    assert response.status == 404

    # The organiser's table no longer counts B; the best slot (two "yes" from A's row) comes first.
    visit(staff, f"/konferenzen/{conference.id}/terminabstimmung")
    table = staff.get_by_role("table", name="Antworten je Termin")
    expect(table).not_to_contain_text("Suchtberatung Main")
    first_row = table.locator("tbody tr").first
    expect(first_row).to_contain_text("ja")
    expect(table.locator("tbody tr").last).to_contain_text("nein")
    expect(staff.locator("main")).to_contain_text("Vormittags passt es uns.")
    staff.get_by_label(re.compile(r"Stadtteilbüro Nordend, Gruppenraum")).check()
    before = len(outbox_messages(app))
    follow(staff, staff.get_by_role("button", name="Diesen Termin festlegen"))
    expect(staff.get_by_role("status")).to_contain_text("Der Termin steht fest")
    expect(staff.locator("main")).to_contain_text("Stadtteilbüro Nordend, Gruppenraum")

    invitations = outbox_messages(app)[before:]
    assert [m["To"] for m in invitations if m["Subject"].startswith("Einladung zur Fallkonferenz")] == [
        debt.contact_email
    ]
    invitation = next(m for m in invitations if m["Subject"].startswith("Einladung zur Fallkonferenz"))
    event = event_of(invitation)
    assert "Stadtteilbüro Nordend" in str(event["LOCATION"])
    assert event["DTSTART"].dt.date() == days[1]

    # A now sees the conference itself, at the chosen date.
    visit(a, f"/konferenzen/{conference.id}")
    expect(a.locator("main")).to_contain_text("Stadtteilbüro Nordend, Gruppenraum")
    visit(a, link)
    expect(a.locator("main")).to_contain_text("Der Termin steht fest")
