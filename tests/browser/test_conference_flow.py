"""The whole conference flow in the browser, three people in their own browser contexts.

The caseworker schedules a conference for an open case and invites two agencies; partner A
accepts and writes a note, partner B declines; the caseworker records the conference and
three measures; partner A reports one measure done. Every page visited is checked with axe-core.
"""

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from app.clock import berlin_today
from app.workdays import holiday_name
from tests.browser.conftest import follow, log_in, visit
from tests.conferences.conftest import calendar_of, event_of
from tests.conftest import outbox_messages, working_day

pytestmark = pytest.mark.browser

SCREENSHOTS = "/tmp/conf-{}.png"
SUMMARY = "Seit zwei Jahren ohne Arbeit, Schulden bei mehreren Gläubigern."
NOTE = "Erstgespräch in der Schuldnerberatung hat stattgefunden.\nEin Ratenplan ist in Vorbereitung."


def status_message(page):
    return page.locator(".kern-alert[role=status]").first


def test_caseworker_and_two_partners_run_a_conference_to_its_measures(app, factory, new_context):
    today = berlin_today()
    team = factory.team("Team Mitte")
    worker = factory.user("caseworker", team=team, name="Clara Fallmann", totp_secret=pyotp.random_base32())
    debt = factory.agency("Schuldnerberatung Nordend")
    addiction = factory.agency("Suchtberatung Main")
    housing = factory.agency("Wohnungshilfe Ost")
    case = factory.case(
        team=team,
        caseworker=worker,
        district=factory.district("Lauterborn"),
        internal_reference="BG-4711/23",
        summary=SUMMARY,
    )
    # The factory's consents were signed a month ago: still valid when the conference moves to yesterday.
    factory.consent(case, debt, scope=("general", "debt"))
    factory.consent(case, addiction, scope=("general", "work"))
    # Expired: the invitation form must list this agency as not invitable, with the reason.
    factory.consent(case, housing, signed_on=today - timedelta(days=400), valid_until=today - timedelta(days=10))
    factory.location("Jobcenter, Raum 2.14")
    partner_a = factory.user("partner", agency=debt, name="Paula Partner", totp_secret=pyotp.random_base32())
    partner_b = factory.user("partner", agency=addiction, name="Bernd Berater", totp_secret=pyotp.random_base32())
    day = working_day(7)  # a working day: no date warning to confirm
    yesterday = today - timedelta(days=1)

    # --- the caseworker schedules the conference and invites ---------------------------------------
    staff = new_context().new_page()
    log_in(staff, worker)
    without = staff.get_by_role("region", name="Offene Fälle ohne geplante Fallkonferenz")
    follow(staff, without.get_by_role("link", name=case.pseudonym))
    follow(staff, staff.get_by_role("link", name="Fallkonferenz planen"))
    expect(staff.get_by_role("heading", level=1)).to_have_text("Fallkonferenz planen")
    staff.get_by_label("Anlass").fill("Erstes Fallgespräch")
    staff.get_by_label("Datum").fill(day.isoformat())
    staff.get_by_label("Beginn").fill("10:00")
    staff.get_by_label("Ende").fill("11:30")
    staff.get_by_label("Ort").select_option(label="Jobcenter, Raum 2.14")
    # Four rows come pre-filled; each item gets the data categories it may reveal.
    for n, (title, category) in enumerate(
        (
            ("Begrüßung und Anlass", "Allgemeine Lebenssituation"),
            ("Schulden und Ratenplan", "Schulden"),
            ("Vereinbarung von Maßnahmen", "Allgemeine Lebenssituation"),
            ("", None),
        ),
        start=1,
    ):
        staff.get_by_role("textbox", name=re.compile(f"^Tagesordnungspunkt {n}( |$)")).fill(title)
        if category:
            staff.get_by_role("group", name=f"Datenkategorien von Punkt {n}").get_by_label(category).check()
    staff.get_by_label("Die Person nimmt an der Fallkonferenz teil").check()
    follow(staff, staff.get_by_role("button", name="Fallkonferenz planen"))
    expect(status_message(staff)).to_have_text("Die Fallkonferenz ist geplant. Laden Sie jetzt die Einrichtungen ein.")
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Fallkonferenz {case.pseudonym}")
    conference_url = staff.url
    expect(staff.get_by_role("button", name="Als durchgeführt markieren")).to_have_count(0)  # not yet begun

    follow(staff, staff.get_by_role("link", name="Einrichtungen einladen"))
    agencies = staff.get_by_role("group", name="Einrichtungen einladen")
    expect(agencies.get_by_role("checkbox")).to_have_count(2)
    expect(staff.get_by_text(re.compile(r"^Wohnungshilfe Ost: "))).to_be_visible()  # why it cannot be chosen
    agencies.get_by_label("Schuldnerberatung Nordend").check()
    agencies.get_by_label("Suchtberatung Main").check()
    staff.get_by_role("group", name=re.compile("namentlich")).get_by_label(
        "Paula Partner (Schuldnerberatung Nordend)"
    ).check()
    staff.screenshot(path=SCREENSHOTS.format("invite"), full_page=True)
    follow(staff, staff.get_by_role("button", name="Einladungen verschicken"))
    expect(status_message(staff)).to_have_text("2 Einladungen verschickt.")
    invitations = staff.get_by_role("table", name="Eingeladene Einrichtungen und ihre Antworten")
    expect(invitations.locator("tbody tr")).to_have_count(2)
    expect(invitations.locator("tbody tr").filter(has_text="Suchtberatung Main")).to_contain_text("offen")

    # --- partner A: sees the invitation, accepts, writes a note ---------------------------------------
    partner = new_context().new_page()
    log_in(partner, partner_a)
    expect(partner.get_by_role("heading", level=1)).to_have_text("Willkommen, Paula Partner")
    waiting = partner.get_by_role("region", name="Einladungen, die auf Ihre Antwort warten")
    invitation_link = waiting.get_by_role("link", name=re.compile(f"Fallkonferenz {case.pseudonym} am "))
    expect(invitation_link).to_be_visible()
    partner.screenshot(path=SCREENSHOTS.format("partner-start"), full_page=True)
    follow(partner, invitation_link)
    expect(partner.get_by_role("heading", level=1)).to_have_text(f"Fallkonferenz {case.pseudonym}")
    for secret in ("BG-4711/23", SUMMARY):
        assert secret not in partner.content()
    partner.get_by_role("group", name="Ihre Antwort").get_by_label("Wir nehmen teil").check()
    partner.get_by_label("Kommentar").fill("Wir kommen zu zweit aus der Beratungsstelle.")
    follow(partner, partner.get_by_role("button", name="Antwort speichern"))
    expect(status_message(partner)).to_have_text("Ihre Zusage ist gespeichert.")

    follow(partner, partner.get_by_role("link", name="Stellungnahme schreiben"))
    partner.get_by_label("Text der Stellungnahme").fill(NOTE)
    categories = partner.get_by_role("group", name="Datenkategorien")
    expect(categories.get_by_role("checkbox")).to_have_count(2)  # only what the consent covers
    categories.get_by_label("Allgemeine Lebenssituation").check()
    categories.get_by_label("Schulden").check()
    expect(partner.get_by_role("group", name="Sichtbarkeit").get_by_label("für alle Teilnehmenden")).to_be_checked()
    follow(partner, partner.get_by_role("button", name="Speichern"))
    expect(status_message(partner)).to_have_text("Die Stellungnahme ist gespeichert.")
    note = partner.locator("article").filter(has_text="Ratenplan ist in Vorbereitung")
    expect(note).to_contain_text("Kategorien: Allgemeine Lebenssituation, Schulden")
    expect(note).to_contain_text("für alle Teilnehmenden")
    assert note.locator(".note__body").inner_text() == NOTE  # line breaks kept on the page
    partner.screenshot(path=SCREENSHOTS.format("partner-view"), full_page=True)

    # --- partner B: opens the link from the e-mail, declines ---------------------------------------
    to_b = [m for m in outbox_messages(app) if debt.contact_email not in m["To"] and m["To"] != worker.email]
    assert len(to_b) == 1 and addiction.contact_email in to_b[0]["To"]
    link = re.search(r"http://127\.0\.0\.1:\d+/konferenzen/\d+", to_b[0].get_body(("plain",)).get_content()).group(0)
    assert link == conference_url
    other = new_context().new_page()
    log_in(other, partner_b)
    visit(other, link)
    # Partner A's note names debts, which B's consent does not cover.
    expect(other.get_by_text("Noch keine Stellungnahmen, die Sie sehen können.")).to_be_visible()
    other.get_by_role("group", name="Ihre Antwort").get_by_label("Wir nehmen nicht teil").check()
    other.get_by_label("Kommentar").fill("Termin überschneidet sich mit einer Teamsitzung; wir melden uns schriftlich.")
    follow(other, other.get_by_role("button", name="Antwort speichern"))
    expect(status_message(other)).to_have_text("Ihre Absage ist gespeichert.")
    expect(other.get_by_role("link", name="Stellungnahme schreiben")).to_have_count(0)

    # --- the caseworker sees both answers and holds the conference ---------------------------------
    visit(staff, conference_url)
    rows = invitations.locator("tbody tr")
    expect(rows.filter(has_text="Schuldnerberatung Nordend")).to_contain_text("zugesagt")
    expect(rows.filter(has_text="Schuldnerberatung Nordend")).to_contain_text("Wir kommen zu zweit")
    expect(rows.filter(has_text="Suchtberatung Main")).to_contain_text("abgesagt")
    expect(rows.filter(has_text="Suchtberatung Main")).to_contain_text("Termin überschneidet sich")
    expect(staff.locator("article").filter(has_text="Ratenplan ist in Vorbereitung")).to_contain_text("Paula Partner")

    # A conference can be marked as held once it has begun. Rather than wait a week, the test
    # moves it to yesterday through the edit page, as a caseworker recording a past meeting would;
    # that also sends both agencies an updated calendar entry.
    follow(staff, staff.get_by_role("link", name="Termin, Ort oder Tagesordnung ändern"))
    expect(staff.locator("#geaenderte-einladung")).to_contain_text(
        "Speichern sendet eine geänderte Einladung an 2 Einrichtungen"
    )
    staff.get_by_label("Datum").fill(yesterday.isoformat())
    follow(staff, staff.get_by_role("button", name="Speichern"))
    if yesterday.weekday() >= 5 or holiday_name(yesterday):  # a weekend or holiday: confirm the warning
        staff.get_by_label("Trotzdem an diesem Tag und zu dieser Zeit speichern").check()
        follow(staff, staff.get_by_role("button", name="Speichern"))
    expect(status_message(staff)).to_have_text(
        "Gespeichert. Die eingeladenen Einrichtungen haben eine aktualisierte Einladung erhalten."
    )
    follow(staff, staff.get_by_role("button", name="Als durchgeführt markieren"))
    expect(status_message(staff)).to_have_text("Die Fallkonferenz ist als durchgeführt markiert.")
    expect(staff.get_by_text("durchgeführt", exact=True)).to_be_visible()

    follow(staff, staff.get_by_role("link", name="Anwesenheit und Besprechung erfassen"))
    staff.get_by_label("Die Person war anwesend").select_option(label="ja")
    staff.get_by_label("Schuldnerberatung Nordend").select_option(label="anwesend")
    staff.get_by_label("Suchtberatung Main").select_option(label="entschuldigt")
    discussion = {
        "Begrüßung und Anlass": "Alle Beteiligten haben sich vorgestellt.",
        "Schulden und Ratenplan": "Ratenplan wird bis Monatsende mit den Gläubigern abgestimmt.",
        "Vereinbarung von Maßnahmen": "Drei Maßnahmen vereinbart, siehe unten.",
    }
    for title, text in discussion.items():
        staff.get_by_role("textbox", name=re.compile(f"^{title}")).fill(text)
    staff.screenshot(path=SCREENSHOTS.format("record"), full_page=True)
    follow(staff, staff.get_by_role("button", name="Speichern"))
    expect(status_message(staff)).to_have_text("Anwesenheit und Besprechung sind gespeichert.")
    for text in discussion.values():
        expect(staff.get_by_text(text)).to_be_visible()
    expect(rows.filter(has_text="Schuldnerberatung Nordend")).to_contain_text("anwesend")
    expect(rows.filter(has_text="Suchtberatung Main")).to_contain_text("entschuldigt")

    measures = [
        ("Ratenplan mit den Gläubigern abstimmen", "Schuldnerberatung Nordend", 14, "Schulden"),
        ("Bewerbungstraining anbieten", "Jobcenter", 21, "Qualifikation und Arbeit"),
        ("Unterlagen zu den Schulden sammeln", "die Person selbst", 7, "Schulden"),
    ]
    # All three in one form: one block per measure.
    follow(staff, staff.get_by_role("link", name="Maßnahmen hinzufügen"))
    for n, (what, responsible, days, category) in enumerate(measures, start=1):
        block = staff.get_by_role("group", name=f"Maßnahme {n}", exact=True)
        block.get_by_label(f"Maßnahme {n}: Was ist zu tun?").fill(what)
        block.get_by_role("group", name=f"Datenkategorien von Maßnahme {n}").get_by_label(category).check()
        block.get_by_label(f"Verantwortlich für Maßnahme {n}").select_option(label=responsible)
        block.get_by_label(f"Maßnahme {n} fällig am").fill(working_day(days).isoformat())
    follow(staff, staff.get_by_role("button", name="Maßnahmen speichern"))
    expect(status_message(staff)).to_have_text("3 Maßnahmen sind gespeichert.")
    table = staff.get_by_role("table", name="Maßnahmen dieser Fallkonferenz")
    expect(table.locator("tbody tr")).to_have_count(3)
    for what, responsible, _days, _category in measures:
        expect(table.locator("tbody tr").filter(has_text=what)).to_contain_text(responsible)
    staff.screenshot(path=SCREENSHOTS.format("staff-view"), full_page=True)

    # --- partner A reports its measure done ------------------------------------------------------
    visit(partner, "/")
    own = partner.get_by_role("region", name="Maßnahmen Ihrer Einrichtung")
    expect(own.locator("tbody tr")).to_have_count(1)
    partner.screenshot(path=SCREENSHOTS.format("partner-start-measure"), full_page=True)
    follow(partner, own.get_by_role("link", name="Ratenplan mit den Gläubigern abstimmen"))
    expect(partner.get_by_role("heading", level=1)).to_have_text("Stand der Maßnahme eintragen")
    partner.get_by_label("Status").select_option(label="erledigt")
    partner.get_by_label("Ergebnis").fill("Ratenplan mit allen drei Gläubigern vereinbart.")
    follow(partner, partner.get_by_role("button", name="Speichern"))
    expect(status_message(partner)).to_have_text("Die Maßnahme ist gespeichert.")
    row = (
        partner.get_by_role("table", name="Maßnahmen dieser Fallkonferenz")
        .locator("tbody tr")
        .filter(has_text="Ratenplan mit den Gläubigern abstimmen")
    )
    expect(row).to_contain_text("erledigt")
    expect(row).to_contain_text("Ratenplan mit allen drei Gläubigern vereinbart.")
    # The measures its consent covers are listed (not the one on work); only its own offers a status update.
    partner_rows = partner.get_by_role("table", name="Maßnahmen dieser Fallkonferenz").locator("tbody tr")
    expect(partner_rows).to_have_count(2)
    expect(partner_rows.filter(has_text="Bewerbungstraining anbieten")).to_have_count(0)
    expect(partner.get_by_role("link", name=re.compile("Stand eintragen"))).to_have_count(1)
    partner.screenshot(path=SCREENSHOTS.format("partner-view-held"), full_page=True)
    visit(partner, "/")
    expect(partner.get_by_text("Keine offenen Maßnahmen.")).to_be_visible()

    visit(staff, conference_url)
    expect(table.locator("tbody tr").filter(has_text="Ratenplan mit den Gläubigern abstimmen")).to_contain_text(
        "Ratenplan mit allen drei Gläubigern vereinbart."
    )

    # --- the e-mails: an invitation and an update per agency, one calendar entry throughout -----------
    # (The caseworker's own calendar entries are checked in tests/conferences/test_dates_and_calendars.py.)
    messages = [m for m in outbox_messages(app) if m["To"] != worker.email]
    kinds = {
        f"Einladung zur Fallkonferenz {case.pseudonym} am ": "invitation",
        f"Geänderter Termin: Fallkonferenz {case.pseudonym} am ": "update",
    }

    def kind_of(message):
        return next(
            (kind for prefix, kind in kinds.items() if message["Subject"].startswith(prefix)), message["Subject"]
        )

    agency_a_to, agency_b_to = f"{debt.contact_email}, {partner_a.email}", addiction.contact_email
    assert sorted((kind_of(m), m["To"]) for m in messages) == sorted(
        [("invitation", agency_a_to), ("invitation", agency_b_to), ("update", agency_a_to), ("update", agency_b_to)]
    )
    events = [event_of(m) for m in messages]
    assert len({str(e["uid"]) for e in events}) == 1
    for message, event in zip(messages, events, strict=False):
        updated = kind_of(message) == "update"
        assert str(calendar_of(message)["method"]) == "PUBLISH"
        assert int(event["sequence"]) == (1 if updated else 0)
        start = event["dtstart"]
        assert start.params["TZID"] == "Europe/Berlin"
        assert start.dt.date() == (yesterday if updated else day)
        assert (start.dt.hour, start.dt.minute) == (10, 0)
        assert event["dtend"].dt - start.dt == timedelta(minutes=90)
        assert str(event["summary"]) == f"Fallkonferenz {case.pseudonym}"
        readable = "\n".join(
            [message["Subject"], message.get_body(("plain",)).get_content(), calendar_of(message).to_ical().decode()]
        )
        assert case.pseudonym in readable
        for secret in ("BG-4711/23", SUMMARY, "Ratenplan"):
            assert secret not in readable, (message["Subject"], secret)
