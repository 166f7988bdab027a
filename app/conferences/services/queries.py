"""What the conference pages, the conference list and the start pages show: each in a fixed
number of queries, however much the conference or the team holds."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from app import db, mail
from app.accounts.models import User
from app.agencies.models import Agency, District, Location
from app.cases.models import Case, CaseStatus, Consent
from app.clock import berlin_today, local_day, local_to_utc, utcnow
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
from app.mail import FAILED, OutboxMessage
from app.minutes.document import assemble
from app.minutes.models import Minutes, MinutesComment, MinutesStatus
from app.permissions import Reader, can, known_partner_access, reader_of, visible_content

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


# The team's conference list: periods, each also a figure of the team overview, which links
# to the list behind it (so both read the same conditions from here).
class Period(StrEnum):
    UPCOMING = "anstehend"  # not yet over
    PAST = "vergangen"
    NEXT_30_DAYS = "naechste-30-tage"  # planned, starting within 30 days (overview figure)
    LAST_30_DAYS = "letzte-30-tage"  # held in the last 30 days (overview figure)
    ALL = "alle"


PERIOD_LABELS = {
    Period.UPCOMING: _l("anstehende"),
    Period.PAST: _l("vergangene"),
    Period.NEXT_30_DAYS: _l("geplant in den nächsten 30 Tagen"),
    Period.LAST_30_DAYS: _l("durchgeführt in den letzten 30 Tagen"),
    Period.ALL: _l("alle"),
}
FIGURE_WINDOW = timedelta(days=30)
# The week view lists at most this many conferences of a week (a team has far fewer).
WEEK_LIMIT = 300


def period_conditions(period: str, now: datetime) -> list:
    if period == Period.UPCOMING:
        return [Conference.ends_at >= now]
    if period == Period.PAST:
        return [Conference.ends_at < now]
    if period == Period.NEXT_30_DAYS:
        return [
            Conference.status == ConferenceStatus.PLANNED,
            Conference.starts_at >= now,
            Conference.starts_at <= now + FIGURE_WINDOW,
        ]
    if period == Period.LAST_30_DAYS:
        return [
            Conference.status.in_([ConferenceStatus.HELD, ConferenceStatus.CLOSED]),
            Conference.starts_at >= now - FIGURE_WINDOW,
            Conference.starts_at < now,
        ]
    return []


@dataclass
class ConferenceFilter:
    period: str = Period.UPCOMING
    date_from: date | None = None  # Berlin days, inclusive
    date_to: date | None = None
    status: str | None = None
    location_id: int | None = None
    district_id: int | None = None
    organiser_id: int | None = None

    @property
    def newest_first(self) -> bool:
        return self.period in (Period.PAST, Period.LAST_30_DAYS)


def _team_conferences(team_id):
    return (
        select(Conference, Case.pseudonym, Location.name, District.name)
        .join(Case, Case.id == Conference.case_id)
        .join(Location, Location.id == Conference.location_id)
        .outerjoin(District, District.id == Case.district_id)
        .where(Case.team_id == team_id)
    )


def _day_start(day: date) -> datetime:
    return local_to_utc(datetime.combine(day, time()))


def team_conferences(session, team_id, f: ConferenceFilter, *, number: int, size: int, now=None) -> Page:
    """One page of the team's conferences under the filter, soonest first (past periods:
    latest first). Walks the conferences in start order (index ``ix_conference_starts_case``)
    and stops after a page, however many conferences the team has had."""
    now = now or utcnow()
    stmt = _team_conferences(team_id).where(*period_conditions(f.period, now))
    if f.date_from is not None:
        stmt = stmt.where(Conference.starts_at >= _day_start(f.date_from))
    if f.date_to is not None:
        stmt = stmt.where(Conference.starts_at < _day_start(f.date_to + timedelta(days=1)))
    if f.status:
        stmt = stmt.where(Conference.status == f.status)
    if f.location_id:
        stmt = stmt.where(Conference.location_id == f.location_id)
    if f.district_id:
        stmt = stmt.where(Case.district_id == f.district_id)
    if f.organiser_id:
        stmt = stmt.where(Conference.organiser_id == f.organiser_id)
    if f.newest_first:
        stmt = stmt.order_by(Conference.starts_at.desc(), Conference.id.desc())
    else:
        stmt = stmt.order_by(Conference.starts_at, Conference.id)
    return paginate(session, stmt, number, size)


@dataclass
class Week:
    monday: date
    days: list  # [(day, [(Conference, pseudonym, location name, district name), ...]), ...] Monday to Sunday
    truncated: bool

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def count(self) -> int:
        return sum(len(rows) for _day, rows in self.days)


def team_week(session, team_id, day: date) -> Week:
    """The team's conferences of the week (Monday to Sunday, Berlin) that holds ``day``."""
    monday = day - timedelta(days=day.weekday())
    rows = session.execute(
        _team_conferences(team_id)
        .where(
            Conference.starts_at >= _day_start(monday),
            Conference.starts_at < _day_start(monday + timedelta(days=7)),
        )
        .order_by(Conference.starts_at, Conference.id)
        .limit(WEEK_LIMIT + 1)
    ).all()
    by_day: dict[date, list] = {monday + timedelta(days=i): [] for i in range(7)}
    for row in rows[:WEEK_LIMIT]:
        by_day[local_day(row[0].starts_at)].append(row)
    return Week(monday, list(by_day.items()), len(rows) > WEEK_LIMIT)


