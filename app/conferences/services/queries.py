"""What the conference pages, the conference list and the start pages show: each in a fixed
number of queries, however much the conference or the team holds."""

from datetime import timedelta

from sqlalchemy import and_, exists, func, or_, select

from app.accounts.models import User
from app.agencies.models import Agency, District, Location
from app.cases.models import Case, CaseStatus
from app.clock import berlin_today, utcnow
from app.conferences.models import (
    Conference,
    ConferenceStatus,
    Invitation,
    InvitationStatus,
    Measure,
    Note,
    measure_open,
)
from app.conferences.services.invitations import consent_valid_on
from app.conferences.services.records import under_review
from app.conferences.services.scheduling import agenda_items
from app.db import Page, paginate
from app.minutes.document import assemble
from app.permissions import Reader, visible_content

MEASURE_DUE_SOON_DAYS = 7  # start page: "due soon"


def measures_of(session, conference) -> list[tuple[Measure, str | None]]:
    return list(
        session.execute(
            select(Measure, Agency.name)
            .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
            .where(Measure.conference_id == conference.id)
            .order_by(Measure.due_on, Measure.id)
        ).all()
    )


def notes_of(session, conference) -> list[tuple[Note, str, str | None]]:
    """Notes with the author's name and agency name (None: Jobcenter)."""
    return list(
        session.execute(
            select(Note, User.name, Agency.name)
            .join(User, User.id == Note.author_id)
            .outerjoin(Agency, Agency.id == Note.agency_id)
            .where(Note.conference_id == conference.id)
            .order_by(Note.created_at, Note.id)
        ).all()
    )


def _facts(session, conference):
    """The conference's case, district, place and organiser, in one query."""
    return session.execute(
        select(Case, District, Location, User)
        .select_from(Conference)
        .join(Case, Case.id == Conference.case_id)
        .outerjoin(District, District.id == Case.district_id)
        .outerjoin(Location, Location.id == Conference.location_id)
        .outerjoin(User, User.id == Conference.organiser_id)
        .where(Conference.id == conference.id)
    ).one()


def staff_page(session, conference) -> dict:
    case, district, location, organiser = _facts(session, conference)
    invitations = session.execute(
        select(Invitation, Agency.name, User.name)
        .join(Agency, Agency.id == Invitation.agency_id)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.conference_id == conference.id)
        .order_by(Agency.name)
    ).all()
    # The conference this one follows up, and those that follow it up, in one query.
    linked = list(
        session.execute(
            select(Conference)
            .where(
                or_(
                    Conference.id == conference.previous_conference_id,
                    Conference.previous_conference_id == conference.id,
                )
            )
            .order_by(Conference.starts_at, Conference.id)
        ).scalars()
    )
    previous = next((c for c in linked if c.id == conference.previous_conference_id), None)
    follow_ups = [c for c in linked if c.previous_conference_id == conference.id]
    # This conference's measures, and the earlier conference's that it reviews, in one query.
    measures: list[tuple[Measure, str | None]] = []
    review: list[tuple[Measure, str | None]] = []
    wanted = Measure.conference_id == conference.id
    if conference.previous_conference_id is not None:
        wanted = or_(wanted, under_review(conference))
    for measure, agency_name in session.execute(
        select(Measure, Agency.name)
        .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(wanted)
        .order_by(Measure.due_on, Measure.id)
    ).all():
        (measures if measure.conference_id == conference.id else review).append((measure, agency_name))
    return {
        "case": case,
        "district": district,
        "location": location,
        "organiser": organiser,
        "agenda": agenda_items(session, conference),
        "invitations": invitations,
        "notes": notes_of(session, conference),
        "measures": measures,
        "previous": previous,
        "follow_ups": follow_ups,
        "review": review,
    }


def partner_page(session, conference, reader: Reader, invitation) -> dict:
    """What a partner agency (``reader``, invited by ``invitation``) sees of a conference: the
    record through the policy's ``visible_content`` (never the internal reference, the case
    summary, other conferences of the case, or any item its consent does not cover), the place
    with its video link, and its own notes (for their edit and withdraw actions)."""
    loaded: list = []
    v = visible_content(reader, assemble(session, conference, keep=loaded))
    # Read with the content and kept: the session has them, no further query.
    own_notes = {n["id"]: session.get(Note, n["id"]) for n in v["notes"] if n.get("agency_id") == reader.agency_id}
    return {
        "v": v,
        "location": session.get(Location, conference.location_id),
        "invitation": invitation,
        "own_notes": own_notes,
    }


def team_conferences(session, team_id, *, upcoming: bool, number: int, size: int) -> Page:
    now = utcnow()
    stmt = (
        select(Conference, Case.pseudonym, Location.name)
        .join(Case, Case.id == Conference.case_id)
        .join(Location, Location.id == Conference.location_id)
        .where(Case.team_id == team_id)
    )
    if upcoming:
        stmt = stmt.where(Conference.ends_at >= now).order_by(Conference.starts_at, Conference.id)
    else:
        stmt = stmt.where(Conference.ends_at < now).order_by(Conference.starts_at.desc(), Conference.id.desc())
    return paginate(session, stmt, number, size)


