"""What the conference pages, the conference list and the start pages show: each in a fixed
number of queries, however much the conference or the team holds."""

from datetime import timedelta

from sqlalchemy import and_, func, or_, select

from app import db, mail
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
        # Read here, in the route's transaction: read by the template, after the route's
        # commit, it was a transaction of its own.
        "delivery": mail.delivery_states(session, Invitation.__tablename__, [inv.id for inv, _a, _u in invitations]),
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


# A conference takes place on one day (the form has one date, a start and an end time), so one
# that is not over yet began less than a day ago: a bound the index can walk from.
LONGEST_CONFERENCE = timedelta(days=1)


def _planned_not_over(now):
    """Planned and not over yet: on ``ix_conference_status_starts`` (status, start, id, case, end),
    walked in start order and checked in the index itself."""
    return (
        Conference.status == ConferenceStatus.PLANNED,
        Conference.starts_at >= now - LONGEST_CONFERENCE,
        Conference.ends_at >= now,
    )


def _conference_page(conditions, number: int, size: int):
    """The ids of the conferences up to the end of page ``number`` (one more to tell that another
    page follows), in start order: walked on the index and stopped there, whatever the city
    holds. The list's own query then joins what it shows to these ids only."""
    return (
        select(Conference.id)
        .where(*conditions)
        .order_by(Conference.starts_at, Conference.id)
        .limit(min(max(number, 1), db.MAX_PAGE) * size + 1)
        .subquery()
    )


def staff_start(session, user, pages: dict, size: int) -> dict:
    """The team's lists, each walked on an index in its order and stopped after its page:
    the conferences are checked for the team one by one (``db.probe``), so a page costs the
    same with a year or with ten years of the city's conferences."""
    now, today = utcnow(), berlin_today()
    team = user.team_id
    of_team = db.probe(Case.id == Conference.case_id, Case.team_id == team)
    number = pages.get("upcoming", 1)
    page = _conference_page((*_planned_not_over(now), of_team), number, size)
    upcoming = (
        select(Conference, Case.pseudonym, Location.name)
        .join(page, page.c.id == Conference.id)
        .join(Case, Case.id == Conference.case_id)
        .join(Location, Location.id == Conference.location_id)
        .order_by(Conference.starts_at, Conference.id)
    )
    # Unanswered invitations, conference by conference: a page of n invitations needs at most
    # the first n conferences that have one.
    pending = db.probe(Invitation.conference_id == Conference.id, Invitation.status == InvitationStatus.PENDING)
    number = pages.get("unanswered", 1)
    page = _conference_page(
        (Conference.status == ConferenceStatus.PLANNED, Conference.starts_at >= now, of_team, pending),
        number,
        size,
    )
    unanswered = (
        select(Invitation, Agency.name, Conference.id, Conference.starts_at, Case.pseudonym)
        .join(page, page.c.id == Invitation.conference_id)
        .join(Conference, Conference.id == Invitation.conference_id)
        .join(Case, Case.id == Conference.case_id)
        .join(Agency, Agency.id == Invitation.agency_id)
        .where(Invitation.status == InvitationStatus.PENDING)
        .order_by(Conference.starts_at, Conference.id, Agency.name, Invitation.id)
    )
    measures = (
        select(Measure, Case.pseudonym, Agency.name)
        .join(Case, Case.id == Measure.case_id)
        .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(Case.team_id == team, measure_open(), Measure.due_on <= today + timedelta(days=MEASURE_DUE_SOON_DAYS))
        .order_by(Measure.due_on, Measure.id)
    )
    # Open cases in pseudonym order, each checked for a planned conference on its own index.
    planned = db.probe(
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
    """The partner's lists: only conferences the agency may see now (invited, consent valid today).

    Walked like the staff lists: the city's conferences (or the agency's open measures) in
    order, each checked for the agency's invitation and consent (``db.probe``), stopped after
    the page."""
    now, today = utcnow(), berlin_today()
    agency = user.agency_id

    def invited(conference_id, *conditions):
        return db.probe(Invitation.conference_id == conference_id, Invitation.agency_id == agency, *conditions)

    live = Invitation.status != InvitationStatus.CANCELLED
    number = pages.get("upcoming", 1)
    page = _conference_page(
        (
            *_planned_not_over(now),
            invited(Conference.id, live),
            consent_valid_on(Conference.case_id, agency, today, per_row=True),
        ),
        number,
        size,
    )
    upcoming = (
        select(Conference, Invitation.status, Case.pseudonym, District.name, Location.name)
        .join(page, page.c.id == Conference.id)
        .join(Invitation, and_(Invitation.conference_id == Conference.id, Invitation.agency_id == agency, live))
        .join(Case, Case.id == Conference.case_id)
        .join(District, District.id == Case.district_id)
        .join(Location, Location.id == Conference.location_id)
        .order_by(Conference.starts_at, Conference.id)
    )
    number = pages.get("awaiting", 1)
    page = _conference_page(
        (
            Conference.status == ConferenceStatus.PLANNED,
            Conference.starts_at >= now,
            invited(Conference.id, Invitation.status == InvitationStatus.PENDING),
            consent_valid_on(Conference.case_id, agency, today, per_row=True),
        ),
        number,
        size,
    )
    awaiting = (
        select(Conference, Case.pseudonym, Location.name)
        .join(page, page.c.id == Conference.id)
        .join(Case, Case.id == Conference.case_id)
        .join(Location, Location.id == Conference.location_id)
        .order_by(Conference.starts_at, Conference.id)
    )
    measures = (
        select(Measure, Case.pseudonym)
        .join(Case, Case.id == Measure.case_id)
        .where(
            Measure.responsible_agency_id == agency,
            measure_open(),
            invited(Measure.conference_id, live),
            consent_valid_on(Measure.case_id, agency, today, per_row=True),
        )
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
