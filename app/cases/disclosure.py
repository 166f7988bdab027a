"""The access report for one case (Art. 15 GDPR, § 83 SGB X): everything stored about it, and who
received or viewed which of its data when.

The owning team produces it on request (rule ``case.access_report``), as a PDF for the person and
as a machine-readable JSON bundle (the disclosure log also as CSV). Staff appear by role, never by
name; partner agencies by name. The "who saw it" part comes from the audit trail: every view or
download by a partner agency (with the consent it read under), every e-mail an agency received
about the case, and the Jobcenter's own views and exports by role. Producing the report is itself
audited (``case.access_report``).
"""

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app import audit
from app.accounts.models import ROLE_LABELS, Team, User
from app.agencies.models import AGENCY_TYPE_LABELS, Agency, District, Location
from app.audit import AuditEntry
from app.cases.models import (
    AGE_BANDS,
    CLOSE_REASONS,
    DATA_CATEGORIES,
    HOUSEHOLD_TYPES,
    OBSTACLES,
    Case,
    CaseObstacle,
    Consent,
)
from app.clock import to_local
from app.conferences.models import AgendaItem, Conference, Invitation, Measure, Note
from app.minutes.models import Minutes, MinutesComment

# Audit actions that mean an agency saw (part of) the case's content, and what it saw.
SEEN = {
    "conference.viewed": "Fallkonferenz angesehen (im Umfang der Einwilligung)",
    "minutes.viewed": "Protokoll angesehen (im Umfang der Einwilligung)",
    "minutes.downloaded": "Protokoll als PDF heruntergeladen (im Umfang der Einwilligung)",
    "minutes.commented": "Protokollentwurf kommentiert",
    "note.created": "Stellungnahme geschrieben",
}
# E-mails an agency received about the case (pseudonym, date, place and a link; no content).
RECEIVED = {
    "invitation.mailed": "E-Mail zur Einladung mit Kalenderdatei (Pseudonym, Termin, Ort)",
    "invitation.reminded": "Erinnerungs-E-Mail zur Fallkonferenz (Pseudonym, Termin, Ort)",
    "minutes.shared": "E-Mail: Protokollentwurf zur Durchsicht (Pseudonym, Datum)",
    "measure.reminded": "Erinnerungs-E-Mail zu einer Maßnahme (Pseudonym, Fälligkeit)",
}
# The Jobcenter's own use, by role.
STAFF = {
    "case.viewed": "Fall angesehen",
    "conference.viewed": "Fallkonferenz angesehen",
    "conference.previewed": "Ansicht einer Einrichtung geprüft",
    "minutes.viewed": "Protokoll angesehen",
    "minutes.downloaded": "Protokoll als PDF heruntergeladen",
    "minutes.exported": "Protokoll im Sammelexport",
    "case.access_report": "Auskunft erstellt",
}


@dataclass
class Disclosure:
    at: datetime
    who: str  # an agency's name, or "Jobcenter – <role>", or "System"
    agency_id: int | None
    action: str
    what: str
    object_type: str | None
    object_id: int | None
    scope: list = field(default_factory=list)


@dataclass
class AccessReport:
    case: dict
    consents: list
    conferences: list
    disclosures: list  # [Disclosure], oldest first
    agencies_that_saw: list  # [(agency id, name)]: every agency that saw content of the case
    agencies_that_received: list  # [(agency id, name)]: e-mails about the case

    def as_dict(self) -> dict:
        return {
            "format": "fallkonferenz-auskunft/1",
            "case": self.case,
            "consents": self.consents,
            "conferences": self.conferences,
            "agencies_that_saw_the_case": [{"id": i, "name": n} for i, n in self.agencies_that_saw],
            "agencies_that_received_emails": [{"id": i, "name": n} for i, n in self.agencies_that_received],
            "disclosures": [
                {
                    "at": _iso(d.at),
                    "who": d.who,
                    "agency_id": d.agency_id,
                    "action": d.action,
                    "what": d.what,
                    "object": d.object_type,
                    "object_id": d.object_id,
                    "scope": d.scope,
                }
                for d in self.disclosures
            ],
        }

    def json_bytes(self) -> bytes:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, default=str).encode("utf-8")

    def disclosures_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([_("Zeitpunkt"), _("Wer"), _("Was"), _("Datenkategorien"), _("Objekt"), _("Aktion")])
        for d in self.disclosures:
            writer.writerow(
                [
                    to_local(d.at).strftime("%d.%m.%Y %H:%M"),
                    d.who,
                    d.what,
                    ", ".join(str(DATA_CATEGORIES.get(c, c)) for c in d.scope),
                    f"{d.object_type or ''} {d.object_id or ''}".strip(),
                    d.action,
                ]
            )
        return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _role(role) -> str:
    return f"Jobcenter – {ROLE_LABELS.get(role, role)}"