def staff_start(session, user, pages: dict, size: int) -> dict:
    now, today = utcnow(), berlin_today()
    team = user.team_id
    upcoming = (
        select(Conference, Case.pseudonym, Location.name)
        .join(Case, Case.id == Conference.case_id)
        .join(Location, Location.id == Conference.location_id)
        .where(Case.team_id == team, Conference.status == ConferenceStatus.PLANNED, Conference.ends_at >= now)
        .order_by(Conference.starts_at, Conference.id)
    )
    unanswered = (
        select(Invitation, Agency.name, Conference.id, Conference.starts_at, Case.pseudonym)
        .join(Conference, Conference.id == Invitation.conference_id)
        .join(Case, Case.id == Conference.case_id)
        .join(Agency, Agency.id == Invitation.agency_id)
        .where(
            Case.team_id == team,
            Invitation.status == InvitationStatus.PENDING,
            Conference.status == ConferenceStatus.PLANNED,
            Conference.starts_at >= now,
        )
        .order_by(Conference.starts_at, Agency.name, Invitation.id)
    )
    measures = (
        select(Measure, Case.pseudonym, Agency.name)
        .join(Case, Case.id == Measure.case_id)
        .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(Case.team_id == team, measure_open(), Measure.due_on <= today + timedelta(days=MEASURE_DUE_SOON_DAYS))
        .order_by(Measure.due_on, Measure.id)
    )
    planned = exists().where(
        Conference.case_id == Case.id, Conference.status == ConferenceStatus.PLANNED, Conference.starts_at >= now
    )
    last_held = (
        select(func.max(Conference.starts_at))
        .where(Conference.case_id == Case.id, Conference.status.in_((ConferenceStatus.HELD, ConferenceStatus.CLOSED)))
        .correlate(Case)
        .scalar_subquery()
    )
    without_follow_up = (
        select(Case.id, Case.pseudonym, last_held.label("last_conference"))
        .where(Case.team_id == team, Case.status == CaseStatus.OPEN, ~planned)
        .order_by(Case.pseudonym)
    )
    return {
        "upcoming": paginate(session, upcoming, pages.get("upcoming", 1), size),
        "unanswered": paginate(session, unanswered, pages.get("unanswered", 1), size),
        "measures": paginate(session, measures, pages.get("measures", 1), size),
        "without_follow_up": paginate(session, without_follow_up, pages.get("without_follow_up", 1), size),
        "today": today,
    }


def partner_start(session, user, pages: dict, size: int) -> dict:
    """The partner's lists: only conferences the agency may see now (invited, consent valid today)."""
    now, today = utcnow(), berlin_today()
    agency = user.agency_id
    invited = and_(
        Invitation.conference_id == Conference.id,
        Invitation.agency_id == agency,
        Invitation.status != InvitationStatus.CANCELLED,
    )
    visible = consent_valid_on(Conference.case_id, agency, today)
    upcoming = (
        select(Conference, Invitation.status, Case.pseudonym, District.name, Location.name)
        .join(Invitation, invited)
        .join(Case, Case.id == Conference.case_id)
        .join(District, District.id == Case.district_id)
        .join(Location, Location.id == Conference.location_id)
        .where(Conference.status == ConferenceStatus.PLANNED, Conference.ends_at >= now, visible)
        .order_by(Conference.starts_at, Conference.id)
    )
    awaiting = (
        select(Conference, Case.pseudonym, Location.name)
        .join(Invitation, invited)
        .join(Case, Case.id == Conference.case_id)
        .join(Location, Location.id == Conference.location_id)
        .where(
            Invitation.status == InvitationStatus.PENDING,
            Conference.status == ConferenceStatus.PLANNED,
            Conference.starts_at >= now,
            visible,
        )
        .order_by(Conference.starts_at, Conference.id)
    )
    measures = (
        select(Measure, Case.pseudonym)
        .join(Conference, Conference.id == Measure.conference_id)
        .join(Invitation, invited)
        .join(Case, Case.id == Measure.case_id)
        .where(Measure.responsible_agency_id == agency, measure_open(), visible)
        .order_by(Measure.due_on, Measure.id)
    )
    measure_page = paginate(session, measures, pages.get("measures", 1), size)
    # The list holds only the agency's own measures, which the policy always shows it; they
    # still pass its filter, read with the narrowest scope (no categories at all).
    shown = {
        m["id"]
        for m in visible_content(
            Reader(agency),
            {
                "measures": [
                    {"id": m.id, "responsible_agency_id": m.responsible_agency_id, "categories": m.categories}
                    for m, _pseudonym in measure_page.items
                ]
            },
        )["measures"]
    }
    measure_page.items = [row for row in measure_page.items if row[0].id in shown]
    return {
        "upcoming": paginate(session, upcoming, pages.get("upcoming", 1), size),
        "awaiting": paginate(session, awaiting, pages.get("awaiting", 1), size),
        "measures": measure_page,
        "today": today,
    }
