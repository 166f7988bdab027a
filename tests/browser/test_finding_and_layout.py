"""Finding things and the layout in the browser (issue 13): a partner's history, the search by
internal reference (the owning team finds, another team does not, and the term is in no URL),
the conference page on a phone (390 px, no sideways scrolling, tables as labelled cards), and
printing without navigation and buttons. Every page is checked with axe-core at 1366 and 390 px
(tests/browser/conftest.py)."""

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from app.clock import berlin_today
from app.minutes.models import Minutes
from tests.browser.conftest import NARROW, follow, horizontal_overflow, log_in, visit
from tests.conferences.conftest import future

pytestmark = pytest.mark.browser

SCREENSHOTS = "/tmp/find-{}.png"
REFERENCE = "12345BG0012345"
PHONE = {"width": NARROW, "height": 844}


def _world(factory):
    """A team with a case holding every kind of row the conference page has, and a partner."""
    team = factory.team("Team Nord")
    worker = factory.user("caseworker", team=team, name="Clara Fallmann", totp_secret=pyotp.random_base32())
    debt = factory.agency("Schuldner- und Insolvenzberatung Offenbach")
    education = factory.agency("Bildungswerk Main", type="education")
    case = factory.case(team=team, caseworker=worker, internal_reference=REFERENCE)
    factory.consent(case, debt, scope=("general", "work", "debt"))
    factory.consent(case, education, scope=("general", "work"))
    room = factory.location("Jobcenter, Besprechungsraum 2.14")
    room.address = "Raum 2.14, 2. OG"
    factory.s.commit()
    partner = factory.user("partner", agency=debt, name="Paula Partner", totp_secret=pyotp.random_base32())
    return team, worker, debt, education, case, room, partner


def _conference_with_everything(factory, case, room, worker, debt, education):
    conf = factory.conference(case, location=room, starts_at=future(days=6), occasion="Erstes Fallgespräch")
    inv = factory.invitation(conf, debt, status="accepted")
    inv.answer_comment = "Wir kommen zu zweit: Schuldnerberaterin und Teamleitung der Beratungsstelle."
    inv.sent_count = 2
    factory.invitation(conf, education)
    factory.s.commit()
    factory.note(conf, worker, body="Vorbereitung: Unterlagen zur Schuldensituation liegen vor.", agency=None)
    factory.measure(
        conf,
        what="Erstgespräch in der Schuldnerberatung vereinbaren und Unterlagen mitbringen",
        responsible_kind="agency",
        agency=debt,
        categories=("debt",),
    )
    factory.measure(conf, what="Bewerbungstraining besuchen", categories=("work",))
    return conf


