"""The team lead's overview: key figures of the team, per caseworker, and minutes to finalise.

All figures come from one query, and each is counted only up to a limit, beyond which the
page says "more than": so the page costs about the same with a hundred cases or with ten
years of them. Case figures walk covering indexes and stop at CASE_COUNT_LIMIT; figures
that need a join (conferences, measures) cost more per row and stop at COUNT_LIMIT.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from app import db
from app.accounts.models import Role, User
from app.cases.models import Case, CaseStatus
from app.cases.services import RECENTLY_CLOSED_CHOICE, closed_since
from app.conferences.models import Conference, ConferenceStatus, Measure, measure_open
from app.conferences.services import queries
from app.conferences.services.queries import Period, period_conditions
from app.minutes.models import Minutes, MinutesStatus

CASE_COUNT_LIMIT = 500
COUNT_LIMIT = 100


@dataclass
class WorkerRow:
    user_id: int
    name: str
    # Each figure: the number, or None for more than its limit.
    open_cases: int | None = 0
    upcoming_conferences: int | None = 0
    overdue_measures: int | None = 0


@dataclass
class Overview:
    open_cases: int | None
    closed_last_year: int | None
    upcoming_conferences: int | None
    held_last_30_days: int | None
    overdue_measures: int | None
    workers: list = field(default_factory=list)
    awaiting_minutes: list = field(default_factory=list)  # (Conference, pseudonym, minutes status or None)
    # Invitation e-mails that finally failed, none sent since: (Conference, pseudonym, agency name, error code)
    failed_mail: list = field(default_factory=list)


class _Figures:
    """Counts gathered into one SELECT, each stopping one row past its limit."""

    def __init__(self):
        self.counts = {}

    def add(self, key, stmt, limit: int):
        count = select(func.count()).select_from(stmt.limit(limit + 1).subquery()).scalar_subquery()
        self.counts[key] = (count, limit)

    def read(self, session) -> dict:
        row = session.execute(select(*[count for count, _limit in self.counts.values()])).one()
        counts = zip(self.counts.items(), row, strict=True)
        return {key: n if n <= limit else None for (key, (_count, limit)), n in counts}


def team_overview(session, team_id: int, *, now: datetime, today: date, list_size: int = 10) -> Overview:
    workers = [
        WorkerRow(uid, name)
        for uid, name in session.execute(
            select(User.id, User.name)
            .where(User.team_id == team_id, User.active.is_(True), User.role.in_([Role.CASEWORKER, Role.TEAM_LEAD]))
            .order_by(User.name)
        )
    ]

    open_cases = select(Case.id).where(Case.team_id == team_id, Case.status == CaseStatus.OPEN)
    closed = select(Case.id).where(
        Case.team_id == team_id,
        Case.status == CaseStatus.CLOSED,
        Case.closed_at >= closed_since(RECENTLY_CLOSED_CHOICE, now),
    )
    # Each conference (each overdue measure below) is checked for the team as the count walks
    # its index (``db.probe``), so the count stops at its limit: a join would read the team's
    # whole history first (PostgreSQL misjudges how many rows the conditions leave). The periods
    # are those of the conference list that each figure links to.
    team_conferences = select(Conference.id).where(db.probe(Case.id == Conference.case_id, Case.team_id == team_id))
    upcoming = team_conferences.where(*period_conditions(Period.NEXT_30_DAYS, now))
    held = team_conferences.where(*period_conditions(Period.LAST_30_DAYS, now))

    # Overdue measures of open cases: walked from the overdue measures (a short, recent range),
    # each checked against its case, rather than through every open case of the team.
    def overdue(*case_conditions):
        return select(Measure.id).where(
            measure_open(),
            Measure.due_on < today,
            db.probe(
                Case.id == Measure.case_id,
                Case.team_id == team_id,
                Case.status == CaseStatus.OPEN,
                *case_conditions,
            ),
        )

    # Every figure in one query; a caseworker's figures are keyed (figure, user id).
    figures = _Figures()
    figures.add("open", open_cases, CASE_COUNT_LIMIT)
    figures.add("closed", closed, CASE_COUNT_LIMIT)
    figures.add("upcoming", upcoming, COUNT_LIMIT)
    figures.add("held", held, COUNT_LIMIT)
    figures.add("overdue", overdue(), COUNT_LIMIT)
    for w in workers:
        figures.add(("open", w.user_id), open_cases.where(Case.caseworker_id == w.user_id), CASE_COUNT_LIMIT)
        figures.add(("upcoming", w.user_id), upcoming.where(Conference.organiser_id == w.user_id), COUNT_LIMIT)
        figures.add(("overdue", w.user_id), overdue(Case.caseworker_id == w.user_id), COUNT_LIMIT)
    n = figures.read(session)
    for w in workers:
        w.open_cases, w.upcoming_conferences, w.overdue_measures = (
            n["open", w.user_id],
            n["upcoming", w.user_id],
            n["overdue", w.user_id],
        )

    # Held conferences whose minutes are not final yet: the team lead's to-do list.
    final = (
        select(Minutes.id)
        .where(
            Minutes.conference_id == Conference.id, Minutes.status.in_([MinutesStatus.FINAL, MinutesStatus.REPLACED])
        )
        .exists()
    )
    draft_status = (
        select(Minutes.status)
        .where(Minutes.conference_id == Conference.id)
        .order_by(Minutes.version_number.desc())
        .limit(1)
        .scalar_subquery()
    )
    awaiting = session.execute(
        select(Conference, Case.pseudonym, draft_status)
        .join(Case, Case.id == Conference.case_id)
        .where(Case.team_id == team_id, Conference.status == ConferenceStatus.HELD, ~final)
        .order_by(Conference.starts_at)
        .limit(list_size)
    ).all()

    return Overview(
        open_cases=n["open"],
        closed_last_year=n["closed"],
        upcoming_conferences=n["upcoming"],
        held_last_30_days=n["held"],
        overdue_measures=n["overdue"],
        workers=workers,
        awaiting_minutes=awaiting,
        failed_mail=failed_invitation_mail(session, team_id, list_size),
    )


def failed_invitation_mail(session, team_id: int, limit: int) -> list:
    """Invitation e-mails of the team's planned conferences whose latest e-mail failed for good."""
    return session.execute(queries.failed_invitation_mail(team_id).limit(limit)).all()