class MeasureState(StrEnum):
    OPEN = "offen"
    OVERDUE = "ueberfaellig"  # open and due before today (the team overview's figure)


MEASURE_STATE_LABELS = {MeasureState.OPEN: _l("offen"), MeasureState.OVERDUE: _l("überfällig")}


def team_measures(session, team_id, *, state: str, caseworker_id=None, number: int, size: int, today=None) -> Page:
    """Open measures of the team's open cases by due date (overdue: due before today), optionally
    of one caseworker's cases: walks the index of open measures by due date, a page at a time."""
    today = today or berlin_today()
    stmt = (
        select(Measure, Case.pseudonym, Agency.name)
        .join(Case, Case.id == Measure.case_id)
        .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(measure_open(), Case.team_id == team_id, Case.status == CaseStatus.OPEN)
        .order_by(Measure.due_on, Measure.id)
    )
    if state == MeasureState.OVERDUE:
        stmt = stmt.where(Measure.due_on < today)
    if caseworker_id:
        stmt = stmt.where(Case.caseworker_id == caseworker_id)
    return paginate(session, stmt, number, size)


# --- the staff's work queue (start page) ------------------------------------------------------


def minutes_to_write(user):
    """Held conferences of the user's team that the user moderates, whose minutes are not
    final yet (finalising closes a conference), oldest first: (Conference, pseudonym, latest
    minutes status or None, comment deadline or None). Walks the organiser's index."""
    latest = (
        select(Minutes.id)
        .where(Minutes.conference_id == Conference.id)
        .order_by(Minutes.version_number.desc())
        .limit(1)
        .correlate(Conference)
        .scalar_subquery()
    )
    return (
        select(Conference, Case.pseudonym, Minutes.status, Minutes.comments_until)
        .join(Case, Case.id == Conference.case_id)
        .outerjoin(Minutes, Minutes.id == latest)
        .where(
            Conference.organiser_id == user.id,
            Conference.status == ConferenceStatus.HELD,
            Case.team_id == user.team_id,
        )
        .order_by(Conference.starts_at, Conference.id)
    )


def comments_received(user):
    """Partners' comments on the drafts the user shared (minutes not final yet), newest first:
    (MinutesComment, agency name, conference id, pseudonym, comments deadline)."""
    return (
        select(MinutesComment, Agency.name, Conference.id, Case.pseudonym, Minutes.comments_until)
        .join(Minutes, Minutes.id == MinutesComment.minutes_id)
        .join(Conference, Conference.id == Minutes.conference_id)
        .join(Case, Case.id == Conference.case_id)
        .join(Agency, Agency.id == MinutesComment.agency_id)
        .where(
            Conference.organiser_id == user.id,
            Conference.status == ConferenceStatus.HELD,
            Minutes.status == MinutesStatus.DRAFT,
            Case.team_id == user.team_id,
        )
        .order_by(MinutesComment.created_at.desc(), MinutesComment.id.desc())
    )


