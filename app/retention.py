"""Retention and deletion (`flask retention-run`): what is due is deleted, not flagged.

Rules (configuration in ``app/config.py``):

- **Case content**: ``RETENTION_CASE_YEARS`` (3) after the case was closed, everything stored about
  it is deleted: the case, its placement obstacles, consents, conferences, invitations, agenda,
  notes, measures, minutes with every rendered PDF (``minutes_pdf`` rows), partners' comments, and
  the outbox e-mails about it.
- **Final minutes** are kept until ``RETENTION_MINUTES_YEARS`` after closing (never shorter than the
  case). Where that is longer, the content due first is deleted and the case is reduced to what the
  minutes need: the pseudonym and the case's key facts (district, dates, closing reason), the held
  conferences the minutes record (without their occasion), the final and replaced versions with
  their archive PDF, and the **consents, whose proof references are kept as long as the data they
  cover** (the minutes). At ``RETENTION_MINUTES_YEARS`` all of it goes.
- **A withdrawn consent's agency data**: the notes the agency wrote on the case and its comments on
  the minutes are deleted ``RETENTION_CASE_YEARS`` after the withdrawal (or with the case, if that
  comes first). The final minutes keep what they recorded, under the minutes' rule.
- **Outbox**: e-mails older than ``RETENTION_OUTBOX_DAYS`` (90) are deleted, whatever they are about
  (a reminder can list several cases); those about a due case go with the case.

The audit trail keeps its entries: they hold ids and action names only, never content, and the
chain is never rewritten. Each deletion is itself recorded (``retention.case_deleted``,
``retention.case_content_deleted``, ``retention.agency_notes_deleted``, ``retention.run``), with
ids and counts.

Deletion runs in batches of ``RETENTION_BATCH`` cases, each batch in its own transaction.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, or_, select, text, true, update

from app import audit
from app.cases.models import Case, CaseObstacle, CaseStatus, Consent
from app.clock import add_years, local_to_utc, to_local, utcnow
from app.conferences.models import AgendaItem, Conference, Invitation, Measure, Note
from app.mail import OutboxMessage
from app.minutes.models import Minutes, MinutesComment, MinutesPdf, MinutesStatus

KEPT_MINUTES = (MinutesStatus.FINAL, MinutesStatus.REPLACED)


@dataclass(frozen=True)
class Policy:
    case_years: int = 3
    minutes_years: int = 3
    outbox_days: int = 90
    batch: int = 100

    @classmethod
    def from_config(cls, config) -> "Policy":
        return cls(
            case_years=config["RETENTION_CASE_YEARS"],
            minutes_years=max(config["RETENTION_MINUTES_YEARS"], config["RETENTION_CASE_YEARS"]),
            outbox_days=config["RETENTION_OUTBOX_DAYS"],
            batch=config["RETENTION_BATCH"],
        )


def deletion_day(case: Case, policy: Policy) -> date | None:
    """The day the case's content is deleted (None while it is open)."""
    if case.status != CaseStatus.CLOSED or case.closed_at is None:
        return None
    return add_years(to_local(case.closed_at).date(), policy.case_years) + timedelta(days=1)


def minutes_deletion_day(case: Case, policy: Policy) -> date | None:
    if case.status != CaseStatus.CLOSED or case.closed_at is None:
        return None
    return add_years(to_local(case.closed_at).date(), policy.minutes_years) + timedelta(days=1)


def _closed_before(today: date, years: int) -> datetime:
    """Cases closed before this instant are due: closed on or before the day ``years`` ago."""
    return local_to_utc(datetime.combine(add_years(today, -years), time.min))


@dataclass
class Plan:
    """What is due on ``today``: case ids, and the withdrawn consents whose agency data is due."""

    full: list = field(default_factory=list)  # cases deleted completely
    content: list = field(default_factory=list)  # cases reduced to their kept minutes
    withdrawn: list = field(default_factory=list)  # consent ids
    outbox: int = 0