def access_report(session, case: Case, actor: User, output: str) -> AccessReport:
    """Everything stored about ``case`` and its disclosures; audited as ``case.access_report``."""
    agencies = {a.id: a for a in session.execute(select(Agency)).scalars()}
    users = {}

    def user(uid):
        if uid is None:
            return None
        if uid not in users:
            users[uid] = session.get(User, uid)
        return users[uid]

    def who(uid) -> str:
        u = user(uid)
        if u is None:
            return "System (automatisch)"
        if u.agency_id is not None and u.agency_id in agencies:
            return agencies[u.agency_id].name
        return _role(u.role)

    district = session.get(District, case.district_id)
    team = session.get(Team, case.team_id)
    obstacles = [o for (o,) in session.execute(select(CaseObstacle.obstacle).where(CaseObstacle.case_id == case.id))]
    facts = {
        "pseudonym": case.pseudonym,
        "internal_reference": case.internal_reference,
        "status": case.status,
        "team": team.name if team else None,
        "caseworker": _role(user(case.caseworker_id).role) if user(case.caseworker_id) else None,
        "district": district.name if district else None,
        "age_band": str(AGE_BANDS.get(case.age_band, case.age_band)),
        "household_type": str(HOUSEHOLD_TYPES.get(case.household_type, case.household_type)),
        "placement_obstacles": [str(OBSTACLES.get(o, o)) for o in obstacles],
        "summary": case.summary,
        "goals": case.goals,
        "created_at": _iso(case.created_at),
        "closed_at": _iso(case.closed_at),
        "close_reason": str(CLOSE_REASONS.get(case.close_reason, case.close_reason)) if case.close_reason else None,
    }
    consents_rows = session.execute(
        select(Consent).where(Consent.case_id == case.id).order_by(Consent.agency_id, Consent.recorded_at)
    ).scalars()
    consents = {}
    consent_list = []
    for c in consents_rows:
        consents[c.id] = c
        consent_list.append(
            {
                "id": c.id,
                "agency": agencies[c.agency_id].name if c.agency_id in agencies else None,
                "signed_on": _iso(c.signed_on),
                "valid_until": _iso(c.valid_until),
                "scope": [str(DATA_CATEGORIES.get(s, s)) for s in c.scope],
                "proof_reference": c.proof_reference,
                "note": c.note,
                "recorded_at": _iso(c.recorded_at),
                "recorded_by": who(c.recorded_by_id),
                "replaces_id": c.replaces_id,
                "superseded_at": _iso(c.superseded_at),
                "withdrawn_on": _iso(c.withdrawn_on),
                "withdrawal_note": c.withdrawal_note,
            }
        )

    conferences = (
        session.execute(select(Conference).where(Conference.case_id == case.id).order_by(Conference.starts_at))
        .scalars()
        .all()
    )
    conf_ids = [c.id for c in conferences]
    locations = {loc.id: loc.name for loc in session.execute(select(Location)).scalars()}

    def rows(model, *where, order=None):
        if not conf_ids:
            return []
        stmt = select(model).where(*where)
        return session.execute(stmt.order_by(order) if order is not None else stmt).scalars().all()

    agenda = rows(AgendaItem, AgendaItem.conference_id.in_(conf_ids), order=AgendaItem.position)
    invitations = rows(Invitation, Invitation.conference_id.in_(conf_ids), order=Invitation.id)
    notes = rows(Note, Note.conference_id.in_(conf_ids), order=Note.created_at)
    measures = session.execute(select(Measure).where(Measure.case_id == case.id).order_by(Measure.id)).scalars().all()
    minutes = rows(Minutes, Minutes.conference_id.in_(conf_ids), order=Minutes.version_number)
    minutes_ids = [m.id for m in minutes]
    comments = (
        session.execute(select(MinutesComment).where(MinutesComment.minutes_id.in_(minutes_ids))).scalars().all()
        if minutes_ids
        else []
    )

    def cats(values):
        return [str(DATA_CATEGORIES.get(c, c)) for c in values or ()]

    def agency_name(aid):
        return agencies[aid].name if aid in agencies else None

    conference_list = []
    for conf in conferences:
        conference_list.append(
            {
                "id": conf.id,
                "occasion": conf.occasion,
                "starts_at": _iso(conf.starts_at),
                "ends_at": _iso(conf.ends_at),
                "location": locations.get(conf.location_id),
                "status": conf.status,
                "organiser": _role(user(conf.organiser_id).role) if user(conf.organiser_id) else None,
                "person_attends": conf.person_attends,
                "person_attended": conf.person_attended,
                "agenda": [
                    {"title": a.title, "discussion": a.discussion, "categories": cats(a.categories)}
                    for a in agenda
                    if a.conference_id == conf.id
                ],
                "invitations": [
                    {
                        "agency": agency_name(i.agency_id),
                        "status": i.status,
                        "attendance": i.attendance,
                        "emails_sent": i.sent_count,
                        "answer_comment": i.answer_comment,
                    }
                    for i in invitations
                    if i.conference_id == conf.id
                ],
                "notes": [
                    {
                        "by": agency_name(n.agency_id) or who(n.author_id),
                        "body": n.body,
                        "categories": cats(n.categories),
                        "visibility": n.visibility,
                        "written_at": _iso(n.created_at),
                        "withdrawn_at": _iso(n.withdrawn_at),
                    }
                    for n in notes
                    if n.conference_id == conf.id
                ],
                "measures": [
                    {
                        "what": m.what,
                        "categories": cats(m.categories),
                        "responsible": agency_name(m.responsible_agency_id) or m.responsible_kind,
                        "due_on": _iso(m.due_on),
                        "status": m.status,
                        "outcome": m.outcome,
                    }
                    for m in measures
                    if m.conference_id == conf.id
                ],
                "minutes": [
                    {
                        "version": m.version_number,
                        "status": m.status,
                        "summary": m.summary,
                        "decisions": [d.get("text") for d in m.decisions or ()],
                        "finalised_at": _iso(m.finalised_at),
                        "pdf_sha256": m.pdf_sha256,
                        "correction_reason": m.correction_reason,
                        "comments": [
                            {"agency": agency_name(c.agency_id), "body": c.body, "at": _iso(c.created_at)}
                            for c in comments
                            if c.minutes_id == m.id
                        ],
                    }
                    for m in minutes
                    if m.conference_id == conf.id
                ],
            }
        )

    disclosures = _disclosures(
        session,
        case,
        conf_ids=conf_ids,
        minutes={m.id: m for m in minutes},
        invitations={i.id: i for i in invitations},
        notes={n.id: n for n in notes},
        measures={m.id: m for m in measures},
        consents=consents,
        agencies=agencies,
        user=user,
    )
    saw = {d.agency_id for d in disclosures if d.agency_id is not None and d.action in SEEN}
    received = {d.agency_id for d in disclosures if d.agency_id is not None and d.action in RECEIVED}
    audit.record("case.access_report", case, actor=actor, session=session, output=output)
    return AccessReport(
        facts,
        consent_list,
        conference_list,
        disclosures,
        sorted(((a, agencies[a].name) for a in saw if a in agencies), key=lambda x: x[1]),
        sorted(((a, agencies[a].name) for a in received if a in agencies), key=lambda x: x[1]),
    )


