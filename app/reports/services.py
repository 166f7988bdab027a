"""The team lead's overview: key figures of the team, per caseworker, and minutes to finalise.

A fixed handful of aggregate queries, each served by an index on (team, status) or
(status, date), so the page costs the same whatever the number of cases.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select

from app.accounts.models import Role, User
from app.cases.models import Case
from app.conferences.models import OPEN_MEASURE_STATUSES, Conference, Measure, Minutes


@dataclass
class WorkerRow:
    user_id: int
    name: str
    open_cases: int = 0
    upcoming_conferences: int = 0
    overdue_measures: int = 0


@dataclass
class Overview:
    open_cases: int
    closed_last_year: int
    upcoming_conferences: int
    held_last_30_days: int
    overdue_measures: int
    workers: list = field(default_factory=list)
    awaiting_minutes: list = field(default_factory=list)  # (Conference, pseudonym, minutes status or None)


def team_overview(session, team_id: int, *, now: datetime, today: date, list_size: int = 10) -> Overview:
    workers = {
        uid: WorkerRow(uid, name)
        for uid, name in session.execute(
            select(User.id, User.name).where(User.team_id == team_id, User.active.is_(True),
                                              User.role.in_([Role.CASEWORKER, Role.TEAM_LEAD]))
            .order_by(User.name))
    }

    # Cases: open per caseworker and closed within a year, in one grouped query.
    year_ago = now - timedelta(days=365)
    open_cases = closed_last_year = 0
    for worker_id, open_n, closed_n in session.execute(
        select(Case.caseworker_id,
               func.count().filter(Case.status == "open"),
               func.count().filter(and_(Case.status == "closed", Case.closed_at >= year_ago)))
        .where(Case.team_id == team_id).group_by(Case.caseworker_id)
    ):
        open_cases += open_n
        closed_last_year += closed_n
        if worker_id in workers:
            workers[worker_id].open_cases = open_n

    # Conferences of the next 30 days per organiser, and those held in the last 30: one
    # range over the (status, starts_at) index, classified here.
    upcoming = held = 0
    future = (Conference.starts_at >= now).label("future")
    for organiser_id, status, is_future, n in session.execute(
        select(Conference.organiser_id, Conference.status, future, func.count())
        .join(Case, Case.id == Conference.case_id)
        .where(Conference.status.in_(["planned", "held", "closed"]),
               Conference.starts_at.between(now - timedelta(days=30), now + timedelta(days=30)),
               Case.team_id == team_id)
        .group_by(Conference.organiser_id, Conference.status, future)
    ):
        if status == "planned" and is_future:
            upcoming += n
            if organiser_id in workers:
                workers[organiser_id].upcoming_conferences += n
        elif status != "planned" and not is_future:
            held += n

    # Overdue measures of open cases, per owning caseworker.
    overdue = 0
    for worker_id, n in session.execute(
        select(Case.caseworker_id, func.count())
        .select_from(Measure).join(Case, Case.id == Measure.case_id)
        .where(Measure.status.in_(OPEN_MEASURE_STATUSES), Measure.due_on < today,
               Case.team_id == team_id, Case.status == "open")
        .group_by(Case.caseworker_id)
    ):
        overdue += n
        if worker_id in workers:
            workers[worker_id].overdue_measures = n

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

    return Overview(open_cases=open_cases, closed_last_year=closed_last_year, upcoming_conferences=upcoming,
                    held_last_30_days=held, overdue_measures=overdue, workers=list(workers.values()),
                    awaiting_minutes=awaiting)