def plan(session, today: date, policy: Policy) -> Plan:
    closed = (Case.status == CaseStatus.CLOSED, Case.closed_at.is_not(None))
    full = list(
        session.execute(
            select(Case.id)
            .where(*closed, Case.closed_at < _closed_before(today, policy.minutes_years))
            .order_by(Case.id)
        ).scalars()
    )
    content = []
    if policy.minutes_years > policy.case_years:
        content = list(
            session.execute(
                select(Case.id)
                .where(
                    *closed,
                    Case.content_deleted_at.is_(None),
                    Case.closed_at < _closed_before(today, policy.case_years),
                    Case.closed_at >= _closed_before(today, policy.minutes_years),
                )
                .order_by(Case.id)
            ).scalars()
        )
    # The agency's current record is withdrawn long enough ago, and it still has notes or comments.
    due_day = add_years(today, -policy.case_years)
    withdrawn = list(
        session.execute(
            select(Consent.id)
            .where(
                Consent.superseded_at.is_(None),
                Consent.withdrawn_on.is_not(None),
                Consent.withdrawn_on < due_day,
                Consent.case_id.not_in(full) if full else true(),
                or_(_agency_notes(Consent).exists(), _agency_comments(Consent).exists()),
            )
            .order_by(Consent.id)
        ).scalars()
    )
    outbox = session.execute(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.created_at < _outbox_cutoff(policy))
    ).scalar()
    return Plan(full, content, withdrawn, outbox)


def _outbox_cutoff(policy: Policy) -> datetime:
    return utcnow() - timedelta(days=policy.outbox_days)


def _agency_notes(consent):
    return (
        select(Note.id)
        .join(Conference, Conference.id == Note.conference_id)
        .where(Conference.case_id == consent.case_id, Note.agency_id == consent.agency_id)
    )


def _agency_comments(consent):
    return (
        select(MinutesComment.id)
        .join(Minutes, Minutes.id == MinutesComment.minutes_id)
        .join(Conference, Conference.id == Minutes.conference_id)
        .where(Conference.case_id == consent.case_id, MinutesComment.agency_id == consent.agency_id)
    )


# --- deleting ---------------------------------------------------------------------------------


def _ids(session, stmt) -> list:
    return list(session.execute(stmt).scalars())


def _delete(session, model, *where) -> int:
    return session.execute(delete(model).where(*where).execution_options(synchronize_session=False)).rowcount or 0


class Steps:
    """What deleting one item does, in order: row deletions (counted per table) and the updates
    that must run between them. A dry run counts the deletions; a run executes every step. One list
    for both, so that the counts of ``--dry-run`` are the rows the run deletes."""

    def __init__(self) -> None:
        self.items: list = []

    def delete(self, key: str, model, *where) -> None:
        self.items.append((key, model, where))

    def update(self, stmt) -> None:
        self.items.append((None, stmt, ()))

    def count(self, session) -> dict:
        n: dict = {}
        for key, model, where in self.items:
            if key is not None:
                found = session.execute(select(func.count()).select_from(model).where(*where)).scalar() or 0
                n[key] = n.get(key, 0) + found
        return n

    def execute(self, session) -> dict:
        n: dict = {}
        for key, model, where in self.items:
            if key is None:
                session.execute(model)
            else:
                n[key] = n.get(key, 0) + _delete(session, model, *where)
        return n


def _case_outbox(case_id: int, invitation_ids: list):
    return or_(
        OutboxMessage.case_id == case_id,
        (OutboxMessage.ref_type == Invitation.__tablename__) & OutboxMessage.ref_id.in_(invitation_ids or [-1]),
    )


