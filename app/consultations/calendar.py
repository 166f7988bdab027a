"""iCalendar subscription feeds of the consultation hours (RFC 5545, METHOD:PUBLISH).

One VEVENT per consultation hour with its RRULE, a stable UID for its whole life and SEQUENCE
raised with every change; EXDATE for dates that do not take place (cancelled dates and Hessian
public holidays); a moved date is a second VEVENT with the same UID and a RECURRENCE-ID naming
the date it replaces. Times carry TZID=Europe/Berlin with its VTIMEZONE (icalendar's
``add_missing_timezones``). The output depends on the stored data only (DTSTAMP is the hour's
last change), so an unchanged feed is byte for byte the same and its ETag holds.

Public: a feed names places, times, topics and an office's contact; nothing about cases or staff.
"""

from datetime import UTC, date, datetime, timedelta

import icalendar

from app.clock import BERLIN
from app.consultations.models import LANGUAGES
from app.consultations.services import OccurrenceState, PublicData, occurrences

PRODID = "-//MainArbeit Offenbach//Sprechstunden im Stadtteil//DE"
REFRESH = timedelta(hours=6)


def uid(hour) -> str:
    """Stable for the life of the hour: its id, nothing that changes."""
    return f"sprechstunde-{hour.id}@fallkonferenz"


def _location_text(location, district) -> str:
    parts = [location.name, location.address or "", district.name if district else "", "Offenbach am Main"]
    return ", ".join(p for p in parts if p)


def _description(hour, data: PublicData, link: str) -> str:
    topics = [data.topics[t].name for t in hour.topic_ids if t in data.topics]
    lines = [f"Themen: {', '.join(topics)}" if topics else ""]
    if hour.languages:
        lines.append("Sprachen: " + ", ".join(str(LANGUAGES.get(code, code)) for code in hour.languages))
    lines.append("Bitte vereinbaren Sie einen Termin." if hour.appointment_needed else "Ohne Termin.")
    access = [
        text
        for flag, text in ((hour.step_free, "stufenlos erreichbar"), (hour.hearing_loop, "Induktionsschleife"))
        if flag
    ]
    if hour.accessibility_note:
        access.append(hour.accessibility_note)
    if access:
        lines.append("Barrierefreiheit: " + ", ".join(access))
    if hour.note:
        lines.append(hour.note)
    contact = ", ".join(p for p in (hour.contact_office, hour.contact_phone, hour.contact_email) if p)
    lines.append(f"Kontakt: {contact}")
    lines.append(f"Mehr: {link}")
    return "\n".join(line for line in lines if line)


def feed(data: PublicData, *, name: str, link_for) -> bytes:
    """The VCALENDAR of the hours in ``data``; ``link_for(location_id)`` is a location page's URL."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Berlin")
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    first: date | None = None
    last: date | None = None
    for hour in data.hours:
        location = data.locations[hour.location_id]
        district = data.districts.get(location.district_id)
        every = occurrences(hour, hour.starts_on, hour.ends_on, data.exceptions[hour.id])
        if not every:
            continue
        start = min(o.series_start for o in every)
        first = min(first or start.date(), start.date())
        last = max(last or hour.ends_on, hour.ends_on)
        link = link_for(hour.location_id)
        summary = hour.title
        where = _location_text(location, district)
        description = _description(hour, data, link)
        categories = [data.topics[t].name for t in hour.topic_ids if t in data.topics]
        stamp = hour.updated_at.astimezone(UTC) if hour.updated_at.tzinfo else hour.updated_at.replace(tzinfo=UTC)

        def event(begin, end, *, hour=hour, summary=summary, where=where, stamp=stamp, link=link):
            e = icalendar.Event()
            e.add("uid", uid(hour))
            e.add("sequence", hour.version)
            e.add("dtstamp", stamp)
            e.add("last-modified", stamp)
            e.add("dtstart", begin)
            e.add("dtend", end)
            e.add("summary", summary)
            e.add("location", where)
            e.add("url", link)
            e.add("status", "CONFIRMED")
            e.add("transp", "TRANSPARENT")
            return e

        main = event(
            datetime.combine(start.date(), hour.start_time, tzinfo=BERLIN),
            datetime.combine(start.date(), hour.end_time, tzinfo=BERLIN),
        )
        rule = icalendar.vRecur.from_ical(hour.rrule)
        rule["UNTIL"] = [datetime.combine(hour.ends_on, hour.start_time, tzinfo=BERLIN).astimezone(UTC)]
        main.add("rrule", rule)
        main.add("description", description)
        if categories:
            main.add("categories", categories)
        skipped = [o.starts_at for o in every if o.state in (OccurrenceState.CANCELLED, OccurrenceState.HOLIDAY)]
        for day in skipped:
            main.add("exdate", day)
        cal.add_component(main)
        for moved in (o for o in every if o.state == OccurrenceState.MOVED):
            override = event(moved.starts_at, moved.ends_at)
            override.add("recurrence-id", moved.series_start)
            note = f"Verlegt vom {moved.series_start.strftime('%d.%m.%Y')}."
            if moved.note:
                note += f" {moved.note}"
            override.add("description", f"{note}\n{description}")
            cal.add_component(override)
    if first is not None and last is not None:
        cal.add_missing_timezones(first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 1, 12, 31))
    return cal.to_ical()
