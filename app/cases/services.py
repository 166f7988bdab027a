"""Cases and the consent register: every change goes through here and into the audit trail.

Services take domain objects and plain data, write the audit entry and leave the commit to
the route. Audit entries hold ids and codes, never the free text.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from app import audit, db, high_water
from app.accounts.models import Role, User
from app.agencies.models import Agency, District
from app.cases.models import (
    DATA_CATEGORIES,
    Case,
    CaseObstacle,
    CaseStatus,
    Consent,
    PseudonymCounter,
)
from app.clock import BERLIN, berlin_today, to_local, utcnow
from app.conferences.models import (
    OPEN_MEASURE_STATUSES,
    Conference,
    ConferenceStatus,
    Invitation,
    InvitationStatus,
    Measure,
    Note,
)
from app.forms import check_version

log = logging.getLogger(__name__)

STAFF_ROLES = (Role.CASEWORKER, Role.TEAM_LEAD)


class CaseError(ValueError):
    """Input that breaks a rule of the domain; ``field`` names the form field to mark."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


class ConsentChanged(Exception):
    """The consent was changed or withdrawn after the form was loaded."""


# --- pseudonyms ------------------------------------------------------------------------


def next_pseudonym(session, year: int) -> str:
    """``FK-<year>-<nnnn>``, from a counter that only ever goes up (never reused after deletion).

    The UPDATE takes the counter row's lock until commit, so two cases opened at the same
    moment get different numbers; the row of a new year is created race-free first.
    Numbers at or below the high-water mark outside the database (``app.high_water``) are
    skipped, so a database restored from a backup does not hand out its numbers again.
    """
    session.execute(db.insert(session, PseudonymCounter).values(year=year, last_number=0).on_conflict_do_nothing())
    mark_file = session.info.get(high_water.SESSION_KEY)
    while True:
        number = session.execute(
            update(PseudonymCounter)
            .where(PseudonymCounter.year == year)
            .values(last_number=PseudonymCounter.last_number + 1)
            .returning(PseudonymCounter.last_number)
        ).scalar_one()
        if mark_file:
            mark = high_water.read(mark_file).get(year, 0)
            if mark < number - 1:
                # The database handed out numbers this file never saw: another application
                # server writes a file of its own (the file must be shared storage, README:
                # several servers), or the file was lost. From here on it holds them again.
                log.warning(
                    "Pseudonym-Hochwassermarke %s hinter dem Zähler der Datenbank (%s/%s): "
                    "ist die Datei nicht für alle Anwendungsserver gemeinsam?",
                    year,
                    mark,
                    number - 1,
                )
            if number <= mark:
                number = session.execute(
                    update(PseudonymCounter)
                    .where(PseudonymCounter.year == year)
                    .values(last_number=mark + 1)
                    .returning(PseudonymCounter.last_number)
                ).scalar_one()
            high_water.raise_to(mark_file, {year: number})
        pseudonym = f"FK-{year}-{number:04d}"
        # Pseudonyms that came in another way (imported cases) are skipped, not reused.
        if session.execute(select(Case.id).where(Case.pseudonym == pseudonym)).first() is None:
            return pseudonym


# --- cases -----------------------------------------------------------------------------


def _check_district(session, district_id) -> None:
    if district_id is None or session.get(District, district_id) is None:
        raise CaseError("district_id", _l("Bitte wählen Sie einen Stadtteil aus der Liste."))


def _set_obstacles(session, case: Case, obstacles) -> None:
    wanted = set(obstacles or ())
    current = {
        o.obstacle: o for o in session.execute(select(CaseObstacle).where(CaseObstacle.case_id == case.id)).scalars()
    }
    for name in current.keys() - wanted:
        session.delete(current[name])
    for name in sorted(wanted - current.keys()):
        session.add(CaseObstacle(case_id=case.id, obstacle=name))


def obstacles_of(session, case: Case) -> list[str]:
    return sorted(session.execute(select(CaseObstacle.obstacle).where(CaseObstacle.case_id == case.id)).scalars())


def _obstacle_list(joined: str | None) -> list[str]:
    return sorted(joined.split(",")) if joined else []


@dataclass
class CaseFacts:
    case: Case
    district: District | None
    caseworker: User | None
    obstacles: list[str]