def case_steps(session, case_id: int) -> Steps:
    """Everything stored about one case, the case row last."""
    conf_ids = _ids(session, select(Conference.id).where(Conference.case_id == case_id))
    minutes_ids = _ids(session, select(Minutes.id).where(Minutes.conference_id.in_(conf_ids))) if conf_ids else []
    invitation_ids = (
        _ids(session, select(Invitation.id).where(Invitation.conference_id.in_(conf_ids))) if conf_ids else []
    )
    steps = Steps()
    steps.delete("outbox_message", OutboxMessage, _case_outbox(case_id, invitation_ids))
    if minutes_ids:
        steps.delete("minutes_pdf", MinutesPdf, MinutesPdf.minutes_id.in_(minutes_ids))
        steps.delete("minutes_comment", MinutesComment, MinutesComment.minutes_id.in_(minutes_ids))
        steps.update(update(Minutes).where(Minutes.id.in_(minutes_ids)).values(replaces_id=None))
        steps.delete("minutes", Minutes, Minutes.id.in_(minutes_ids))
    steps.delete("measure", Measure, Measure.case_id == case_id)
    if conf_ids:
        steps.delete("note", Note, Note.conference_id.in_(conf_ids))
        steps.delete("agenda_item", AgendaItem, AgendaItem.conference_id.in_(conf_ids))
        steps.delete("invitation", Invitation, Invitation.conference_id.in_(conf_ids))
        steps.update(update(Conference).where(Conference.id.in_(conf_ids)).values(previous_conference_id=None))
        steps.delete("conference", Conference, Conference.id.in_(conf_ids))
    steps.update(update(Consent).where(Consent.case_id == case_id).values(replaces_id=None))
    steps.delete("consent", Consent, Consent.case_id == case_id)
    steps.delete("case_obstacle", CaseObstacle, CaseObstacle.case_id == case_id)
    steps.delete("case_file", Case, Case.id == case_id)
    return steps


def delete_case(session, case_id: int) -> dict:
    """Delete everything stored about one case; returns counts per table (ids only, for the audit)."""
    n = case_steps(session, case_id).execute(session)
    audit.record(
        "retention.case_deleted",
        session=session,
        object_type="case_file",
        object_id=case_id,
        **{k: v for k, v in n.items() if v},
    )
    return n


def content_steps(session, case_id: int) -> tuple[Steps, list]:
    """A closed case's content but what its kept final minutes need (see the module text); and the
    ids of the kept minutes."""
    conf_ids = _ids(session, select(Conference.id).where(Conference.case_id == case_id))
    kept_conf = (
        set(
            _ids(
                session,
                select(Minutes.conference_id).where(
                    Minutes.conference_id.in_(conf_ids), Minutes.status.in_(KEPT_MINUTES)
                ),
            )
        )
        if conf_ids
        else set()
    )
    gone_conf = [c for c in conf_ids if c not in kept_conf]
    minutes_ids = _ids(session, select(Minutes.id).where(Minutes.conference_id.in_(conf_ids))) if conf_ids else []
    kept_minutes = (
        _ids(session, select(Minutes.id).where(Minutes.id.in_(minutes_ids), Minutes.status.in_(KEPT_MINUTES)))
        if minutes_ids
        else []
    )
    gone_minutes = [m for m in minutes_ids if m not in kept_minutes]
    invitation_ids = (
        _ids(session, select(Invitation.id).where(Invitation.conference_id.in_(conf_ids))) if conf_ids else []
    )
    steps = Steps()
    steps.delete("outbox_message", OutboxMessage, _case_outbox(case_id, invitation_ids))
    if minutes_ids:
        # Partners' renderings and comments go; the archive copy of kept versions stays.
        steps.delete(
            "minutes_pdf",
            MinutesPdf,
            MinutesPdf.minutes_id.in_(minutes_ids),
            or_(MinutesPdf.minutes_id.in_(gone_minutes or [-1]), MinutesPdf.variant != "archive"),
        )
        steps.delete("minutes_comment", MinutesComment, MinutesComment.minutes_id.in_(minutes_ids))
    if gone_minutes:
        steps.delete("minutes", Minutes, Minutes.id.in_(gone_minutes))
    steps.delete("measure", Measure, Measure.case_id == case_id)
    if conf_ids:
        steps.delete("note", Note, Note.conference_id.in_(conf_ids))
        steps.delete("agenda_item", AgendaItem, AgendaItem.conference_id.in_(conf_ids))
        steps.delete("invitation", Invitation, Invitation.conference_id.in_(conf_ids))
        steps.update(update(Conference).where(Conference.id.in_(conf_ids)).values(previous_conference_id=None))
        if gone_conf:
            steps.delete("conference", Conference, Conference.id.in_(gone_conf))
        if kept_conf:
            steps.update(update(Conference).where(Conference.id.in_(kept_conf)).values(occasion="", cancel_reason=""))
    steps.delete("case_obstacle", CaseObstacle, CaseObstacle.case_id == case_id)
    steps.update(
        update(Case)
        .where(Case.id == case_id)
        .values(summary="", goals="", internal_reference=None, content_deleted_at=utcnow())
    )
    return steps, sorted(kept_minutes)


