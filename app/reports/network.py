"""The § 18 SGB II network and outcome report: aggregated figures of a period, small cells suppressed.

Team leads see their team's figures, the Steuerung all teams'. Nothing here names a case,
a person or a member of staff: every figure is a count over a group, and every published
count passes ``suppression.protect`` (below the threshold: "< 5"; secondary suppression
so that no hidden count follows from the totals).

The report runs a fixed number of aggregate queries (``QUERIES``), whatever the number of
cases: each reads the conferences of the period through the index on status and start time
and groups in the database; only the cohort of cases whose first conference lies in the
period (a few thousand at 100,000 cases) is read row by row, for medians and outcomes.
"""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, distinct, exists, func, literal, select
from sqlalchemy.orm import aliased

from app.agencies.models import AGENCY_TYPE_LABELS, Agency, District
from app.cases.models import CLOSE_REASONS, OBSTACLES, Case, CaseObstacle
from app.clock import local_to_utc, to_local
from app.conferences.models import (
    ATTENDANCE,
    MEASURE_STATUS,
    OPEN_MEASURE_STATUSES,
    Conference,
    ConferenceStatus,
    Invitation,
    InvitationStatus,
    Measure,
    ResponsibleKind,
)
from app.reports.suppression import TOTAL, Table, protect

HELD = (ConferenceStatus.HELD, ConferenceStatus.CLOSED)
QUERIES = 10  # the aggregate queries one report runs (tests/reports/test_network.py counts them)


