"""The public consultation-hour pages: no log-in, no cookie, cacheable (ETag, Last-Modified, 304),
German, Leichte Sprache and English; the feeds parsed back with icalendar and checked against
the page; nothing about cases, pseudonyms or staff accounts."""

import re
from datetime import date, datetime, time, timedelta

import icalendar
import pytest
from dateutil.rrule import rrulestr

from app.clock import BERLIN, berlin_today
from tests.conftest import login_as, post
from tests.consultations.helpers import hour, topic

PAGES = (
    "/sprechstunden",
    "/sprechstunden/einfach",
    "/sprechstunden/en",
    "/sprechstunden/orte/{loc}",
    "/sprechstunden/einfach/orte/{loc}",
    "/sprechstunden/en/orte/{loc}",
    "/sprechstunden/kalender.ics",
    "/sprechstunden/orte/{loc}/kalender.ics",
    "/sprechstunden/stadtteile/{district}/kalender.ics",
)


@pytest.fixture
def published(factory):
    today = berlin_today()
    district = factory.district("Nordend")
    place = factory.location("Stadtteilbüro Nordend, Gruppenraum", kind="neighbourhood_office")
    place.district_id = district.id
    factory.s.flush()
    but = topic(factory, "BuT – Bildung und Teilhabe", name_en="Education and participation (BuT)")
    work = topic(factory, "Arbeit und Weiterbildung", name_en="Work and further training")
    team = factory.team("Team Nord")
    lead = factory.user("team_lead", team=team, name="Tanja Teamleitung", email="tanja.teamleitung@example.org")
    h = hour(
        factory,
        team=team,
        location=place,
        topics=(but, work),
        weekday=today.weekday() if today.weekday() < 5 else 1,
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=200),
        creator=lead,
        note="Bitte Bescheide mitbringen.",
    )
    case = factory.case(team=team, internal_reference="GEHEIM-4711")
    draft = hour(
        factory,
        team=team,
        location=factory.location("Bildungswerk, Raum 1", kind="partner_premises"),
        topics=(work,),
        starts_on=today,
        ends_on=today + timedelta(days=100),
        status="draft",
        title="Entwurf – nicht öffentlich",
    )
    return {"hour": h, "place": place, "district": district, "but": but, "lead": lead, "case": case, "draft": draft}


def _url(template, p):
    return template.format(loc=p["place"].id, district=p["district"].id)


@pytest.mark.parametrize("template", PAGES)
def test_public_pages_need_no_log_in_and_set_no_cookie(client, published, template):
    response = client.get(_url(template, published))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    cache = response.cache_control
    assert cache.public and cache.max_age and not cache.no_store
    assert response.headers.get("ETag") and response.headers.get("Last-Modified")


def test_a_logged_in_visitor_gets_no_cookie_either(app, client, published):
    login_as(client, app, published["lead"])
    post(client, app, "/sprache", {"lang": "en", "next": "/"})  # a session with content and a language
    response = client.get("/sprechstunden")
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert '<html lang="de">' in response.get_data(as_text=True)  # the address decides, not the cookie
    assert "Tanja Teamleitung" not in response.get_data(as_text=True)


def test_no_form_with_a_token_and_no_script(client, published):
    for template in PAGES[:6]:
        html = client.get(_url(template, published)).get_data(as_text=True)
        assert "csrf_token" not in html
        assert "<script" not in html
        assert 'method="post"' not in html


def test_conditional_requests_answer_304_until_something_changes(client, factory, published):
    url = f"/sprechstunden/orte/{published['place'].id}"
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"anders"'}).status_code == 200
    # A cancelled date changes the page: the old validators no longer match.
    h = published["hour"]
    from app.consultations import services

    next_day = next(
        o.day for o in services.occurrences(h, berlin_today(), berlin_today() + timedelta(days=30)) if o.takes_place
    )
    services.add_exception(
        factory.s, h, published["lead"], {"day": next_day, "kind": "cancelled", "note": "Fortbildung"}
    )
    h.updated_at = h.updated_at + timedelta(seconds=2)  # the next second at least: Last-Modified has seconds only
    factory.s.flush()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 200
    assert "Fortbildung" in changed.get_data(as_text=True)


def test_languages_come_from_the_address(client, published):
    de = client.get("/sprechstunden").get_data(as_text=True)
    en = client.get("/sprechstunden/en").get_data(as_text=True)
    easy = client.get("/sprechstunden/einfach").get_data(as_text=True)
    assert '<html lang="de">' in de and "Die nächsten Termine" in de
    assert '<html lang="en">' in en and "Education and participation (BuT)" in en and "Die nächsten Termine" not in en
    assert "Leichte Sprache" in easy and "Sprech·stunden" in easy


def test_filters_by_district_and_topic_and_refuse_unknown_values(client, factory, published):
    other = factory.district("Bieber")
    response = client.get(f"/sprechstunden?stadtteil={published['district'].id}&thema={published['but'].id}")
    assert response.status_code == 200
    assert "Stadtteilbüro Nordend, Gruppenraum" in response.get_data(as_text=True)
    for query in (f"stadtteil={other.id}", "stadtteil=abc", "thema=99999999999999999999", "thema=-1"):
        bad = client.get(f"/sprechstunden?{query}")
        assert bad.status_code == 400, query
        assert "Bitte wählen Sie einen Stadtteil und ein Thema aus der Liste." in bad.get_data(as_text=True)
        assert "Set-Cookie" not in bad.headers


