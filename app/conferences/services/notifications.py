"""E-mails about a conference: invitations, changes and cancellations with their calendar files."""

from flask import current_app

from app import audit, mail
from app.accounts.models import User
from app.agencies.models import Agency, Location, LocationKind
from app.cases.models import Case
from app.clock import de_datetime, to_local, utcnow
from app.conferences import calendar


def conference_link(conference_id: int) -> str:
    """The conference page at BASE_URL: works in requests and in CLI commands alike."""
    path = current_app.url_map.bind("localhost").build("conferences.view", {"conference_id": conference_id})
    return current_app.config["BASE_URL"].rstrip("/") + path


def location_text(location: Location) -> str:
    if location.kind == LocationKind.ONLINE:
        # The video link itself is shown on the conference page, after log-in.
        return f"{location.name} (Link zur Videokonferenz auf der Konferenzseite)"
    return ", ".join(part for part in (location.name, location.address) if part)


EMAIL_TEMPLATES = {
    "invitation": ("conference_invitation", "REQUEST"),
    "resend": ("conference_invitation", "REQUEST"),
    "update": ("conference_update", "REQUEST"),
    "conference_cancelled": ("conference_cancelled", "CANCEL"),
    "invitation_cancelled": ("invitation_cancelled", "CANCEL"),
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


def send_invitation_mail(session, conference, invitation, actor, *, kind: str) -> None:
    """One e-mail with its calendar file to the agency's contact address and its named person."""
    template, method = EMAIL_TEMPLATES[kind]
    ctx = _mail_context(session, conference)
    to = invitation_recipients(session, invitation)
    ics = calendar.calendar_file(
        conference,
        method=method,
        pseudonym=ctx["pseudonym"],
        location_text=ctx["location"],
        organiser=ctx["organiser"],
        attendees=to,
        link=ctx["link"],
    )
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
