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
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app import pdf
from app.accounts.models import User
from app.agencies.models import LOCATION_KIND_LABELS, Agency, District, Location, LocationKind, reveals
from app.cases.models import DATA_CATEGORIES, OBSTACLES, Case, CaseObstacle
from app.clock import de_long_date, de_short_date, de_stamp, de_time, local_day
from app.conferences.models import (
    ATTENDANCE,
    INVITATION_STATUS,
    MEASURE_STATUS,
    NOTE_VISIBILITY,
    PERSON_KINDS,
    PERSON_REVEALS,
    RESPONSIBLE_KINDS,
    AgendaItem,
    AttendingPerson,
    Conference,
    ConferenceStatus,
    Invitation,
    InvitationStatus,
    Measure,
    Note,
    PersonKind,
)
from app.minutes.models import MINUTES_STATUS, Minutes
from app.permissions import JOBCENTER, Reader, visible_content

ARCHIVE = "archive"


class MinutesError(ValueError):
    """Input that breaks a rule of the minutes; ``field`` names the form field to mark (or None)."""

    def __init__(self, field, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def _iso(value):
    return value.isoformat() if value is not None else None


def assemble(session, conference: Conference, keep: list | None = None) -> dict:
    """What a conference's record holds, as plain JSON-ready data with the data categories of
    every item (never the internal reference): the minutes freeze it, and every reader's view
    of it passes ``permissions.visible_content``.

    ``keep`` collects the rows read (place, notes), so that a page that needs them as objects
    finds them in the session instead of reading them again.
    """
    obstacle_codes = (
        select(func.aggregate_strings(CaseObstacle.obstacle, ","))
        .where(CaseObstacle.case_id == Case.id)
        .scalar_subquery()
    )
    following = aliased(Conference)
    next_place = aliased(Location)
    next_conference = (
        select(following.id)
        .where(
            following.previous_conference_id == conference.id,
            following.status.in_((ConferenceStatus.PLANNED, ConferenceStatus.HELD)),
        )
        .order_by(following.starts_at, following.id)
        .limit(1)
        .scalar_subquery()
    )
    case, district, location, organiser, obstacle_text, next_starts, next_location = session.execute(
        select(
            Case,
            District,
            Location,
            User,
            obstacle_codes,
            select(following.starts_at).where(following.id == next_conference).scalar_subquery(),
            select(next_place.name)
            .join(following, following.location_id == next_place.id)
            .where(following.id == next_conference)
            .scalar_subquery(),
        )
        .select_from(Conference)
        .join(Case, Case.id == Conference.case_id)
        .outerjoin(District, District.id == Case.district_id)
        .join(Location, Location.id == Conference.location_id)
        .join(User, User.id == Conference.organiser_id)
        .where(Conference.id == conference.id)
    ).one()
    invitations = session.execute(
        select(Invitation, Agency, User.name)
        .join(Agency, Agency.id == Invitation.agency_id)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.conference_id == conference.id, Invitation.status != InvitationStatus.CANCELLED)
        .order_by(Agency.name)
    ).all()
    agenda = session.execute(
        select(AgendaItem).where(AgendaItem.conference_id == conference.id).order_by(AgendaItem.position, AgendaItem.id)
    ).scalars()
    notes = session.execute(
        select(Note, User.name, Agency.name)
        .join(User, User.id == Note.author_id)
        .outerjoin(Agency, Agency.id == Note.agency_id)
        .where(Note.conference_id == conference.id, Note.withdrawn_at.is_(None))
        .order_by(Note.created_at, Note.id)
    ).all()
    # This conference's measures, and the earlier ones it reviewed (with the day they were agreed).
    # The ids come from the two indexes first: with the OR beside the join to the conference,
    # SQLite walked every conference of the city (375 ms at 100,000 cases instead of 1).
    ids = (
        select(Measure.id)
        .where(Measure.conference_id == conference.id)
        .union_all(select(Measure.id).where(Measure.reviewed_in_conference_id == conference.id))
    )
    measures = session.execute(
        select(Measure, Agency, Conference.starts_at)
        .join(Conference, Conference.id == Measure.conference_id)
        .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(Measure.id.in_(ids))
        .order_by(Measure.due_on, Measure.id)
    ).all()
    persons = session.execute(
        select(AttendingPerson)
        .where(AttendingPerson.conference_id == conference.id)
        .order_by(AttendingPerson.position, AttendingPerson.id)
    ).scalars()
    staff_of: dict[int, list[str]] = {}
    others = []
    for person in persons:
        if person.kind == PersonKind.AGENCY_STAFF:
            staff_of.setdefault(person.agency_id, []).append(person.description)
        else:
            others.append(
                {"kind": person.kind, "description": person.description, "reveals": PERSON_REVEALS[person.kind]}
            )
    obstacles = set((obstacle_text or "").split(","))
    if keep is not None:
        keep.extend([location, *(note for note, _author, _agency in notes)])

    def measure(m: Measure, agency, agreed_at=None) -> dict:
        return {
            "id": m.id,
            "what": m.what,
            "categories": sorted(m.categories),
            "responsible_kind": m.responsible_kind,
            "responsible_agency_id": m.responsible_agency_id,
            "responsible_agency": agency.name if agency is not None else None,
            "responsible_reveals": reveals(agency) if agency is not None else [],
            "due_on": _iso(m.due_on),
            "status": m.status,
            "outcome": m.outcome,
            "agreed_at": _iso(agreed_at),
        }

    return {
        "pseudonym": case.pseudonym,
        "district": district.name if district else None,
        "occasion": conference.occasion,
        "starts_at": _iso(conference.starts_at),
        "ends_at": _iso(conference.ends_at),
        "location": {
            "name": location.name,
            "kind": location.kind,
            # a room or street address of the venue; a video link is never printed
            "address": location.address if location.kind != LocationKind.ONLINE else None,
        },
        "organiser": organiser.name,
        "person_attends": conference.person_attends,
        "person_attended": conference.person_attended,
        # In the register's order, as the case page lists them.
        "obstacles": [code for code in OBSTACLES if code in obstacles],
        "participants": [
            {
                "agency_id": agency.id,
                "agency": agency.name,
                "reveals": reveals(agency),
                "person": person,
                "invitation": inv.status,
                "attendance": inv.attendance,
                # Who of the agency was there: masked with the agency where it cannot be named.
                "persons": staff_of.get(agency.id, []),
            }
            for inv, agency, person in invitations
        ],
        # An interpreter, the person's own support: each with what its presence reveals.
        "attendees": others,
        "agenda": [
            {
                "id": item.id,
                "position": item.position,
                "title": item.title,
                "discussion": item.discussion,
                "categories": sorted(item.categories),
            }
            for item in agenda
        ],
        "notes": [
            {
                "id": note.id,
                "agency_id": note.agency_id,
                "agency": agency,
                "author": author,
                "categories": sorted(note.categories),
                "visibility": note.visibility,
                "body": note.body,
                "written_at": _iso(note.created_at),
            }
            for note, author, agency in notes
        ],
        "measures": [measure(m, agency) for m, agency, _at in measures if m.conference_id == conference.id],
        "reviewed": [
            measure(m, agency, agreed_at) for m, agency, agreed_at in measures if m.conference_id != conference.id
        ],
        "next_conference": ({"starts_at": _iso(next_starts), "location": next_location} if next_starts else None),
    }


