"""Invitations: who can be invited (a consent valid on the day), inviting, answers, withdrawal."""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select

from app import audit, db
from app.accounts.models import Role, User
from app.agencies.models import Agency
from app.cases.models import Consent
from app.clock import local_day, utcnow
from app.conferences.models import Conference, ConferenceStatus, Invitation, InvitationStatus
from app.conferences.services import ConferenceError
from app.conferences.services.notifications import send_invitation_mail
from app.filters import date_de


def consent_valid_on(case_id_col, agency_id_col, day: date, *, per_row: bool = False):
    """SQL twin of ``Consent.is_valid_on``: some consent of the agency for the case holds on ``day``.

    ``per_row``: checked for each row of a list that stops after a page (``db.probe``).
    """
    conditions = (
        Consent.case_id == case_id_col,
        Consent.agency_id == agency_id_col,
        Consent.superseded_at.is_(None),
        Consent.signed_on <= day,
        Consent.valid_until >= day,
        or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > day),
    )
    if per_row:
        return db.probe(*conditions)
    return exists().where(*conditions)


def live_invitation(session, conference, agency_id: int) -> Invitation | None:
    """The agency's invitation to ``conference`` unless it was withdrawn."""
    return session.execute(
        select(Invitation).where(
            Invitation.conference_id == conference.id,
            Invitation.agency_id == agency_id,
            Invitation.status != InvitationStatus.CANCELLED,
        )
    ).scalar_one_or_none()


def live_invitations(session, conference) -> list[tuple[Invitation, str]]:
    """Invitations not cancelled, with the agency's name."""
    return list(
        session.execute(
            select(Invitation, Agency.name)
            .join(Agency, Agency.id == Invitation.agency_id)
            .where(Invitation.conference_id == conference.id, Invitation.status != InvitationStatus.CANCELLED)
            .order_by(Agency.name)
        ).all()
    )


@dataclass
class InvitationOptions:
    eligible: list  # (agency, consent)
    refused: list  # (agency, reason)
    invited: list  # (invitation, agency name, named user name or None)
    people: list  # active partner users of eligible agencies: (user, agency name)


def _refusal_reason(consents: list[Consent], day: date) -> str:
    newest = max(consents, key=lambda c: (c.signed_on, c.id))
    if newest.withdrawn_on is not None and newest.withdrawn_on <= day:
        return _l("Einwilligung widerrufen am %(date)s", date=date_de(newest.withdrawn_on))
    if newest.valid_until < day:
        return _l("Einwilligung gilt nur bis %(date)s, der Termin liegt danach", date=date_de(newest.valid_until))
    if newest.signed_on > day:
        return _l("Einwilligung gilt erst ab %(date)s", date=date_de(newest.signed_on))
    return _l("keine am Termin gültige Einwilligung")


def invitation_options(session, conference) -> InvitationOptions:
    """Which agencies can be invited, and why the others cannot (DESIGN.md section 4)."""
    day = local_day(conference.starts_at)
    invited_rows = session.execute(
        select(Invitation, Agency.name, User.name)
        .join(Agency, Agency.id == Invitation.agency_id)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.conference_id == conference.id)
        .order_by(Agency.name)
    ).all()
    live = {inv.agency_id for inv, _a, _u in invited_rows if inv.status != InvitationStatus.CANCELLED}
    rows = session.execute(
        select(Consent, Agency)
        .join(Agency, Agency.id == Consent.agency_id)
        .where(Consent.case_id == conference.case_id, Consent.superseded_at.is_(None))
        .order_by(Agency.name)
    ).all()
    by_agency: dict[int, tuple[Agency, list[Consent]]] = {}
    for consent, agency in rows:
        by_agency.setdefault(agency.id, (agency, []))[1].append(consent)
    eligible, refused = [], []
    for agency, consents in by_agency.values():
        if agency.id in live:
            continue
        valid = next((c for c in consents if c.is_valid_on(day)), None)
        if not agency.active:
            refused.append((agency, _l("Einrichtung ist deaktiviert")))
        elif valid is None:
            refused.append((agency, _refusal_reason(consents, day)))
        else:
            eligible.append((agency, valid))
    eligible_ids = [agency.id for agency, _c in eligible]
    people = (
        session.execute(
            select(User, Agency.name)
            .join(Agency, Agency.id == User.agency_id)
            .where(User.agency_id.in_(eligible_ids), User.role == Role.PARTNER, User.active.is_(True))
            .order_by(Agency.name, User.name)
        ).all()
        if eligible_ids
        else []
    )
    invited = [(inv, agency_name, user_name) for inv, agency_name, user_name in invited_rows]
    return InvitationOptions(eligible, refused, invited, list(people))