def test_a_partner_finds_past_conferences_and_their_minutes_in_the_history(factory, new_context):
    team, worker, debt, education, case, room, partner = _world(factory)
    today = berlin_today()
    closed = factory.conference(case, location=room, starts_at=future(days=-30), status="closed")
    factory.invitation(closed, debt, status="accepted")
    final = Minutes(conference_id=closed.id, status="final", version_number=1)
    factory.s.add(final)
    held = factory.conference(case, location=room, starts_at=future(days=-3), status="held")
    factory.invitation(held, debt, status="accepted")
    factory.s.add(Minutes(conference_id=held.id, comments_until=today + timedelta(days=4)))
    upcoming = factory.conference(case, location=room, starts_at=future(days=8))
    factory.invitation(upcoming, debt)
    # A case whose consent for the agency was withdrawn: its conference is not in the history.
    ended_case = factory.case(team=team, caseworker=worker)
    factory.consent(ended_case, debt, withdrawn_on=today - timedelta(days=1))
    ended = factory.conference(ended_case, location=room, starts_at=future(days=-20), status="closed")
    factory.invitation(ended, debt, status="accepted")
    factory.s.commit()

    page = new_context().new_page()
    log_in(page, partner)
    follow(page, page.get_by_role("link", name="Alle Fallkonferenzen und Protokolle Ihrer Einrichtung"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Fallkonferenzen und Protokolle Ihrer Einrichtung")
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    expect(nav.get_by_role("link", name="Fallkonferenzen und Protokolle")).to_have_attribute("aria-current", "page")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("geplant")  # latest first
    expect(rows.nth(1).get_by_role("link", name=re.compile("Entwurf zur Anmerkung bis"))).to_be_visible()
    expect(rows.nth(2).get_by_role("link", name=re.compile("PDF herunterladen"))).to_have_attribute(
        "href", f"/protokolle/{final.id}/pdf"
    )
    assert ended_case.pseudonym not in page.content() and REFERENCE not in page.content()
    page.screenshot(path=SCREENSHOTS.format("history"), full_page=True)
    # From the history to a conference and its minutes.
    follow(page, rows.nth(1).get_by_role("link", name=re.compile("Entwurf zur Anmerkung")))
    expect(page.get_by_role("heading", level=2, name="Ihre Anmerkung zum Entwurf")).to_be_visible()
    visit(page, "/konferenzen/verlauf")
    follow(page, page.locator("table tbody tr").nth(0).get_by_role("link").first)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fallkonferenz {case.pseudonym}")


def test_the_owning_team_finds_a_case_by_its_internal_reference_and_no_url_carries_it(factory, new_context):
    team, worker, _debt, _education, case, _room, _partner = _world(factory)
    factory.case(team=team, caseworker=worker, internal_reference="99999BG0000001")
    stranger = factory.user(
        "caseworker", team=factory.team("Team Süd"), name="Sven Süd", totp_secret=pyotp.random_base32()
    )
    factory.case(caseworker=stranger, internal_reference="55555BG0000555")

    requests = []

    def search(user, term):
        page = new_context().new_page()
        page.on("request", lambda r: requests.append((r.url, r.headers.get("referer", ""))))
        log_in(page, user)
        follow(page, page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Fälle"))
        page.get_by_label("Pseudonym oder interne Kennung").fill(term)
        page.get_by_label("Status", exact=True).select_option(label="alle")
        follow(page, page.get_by_role("button", name="Anzeigen"))
        # The term stays in the field, the filters too.
        expect(page.get_by_label("Pseudonym oder interne Kennung")).to_have_value(term)
        return page

    own = search(worker, "12345 bg 0012345")
    table = own.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.get_by_role("link", name=case.pseudonym)).to_be_visible()
    expect(table).to_contain_text(f"Interne Kennung: {REFERENCE}")
    own.screenshot(path=SCREENSHOTS.format("search-own"), full_page=True)
    follow(own, table.get_by_role("link", name=case.pseudonym))
    expect(own.get_by_role("heading", level=1)).to_have_text(f"Fall {case.pseudonym}")

    other = search(stranger, REFERENCE)
    expect(other.get_by_text("Keine Fälle gefunden.")).to_be_visible()
    assert case.pseudonym not in other.content()

    # Neither the term nor any part of the reference went into a URL or a Referer: so no
    # access log, proxy log or browser history holds it.
    assert requests
    for url, referer in requests:
        for needle in ("12345", "0012345", "BG0012345"):
            assert needle not in url and needle not in referer, (url, referer)


def test_the_conference_page_on_a_phone_fits_and_names_every_value(factory, new_context):
    _team, worker, debt, education, case, room, partner = _world(factory)
    conf = _conference_with_everything(factory, case, room, worker, debt, education)
    page = new_context(viewport=PHONE).new_page()
    log_in(page, worker)
    visit(page, f"/konferenzen/{conf.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW
    assert horizontal_overflow(page) == 0
    invitations = page.get_by_role("table", name="Eingeladene Einrichtungen und ihre Antworten")
    expect(invitations).to_be_visible()
    # Each cell is a visible line of its card, labelled with its column; nothing is cut off.
    for cell in invitations.locator("tbody td").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= NARROW, cell.inner_text()
    debt_row = invitations.locator("tbody tr").filter(has_text="Schuldner- und Insolvenzberatung")
    comment = debt_row.locator("td[data-label='Kommentar']")
    expect(comment).to_be_visible()
    expect(comment).to_contain_text("Schuldnerberaterin und Teamleitung")
    label = comment.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"Kommentar"'
    for name in ("Anwesenheit", "Versand", "Aktionen"):
        expect(invitations.locator(f"td[data-label='{name}']").first).to_be_visible()
    # The row's button shows its action; the agency's name is for screen readers only.
    resend = invitations.get_by_role("button", name="Erneut senden (Schuldner- und Insolvenzberatung Offenbach)")
    expect(resend).to_be_visible()
    hidden = resend.locator(".kern-sr-only")
    expect(hidden).to_have_text(" (Schuldner- und Insolvenzberatung Offenbach)")
    box = hidden.bounding_box()
    assert box["width"] <= 1 and box["height"] <= 1  # clipped away: not on the screen
    # ...and the button keeps the width of its visible label (KERN narrows icon-only buttons to 48 px).
    assert resend.bounding_box()["width"] > 100
    expect(page.get_by_text("Jobcenter, Besprechungsraum 2.14, 2. OG")).to_be_visible()
    # A compact header: the organisation's name gives way, the navigation stays.
    expect(page.locator(".site-org")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_visible()
    assert page.locator(".site-header").bounding_box()["height"] < 260
    page.screenshot(path=SCREENSHOTS.format("conference-390"), full_page=True)

    # More pages at 390 px: the start page with its work queue, the lists, the case, the partner's view.
    for path in (
        "/",
        "/faelle",
        f"/faelle/{case.id}",
        "/konferenzen?zeitraum=alle",
        "/konferenzen/woche",
        "/massnahmen",
    ):
        visit(page, path)
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW, path
    page.screenshot(path=SCREENSHOTS.format("start-390"), full_page=True)
    partner_page = new_context(viewport=PHONE).new_page()
    log_in(partner_page, partner)
    for path in ("/", f"/konferenzen/{conf.id}", "/konferenzen/verlauf", "/leichte-sprache"):
        visit(partner_page, path)
        assert partner_page.evaluate("document.documentElement.scrollWidth") <= NARROW, path
    partner_page.screenshot(path=SCREENSHOTS.format("partner-390"), full_page=True)


def test_printing_a_conference_or_a_case_shows_the_content_not_the_navigation(factory, new_context):
    _team, worker, debt, education, case, room, _partner = _world(factory)
    conf = _conference_with_everything(factory, case, room, worker, debt, education)
    page = new_context().new_page()
    log_in(page, worker)
    for path, heading in ((f"/konferenzen/{conf.id}", f"Fallkonferenz {case.pseudonym}"), (f"/faelle/{case.id}", None)):
        visit(page, path)
        nav = page.get_by_role("navigation", name="Hauptnavigation")
        expect(nav).to_be_visible()
        page.emulate_media(media="print")
        try:
            expect(nav).to_be_hidden()
            expect(page.get_by_role("button", name="Abmelden")).to_be_hidden()
            expect(page.locator(".site-footer__links")).to_be_hidden()
            expect(page.locator("main .kern-btn").first).to_be_hidden()
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            if heading:
                expect(page.get_by_role("heading", level=1)).to_have_text(heading)
                expect(page.get_by_text("Bewerbungstraining besuchen")).to_be_visible()
                expect(page.get_by_text("Vorbereitung: Unterlagen zur Schuldensituation liegen vor.")).to_be_visible()
            else:
                expect(page.get_by_text("Langzeitarbeitslos, sucht Teilzeitstelle.")).to_be_visible()
            # The confidentiality note is printed.
            expect(page.get_by_text("Vertraulich – enthält Sozialdaten (§ 35 SGB I)")).to_be_visible()
            pdf = page.pdf()
            assert pdf.startswith(b"%PDF")
        finally:
            page.emulate_media(media="screen")
        expect(nav).to_be_visible()


def test_public_pages_without_log_in_at_both_widths(new_context):
    page = new_context().new_page()
    visit(page, "/anmelden")
    footer = page.get_by_role("navigation", name="Informationen zur Anwendung")
    for name, heading in (
        ("Barrierefreiheit", "Erklärung zur Barrierefreiheit"),
        ("Datenschutz", "Datenschutz"),
        ("Impressum", "Impressum"),
        ("Leichte Sprache", "Leichte Sprache"),
    ):
        follow(page, footer.get_by_role("link", name=name))
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.screenshot(path=SCREENSHOTS.format("easy-read"), full_page=True)