def test_drafts_cases_and_staff_never_reach_a_public_page(client, published):
    for template in PAGES:
        body = client.get(_url(template, published)).get_data(as_text=True)
        assert "Entwurf – nicht öffentlich" not in body
        assert published["case"].pseudonym not in body and "GEHEIM-4711" not in body
        assert "Tanja Teamleitung" not in body and "tanja.teamleitung@example.org" not in body
    draft_place = published["draft"].location_id
    assert client.get(f"/sprechstunden/orte/{draft_place}").status_code == 404
    assert client.get(f"/sprechstunden/orte/{draft_place}/kalender.ics").status_code == 404


def _expand(feed: bytes, start: date, end: date) -> dict[str, list[datetime]]:
    """The dates a calendar program shows: RRULE expanded, EXDATE removed, RECURRENCE-ID overrides applied."""
    cal = icalendar.Calendar.from_ical(feed)
    shown: dict[str, list[datetime]] = {}
    overrides = {}
    for event in cal.walk("VEVENT"):
        if "RECURRENCE-ID" in event:
            overrides[(str(event["UID"]), event["RECURRENCE-ID"].dt)] = event["DTSTART"].dt
    for event in cal.walk("VEVENT"):
        if "RECURRENCE-ID" in event:
            continue
        begin = event["DTSTART"].dt
        rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=begin)
        excluded = set()
        exdates = event.get("EXDATE") or []
        for ex in exdates if isinstance(exdates, list) else [exdates]:
            excluded |= {d.dt for d in ex.dts}
        uid = str(event["UID"])
        dates = []
        for dt in rule:
            if dt.date() > end:
                break
            if dt in excluded:
                continue
            dates.append(overrides.get((uid, dt), dt))
        shown[uid] = sorted(d for d in dates if start <= d.date() <= end)
    return shown


def test_the_feed_parsed_back_shows_the_dates_of_the_page(client, factory, published):
    h = published["hour"]
    from app.consultations import services

    today = berlin_today()
    upcoming = [o for o in services.occurrences(h, today, today + timedelta(weeks=8)) if o.takes_place]
    services.add_exception(factory.s, h, published["lead"], {"day": upcoming[0].day, "kind": "cancelled", "note": ""})
    target = upcoming[1].day + timedelta(days=1)
    if services.hessian_holiday(target) is None:
        services.add_exception(
            factory.s,
            h,
            published["lead"],
            {
                "day": upcoming[1].day,
                "kind": "moved",
                "moved_on": target,
                "moved_start": time(15),
                "moved_end": time(17),
                "note": "verlegt",
            },
        )
    page = client.get(f"/sprechstunden/orte/{published['place'].id}").get_data(as_text=True)
    entries = re.findall(
        r'data-state="(\w+)"[^>]*>\s*<p class="consultation-date__when"><time datetime="([^"]+)"', page
    )
    assert {"cancelled", "regular"} <= {state for state, _stamp in entries}
    on_page = [datetime.fromisoformat(stamp) for state, stamp in entries if state in ("regular", "moved")]
    feed = client.get(f"/sprechstunden/orte/{published['place'].id}/kalender.ics")
    assert feed.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(feed.get_data())
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = cal.walk("VEVENT")
    assert {str(e["UID"]) for e in events} == {f"sprechstunde-{h.id}@fallkonferenz"}
    shown = _expand(feed.get_data(), today, today + timedelta(weeks=8) - timedelta(days=1))
    assert [d.astimezone(BERLIN) for d in shown[f"sprechstunde-{h.id}@fallkonferenz"]] == [
        d.astimezone(BERLIN) for d in on_page if d.date() < today + timedelta(weeks=8)
    ]
    # The UID stays when the hour changes; SEQUENCE rises.
    sequence = events[0]["SEQUENCE"]
    h.title, h.version = "Neuer Titel", h.version + 1
    factory.s.flush()
    again = icalendar.Calendar.from_ical(client.get("/sprechstunden/kalender.ics").get_data())
    main = [e for e in again.walk("VEVENT") if "RECURRENCE-ID" not in e][0]
    assert str(main["UID"]) == f"sprechstunde-{h.id}@fallkonferenz" and main["SEQUENCE"] > sequence


def test_holidays_are_exdates_in_the_feed(client, factory):
    place = factory.location("Stadtteilbüro Lauterborn", kind="neighbourhood_office")
    # Thursdays through May and June 2026: Ascension and Corpus Christi.
    h = hour(factory, location=place, weekday=3, starts_on=date(2026, 5, 1), ends_on=date(2026, 6, 30))
    h.ends_on = max(h.ends_on, berlin_today())  # still current, so it is published
    factory.s.flush()
    cal = icalendar.Calendar.from_ical(client.get(f"/sprechstunden/orte/{place.id}/kalender.ics").get_data())
    event = cal.walk("VEVENT")[0]
    exdates = event.get("EXDATE")
    excluded = {d.dt.date() for ex in (exdates if isinstance(exdates, list) else [exdates]) for d in ex.dts}
    assert {date(2026, 5, 14), date(2026, 6, 4)} <= excluded
    assert event["DTSTART"].params.get("TZID") == "Europe/Berlin"
    assert event["DTSTART"].dt.tzinfo is not None
    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["UNTIL"][0].utcoffset().total_seconds() == 0


def test_poster_is_an_a4_pdf_with_the_dates(client, published):
    response = client.get(f"/sprechstunden/orte/{published['place'].id}/aushang.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Set-Cookie" not in response.headers
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(response.get_data()))
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 595 and round(float(box.height)) == 842
    text = reader.pages[0].extract_text()
    assert "Sprechstunde des Jobcenters" in text and "BuT" in text
    assert client.get(f"/sprechstunden/orte/{published['place'].id}/aushang.pdf?monat=1999-01").status_code == 400
    assert client.get(f"/sprechstunden/orte/{published['place'].id}/aushang.pdf?monat=quatsch").status_code == 400