def variant_for(reader) -> str:
    """The cache key of a rendering: the archive copy, or one partner agency's view (its own
    notes and measures differ from another agency's with the same scope)."""
    if reader.is_jobcenter:
        return ARCHIVE
    return f"agency:{reader.agency_id};scope:" + ",".join(sorted(reader.scope))


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
    return {
        "attendance": ATTENDANCE,
        "invitation": INVITATION_STATUS,
        "measure": MEASURE_STATUS,
        "responsible": RESPONSIBLE_KINDS,
        "visibility": NOTE_VISIBILITY,
        "location": LOCATION_KIND_LABELS,
        "obstacles": OBSTACLES,
        "categories": DATA_CATEGORIES,
        "category_names": category_names,
        "long_date": de_long_date,
        "short_date": de_short_date,
        "clock": de_time,
        "stamp": de_stamp,
        "minutes_status": MINUTES_STATUS,
        "person_kinds": PERSON_KINDS,
    }


def document_html(session, minutes: Minutes, content: dict, reader: Reader = JOBCENTER) -> str:
    """The HTML of the PDF for ``reader``: what ``visible_content`` lets it see, in our template,
    the user's text escaped by Jinja's autoescape."""
    config = current_app.config
    finalised_by = session.get(User, minutes.finalised_by_id) if minutes.finalised_by_id else None
    replaced = session.get(Minutes, minutes.replaces_id) if minutes.replaces_id else None
    agency = None if reader.is_jobcenter else session.get(Agency, reader.agency_id)
    with force_locale("de"):
        return render_template(
            "pdf/minutes.html",
            v=visible_content(reader, content, minutes),
            m=minutes,
            agency_name=agency.name if agency is not None else None,
            scope_labels=None if reader.is_jobcenter else category_names(reader.scope),
            finalised_by=finalised_by.name if finalised_by else None,
            replaced=replaced,
            organisation=config["ORGANISATION_NAME"],
            logo=config["ORGANISATION_LOGO"],
            labels=labels(),
        )


def render_pdf(session, minutes: Minutes, content: dict, reader: Reader = JOBCENTER) -> bytes:
    html = document_html(session, minutes, content, reader)
    try:
        return pdf.render_configured(html)
    except pdf.PdfError as err:
        raise MinutesError(
            None, _l("Das PDF konnte nicht erstellt werden: %(reason)s Bitte kürzen Sie die Texte.", reason=str(err))
        ) from None