def case_facts(session, case_id: int) -> CaseFacts | None:
    """The case with its district, caseworker and obstacles in one query (the case page)."""
    obstacles = (
        select(func.aggregate_strings(CaseObstacle.obstacle, ","))
        .where(CaseObstacle.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    row = session.execute(
        select(Case, District, User, obstacles)
        .outerjoin(District, District.id == Case.district_id)
        .outerjoin(User, User.id == Case.caseworker_id)
        .where(Case.id == case_id)
    ).first()
    return CaseFacts(row[0], row[1], row[2], _obstacle_list(row[3])) if row else None


CASE_FIELDS = ("district_id", "age_band", "household_type", "summary", "goals", "internal_reference")


def _clean(data: dict) -> dict:
    values = {k: data.get(k) for k in CASE_FIELDS}
    for key in ("summary", "goals", "internal_reference"):
        values[key] = (values[key] or "").strip()
    values["internal_reference"] = values["internal_reference"] or None
    return values


def open_case(session, actor: User, data: dict, overridden_kinds=()) -> Case:
    """Open a case for the actor's team, owned by the actor."""
    values = _clean(data)
    _check_district(session, values["district_id"])
    now = utcnow()
    case = Case(
        pseudonym=next_pseudonym(session, now.astimezone(BERLIN).year),
        team_id=actor.team_id,
        caseworker_id=actor.id,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(case)
    session.flush()
    _set_obstacles(session, case, data.get("obstacles"))
    audit.record("case.created", case, actor=actor, session=session, district_id=case.district_id)
    audit.record_overrides(case, actor, overridden_kinds, session=session)
    return case


def update_case(session, case: Case, actor: User, data: dict, version, overridden_kinds=()) -> list[str]:
    """Save the edit form; refuses a stale form (``StaleEdit``). Returns the changed fields."""
    # Re-read under a row lock: two saves of the same version must not both pass the check.
    session.refresh(case, with_for_update=True)
    check_version(case, version)
    values = _clean(data)
    _check_district(session, values["district_id"])
    changed = [k for k, v in values.items() if getattr(case, k) != v]
    for key in changed:
        setattr(case, key, values[key])
    old_obstacles = obstacles_of(session, case)
    if sorted(set(data.get("obstacles") or ())) != old_obstacles:
        changed.append("obstacles")
        _set_obstacles(session, case, data.get("obstacles"))
    case.updated_at = utcnow()
    audit.record("case.updated", case, actor=actor, session=session, fields=changed)
    audit.record_overrides(case, actor, overridden_kinds, session=session)
    return changed


def team_staff(session, team_id: int, include_id=None) -> list[User]:
    """Active caseworkers and team leads of a team (plus ``include_id``, the current owner)."""
    q = select(User).where(User.team_id == team_id, User.role.in_(STAFF_ROLES))
    q = q.where(or_(User.active.is_(True), User.id == include_id)) if include_id else q.where(User.active.is_(True))
    return list(session.execute(q.order_by(User.name)).scalars())


def reassign_case(session, case: Case, actor: User, caseworker_id: int) -> None:
    new = session.get(User, caseworker_id) if caseworker_id else None
    if new is None or new.team_id != case.team_id or new.role not in STAFF_ROLES or not new.active:
        raise CaseError("caseworker_id", _l("Bitte wählen Sie eine aktive Fachkraft Ihres Teams."))
    if new.id == case.caseworker_id:
        return
    previous = case.caseworker_id
    case.caseworker_id = new.id
    case.updated_at = utcnow()
    audit.record("case.reassigned", case, actor=actor, session=session, previous_id=previous, caseworker_id=new.id)


def close_case(session, case: Case, actor: User, reason: str) -> None:
    now = utcnow()
    case.status, case.close_reason, case.closed_at, case.updated_at = CaseStatus.CLOSED, reason, now, now
    audit.record("case.closed", case, actor=actor, session=session, reason=reason)


def reopen_case(session, case: Case, actor: User) -> None:
    case.status, case.close_reason, case.closed_at, case.updated_at = CaseStatus.OPEN, None, None, utcnow()
    audit.record("case.reopened", case, actor=actor, session=session)


def record_view(session, case: Case, actor: User, page: str = "case") -> None:
    audit.record("case.viewed", case, actor=actor, session=session, page=page)


# --- the case list -----------------------------------------------------------------------

SORTS = {
    "neueste": lambda c: (c.created_at.desc(), c.id.desc()),
    "aelteste": lambda c: (c.created_at.asc(), c.id.asc()),
    "pseudonym": lambda c: (c.pseudonym.asc(),),
    "geaendert": lambda c: (c.updated_at.desc(), c.id.desc()),
}
# The team overview's "closed in the last 12 months", and the case list behind that figure.
RECENTLY_CLOSED = timedelta(days=365)
RECENTLY_CLOSED_CHOICE = "letzte-12-monate"


def closed_since(choice: str | None, now: datetime | None = None) -> datetime | None:
    return (now or utcnow()) - RECENTLY_CLOSED if choice == RECENTLY_CLOSED_CHOICE else None


SORT_LABELS = {
    "neueste": _l("zuletzt angelegt zuerst"),
    "aelteste": _l("zuerst angelegt zuerst"),
    "pseudonym": _l("Pseudonym"),
    "geaendert": _l("zuletzt geändert zuerst"),
    "konferenz": _l("nächste Fallkonferenz"),
}


@dataclass
class CaseFilter:
    status: str = CaseStatus.OPEN  # or "" for all
    district_id: int | None = None
    obstacle: str | None = None
    caseworker_id: int | None = None
    search: str = ""
    # Also match ``search`` against the internal reference. Only the case list's search form
    # sets it, which sends the term in a POST body: a reference never stands in a URL (and so
    # never in an access log or a browser history). The list is the team's own anyway.
    by_reference: bool = False
    closed_since: datetime | None = None
    sort: str = "neueste"


@dataclass
class CaseRow:
    id: int
    pseudonym: str
    status: str
    district: str
    caseworker: str
    created_at: datetime
    next_conference: datetime | None
    open_measures: int
    obstacles: list[str]
    internal_reference: str | None = None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# What a reference is made of: letters and digits. Spaces, dots, slashes and hyphens (all the
# form allows besides) and the case of letters do not matter: "12345 bg-0012345" finds
# "12345BG0012345".
REFERENCE_SEPARATORS = (" ", ".", "/", "-")


def reference_key(text: str) -> str:
    """``text`` as the search compares references: upper case, without separators."""
    key = (text or "").upper()
    for sep in REFERENCE_SEPARATORS:
        key = key.replace(sep, "")
    return key


def _reference_key_sql(column):
    key = func.upper(column)
    for sep in REFERENCE_SEPARATORS:
        key = func.replace(key, sep, "")
    return key


# The list counts the matching cases up to this many; beyond, it says "more than".
COUNT_LIMIT = 500


@dataclass
class CaseListPage:
    rows: list[CaseRow]
    number: int
    size: int
    total: int | None  # None: more than COUNT_LIMIT
    has_next: bool

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max((self.total + self.size - 1) // self.size, 1)


def case_list(session, team_id: int, f: CaseFilter, page: int, size: int) -> CaseListPage:
    """One page of a team's cases, in one query, plus one bounded count.

    Each row carries its next planned conference and open measures as correlated
    subqueries, so the page costs the same number of queries whatever its length. The
    count stops at COUNT_LIMIT, so a team's ten years of cases are not counted on every page.
    """
    # The page's ids first, on the indexes alone: a deep page skips index entries, not
    # joined rows. Then the page's 25 rows with what they show.
    c = aliased(Case)
    conditions = _list_conditions(c, team_id, f)
    page_ids = (
        select(c.id).where(*conditions).order_by(*_list_order(c, f)).offset((page - 1) * size).limit(size + 1)
    )  # one more: is there a next page?
    open_measures = (
        select(func.count(Measure.id))
        .where(Measure.case_id == Case.id, Measure.status.in_(OPEN_MEASURE_STATUSES))
        .correlate(Case)
        .scalar_subquery()
    )
    obstacles = (
        select(func.aggregate_strings(CaseObstacle.obstacle, ","))
        .where(CaseObstacle.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Case.id,
            Case.pseudonym,
            Case.status,
            District.name,
            User.name,
            Case.created_at,
            _next_conference(Case).label("next_conference"),
            open_measures.label("open_measures"),
            obstacles.label("obstacles"),
            Case.internal_reference,
        )
        .join(District, District.id == Case.district_id)
        .join(User, User.id == Case.caseworker_id)
        .where(Case.id.in_(page_ids))
        .order_by(*_list_order(Case, f))
    ).all()
    counted = session.execute(
        select(func.count()).select_from(select(c.id).where(*conditions).limit(COUNT_LIMIT + 1).subquery())
    ).scalar()
    return CaseListPage(
        [
            CaseRow(
                id=r[0],
                pseudonym=r[1],
                status=r[2],
                district=r[3],
                caseworker=r[4],
                created_at=r[5],
                next_conference=r[6],
                open_measures=r[7],
                obstacles=_obstacle_list(r[8]),
                internal_reference=r[9] if f.by_reference else None,
            )
            for r in rows[:size]
        ],
        page,
        size,
        counted if counted <= COUNT_LIMIT else None,
        len(rows) > size,
    )


def _next_conference(c):
    return (
        select(func.min(Conference.starts_at))
        .where(
            Conference.case_id == c.id, Conference.status == ConferenceStatus.PLANNED, Conference.starts_at >= utcnow()
        )
        .correlate(c)
        .scalar_subquery()
    )


def _list_conditions(c, team_id: int, f: CaseFilter) -> list:
    conditions = [c.team_id == team_id]
    if f.status in (CaseStatus.OPEN, CaseStatus.CLOSED):
        conditions.append(c.status == f.status)
    if f.district_id:
        conditions.append(c.district_id == f.district_id)
    if f.caseworker_id:
        conditions.append(c.caseworker_id == f.caseworker_id)
    if f.obstacle:
        conditions.append(exists().where(CaseObstacle.case_id == c.id, CaseObstacle.obstacle == f.obstacle))
    if f.closed_since is not None:
        conditions.append(c.closed_at >= f.closed_since)
    if f.search.strip():
        pattern = f"%{_like_escape(f.search.strip().upper())}%"
        found: ColumnElement[bool] = func.upper(c.pseudonym).like(pattern, escape="\\")
        key = reference_key(f.search)
        if f.by_reference and key:
            # The reference in full or in part (its stored form may hold separators).
            found = or_(found, _reference_key_sql(c.internal_reference).like(f"%{_like_escape(key)}%", escape="\\"))
        conditions.append(found)
    return conditions


def _list_order(c, f: CaseFilter) -> tuple:
    if f.sort == "konferenz":
        # Cases with a planned conference first, soonest first.
        next_conference = _next_conference(c)
        return (next_conference.is_(None), next_conference.asc(), c.id.desc())
    return SORTS.get(f.sort, SORTS["neueste"])(c)


# --- consents ----------------------------------------------------------------------------


def _lock_case(session, case: Case) -> None:
    """Serialise consent changes of one case (PostgreSQL; SQLite writers are serial anyway)."""
    session.execute(select(Case.id).where(Case.id == case.id).with_for_update())


def _current(session, case_id: int, agency_id: int) -> Consent | None:
    return session.execute(
        select(Consent)
        .where(Consent.case_id == case_id, Consent.agency_id == agency_id, Consent.superseded_at.is_(None))
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _consent_values(data: dict) -> dict:
    return dict(
        signed_on=data["signed_on"],
        valid_until=data["valid_until"],
        scope=[c for c in DATA_CATEGORIES if c in set(data.get("scope") or ())],
        proof_reference=(data.get("proof_reference") or "").strip(),
        note=(data.get("note") or "").strip(),
    )


def _supersede(session, old: Consent, now) -> None:
    """Mark ``old`` replaced, unless someone changed or withdrew it in the meantime."""
    result = session.execute(
        update(Consent)
        .where(Consent.id == old.id, Consent.superseded_at.is_(None))
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ConsentChanged()
    old.superseded_at = now


def record_consent(session, case: Case, actor: User, data: dict, overridden_kinds=()) -> Consent:
    """A new consent for an agency. One with live access must be changed, not recorded again."""
    _lock_case(session, case)
    agency = session.get(Agency, data.get("agency_id")) if data.get("agency_id") else None
    if agency is None or not agency.active:
        raise CaseError("agency_id", _l("Bitte wählen Sie eine Einrichtung aus der Liste."))
    values = _consent_values(data)
    now = utcnow()
    previous = _current(session, case.id, agency.id)
    if previous is not None:
        if previous.withdrawn_on is None and previous.valid_until >= berlin_today():
            raise CaseError(
                "agency_id",
                _l(
                    "Für diese Einrichtung ist schon eine Einwilligung erfasst. Bitte ändern Sie diese, "
                    "statt eine zweite zu erfassen."
                ),
            )
        # A new signature after a withdrawal or expiry continues the agency's history.
        _supersede(session, previous, now)
    consent = Consent(
        case_id=case.id,
        agency_id=agency.id,
        recorded_by_id=actor.id,
        recorded_at=now,
        replaces_id=previous.id if previous else None,
        **values,
    )
    session.add(consent)
    session.flush()
    audit.record(
        "consent.recorded",
        consent,
        actor=actor,
        session=session,
        case_id=case.id,
        agency_id=agency.id,
        replaces_id=consent.replaces_id,
        scope=consent.scope,
    )
    audit.record_overrides(consent, actor, overridden_kinds, session=session)
    return consent


def change_consent(session, old: Consent, actor: User, data: dict, overridden_kinds=()) -> Consent:
    """A change is a new record naming the one it replaces; the old one stays as history."""
    if old.withdrawn_on is not None:
        raise ConsentChanged()
    case = session.get(Case, old.case_id)
    _lock_case(session, case)
    now = utcnow()
    _supersede(session, old, now)
    consent = Consent(
        case_id=old.case_id,
        agency_id=old.agency_id,
        recorded_by_id=actor.id,
        recorded_at=now,
        replaces_id=old.id,
        **_consent_values(data),
    )
    session.add(consent)
    session.flush()
    audit.record(
        "consent.changed",
        consent,
        actor=actor,
        session=session,
        case_id=old.case_id,
        agency_id=old.agency_id,
        replaces_id=old.id,
        scope=consent.scope,
    )
    audit.record_overrides(consent, actor, overridden_kinds, session=session)
    _cancel_invitations_outside(session, consent, actor)
    return consent


def _cancel_invitations_outside(session, consent: Consent, actor) -> None:
    """An agency is invited only to conferences on days its consent covers (DESIGN.md section 4):
    a change that ends the consent earlier cancels the invitations beyond it."""
    from app.conferences.services.invitations import cancel_invitation

    for invitation, conference in _open_invitations(session, consent):
        if not consent.is_valid_on(to_local(conference.starts_at).date()):
            cancel_invitation(session, invitation, actor, reason="consent_changed", consent_id=consent.id)
    if not consent.is_valid_on(berlin_today()):
        # Asked in a date poll only while the consent holds now: its answers leave the poll with it.
        from app.conferences.services.polls import remove_agency

        remove_agency(session, consent.case_id, consent.agency_id, actor, reason="consent_changed")


def _open_invitations(session, consent: Consent):
    return session.execute(
        select(Invitation, Conference)
        .join(Conference, Conference.id == Invitation.conference_id)
        .where(
            Conference.case_id == consent.case_id,
            Conference.status == ConferenceStatus.PLANNED,
            Invitation.agency_id == consent.agency_id,
            Invitation.status.in_((InvitationStatus.PENDING, InvitationStatus.ACCEPTED)),
        )
        .order_by(Conference.starts_at)
    ).all()


def withdraw_consent(
    session, consent: Consent, actor: User, withdrawn_on: date, note: str = "", overridden_kinds=()
) -> list[Invitation]:
    """Record a withdrawal; access ends at once and the agency's open invitations are cancelled."""
    case = session.get(Case, consent.case_id)
    _lock_case(session, case)
    now = utcnow()
    result = session.execute(
        update(Consent)
        .where(Consent.id == consent.id, Consent.superseded_at.is_(None), Consent.withdrawn_on.is_(None))
        .values(
            withdrawn_on=withdrawn_on,
            withdrawal_note=(note or "").strip(),
            withdrawn_by_id=actor.id,
            withdrawn_recorded_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ConsentChanged()
    session.refresh(consent)
    audit.record(
        "consent.withdrawn", consent, actor=actor, session=session, case_id=case.id, agency_id=consent.agency_id
    )
    audit.record_overrides(consent, actor, overridden_kinds, session=session)
    return cancel_invitations_for_consent(session, consent, actor)


def cancel_invitations_for_consent(session, consent: Consent, actor) -> list[Invitation]:
    """Cancel the agency's open invitations to the case's planned conferences, with an e-mail each."""
    rows = _open_invitations(session, consent)
    from app.conferences.services.invitations import cancel_invitation

    for invitation, _conference in rows:
        # The e-mail carries a calendar CANCEL, so the entry leaves the agency's calendar too.
        cancel_invitation(session, invitation, actor, reason="consent_withdrawn", consent_id=consent.id)
    if not consent.is_valid_on(berlin_today()):
        # A date poll of the case loses the agency and its answers (DESIGN.md section 4).
        from app.conferences.services.polls import remove_agency

        remove_agency(session, consent.case_id, consent.agency_id, actor, reason="consent_withdrawn")
    return [invitation for invitation, _conference in rows]


# --- reading the case page ---------------------------------------------------------------


def date_numeric(day: date) -> str:
    return format_date(day, "dd.MM.yyyy")


@dataclass
class ConsentStatus:
    agency: Agency
    consent: Consent  # the agency's current record
    state: str  # valid, withdrawn, expired, not_yet
    text: str


def consent_state(consent: Consent, today: date) -> str:
    if consent.withdrawn_on is not None and consent.withdrawn_on <= today:
        return "withdrawn"
    if consent.valid_until < today:
        return "expired"
    if consent.signed_on > today:
        return "not_yet"
    return "valid"


def consent_text(consent: Consent, state: str) -> str:
    """The consent's meaning now, in plain German."""
    if state == "withdrawn":
        return _("Widerrufen am %(day)s – keine Datenweitergabe.", day=date_numeric(consent.withdrawn_on))
    if state == "expired":
        return _(
            "Abgelaufen am %(day)s (gültig bis %(until)s) – keine Datenweitergabe.",
            day=date_numeric(consent.valid_until + timedelta(days=1)),
            until=date_numeric(consent.valid_until),
        )
    categories = ", ".join(str(DATA_CATEGORIES[c]) for c in consent.scope if c in DATA_CATEGORIES)
    if state == "not_yet":
        return _(
            "Datenweitergabe erst ab %(start)s erlaubt, bis %(until)s für: %(categories)s",
            start=date_numeric(consent.signed_on),
            until=date_numeric(consent.valid_until),
            categories=categories,
        )
    return _(
        "Datenweitergabe erlaubt bis %(until)s für: %(categories)s",
        until=date_numeric(consent.valid_until),
        categories=categories,
    )


def consent_overview(session, case: Case, today: date | None = None) -> tuple[list[ConsentStatus], list]:
    """Per agency its current consent in words, and the full history (newest first), in one query."""
    today = today or berlin_today()
    recorder, withdrawer = aliased(User), aliased(User)
    result = session.execute(
        select(Consent, Agency, recorder.name, withdrawer.name)
        .join(Agency, Agency.id == Consent.agency_id)
        .outerjoin(recorder, recorder.id == Consent.recorded_by_id)
        .outerjoin(withdrawer, withdrawer.id == Consent.withdrawn_by_id)
        .where(Consent.case_id == case.id)
        .order_by(Agency.name, Consent.recorded_at.desc(), Consent.id.desc())
    ).all()
    rows = [(consent, agency) for consent, agency, _r, _w in result]
    users = {}
    for consent, _agency, recorded_by, withdrawn_by in result:
        users[consent.recorded_by_id] = recorded_by
        if consent.withdrawn_by_id:
            users[consent.withdrawn_by_id] = withdrawn_by
    current: dict[int, ConsentStatus] = {}
    for consent, agency in rows:
        if consent.superseded_at is not None:
            continue
        state = consent_state(consent, today)
        seen = current.get(agency.id)
        # Two live records of one agency should not exist; if they do, the valid one speaks.
        if seen is None or (seen.state != "valid" and state == "valid"):
            current[agency.id] = ConsentStatus(agency, consent, state, consent_text(consent, state))
    history = [(c, a, users) for c, a in rows]
    return list(current.values()), history


@dataclass
class TimelineEntry:
    when: datetime
    kind: str  # conference, measure, note
    obj: object
    extra: dict


def timeline(session, case: Case) -> list[TimelineEntry]:
    """Conferences, measures and notes of a case, newest first (staff of the owning team only).

    Three queries whatever the case holds."""
    entries: list[TimelineEntry] = []
    for conf in session.execute(select(Conference).where(Conference.case_id == case.id)).scalars():
        entries.append(TimelineEntry(conf.starts_at, "conference", conf, {}))
    for measure, agency_name in session.execute(
        select(Measure, Agency.name)
        .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(Measure.case_id == case.id)
    ).all():
        entries.append(TimelineEntry(measure.created_at, "measure", measure, {"agency": agency_name}))
    for note, author, agency_name in session.execute(
        select(Note, User.name, Agency.name)
        .join(Conference, Conference.id == Note.conference_id)
        .join(User, User.id == Note.author_id)
        .outerjoin(Agency, Agency.id == Note.agency_id)
        .where(Conference.case_id == case.id)
    ).all():
        entries.append(TimelineEntry(note.created_at, "note", note, {"author": author, "agency": agency_name}))

    return sorted(entries, key=lambda e: to_local(e.when), reverse=True)