def delete_case_content(session, case_id: int) -> dict:
    """Delete a closed case's content but what its kept final minutes need (see the module text)."""
    steps, kept_minutes = content_steps(session, case_id)
    n = steps.execute(session)
    audit.record(
        "retention.case_content_deleted",
        session=session,
        object_type="case_file",
        object_id=case_id,
        kept_minutes=kept_minutes,
        **{k: v for k, v in n.items() if v},
    )
    return n


def agency_steps(session, consent: Consent) -> Steps:
    """A withdrawn consent's agency data on the case: the agency's notes and comments."""
    notes = _ids(session, _agency_notes(consent))
    comments = _ids(session, _agency_comments(consent))
    steps = Steps()
    if notes:
        steps.delete("note", Note, Note.id.in_(notes))
    if comments:
        steps.delete("minutes_comment", MinutesComment, MinutesComment.id.in_(comments))
    return steps


def delete_agency_notes(session, consent_id: int) -> dict:
    consent = session.get(Consent, consent_id)
    n = {"note": 0, "minutes_comment": 0, **agency_steps(session, consent).execute(session)}
    audit.record(
        "retention.agency_notes_deleted",
        session=session,
        object_type="consent",
        object_id=consent_id,
        case_id=consent.case_id,
        agency_id=consent.agency_id,
        **n,
    )
    return n


def preview(session, due: Plan) -> dict:
    """The rows a run would delete with the due cases and consents, per table (``--dry-run``); reads
    only. Old e-mails deleted by age are counted apart (``Plan.outbox``)."""
    n: dict = {}

    def add(counts: dict) -> None:
        for k, v in counts.items():
            n[k] = n.get(k, 0) + v

    for case_id in due.full:
        add(case_steps(session, case_id).count(session))
    for case_id in due.content:
        add(content_steps(session, case_id)[0].count(session))
    for consent_id in due.withdrawn:
        add(agency_steps(session, session.get(Consent, consent_id)).count(session))
    return {k: v for k, v in n.items() if v}


@dataclass
class Result:
    cases_deleted: int = 0
    cases_reduced: int = 0
    agencies_cleared: int = 0
    outbox_deleted: int = 0
    rows: dict = field(default_factory=dict)

    def add(self, counts: dict) -> None:
        for k, v in counts.items():
            self.rows[k] = self.rows.get(k, 0) + v


def _overwrite_on_delete(session) -> None:
    """SQLite keeps a deleted row's bytes in its free pages until they are reused; with
    ``secure_delete`` it overwrites them with zeros as it deletes (this connection, from now on).
    PostgreSQL's autovacuum reclaims deleted rows; backups keep them until they expire."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))


def run(sessionmaker, today: date, policy: Policy) -> Result:
    """Delete what is due, one batch of cases per transaction; the run itself is audited last."""
    result = Result()
    with sessionmaker() as session:
        due = plan(session, today, policy)
        session.rollback()
    for kind, ids, fn in (
        ("full", due.full, delete_case),
        ("content", due.content, delete_case_content),
        ("withdrawn", due.withdrawn, delete_agency_notes),
    ):
        for start in range(0, len(ids), policy.batch):
            with sessionmaker() as session:
                _overwrite_on_delete(session)
                for obj_id in ids[start : start + policy.batch]:
                    result.add(fn(session, obj_id))
                session.commit()
            if kind == "full":
                result.cases_deleted += len(ids[start : start + policy.batch])
            elif kind == "content":
                result.cases_reduced += len(ids[start : start + policy.batch])
            else:
                result.agencies_cleared += len(ids[start : start + policy.batch])
    with sessionmaker() as session:
        _overwrite_on_delete(session)
        result.outbox_deleted = _delete(session, OutboxMessage, OutboxMessage.created_at < _outbox_cutoff(policy))
        audit.record(
            "retention.run",
            session=session,
            cases_deleted=result.cases_deleted,
            cases_reduced=result.cases_reduced,
            agencies_cleared=result.agencies_cleared,
            outbox_deleted=result.outbox_deleted,
            case_years=policy.case_years,
            minutes_years=policy.minutes_years,
        )
        session.commit()
    return result