def failed_invitation_mail(team_id):
    """Invitation e-mails of the team's planned conferences whose latest e-mail failed for good,
    newest first: (Conference, pseudonym, agency name, error code). Starts from the failed
    messages of the outbox (its status index), which are few."""
    m, newer = OutboxMessage, aliased(OutboxMessage)
    return (
        select(Conference, Case.pseudonym, Agency.name, m.last_error)
        .select_from(m)
        .join(Invitation, (m.ref_type == Invitation.__tablename__) & (m.ref_id == Invitation.id))
        .join(Conference, Conference.id == Invitation.conference_id)
        .join(Case, Case.id == Conference.case_id)
        .join(Agency, Agency.id == Invitation.agency_id)
        .where(
            m.status == FAILED,
            Case.team_id == team_id,
            Conference.status == ConferenceStatus.PLANNED,
            ~exists().where(newer.ref_type == m.ref_type, newer.ref_id == m.ref_id, newer.id > m.id),
        )
        .order_by(m.id.desc())
    )


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
        "minutes_to_write": paginate(session, minutes_to_write(user), pages.get("minutes", 1), size),
        "comments": paginate(session, comments_received(user), pages.get("comments", 1), size),
        "failed_mail": paginate(session, failed_invitation_mail(team), pages.get("failed_mail", 1), size),
        "upcoming": paginate(session, upcoming, pages.get("upcoming", 1), size),
        "unanswered": paginate(session, unanswered, pages.get("unanswered", 1), size),
        "measures": paginate(session, measures, pages.get("measures", 1), size),
        "without_follow_up": paginate(session, without_follow_up, pages.get("without_follow_up", 1), size),
        "today": today,
    }


@dataclass
class HistoryRow:
    conference: Conference
    invitation: Invitation
    pseudonym: str
    district: str | None
    location: str
    final: Minutes | None  # the valid version, when the agency may download it
    draft: Minutes | None  # a draft shared with the agency for comment, while it may comment


def partner_history(session, user, number: int, size: int) -> Page:
    """The conferences the partner's agency was invited to and may see now (a live invitation
    and a consent valid today: the policy's ``conference.view``), latest first, with the
    minutes it may read. A page costs three queries: its rows, the agency's consents for
    their cases, and their minutes; the policy then decides each row from what was read."""
    today = berlin_today()
    agency = user.agency_id
    stmt = (
        select(Conference, Invitation, Case.pseudonym, District.name, Location.name)
        .join(
            Invitation,
            and_(
                Invitation.conference_id == Conference.id,
                Invitation.agency_id == agency,
                Invitation.status != InvitationStatus.CANCELLED,
            ),
        )
        .join(Case, Case.id == Conference.case_id)
        .outerjoin(District, District.id == Case.district_id)
        .join(Location, Location.id == Conference.location_id)
        .where(consent_valid_on(Conference.case_id, agency, today))
        .order_by(Conference.starts_at.desc(), Conference.id.desc())
    )
    page = paginate(session, stmt, number, size)
    if not page.items:
        return page
    case_ids = {conf.case_id for conf, *_rest in page.items}
    consents = dict.fromkeys(case_ids)
    for consent in session.execute(
        select(Consent).where(
            Consent.case_id.in_(case_ids), Consent.agency_id == agency, Consent.superseded_at.is_(None)
        )
    ).scalars():
        if consents[consent.case_id] is None and consent.is_valid_on(today):
            consents[consent.case_id] = consent
    known_partner_access(agency, [inv for _conf, inv, *_rest in page.items], consents, today)
    minutes: dict[int, dict[MinutesStatus, Minutes]] = {}
    for m in session.execute(
        select(Minutes)
        .where(
            Minutes.conference_id.in_([conf.id for conf, *_rest in page.items]),
            Minutes.status.in_([MinutesStatus.FINAL, MinutesStatus.DRAFT]),
        )
        .order_by(Minutes.version_number)
    ).scalars():
        minutes.setdefault(m.conference_id, {})[m.status] = m
    rows = []
    for conf, inv, pseudonym, district, location in page.items:
        if reader_of(user, conf) is None:  # the policy has the last word
            continue
        final = minutes.get(conf.id, {}).get(MinutesStatus.FINAL)
        draft = minutes.get(conf.id, {}).get(MinutesStatus.DRAFT)
        rows.append(
            HistoryRow(
                conf,
                inv,
                pseudonym,
                district,
                location,
                final if final is not None and can(user, "minutes.download", final) else None,
                draft if draft is not None and can(user, "minutes.comment", draft) else None,
            )
        )
    page.items = rows
    return page


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
