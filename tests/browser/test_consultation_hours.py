"""The public consultation-hour pages in the browser, as a Stadtteilbüro visitor opens them from a
poster's QR code: on a phone (390 px) and a desktop (1366 px), without log-in and without a single
cookie, every page checked with axe-core (WCAG 2.1 AA); German, Leichte Sprache and English; the
calendar subscription link; the print version."""

from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from app.clock import berlin_today
from tests.browser.conftest import check_a11y, follow, log_in, visit
from tests.consultations.helpers import hour, topic

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def published(factory):
    today = berlin_today()
    nordend = factory.district("Nordend")
    lauterborn = factory.district("Lauterborn")
    place = factory.location("Stadtteilbüro Nordend, Gruppenraum", kind="neighbourhood_office")
    other = factory.location("Stadtteilbüro Lauterborn, Beratungsraum", kind="neighbourhood_office")
    place.district_id, other.district_id = nordend.id, lauterborn.id
    factory.s.commit()
    but = topic(
        factory, "BuT – Bildung und Teilhabe", name_en="Education and participation (BuT)", name_easy="Bildungs·paket"
    )
    work = topic(factory, "Arbeit und Weiterbildung", name_en="Work and further training")
    first = hour(
        factory,
        location=place,
        topics=(but, work),
        weekday=1,
        starts_on=today - timedelta(days=14),
        ends_on=today + timedelta(days=180),
        step_free=True,
        note="Bitte bringen Sie Ihre Bescheide mit.",
    )
    hour(
        factory,
        location=other,
        topics=(work,),
        recurrence="monthly",
        weekday=3,
        week_of_month=1,
        starts_on=today - timedelta(days=14),
        ends_on=today + timedelta(days=180),
        appointment_needed=True,
    )
    return {"place": place, "district": nordend, "but": but, "hour": first}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_visitor_finds_the_next_but_date_in_their_district_without_cookies(new_context, published, width):
    context = new_context(viewport=WIDTHS[width])
    page = context.new_page()
    visit(page, "/sprechstunden")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sprechstunden des Jobcenters im Stadtteil")
    page.get_by_label("Stadtteil").select_option(label="Nordend")
    page.get_by_label("Thema").select_option(label="BuT – Bildung und Teilhabe")
    follow(page, page.get_by_role("button", name="Termine anzeigen"))
    assert f"stadtteil={published['district'].id}" in page.url and f"thema={published['but'].id}" in page.url
    dates = page.locator(".consultation-date")
    expect(dates.first).to_contain_text("Stadtteilbüro Nordend, Gruppenraum")
    expect(page.locator("body")).not_to_contain_text("Lauterborn, Beratungsraum")
    follow(page, dates.first.get_by_role("link", name="Stadtteilbüro Nordend, Gruppenraum"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stadtteilbüro Nordend")
    map_link = page.get_by_role("link", name="Ort auf OpenStreetMap ansehen (externe Seite)")
    assert map_link.get_attribute("href").startswith("https://www.openstreetmap.org/search?query=")
    feed = page.get_by_role("link", name="Kalender dieses Orts abonnieren (Kalenderdatei)")
    response = page.request.get(feed.get_attribute("href"))
    assert response.ok and response.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VTIMEZONE" in response.text()
    # The other versions of the same page.
    follow(page, page.get_by_role("link", name="Leichte Sprache"))
    expect(page.locator("body")).to_contain_text("Sie brauchen keinen Termin.")
    follow(page, page.get_by_role("link", name="English"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=2, name="The next dates")).to_be_visible()
    # Printable: the print version hides the filters and links meant for the screen.
    page.emulate_media(media="print")
    expect(page.get_by_role("heading", name="Add to your own calendar")).to_be_hidden()
    check_a11y(page)
    page.emulate_media(media="screen")
    visit(page, "/sprechstunden/orte/999999")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nicht gefunden")
    assert context.cookies() == [], "a public page set a cookie"


def test_no_page_of_the_public_part_needs_javascript(new_context, published):
    context = new_context(java_script_enabled=False, viewport=WIDTHS["phone"])
    page = context.new_page()
    page.goto("/sprechstunden/einfach")
    page.get_by_label("Ihr Stadt·teil").select_option(label="Nordend")
    with page.expect_navigation():
        page.get_by_role("button", name="Termine zeigen").click()
    expect(page.locator(".consultation-date").first).to_contain_text("Stadtteilbüro Nordend")
    assert context.cookies() == []


def test_staff_pages_of_the_consultation_hours_are_accessible(factory, new_context, published):
    """The team lead's way: list, allow a caseworker, create a series, cancel a date, record figures."""
    team = factory.team("Team Ost")
    lead = factory.user("team_lead", team=team, name="Tanja Teamleitung", totp_secret=pyotp.random_base32())
    factory.user("caseworker", team=team, name="Fatih Fallmann")
    page = new_context().new_page()
    log_in(page, lead)
    follow(page, page.get_by_role("link", name="Sprechstunden", exact=True))
    follow(page, page.get_by_role("button", name="Erlauben – Fatih Fallmann"))
    expect(page.get_by_role("status")).to_contain_text("Fatih Fallmann darf jetzt Sprechstunden veröffentlichen.")
    follow(page, page.get_by_role("link", name="Sprechstunde anlegen"))
    page.get_by_label("Ort").select_option(label="Stadtteilbüro Nordend, Gruppenraum")
    page.get_by_label("jede zweite Woche").check()
    page.get_by_label("Wochentag").select_option(label="Donnerstag")
    today = berlin_today()
    page.get_by_label("Beginn der Reihe").fill((today - timedelta(days=30)).isoformat())
    page.get_by_label("Ende der Reihe").fill((today + timedelta(days=200)).isoformat())
    page.get_by_label("Beginn", exact=True).fill("09:00")
    page.get_by_label("Ende", exact=True).fill("11:00")
    page.get_by_label("BuT – Bildung und Teilhabe").check()
    page.get_by_label("Kontakt: Telefon der Stelle").fill("069 80053-0")
    follow(page, page.get_by_role("button", name="Speichern"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sprechstunde des Jobcenters")
    expect(page.locator("main")).to_contain_text("jeden zweiten Donnerstag")
    follow(page, page.get_by_role("link", name="Termin absagen oder verlegen"))
    follow(page, page.get_by_role("button", name="Speichern"))  # nothing filled in: the errors, accessible too
    expect(page.get_by_role("alert").first).to_be_visible()
    follow(page, page.get_by_role("link", name="Abbrechen"))
    follow(page, page.get_by_role("link", name="Zahlen erfassen"))
    page.get_by_label("Termin", exact=True).select_option(index=1)
    page.get_by_label("Besucherinnen und Besucher").fill("5")
    follow(page, page.get_by_role("button", name="Speichern"))
    expect(page.get_by_role("status")).to_contain_text("Die Zahlen sind gespeichert.")
