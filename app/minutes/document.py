"""What minutes show, and their PDF.

``assemble`` gathers a held conference's record (participants, agenda, notes, measures,
review of earlier measures, next date) as plain JSON-ready data; finalising freezes it
into ``Minutes.content``, so every rendering of a version, for any reader, is made from
the same content. The internal reference is never part of it, so no PDF can show it.
"""
import re
from datetime import date

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import pdf
from app.accounts.models import User
from app.agencies.models import LOCATION_KIND_LABELS, Agency, District, Location
from app.cases.models import DATA_CATEGORIES, Case
from app.clock import de_long_date, de_short_date, de_stamp, de_time, local_day
from app.conferences.models import (
    ATTENDANCE,
    INVITATION_STATUS,
    MEASURE_STATUS,
    NOTE_VISIBILITY,
    RESPONSIBLE_KINDS,
    AgendaItem,
    Conference,
    ConferenceStatus,
    Invitation,
    InvitationStatus,
    Measure,
    Note,
    NoteVisibility,
)
from app.minutes.models import MINUTES_STATUS, Minutes

ARCHIVE = "archive"


class MinutesError(ValueError):
    """Input that breaks a rule of the minutes; ``field`` names the form field to mark (or None)."""

    def __init__(self, field, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def _iso(value):
    return value.isoformat() if value is not None else None


def assemble(session, conference: Conference) -> dict:
    """What the minutes show, as plain JSON-ready data (never the internal reference)."""
    case = session.get(Case, conference.case_id)
    location = session.get(Location, conference.location_id)
    organiser = session.get(User, conference.organiser_id)
    district = session.get(District, case.district_id)

    invitations = session.execute(
        select(Invitation, Agency.name, User.name)
        .join(Agency, Agency.id == Invitation.agency_id).outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.conference_id == conference.id, Invitation.status != InvitationStatus.CANCELLED)
        .order_by(Agency.name)
    ).all()
    agenda = session.execute(
        select(AgendaItem).where(AgendaItem.conference_id == conference.id).order_by(AgendaItem.position, AgendaItem.id)
    ).scalars()
    notes = session.execute(
        select(Note, User.name, Agency.name)
        .join(User, User.id == Note.author_id).outerjoin(Agency, Agency.id == Note.agency_id)
        .where(Note.conference_id == conference.id, Note.withdrawn_at.is_(None))
        .order_by(Note.created_at, Note.id)
    ).all()
    agency_names = dict(session.execute(select(Agency.id, Agency.name)).all())

    def measure(m: Measure, agreed_at=None) -> dict:
        return {"what": m.what, "responsible_kind": m.responsible_kind,
                "responsible_agency": agency_names.get(m.responsible_agency_id),
                "due_on": _iso(m.due_on), "status": m.status, "outcome": m.outcome,
                "agreed_at": _iso(agreed_at)}

    measures = session.execute(
        select(Measure).where(Measure.conference_id == conference.id).order_by(Measure.due_on, Measure.id)
    ).scalars()
    reviewed = session.execute(
        select(Measure, Conference.starts_at).join(Conference, Conference.id == Measure.conference_id)
        .where(Measure.reviewed_in_conference_id == conference.id).order_by(Measure.due_on, Measure.id)
    ).all()
    following = session.execute(
        select(Conference.starts_at, Location.name).join(Location, Location.id == Conference.location_id)
        .where(Conference.previous_conference_id == conference.id, Conference.status.in_((ConferenceStatus.PLANNED, ConferenceStatus.HELD)))
        .order_by(Conference.starts_at).limit(1)
    ).first()

    return {
        "pseudonym": case.pseudonym,
        "district": district.name if district else None,
        "occasion": conference.occasion,
        "starts_at": _iso(conference.starts_at),
        "ends_at": _iso(conference.ends_at),
        "location": {"name": location.name, "kind": location.kind,
                     # a room or street address of the venue; a video link is never printed
                     "address": location.address if location.kind != "online" else None},
        "organiser": organiser.name,
        "person_attends": conference.person_attends,
        "person_attended": conference.person_attended,
        "participants": [{"agency": agency, "person": person, "invitation": inv.status,
                          "attendance": inv.attendance} for inv, agency, person in invitations],
        "agenda": [{"position": item.position, "title": item.title, "discussion": item.discussion}
                   for item in agenda],
        "notes": [{"agency": agency, "author": author, "categories": sorted(note.categories),
                   "visibility": note.visibility, "body": note.body, "written_at": _iso(note.created_at)}
                  for note, author, agency in notes],
        "measures": [measure(m) for m in measures],
        "reviewed": [measure(m, agreed_at) for m, agreed_at in reviewed],
        "next_conference": ({"starts_at": _iso(following[0]), "location": following[1]} if following else None),
    }