def invite(session, conference, actor, *, agency_ids: list[int], user_ids: list[int]) -> list[Invitation]:
    options = invitation_options(session, conference)
    eligible = {agency.id for agency, _c in options.eligible}
    if not agency_ids or any(a not in eligible for a in agency_ids):
        raise ConferenceError(
            "agencies",
            _l(
                "Diese Einrichtung kann nicht eingeladen werden: Für sie gilt am "
                "Termin keine Einwilligung, oder sie ist schon eingeladen."
            ),
        )
    people = {user.id: user for user, _name in options.people}
    named: dict[int, int] = {}
    for user_id in user_ids:
        user = people.get(user_id)
        if user is None or user.agency_id not in agency_ids:
            raise ConferenceError(
                "people", _l("Namentlich einladen können Sie nur Personen der ausgewählten Einrichtungen.")
            )
        if user.agency_id in named:
            raise ConferenceError("people", _l("Pro Einrichtung kann eine Person namentlich eingeladen werden."))
        named[user.agency_id] = user.id
    previous = {inv.agency_id: inv for inv, _a, _u in options.invited}
    created = []
    for agency_id in agency_ids:
        inv = previous.get(agency_id)
        if inv is None:
            inv = Invitation(conference_id=conference.id, agency_id=agency_id)
            session.add(inv)
        else:
            # Invited again after a withdrawal: calendars hold the CANCEL, so raise the sequence.
            conference.ical_sequence += 1
            inv.status, inv.answer_comment, inv.answered_at, inv.answered_by_id = (
                InvitationStatus.PENDING,
                "",
                None,
                None,
            )
            inv.cancelled_at, inv.attendance = None, None
        inv.user_id = named.get(agency_id)
        session.flush()
        audit.record(
            "invitation.created",
            inv,
            actor=actor,
            session=session,
            conference_id=conference.id,
            agency_id=agency_id,
            user_id=inv.user_id,
        )
        send_invitation_mail(session, conference, inv, actor, kind="invitation")
        created.append(inv)
    return created


def resend_invitation(session, conference, invitation, actor) -> None:
    send_invitation_mail(session, conference, invitation, actor, kind="resend")


def cancel_invitation(session, invitation, actor, *, reason: str, **details) -> bool:
    """End an invitation (withdrawn by staff, or the consent ended) with a calendar CANCEL.

    ``reason`` is a code for the audit trail ("withdrawn", "consent_withdrawn", ...);
    ``details`` (ids only) go there too. Returns whether an e-mail went out (only for a
    conference still planned).
    """
    if invitation.status == InvitationStatus.CANCELLED:
        return False
    conference = session.get(Conference, invitation.conference_id)
    invitation.status = InvitationStatus.CANCELLED
    invitation.cancelled_at = utcnow()
    audit.record(
        "invitation.cancelled",
        invitation,
        actor=actor,
        session=session,
        reason=reason,
        conference_id=conference.id,
        agency_id=invitation.agency_id,
        **details,
    )
    if conference.status != ConferenceStatus.PLANNED:
        return False
    conference.ical_sequence += 1
    send_invitation_mail(session, conference, invitation, actor, kind="invitation_cancelled")
    return True


def answer_invitation(session, invitation, actor, *, answer: str, comment: str, overridden_kinds=()) -> None:
    invitation.status = answer
    invitation.answer_comment = (comment or "").strip()
    invitation.answered_at = utcnow()
    invitation.answered_by_id = actor.id
    audit.record(
        "invitation.answered",
        invitation,
        actor=actor,
        session=session,
        status=answer,
        conference_id=invitation.conference_id,
    )
    audit.record_overrides(invitation, actor, overridden_kinds, session=session)
