"""Reminders (``flask send-reminders``, from cron): conferences soon, measures due or overdue,
and invitations whose consent has expired."""

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select

from app import audit, mail
from app.accounts.models import User
from app.agencies.models import Agency
from app.cases.models import Case
from app.clock import berlin_today, de_date, utcnow
from app.conferences.models import (
    OPEN_MEASURE_STATUSES,
    Conference,
    ConferenceStatus,
    Invitation,
    InvitationStatus,
    Measure,
    ResponsibleKind,
)
from app.conferences.services.invitations import cancel_invitation, consent_valid_on, live_invitations
from app.conferences.services.notifications import _mail_context, conference_link, invitation_recipients
from app.permissions import valid_consent

REMINDER_MEASURE_DAYS = 3  # reminders: due within three days


REMINDER_CONFERENCE_HOURS = 48  # reminders: conferences in the next two days


OVERDUE_REMINDER_EVERY_DAYS = 7  # an overdue measure is reminded again after a week


def _measure_due_for_reminder(today: date):
    """Open, due within three days or overdue, and not reminded at this stage yet.

    Stages: once before the due date, once when it has passed, then weekly while overdue.
    Whatever runs again on the same day finds ``reminded_on == today`` and sends nothing.
    """
    return and_(
        Measure.status.in_(OPEN_MEASURE_STATUSES),
        Measure.due_on <= today + timedelta(days=REMINDER_MEASURE_DAYS),
        or_(
            Measure.reminded_on.is_(None),
            and_(Measure.due_on < today, Measure.reminded_on <= Measure.due_on),
            Measure.reminded_on <= today - timedelta(days=OVERDUE_REMINDER_EVERY_DAYS),
        ),
    )


def cancel_invitations_without_consent(session, today: date | None = None) -> int:
    """Cancel live invitations to planned conferences whose agency's consent has expired.

    Access already ends at expiry (checked on every request); this sends the agency the
    calendar CANCEL as a withdrawal does. Run by the ``send-reminders`` cron job, on every
    application server at once: the invitations are locked as they are chosen, and those
    another server's run holds are skipped (``FOR UPDATE SKIP LOCKED``); once that run has
    committed, they are cancelled and no longer chosen. So each CANCEL goes out once.
    """
    today = today or berlin_today()
    stale = (
        session.execute(
            select(Invitation)
            .join(Conference, Conference.id == Invitation.conference_id)
            .where(
                Conference.status == ConferenceStatus.PLANNED,
                Invitation.status != InvitationStatus.CANCELLED,
                ~consent_valid_on(Conference.case_id, Invitation.agency_id, today),
            )
            .order_by(Invitation.id)
            .with_for_update(of=Invitation, skip_locked=True)
        )
        .scalars()
        .all()
    )
    for invitation in stale:
        cancel_invitation(session, invitation, None, reason="consent_expired")
    return len(stale)


def send_reminders(session, now: datetime | None = None, today: date | None = None) -> tuple[int, int]:
    """Remind of conferences in the next two days and of measures due soon or overdue.

    Safe to run as often as cron likes, and on every application server at the same moment:
    what was reminded is marked in the same transaction that queues the e-mails, and the
    conferences and measures are locked as they are chosen, skipping those another run holds
    (``FOR UPDATE SKIP LOCKED``). Returns (conferences, measures) reminded.
    """
    now = now or utcnow()
    today = today or berlin_today()
    conferences = list(
        session.execute(
            select(Conference)
            .where(
                Conference.status == ConferenceStatus.PLANNED,
                Conference.starts_at > now,
                Conference.starts_at <= now + timedelta(hours=REMINDER_CONFERENCE_HOURS),
                Conference.reminder_sent_at.is_(None),
            )
            .order_by(Conference.starts_at)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    for conference in conferences:
        ctx = _mail_context(session, conference)
        ctx = {k: v for k, v in ctx.items() if k not in ("location_obj", "organiser")}
        for inv, _name in live_invitations(session, conference):
            if (
                inv.status == InvitationStatus.DECLINED
                or valid_consent(conference.case_id, inv.agency_id, today) is None
            ):
                continue
            mail.queue(
                invitation_recipients(session, inv),
                "conference_reminder",
                session=session,
                case_id=conference.case_id,
                **ctx,
            )
            audit.record("invitation.reminded", inv, session=session, conference_id=conference.id)
        organiser = session.get(User, conference.organiser_id)
        if organiser is not None and organiser.active:
            mail.queue([organiser.email], "conference_reminder", session=session, case_id=conference.case_id, **ctx)
        conference.reminder_sent_at = now
        audit.record("conference.reminded", conference, session=session)

    rows = session.execute(
        select(Measure, Conference, Case, Agency)
        .join(Conference, Conference.id == Measure.conference_id)
        .join(Case, Case.id == Measure.case_id)
        .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(_measure_due_for_reminder(today))
        .order_by(Measure.due_on, Measure.id)
        .with_for_update(of=Measure, skip_locked=True)
    ).all()
    per_recipient: dict[str, list[dict]] = {}
    reminded = 0
    for measure, conference, case, agency in rows:
        if measure.responsible_kind == ResponsibleKind.AGENCY:
            # The agency hears of it only while it may see the conference.
            if (
                agency is None
                or not agency.active
                or valid_consent(case.id, agency.id, today) is None
                or session.execute(
                    select(Invitation.id).where(
                        Invitation.conference_id == conference.id,
                        Invitation.agency_id == agency.id,
                        Invitation.status != InvitationStatus.CANCELLED,
                    )
                ).first()
                is None
            ):
                continue
            to = agency.contact_email
        else:
            caseworker = session.get(User, case.caseworker_id)
            if caseworker is None or not caseworker.active:
                caseworker = session.get(User, conference.organiser_id)
            if caseworker is None or not caseworker.active:
                continue
            to = caseworker.email
        per_recipient.setdefault(to, []).append(
            {
                "case_id": case.id,
                "pseudonym": case.pseudonym,
                "due": de_date(measure.due_on),
                "overdue": measure.due_on < today,
                "link": conference_link(conference.id),
            }
        )
        measure.reminded_on = today
        audit.record("measure.reminded", measure, session=session, overdue=measure.due_on < today)
        reminded += 1
    for to, items in per_recipient.items():
        # One case: the e-mail goes with the case's content; several: the retention run deletes
        # old e-mails by age (RETENTION_OUTBOX_DAYS).
        cases = {item["case_id"] for item in items}
        mail.queue(
            [to],
            "measure_reminder",
            session=session,
            case_id=cases.pop() if len(cases) == 1 else None,
            items=items,
            organisation=current_app.config["ORGANISATION_NAME"],
        )
    return len(conferences), reminded


def poll_reminders(session, now: datetime | None = None) -> tuple[int, int]:
    """Date polls: agencies whose consent has expired leave open polls (with their answers); those
    that have not answered two days after being asked are reminded, once. Returns (reminded, removed)."""
    from app.conferences.services.polls import remind, remove_without_consent

    removed = remove_without_consent(session)
    return remind(session, now), removed