def notes_for(content: dict, scope) -> list[dict]:
    """The notes a reader sees: all for the Jobcenter (``scope`` None); for a partner agency
    only shared notes whose categories its consent names, whoever wrote them."""
    if scope is None:
        return content["notes"]
    allowed = set(scope)
    return [n for n in content["notes"] if n["visibility"] == NoteVisibility.SHARED and set(n["categories"]) <= allowed]


def variant_for(scope) -> str:
    return ARCHIVE if scope is None else "scope:" + ",".join(sorted(set(scope)))


def filename(pseudonym: str, day: date, version_number: int) -> str:
    """``Protokoll_<pseudonym>_<date>_v<version>.pdf``, reduced to characters safe in any header."""
    safe = re.sub(r"[^A-Za-z0-9-]", "", pseudonym) or "Fall"
    return f"Protokoll_{safe}_{day.isoformat()}_v{int(version_number)}.pdf"


def conference_day(content: dict) -> date:
    return local_day(content["starts_at"])


# --- rendering -----------------------------------------------------------------------------


def category_names(codes) -> str:
    """Labels in the register's order (DATA_CATEGORIES), whatever order the codes come in."""
    return ", ".join(str(label) for code, label in DATA_CATEGORIES.items() if code in set(codes))


def labels() -> dict:
    """Labels and German formats for the minutes, on the page and in the PDF."""
    return {"attendance": ATTENDANCE, "invitation": INVITATION_STATUS, "measure": MEASURE_STATUS,
            "responsible": RESPONSIBLE_KINDS, "visibility": NOTE_VISIBILITY, "location": LOCATION_KIND_LABELS,
            "category_names": category_names, "long_date": de_long_date, "short_date": de_short_date,
            "clock": de_time, "stamp": de_stamp, "minutes_status": MINUTES_STATUS}


def document_html(session, minutes: Minutes, content: dict, scope=None) -> str:
    """The HTML of the PDF: our template, the user's text escaped by Jinja's autoescape."""
    config = current_app.config
    finalised_by = session.get(User, minutes.finalised_by_id) if minutes.finalised_by_id else None
    replaced = session.get(Minutes, minutes.replaces_id) if minutes.replaces_id else None
    scope_labels = None if scope is None else category_names(scope)
    with force_locale("de"):
        return render_template(
            "pdf/minutes.html", c=content, m=minutes, notes=notes_for(content, scope), scope=scope,
            scope_labels=scope_labels, finalised_by=finalised_by.name if finalised_by else None,
            replaced=replaced, organisation=config["ORGANISATION_NAME"],
            logo=config["ORGANISATION_LOGO"], labels=labels(),
        )


def render_pdf(session, minutes: Minutes, content: dict, scope=None) -> bytes:
    config = current_app.config
    html = document_html(session, minutes, content, scope)
    try:
        return pdf.render(
            html, static_folder=current_app.static_folder,
            time_limit=config["PDF_TIME_LIMIT"], max_html_bytes=config["PDF_MAX_HTML_BYTES"],
            max_pages=config["PDF_MAX_PAGES"],
        ).content
    except pdf.PdfError as err:
        raise MinutesError(None, _l("Das PDF konnte nicht erstellt werden: %(reason)s Bitte kürzen Sie die Texte.",
                                    reason=str(err))) from None
