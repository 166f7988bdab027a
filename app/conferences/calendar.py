"""iCalendar files for invitations, updates and cancellations (RFC 5545/5546).

One UID per conference for its whole life; SEQUENCE rises with every change sent out,
so calendar programs replace the entry instead of adding a second one. The file names
the case by its pseudonym only: no internal reference, no summary, no agenda.

No file asks for a reply that would never reach the application: answers are given on the
conference page. So entries go out with METHOD:PUBLISH (RFC 5546, 3.2.1: an entry to put into
the calendar, no ATTENDEE, nothing to accept or decline), to the invited agencies and, as their
own copy, to the organiser; a later PUBLISH with the same UID and a higher SEQUENCE updates it.
A cancellation is METHOD:CANCEL with STATUS:CANCELLED, which removes the entry and cannot be
answered either. No file carries an ATTENDEE, so no calendar offers to answer for one.
"""

from datetime import date

import icalendar

from app.clock import to_local, utcnow
from app.conferences.models import ConferenceStatus
from app.mail import Attachment

PUBLISH, CANCEL = "PUBLISH", "CANCEL"
PRODID = "-//MainArbeit Offenbach//Fallkonferenz//DE"


def _address(email: str, name: str | None = None) -> icalendar.vCalAddress:
    addr = icalendar.vCalAddress(f"mailto:{email}")
    if name:
        addr.params["cn"] = icalendar.vText(name)
    return addr


def calendar_file(conference, *, method: str, pseudonym: str, location_text: str, organiser, link: str = "") -> bytes:
    """The VCALENDAR for ``conference``: ``method`` PUBLISH (invitation, update, the organiser's
    copy) or CANCEL."""
    if method not in (PUBLISH, CANCEL):
        raise ValueError(f"unsupported iTIP method {method!r}")
    start, end = to_local(conference.starts_at), to_local(conference.ends_at)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", conference.ical_uid)
    event.add("sequence", conference.ical_sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"Fallkonferenz {pseudonym}")
    event.add("location", location_text)
    description = "Zu- oder Absage und Einzelheiten nach Anmeldung auf der Seite der Fallkonferenz"
    if link:
        event.add("url", link)
        description += f": {link}"
    event.add("description", description + ". Bitte nicht über den Kalender antworten.")
    event.add("organizer", _address(organiser.email, organiser.name))
    if method == CANCEL or conference.status == ConferenceStatus.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    cal.add_component(event)
    # Only the transitions around the conference: a compact, correct VTIMEZONE.
    cal.add_missing_timezones(first_date=date(start.year - 1, 1, 1), last_date=date(end.year + 2, 1, 1))
    return cal.to_ical()


def attachment(content: bytes, method: str) -> Attachment:
    return Attachment("fallkonferenz.ics", content, "text", "calendar", {"method": method})
