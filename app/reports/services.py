"""The team lead's overview: key figures of the team, per caseworker, and minutes to finalise.

All figures come from one query. Case figures are exact: they count index entries of the
team's open cases and of the last year's closed ones, never the years of history. Figures
that need a join (conferences, measures) stop counting at COUNT_LIMIT, and the page then
says "more than": so the page costs about the same with a hundred cases or ten years of them.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, func, select

from app.accounts.models import Role, User
from app.cases.models import Case
from app.conferences.models import Conference, Measure, Minutes, measure_open

COUNT_LIMIT = 100


@dataclass
class WorkerRow:
    user_id: int
    name: str
    open_cases: int = 0
    # None: more than COUNT_LIMIT.
    upcoming_conferences: int | None = 0
    overdue_measures: int | None = 0


@dataclass
class Overview:
    open_cases: int
    closed_last_year: int
    upcoming_conferences: int | None
    held_last_30_days: int | None
    overdue_measures: int | None
    workers: list = field(default_factory=list)
    awaiting_minutes: list = field(default_factory=list)  # (Conference, pseudonym, minutes status or None)


def _count(stmt):
    return select(func.count()).select_from(stmt.subquery()).scalar_subquery()


def _up_to_limit(stmt):
    """How many rows ``stmt`` finds, counting no further than COUNT_LIMIT + 1."""
    return _count(stmt.limit(COUNT_LIMIT + 1))


def _capped(n: int) -> int | None:
    return n if n <= COUNT_LIMIT else None


def team_overview(session, team_id: int, *, now: datetime, today: date, list_size: int = 10) -> Overview:
    workers = [
        WorkerRow(uid, name)
        for uid, name in session.execute(
            select(User.id, User.name).where(User.team_id == team_id, User.active.is_(True),
                                              User.role.in_([Role.CASEWORKER, Role.TEAM_LEAD]))
            .order_by(User.name))
    ]

    open_cases = select(Case.id).where(Case.team_id == team_id, Case.status == "open")
    closed = select(Case.id).where(Case.team_id == team_id, Case.status == "closed",
                                   Case.closed_at >= now - timedelta(days=365))
    team_conferences = select(Conference.id).join(Case, Case.id == Conference.case_id).where(Case.team_id == team_id)
    upcoming = team_conferences.where(Conference.status == "planned",
                                      Conference.starts_at >= now, Conference.starts_at <= now + timedelta(days=30))
    held = team_conferences.where(Conference.status.in_(["held", "closed"]),
                                  Conference.starts_at >= now - timedelta(days=30), Conference.starts_at < now)
    # Overdue measures of open cases: walked from the overdue measures (a short, recent range),
    # each checked against its case, rather than through every open case of the team.
    def overdue(*case_conditions):
        return select(Measure.id).where(measure_open(), Measure.due_on < today, exists().where(
            Case.id == Measure.case_id, Case.team_id == team_id, Case.status == "open", *case_conditions))
    # Every figure in one query; a caseworker's figures are keyed (figure, user id).
    figures = {"open": _count(open_cases), "closed": _count(closed), "upcoming": _up_to_limit(upcoming),
               "held": _up_to_limit(held), "overdue": _up_to_limit(overdue())}
    for w in workers:
        figures["open", w.user_id] = _count(open_cases.where(Case.caseworker_id == w.user_id))
        figures["upcoming", w.user_id] = _up_to_limit(upcoming.where(Conference.organiser_id == w.user_id))
        figures["overdue", w.user_id] = _up_to_limit(overdue(Case.caseworker_id == w.user_id))
    n = dict(zip(figures, session.execute(select(*figures.values())).one()))
    for w in workers:
        w.open_cases = n["open", w.user_id]
        w.upcoming_conferences = _capped(n["upcoming", w.user_id])
        w.overdue_measures = _capped(n["overdue", w.user_id])

    # Held conferences whose minutes are not final yet: the team lead's to-do list.
    final = select(Minutes.id).where(Minutes.conference_id == Conference.id,
                                     Minutes.status.in_(["final", "replaced"])).exists()
    draft_status = (select(Minutes.status).where(Minutes.conference_id == Conference.id)
                    .order_by(Minutes.version_number.desc()).limit(1).scalar_subquery())
    awaiting = session.execute(
        select(Conference, Case.pseudonym, draft_status)
        .join(Case, Case.id == Conference.case_id)
        .where(Case.team_id == team_id, Conference.status == "held", ~final)
        .order_by(Conference.starts_at).limit(list_size)
    ).all()

    return Overview(open_cases=n["open"], closed_last_year=n["closed"], upcoming_conferences=_capped(n["upcoming"]),
                    held_last_30_days=_capped(n["held"]), overdue_measures=_capped(n["overdue"]), workers=workers,
                    awaiting_minutes=awaiting)
