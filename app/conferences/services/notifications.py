"""E-mails about a conference: invitations, changes and cancellations with their calendar files."""

from flask import current_app

from app import audit, links, mail
from app.accounts.models import User
from app.agencies.models import Agency, Location, LocationKind, place_text
from app.cases.models import Case
from app.clock import de_datetime, to_local, utcnow
from app.conferences import calendar


def conference_link(conference_id: int) -> str:
    """The conference page's address (``app.links``): works in requests and in CLI commands alike."""
    return links.external_url("conferences.view", conference_id=conference_id)


def location_text(location: Location) -> str:
    if location.kind == LocationKind.ONLINE:
        # The video link itself is shown on the conference page, after log-in.
        return f"{location.name} (Link zur Videokonferenz auf der Konferenzseite)"
    return place_text(location.name, location.address)


EMAIL_TEMPLATES = {
    "invitation": ("conference_invitation", calendar.PUBLISH),
    "resend": ("conference_invitation", calendar.PUBLISH),
    "update": ("conference_update", calendar.PUBLISH),
    "conference_cancelled": ("conference_cancelled", calendar.CANCEL),
    "invitation_cancelled": ("invitation_cancelled", calendar.CANCEL),
}


def invitation_recipients(session, invitation) -> list[str]:
    agency = session.get(Agency, invitation.agency_id)
    to = [agency.contact_email]
    if invitation.user_id:
        named = session.get(User, invitation.user_id)
        if named is not None and named.active:
            to.append(named.email)
    return to


def _mail_context(session, conference) -> dict:
    case = session.get(Case, conference.case_id)
    location = session.get(Location, conference.location_id)
    organiser = session.get(User, conference.organiser_id)
    return {
        "pseudonym": case.pseudonym,
        "when": de_datetime(conference.starts_at),
        "until": to_local(conference.ends_at).strftime("%H:%M"),
        "location": location_text(location),
        "location_obj": location,
        "organiser": organiser,
        "link": conference_link(conference.id),
        "organisation": current_app.config["ORGANISATION_NAME"],
    }


def schedule_of(session, conference) -> dict:
    """When and where, as the e-mails say it: kept before a change, to show old and new."""
    return {
        "when": de_datetime(conference.starts_at),
        "until": to_local(conference.ends_at).strftime("%H:%M"),
        "location": location_text(session.get(Location, conference.location_id)),
    }


def _calendar(conference, ctx, method) -> bytes:
    return calendar.calendar_file(
        conference,
        method=method,
        pseudonym=ctx["pseudonym"],
        location_text=ctx["location"],
        organiser=ctx["organiser"],
        link=ctx["link"],
    )


def send_invitation_mail(session, conference, invitation, actor, *, kind: str, before: dict | None = None) -> None:
    """One e-mail with its calendar file to the agency's contact address and its named person;
    a changed date or place (``kind`` "update") shows ``before`` (``schedule_of``) and the new one."""
    template, method = EMAIL_TEMPLATES[kind]
    ctx = _mail_context(session, conference)
    to = invitation_recipients(session, invitation)
    ics = _calendar(conference, ctx, method)
    mail.queue(
        to,
        template,
        attachments=[calendar.attachment(ics, method)],
        session=session,
        ref=invitation,
        case_id=conference.case_id,
        kind=kind,
        **{k: v for k, v in ctx.items() if k not in ("location_obj", "organiser")},
        organiser_name=ctx["organiser"].name,
        before=before,
    )
    invitation.sent_count += 1
    invitation.last_sent_at = utcnow()
    audit.record(
        "invitation.mailed",
        invitation,
        actor=actor,
        session=session,
        kind=kind,
        method=method,
        sequence=conference.ical_sequence,
        conference_id=conference.id,
    )


ORGANISER_MAILS = {
    "scheduled": calendar.PUBLISH,
    "updated": calendar.PUBLISH,
    "cancelled": calendar.CANCEL,
}


def send_organiser_copy(session, conference, actor, *, kind: str, before: dict | None = None) -> None:
    """The organiser's own calendar entry (METHOD:PUBLISH, nothing to answer): when a conference is
    scheduled, when its date or place changes, and its removal (CANCEL) when it is cancelled."""
    method = ORGANISER_MAILS[kind]
    ctx = _mail_context(session, conference)
    organiser = ctx["organiser"]
    if organiser is None or not organiser.active:
        return
    mail.queue(
        [organiser.email],
        "conference_organiser",
        attachments=[calendar.attachment(_calendar(conference, ctx, method), method)],
        session=session,
        ref=conference,
        kind=kind,
        before=before,
        **{k: v for k, v in ctx.items() if k not in ("location_obj", "organiser")},
    )
    audit.record(
        "conference.calendar_mailed",
        conference,
        actor=actor,
        session=session,
        kind=kind,
        method=method,
        sequence=conference.ical_sequence,
        recipient_id=organiser.id,
    )