def _disclosures(session, case, *, conf_ids, minutes, invitations, notes, measures, consents, agencies, user):
    objects = [("case_file", [case.id]), ("conference", conf_ids), ("minutes", list(minutes))]
    objects += [("invitation", list(invitations)), ("note", list(notes)), ("measure", list(measures))]
    objects += [("minutes_comment", [])]
    conditions = [(AuditEntry.object_type == kind) & AuditEntry.object_id.in_(ids) for kind, ids in objects if ids]
    # Comments are reached through their minutes (details.minutes_id): read by action.
    conditions.append(AuditEntry.action.in_(("minutes.commented", "minutes.exported")))
    entries = session.execute(select(AuditEntry).where(or_(*conditions)).order_by(AuditEntry.id)).scalars().all()
    out = []
    for e in entries:
        d = e.details or {}
        u = user(e.actor_id)
        partner_agency = u.agency_id if u is not None and u.agency_id is not None else None
        if e.action == "minutes.commented" and d.get("minutes_id") not in minutes:
            continue
        if e.action == "minutes.exported" and not set(d.get("minutes_ids") or ()) & set(minutes):
            continue
        scope: list = []
        if e.action in RECEIVED:
            if e.action == "minutes.shared":
                for agency_id in d.get("agency_ids") or ():
                    out.append(
                        Disclosure(
                            e.at,
                            _name(agencies, agency_id),
                            agency_id,
                            e.action,
                            RECEIVED[e.action],
                            "minutes",
                            e.object_id,
                        )
                    )
                continue
            if e.object_type == "invitation" and e.object_id in invitations:
                agency_id = invitations[e.object_id].agency_id
            elif e.object_type == "measure" and e.object_id in measures:
                agency_id = measures[e.object_id].responsible_agency_id
                if agency_id is None:
                    continue  # a reminder to the caseworker: the Jobcenter's own
            else:
                continue
            out.append(
                Disclosure(
                    e.at,
                    _name(agencies, agency_id),
                    agency_id,
                    e.action,
                    RECEIVED[e.action],
                    e.object_type,
                    e.object_id,
                )
            )
            continue
        if partner_agency is not None:
            if e.action not in SEEN:
                continue
            # The agency the entry names (its consent's, or its own), else the user's.
            agency_id = d.get("agency_id")
            consent = consents.get(d.get("consent_id"))
            if consent is not None:
                agency_id, scope = consent.agency_id, list(consent.scope)
            agency_id = agency_id or partner_agency
            out.append(
                Disclosure(
                    e.at,
                    _name(agencies, agency_id),
                    agency_id,
                    e.action,
                    SEEN[e.action],
                    e.object_type,
                    e.object_id,
                    scope,
                )
            )
            continue
        if e.action in STAFF:
            who = _role(u.role) if u is not None else "System (automatisch)"
            out.append(Disclosure(e.at, who, None, e.action, STAFF[e.action], e.object_type, e.object_id))
    return out


def _name(agencies, agency_id):
    a = agencies.get(agency_id)
    return a.name if a is not None else f"Einrichtung {agency_id}"


def agency_type_label(agency) -> str:
    return str(AGENCY_TYPE_LABELS.get(agency.type, agency.type))


class DisclosureError(Exception):
    pass


def report_pdf(report: AccessReport, *, organisation: str, generated: str) -> bytes:
    from flask import render_template

    from app import pdf

    html = render_template(
        "pdf/access_report.html",
        r=report,
        organisation=organisation,
        generated=generated,
        local=lambda v: to_local(datetime.fromisoformat(v)).strftime("%d.%m.%Y %H:%M") if v else "–",
        local_dt=lambda v: to_local(v).strftime("%d.%m.%Y %H:%M"),
        categories=DATA_CATEGORIES,
    )
    try:
        return pdf.render_configured(html)
    except pdf.PdfError as err:
        raise DisclosureError(str(err)) from None