# --- the period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A quarter, or a whole year (then its four quarters are the columns)."""

    year: int
    quarter: int | None = None

    @property
    def quarters(self) -> list[int]:
        return [self.quarter] if self.quarter else [1, 2, 3, 4]

    @property
    def start(self) -> date:
        return date(self.year, 3 * (self.quarters[0] - 1) + 1, 1)

    @property
    def end(self) -> date:
        """The first day after the period."""
        return _quarter_start(self.year, self.quarters[-1] + 1)

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.quarter:
            return str(_l("%(q)s. Quartal %(year)s", q=self.quarter, year=self.year))
        return str(_l("Jahr %(year)s", year=self.year))

    @property
    def slug(self) -> str:
        return f"{self.year}-Q{self.quarter}" if self.quarter else str(self.year)

    @staticmethod
    def current_quarter(today: date) -> "Period":
        return Period(today.year, (today.month - 1) // 3 + 1)

    @staticmethod
    def previous_quarter(today: date) -> "Period":
        q = (today.month - 1) // 3 + 1
        return Period(today.year, q - 1) if q > 1 else Period(today.year - 1, 4)


def _quarter_start(year: int, quarter: int) -> date:
    return date(year + 1, 1, 1) if quarter == 5 else date(year, 3 * (quarter - 1) + 1, 1)


def _utc(day: date) -> datetime:
    return local_to_utc(datetime.combine(day, time.min))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise ValueError(day)


# --- the report ------------------------------------------------------------------------------


@dataclass
class Stats:
    """Days from opening a case to its first conference: shown only for enough cases."""

    n: int
    median: float | None = None
    q1: float | None = None
    q3: float | None = None

    @property
    def shown(self) -> bool:
        return self.median is not None


@dataclass
class NetworkReport:
    period: Period
    scope: str  # "team" or "all"
    team_id: int | None
    today: date
    threshold: int
    tables: dict = field(default_factory=dict)  # key → Table
    first_conference_days: Stats | None = None
    # Cohort whose 12 months after the first conference have not all passed yet.
    outcome_window_open: bool = False

    def table(self, key) -> Table:
        return self.tables[key]


def _labels(mapping) -> list:
    return [(code, str(label)) for code, label in mapping.items()]


RESPONSIBLE_ROWS = [
    ("jobcenter", _l("Jobcenter")),
    ("person", _l("die Person selbst")),
    *[(f"agency:{code}", label) for code, label in AGENCY_TYPE_LABELS.items()],
]
ANSWERS = [
    (InvitationStatus.ACCEPTED.value, _l("zugesagt")),
    (InvitationStatus.DECLINED.value, _l("abgesagt")),
    (InvitationStatus.PENDING.value, _l("ohne Antwort")),
]
ATTENDANCE_COLUMNS = [*[(code.value, label) for code, label in ATTENDANCE.items()], ("none", _l("nicht erfasst"))]
PERSON_ROWS = [("yes", _l("teilgenommen")), ("no", _l("nicht teilgenommen")), ("none", _l("nicht erfasst"))]
OUTCOME_COLUMNS = [("m6", _l("bis 6 Monate")), ("m12", _l("nach 6 bis 12 Monaten"))]
COHORT_ROWS = [
    ("closed", _l("innerhalb von 12 Monaten abgeschlossen")),
    ("not_closed", _l("nicht innerhalb von 12 Monaten abgeschlossen")),
]


def network_report(
    session, *, period: Period, team_id: int | None, today: date, threshold: int, districts=None
) -> NetworkReport:
    """The report of ``period`` for one team (``team_id``) or all teams (None)."""
    report = NetworkReport(period, "team" if team_id else "all", team_id, today, threshold)
    start, end = _utc(period.start), _utc(period.end)

    def team(stmt):
        return stmt.where(Case.team_id == team_id) if team_id else stmt

    held = and_(Conference.status.in_(HELD), Conference.starts_at >= start, Conference.starts_at < end)
    district_rows = districts if districts is not None else _districts(session)
    quarters = period.quarters
    quarter_of = (
        case(
            *[(Conference.starts_at < _utc(_quarter_start(period.year, q + 1)), q) for q in quarters[:-1]],
            else_=quarters[-1],
        )
        if len(quarters) > 1
        else literal(quarters[0])
    )

    # 1. Conferences held per district and quarter; cases with at least one.
    rows = session.execute(
        team(
            select(Case.district_id, quarter_of, func.count())
            .select_from(Conference)
            .join(Case, Case.id == Conference.case_id)
            .where(held)
            .group_by(Case.district_id, quarter_of)
        )
    ).all()
    conferences = {(d, f"q{q}"): n for d, q, n in rows}
    # Cases per district over the whole period (a case with conferences in two quarters once).
    cases_per_district = dict(
        session.execute(
            team(
                select(Case.district_id, func.count(distinct(Case.id)))
                .select_from(Conference)
                .join(Case, Case.id == Conference.case_id)
                .where(held)
                .group_by(Case.district_id)
            )
        ).all()
    )
    report.tables["conferences"] = Table(
        "conferences",
        str(_l("Durchgeführte Fallkonferenzen nach Stadtteil und Quartal")),
        district_rows,
        [(f"q{q}", str(_l("%(q)s. Quartal", q=q))) for q in quarters],
        conferences,
    )
    report.tables["cases"] = Table(
        "cases",
        str(_l("Fälle mit mindestens einer Fallkonferenz nach Stadtteil")),
        district_rows,
        [("n", str(_l("Fälle")))],
        {(d, "n"): n for d, n in cases_per_district.items()},
        row_totals=False,
    )

    # 2. Invitations of these conferences: answer and attendance by agency type; agencies taking part.
    invitation_rows = session.execute(
        team(
            select(Agency.type, Invitation.status, Invitation.attendance, func.count(), func.count(distinct(Agency.id)))
            .select_from(Invitation)
            .join(Conference, Conference.id == Invitation.conference_id)
            .join(Case, Case.id == Conference.case_id)
            .join(Agency, Agency.id == Invitation.agency_id)
            .where(held, Invitation.status != InvitationStatus.CANCELLED)
            .group_by(Agency.type, Invitation.status, Invitation.attendance)
        )
    ).all()
    answers: dict[tuple[str, str], int] = {}
    attendance: dict[tuple[str, str], int] = {}
    for agency_type, status, present, n, _agencies in invitation_rows:
        answers[(agency_type, status)] = answers.get((agency_type, status), 0) + n
        key = (agency_type, present or "none")
        attendance[key] = attendance.get(key, 0) + n
    type_rows = _labels(AGENCY_TYPE_LABELS)
    report.tables["answers"] = Table(
        "answers", str(_l("Einladungen nach Art der Einrichtung und Antwort")), type_rows, ANSWERS, answers
    )
    report.tables["attendance"] = Table(
        "attendance",
        str(_l("Einladungen nach Art der Einrichtung und Anwesenheit")),
        type_rows,
        ATTENDANCE_COLUMNS,
        attendance,
        shared_row_totals="answers",
    )
    agencies = dict(
        session.execute(
            team(
                select(Agency.type, func.count(distinct(Agency.id)))
                .select_from(Invitation)
                .join(Conference, Conference.id == Invitation.conference_id)
                .join(Case, Case.id == Conference.case_id)
                .join(Agency, Agency.id == Invitation.agency_id)
                .where(held, Invitation.status != InvitationStatus.CANCELLED)
                .group_by(Agency.type)
            )
        ).all()
    )
    report.tables["agencies"] = Table(
        "agencies",
        str(_l("Beteiligte Einrichtungen nach Art")),
        type_rows,
        [("n", str(_l("Einrichtungen")))],
        {(t, "n"): n for t, n in agencies.items()},
        row_totals=False,
    )
    person = dict(
        session.execute(
            team(
                select(Conference.person_attended, func.count())
                .select_from(Conference)
                .join(Case, Case.id == Conference.case_id)
                .where(held)
                .group_by(Conference.person_attended)
            )
        ).all()
    )
    report.tables["person"] = Table(
        "person",
        str(_l("Teilnahme der Person an ihrer Fallkonferenz")),
        PERSON_ROWS,
        [("n", str(_l("Fallkonferenzen")))],
        {("yes", "n"): person.get(True, 0), ("no", "n"): person.get(False, 0), ("none", "n"): person.get(None, 0)},
        row_totals=False,
        links={(TOTAL, "n"): ("conferences", TOTAL, TOTAL)},
    )

    # 3. Placement obstacles of the cases discussed, and the measures agreed.
    obstacle_cases = dict(
        session.execute(
            team(
                select(CaseObstacle.obstacle, func.count(distinct(CaseObstacle.case_id)))
                .select_from(Conference)
                .join(Case, Case.id == Conference.case_id)
                .join(CaseObstacle, CaseObstacle.case_id == Case.id)
                .where(held)
                .group_by(CaseObstacle.obstacle)
            )
        ).all()
    )
    obstacle_rows = _labels(OBSTACLES)
    report.tables["obstacles"] = Table(
        "obstacles",
        str(_l("Fälle mit Fallkonferenz nach Vermittlungshemmnis (Mehrfachnennungen)")),
        obstacle_rows,
        [("n", str(_l("Fälle")))],
        {(o, "n"): n for o, n in obstacle_cases.items()},
        row_totals=False,
        column_totals=False,
    )
    overdue = and_(Measure.status.in_(OPEN_MEASURE_STATUSES), Measure.due_on < today)
    # Measures are reached from the period's conferences (index on the measure's conference), never
    # by walking every measure.
    measure_rows = session.execute(
        team(
            select(
                Measure.responsible_kind,
                Agency.type,
                Measure.status,
                func.count(),
                func.sum(case((overdue, 1), else_=0)),
            )
            .select_from(Conference)
            .join(Measure, Measure.conference_id == Conference.id)
            .join(Case, Case.id == Conference.case_id)
            .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
            .where(held)
            .group_by(Measure.responsible_kind, Agency.type, Measure.status)
        )
    ).all()
    by_party: dict[tuple[str, str], int] = {}
    overdue_by_party: dict[tuple[str, str], int] = {}
    for kind, agency_type, status, n, late in measure_rows:
        party = f"agency:{agency_type}" if kind == ResponsibleKind.AGENCY else kind
        by_party[(party, status)] = by_party.get((party, status), 0) + n
        overdue_by_party[(party, "overdue")] = overdue_by_party.get((party, "overdue"), 0) + (late or 0)
    status_columns = _labels(MEASURE_STATUS)
    report.tables["measures"] = Table(
        "measures",
        str(_l("Vereinbarte Maßnahmen nach Verantwortlichen und Stand")),
        [(code, str(label)) for code, label in RESPONSIBLE_ROWS],
        status_columns,
        by_party,
    )
    report.tables["overdue"] = Table(
        "overdue",
        str(_l("Überfällige Maßnahmen nach Verantwortlichen")),
        [(code, str(label)) for code, label in RESPONSIBLE_ROWS],
        [("overdue", str(_l("überfällig")))],
        overdue_by_party,
        row_totals=False,
    )
    obstacle_measures = session.execute(
        team(
            select(CaseObstacle.obstacle, Measure.status, func.count())
            .select_from(Conference)
            .join(Measure, Measure.conference_id == Conference.id)
            .join(Case, Case.id == Conference.case_id)
            .join(CaseObstacle, CaseObstacle.case_id == Conference.case_id)
            .where(held)
            .group_by(CaseObstacle.obstacle, Measure.status)
        )
    ).all()
    report.tables["measures_obstacles"] = Table(
        "measures_obstacles",
        str(_l("Vereinbarte Maßnahmen nach Vermittlungshemmnis des Falls und Stand (Mehrfachnennungen)")),
        obstacle_rows,
        status_columns,
        {(o, s): n for o, s, n in obstacle_measures},
        column_totals=False,
    )

    # 4. The cohort: cases whose first conference was held in the period.
    earlier = aliased(Conference)
    cohort = session.execute(
        team(
            select(Case.id, Case.created_at, func.min(Conference.starts_at), Case.closed_at, Case.close_reason)
            .select_from(Conference)
            .join(Case, Case.id == Conference.case_id)
            .where(
                held,
                ~exists().where(
                    earlier.case_id == Conference.case_id, earlier.status.in_(HELD), earlier.starts_at < start
                ),
            )
            .group_by(Case.id, Case.created_at, Case.closed_at, Case.close_reason)
        )
    ).all()
    days: list[int] = []
    outcomes: dict[tuple[str, str], int] = {}
    closed12 = 0
    for _case_id, created_at, first, closed_at, reason in cohort:
        first_day = to_local(first).date()
        days.append(max((first_day - to_local(created_at).date()).days, 0))
        if closed_at is None:
            continue
        closed_day = to_local(closed_at).date()
        if closed_day <= add_months(first_day, 6):
            column = "m6"
        elif closed_day <= add_months(first_day, 12):
            column = "m12"
        else:
            continue
        key = (reason or "other", column)
        outcomes[key] = outcomes.get(key, 0) + 1
        closed12 += 1
    report.first_conference_days = _stats(days, threshold)
    report.outcome_window_open = add_months(period.end - timedelta(days=1), 12) >= today
    report.tables["outcomes"] = Table(
        "outcomes",
        str(_l("Abgeschlossene Fälle nach Grund und Zeit seit der ersten Fallkonferenz")),
        _labels(CLOSE_REASONS),
        OUTCOME_COLUMNS,
        outcomes,
    )
    report.tables["cohort"] = Table(
        "cohort",
        str(_l("Fälle mit erster Fallkonferenz im Zeitraum")),
        COHORT_ROWS,
        [("n", str(_l("Fälle")))],
        {("closed", "n"): closed12, ("not_closed", "n"): len(cohort) - closed12},
        row_totals=False,
        links={("closed", "n"): ("outcomes", TOTAL, TOTAL)},
    )
    protect(list(report.tables.values()), threshold)
    return report


def _districts(session) -> list:
    return [(i, n) for i, n in session.execute(select(District.id, District.name).order_by(District.name)).all()]


def _stats(days: list[int], threshold: int) -> Stats:
    if len(days) < max(threshold, 2):
        return Stats(len(days))
    q1, median, q3 = statistics.quantiles(days, n=4, method="inclusive")
    return Stats(len(days), median, q1, q3)


# --- producing it ------------------------------------------------------------------------------


def produce(session, actor, *, period: Period, today: date, threshold: int, output: str) -> NetworkReport:
    """The report for ``actor`` (a team lead: their team; the Steuerung: all teams), audited
    with the period, the scope and the form it was given in (page, csv, pdf)."""
    from app import audit
    from app.accounts.models import Role

    team_id = actor.team_id if actor.role == Role.TEAM_LEAD else None
    report = network_report(session, period=period, team_id=team_id, today=today, threshold=threshold)
    audit.record(
        "report.network_viewed" if output == "page" else "report.network_exported",
        actor=actor,
        session=session,
        object_type="team" if team_id else None,
        object_id=team_id,
        period=period.slug,
        output=output,
        threshold=threshold,
    )
    return report
