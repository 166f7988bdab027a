"""Minutes (Protokoll): draft, comments, finalisation, corrections, PDFs and the batch export.

A held conference's draft shows the conference's records live (participants, agenda,
notes, measures, review of earlier measures, next date) plus the organiser's summary and
decisions. Finalising freezes what the minutes show into ``Minutes.content``, renders the
archival PDF once, stores it with its SHA-256 and closes the conference, so its records
can no longer be edited. A correction is a new, final version made from the same frozen
content with corrected text; the version it replaces is marked "replaced".

Every PDF is rendered from the frozen content: the archive copy for the Jobcenter, and
one copy per consent scope for partner agencies, cached in ``MinutesPdf``. The internal
reference is never part of the content, so no PDF can show it.

Services take domain objects and plain data, write the audit entry (ids and codes only)
and leave the commit to the route.
"""
import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from babel.dates import format_date, format_datetime, format_time
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from app import audit, mail, pdf
from app.accounts.models import User
from app.admin.forms import LOCATION_KIND_CHOICES
from app.agencies.models import Agency, District, Location
from app.cases.models import DATA_CATEGORIES, Case
from app.conferences.models import (ATTENDANCE, INVITATION_STATUS, MEASURE_STATUS, NOTE_VISIBILITY,
                                    RESPONSIBLE_KINDS, AgendaItem, Conference, Invitation, Measure,
                                    Minutes, MinutesComment, MinutesPdf, Note)
from app.db import utcnow
from app.filters import berlin_today, local_to_utc, to_local
from app.forms import StaleEdit, check_version
from app.permissions import is_staff, partner_consent, valid_consent

ARCHIVE = "archive"
MAX_COMMENT_DAYS = 30
MAX_EXPORT_DAYS = 366
EXPORT_BATCH = 20  # PDFs read from the database per short transaction while streaming


class MinutesError(ValueError):
    """Input that breaks a rule of the minutes; ``field`` names the form field to mark (or None)."""

    def __init__(self, field, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


# --- reading -------------------------------------------------------------------------------


def record_view(session, conference: Conference, actor: User) -> None:
    audit.record("minutes.viewed", conference, actor=actor, session=session)


def finaliser_names(session, versions_: list[Minutes]) -> dict[int, str]:
    ids = {v.finalised_by_id for v in versions_ if v.finalised_by_id}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}


def versions(session, conference: Conference) -> list[Minutes]:
    """Every version of the conference's minutes, newest first."""
    return list(session.execute(
        select(Minutes).where(Minutes.conference_id == conference.id).order_by(Minutes.version_number.desc())
    ).scalars())


def comments(session, minutes: Minutes) -> list[tuple[MinutesComment, str, str]]:
    """(comment, agency name, author name), oldest first."""
    return list(session.execute(
        select(MinutesComment, Agency.name, User.name)
        .join(Agency, Agency.id == MinutesComment.agency_id).join(User, User.id == MinutesComment.author_id)
        .where(MinutesComment.minutes_id == minutes.id).order_by(MinutesComment.created_at, MinutesComment.id)
    ).all())


def _iso(value):
    return value.isoformat() if value is not None else None


def assemble(session, conference: Conference) -> dict:
    """What the minutes show, as plain JSON-ready data (never the internal reference)."""
    case = session.get(Case, conference.case_id)
    location = session.get(Location, conference.location_id)
    organiser = session.get(User, conference.organiser_id)
    district = session.get(District, case.district_id)

    invitations = session.execute(
        select(Invitation, Agency.name, User.name)
        .join(Agency, Agency.id == Invitation.agency_id).outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.conference_id == conference.id, Invitation.status != "cancelled")
        .order_by(Agency.name)
    ).all()
    agenda = session.execute(
        select(AgendaItem).where(AgendaItem.conference_id == conference.id).order_by(AgendaItem.position, AgendaItem.id)
    ).scalars()
    notes = session.execute(
        select(Note, User.name, Agency.name)
        .join(User, User.id == Note.author_id).outerjoin(Agency, Agency.id == Note.agency_id)
        .where(Note.conference_id == conference.id, Note.withdrawn_at.is_(None))
        .order_by(Note.created_at, Note.id)
    ).all()
    agency_names = dict(session.execute(select(Agency.id, Agency.name)).all())

    def measure(m: Measure, agreed_at=None) -> dict:
        return {"what": m.what, "responsible_kind": m.responsible_kind,
                "responsible_agency": agency_names.get(m.responsible_agency_id),
                "due_on": _iso(m.due_on), "status": m.status, "outcome": m.outcome,
                "agreed_at": _iso(agreed_at)}

    measures = session.execute(
        select(Measure).where(Measure.conference_id == conference.id).order_by(Measure.due_on, Measure.id)
    ).scalars()
    reviewed = session.execute(
        select(Measure, Conference.starts_at).join(Conference, Conference.id == Measure.conference_id)
        .where(Measure.reviewed_in_conference_id == conference.id).order_by(Measure.due_on, Measure.id)
    ).all()
    following = session.execute(
        select(Conference.starts_at, Location.name).join(Location, Location.id == Conference.location_id)
        .where(Conference.previous_conference_id == conference.id, Conference.status.in_(("planned", "held")))
        .order_by(Conference.starts_at).limit(1)
    ).first()

    return {
        "pseudonym": case.pseudonym,
        "district": district.name if district else None,
        "occasion": conference.occasion,
        "starts_at": _iso(conference.starts_at),
        "ends_at": _iso(conference.ends_at),
        "location": {"name": location.name, "kind": location.kind,
                     # a room or street address of the venue; a video link is never printed
                     "address": location.address if location.kind != "online" else None},
        "organiser": organiser.name,
        "person_attends": conference.person_attends,
        "person_attended": conference.person_attended,
        "participants": [{"agency": agency, "person": person, "invitation": inv.status,
                          "attendance": inv.attendance} for inv, agency, person in invitations],
        "agenda": [{"position": item.position, "title": item.title, "discussion": item.discussion}
                   for item in agenda],
        "notes": [{"agency": agency, "author": author, "categories": sorted(note.categories),
                   "visibility": note.visibility, "body": note.body, "written_at": _iso(note.created_at)}
                  for note, author, agency in notes],
        "measures": [measure(m) for m in measures],
        "reviewed": [measure(m, agreed_at) for m, agreed_at in reviewed],
        "next_conference": ({"starts_at": _iso(following[0]), "location": following[1]} if following else None),
    }


def notes_for(content: dict, scope) -> list[dict]:
    """The notes a reader sees: all for the Jobcenter (``scope`` None); for a partner agency
    only shared notes whose categories its consent names, whoever wrote them."""
    if scope is None:
        return content["notes"]
    allowed = set(scope)
    return [n for n in content["notes"] if n["visibility"] == "shared" and set(n["categories"]) <= allowed]


def variant_for(scope) -> str:
    return ARCHIVE if scope is None else "scope:" + ",".join(sorted(set(scope)))


# --- German formats for the document (always German, whatever the page language) ---------


def _dt(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return to_local(value)


def _day(value) -> date:
    """A calendar day in Berlin from a date, a UTC datetime, or their ISO text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value


def de_long_date(value) -> str:
    return format_date(_day(value), "EEEE, d. MMMM y", locale="de_DE")


def de_date(value) -> str:
    return "–" if value is None else format_date(_day(value), "dd.MM.y", locale="de_DE")


def de_time(value) -> str:
    return format_time(_dt(value), "HH:mm", locale="de_DE")


def de_datetime(value) -> str:
    return format_datetime(_dt(value), "d. MMMM y, HH:mm 'Uhr'", locale="de_DE")


def filename(pseudonym: str, day: date, version_number: int) -> str:
    """``Protokoll_<pseudonym>_<date>_v<version>.pdf``, reduced to characters safe in any header."""
    safe = re.sub(r"[^A-Za-z0-9-]", "", pseudonym) or "Fall"
    return f"Protokoll_{safe}_{day.isoformat()}_v{int(version_number)}.pdf"


def conference_day(content: dict) -> date:
    return _day(content["starts_at"])


# --- rendering -----------------------------------------------------------------------------


def category_names(codes) -> str:
    """Labels in the register's order (DATA_CATEGORIES), whatever order the codes come in."""
    return ", ".join(str(label) for code, label in DATA_CATEGORIES.items() if code in set(codes))


def labels() -> dict:
    """Labels and German formats for the minutes, on the page and in the PDF."""
    return {"attendance": ATTENDANCE, "invitation": INVITATION_STATUS, "measure": MEASURE_STATUS,
            "responsible": RESPONSIBLE_KINDS, "visibility": NOTE_VISIBILITY, "location": dict(LOCATION_KIND_CHOICES),
            "category_names": category_names, "long_date": de_long_date, "short_date": de_date,
            "clock": de_time, "stamp": de_datetime}


def document_html(session, minutes: Minutes, content: dict, scope=None) -> str:
    """The HTML of the PDF: our template, the user's text escaped by Jinja's autoescape."""
    config = current_app.config
    finalised_by = session.get(User, minutes.finalised_by_id) if minutes.finalised_by_id else None
    replaced = session.get(Minutes, minutes.replaces_id) if minutes.replaces_id else None
    scope_labels = None if scope is None else category_names(scope)
    with force_locale("de"):
        return render_template(
            "pdf/minutes.html", c=content, m=minutes, notes=notes_for(content, scope), scope=scope,
            scope_labels=scope_labels, finalised_by=finalised_by.name if finalised_by else None,
            replaced=replaced, organisation=config["ORGANISATION_NAME"],
            logo=config["ORGANISATION_LOGO"], labels=labels(),
        )


def render_pdf(session, minutes: Minutes, content: dict, scope=None) -> bytes:
    config = current_app.config
    html = document_html(session, minutes, content, scope)
    try:
        return pdf.render(
            html, static_folder=current_app.static_folder,
            time_limit=config["PDF_TIME_LIMIT"], max_html_bytes=config["PDF_MAX_HTML_BYTES"],
            max_pages=config["PDF_MAX_PAGES"],
        ).content
    except pdf.PdfError as err:
        raise MinutesError(None, _l("Das PDF konnte nicht erstellt werden: %(reason)s Bitte kürzen Sie die Texte.",
                                    reason=str(err))) from None


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- draft ---------------------------------------------------------------------------------

TEXT_FIELDS = ("summary", "decisions", "next_date_note")


def _add_version(session, minutes: Minutes) -> None:
    """Insert a version; the unique (conference, version number) refuses a concurrent twin."""
    try:
        with session.begin_nested():
            session.add(minutes)
    except IntegrityError:
        raise StaleEdit() from None


def _override(session, obj, actor, kinds) -> None:
    if kinds:
        audit.record("pii.override", obj, actor=actor, session=session, kinds=sorted(kinds))


def save_draft(session, conference: Conference, minutes: Minutes | None, actor: User, data: dict,
               overridden_kinds=(), finalise: bool = False) -> Minutes:
    """Create or update the draft; with ``finalise`` also finalise it in the same step."""
    if conference.status != "held":
        raise MinutesError(None, _l("Ein Protokoll gibt es nur für eine durchgeführte Fallkonferenz."))
    if minutes is None:
        if session.execute(select(Minutes.id).where(Minutes.conference_id == conference.id)).first():
            raise StaleEdit()  # someone started the minutes since the form was loaded
        minutes = Minutes(conference_id=conference.id, version_number=1, status="draft")
        _add_version(session, minutes)
        action = "minutes.created"
    else:
        session.refresh(minutes, with_for_update=True)
        # A form without a version was loaded before the minutes existed: someone else started them.
        if minutes.status != "draft" or data.get("version") is None:
            raise StaleEdit()
        check_version(minutes, data.get("version"))
        action = "minutes.updated"
    for key in TEXT_FIELDS:
        setattr(minutes, key, (data.get(key) or "").strip())
    minutes.updated_at = utcnow()
    session.flush()
    audit.record(action, minutes, actor=actor, session=session, conference_id=conference.id)
    _override(session, minutes, actor, overridden_kinds)
    if finalise:
        _finalise(session, conference, minutes, actor)
    return minutes


def share_draft(session, minutes: Minutes, actor: User, days: int, link: str) -> list[str]:
    """Open the draft to the invited agencies for comments for ``days`` days; e-mail them."""
    if not 1 <= days <= MAX_COMMENT_DAYS:
        raise MinutesError("days", _l("Bitte wählen Sie eine Frist zwischen 1 und %(n)s Tagen.", n=MAX_COMMENT_DAYS))
    session.refresh(minutes, with_for_update=True)
    if minutes.status != "draft":
        raise StaleEdit()
    conference = session.get(Conference, minutes.conference_id)
    case = session.get(Case, conference.case_id)
    minutes.comments_until = berlin_today() + timedelta(days=days)
    minutes.updated_at = utcnow()
    rows = session.execute(
        select(Invitation, Agency.contact_email, User.email)
        .join(Agency, Agency.id == Invitation.agency_id).outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.conference_id == conference.id, Invitation.status != "cancelled")
    ).all()
    recipients = sorted({named or contact for inv, contact, named in rows
                         if valid_consent(conference.case_id, inv.agency_id) is not None})
    for to in recipients:
        mail.queue([to], "minutes_shared", session=session, pseudonym=case.pseudonym,
                   day=de_date(conference.starts_at), until=de_date(minutes.comments_until), link=link)
    audit.record("minutes.shared", minutes, actor=actor, session=session, days=days,
                 agency_ids=sorted({inv.agency_id for inv, _c, _n in rows}))
    return recipients


def add_comment(session, minutes: Minutes, actor: User, body: str, overridden_kinds=(), link: str = "") -> MinutesComment:
    body = (body or "").strip()
    if not body:
        raise MinutesError("body", _l("Bitte füllen Sie dieses Feld aus."))
    comment = MinutesComment(minutes_id=minutes.id, agency_id=actor.agency_id, author_id=actor.id, body=body)
    session.add(comment)
    session.flush()
    conference = session.get(Conference, minutes.conference_id)
    organiser = session.get(User, conference.organiser_id)
    case = session.get(Case, conference.case_id)
    agency = session.get(Agency, actor.agency_id)
    mail.queue([organiser.email], "minutes_commented", session=session, pseudonym=case.pseudonym,
               agency=agency.name, link=link)
    audit.record("minutes.commented", comment, actor=actor, session=session, minutes_id=minutes.id,
                 agency_id=actor.agency_id)
    _override(session, comment, actor, overridden_kinds)
    return comment


# --- finalisation and correction -------------------------------------------------------------


def _seal(session, minutes: Minutes, content: dict, actor: User) -> None:
    """Make ``minutes`` a final version of ``content``: render the archive PDF once and store it."""
    minutes.content = content
    minutes.status = "final"
    minutes.finalised_by_id = actor.id
    minutes.finalised_at = utcnow()
    minutes.updated_at = minutes.finalised_at
    document = render_pdf(session, minutes, content)
    digest = _sha256(document)
    session.add(MinutesPdf(minutes_id=minutes.id, variant=ARCHIVE, content=document, sha256=digest))
    minutes.pdf_sha256, minutes.pdf_size = digest, len(document)


def _finalise(session, conference: Conference, minutes: Minutes, actor: User) -> None:
    session.refresh(conference, with_for_update=True)
    if conference.status != "held":
        raise MinutesError(None, _l("Ein Protokoll gibt es nur für eine durchgeführte Fallkonferenz."))
    _seal(session, minutes, assemble(session, conference), actor)
    # Closed: the conference's edit rules refuse every further change to what the minutes show.
    conference.status = "closed"
    conference.version += 1
    conference.updated_at = minutes.finalised_at
    session.flush()
    audit.record("minutes.finalised", minutes, actor=actor, session=session, conference_id=conference.id,
                 version_number=minutes.version_number, sha256=minutes.pdf_sha256)
    audit.record("conference.closed", conference, actor=actor, session=session, minutes_id=minutes.id)


def finalise(session, minutes: Minutes, actor: User, version=None) -> Minutes:
    """Lock the draft as version ``minutes.version_number``, render and store its PDF, close the conference."""
    session.refresh(minutes, with_for_update=True)
    if minutes.status != "draft":
        raise StaleEdit()
    check_version(minutes, version)
    _finalise(session, session.get(Conference, minutes.conference_id), minutes, actor)
    return minutes


def correct(session, old: Minutes, actor: User, data: dict, overridden_kinds=()) -> Minutes:
    """A corrected version n+1 of final minutes, naming the version it replaces and why."""
    session.refresh(old, with_for_update=True)
    if old.status != "final":
        raise StaleEdit()
    check_version(old, data.get("version"))
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise MinutesError("reason", _l("Bitte geben Sie den Grund der Korrektur an."))
    new = Minutes(conference_id=old.conference_id, version_number=old.version_number + 1, status="draft",
                  replaces_id=old.id, correction_reason=reason,
                  **{key: (data.get(key) or "").strip() for key in TEXT_FIELDS})
    _add_version(session, new)
    # The conference's records are locked: the correction changes the text, not the record.
    _seal(session, new, old.content, actor)
    old.status = "replaced"
    old.updated_at = new.finalised_at
    session.flush()
    audit.record("minutes.corrected", new, actor=actor, session=session, conference_id=new.conference_id,
                 replaces_id=old.id, version_number=new.version_number, sha256=new.pdf_sha256)
    _override(session, new, actor, overridden_kinds)
    return new


# --- downloads -------------------------------------------------------------------------------


def _insert(session, model):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


@dataclass
class Download:
    content: bytes
    sha256: str
    filename: str
    variant: str


def download(session, minutes: Minutes, actor: User) -> Download:
    """The PDF this reader may have: the stored archive copy for staff, the copy for its consent
    scope for a partner (rendered from the frozen content on first request, then cached)."""
    conference = session.get(Conference, minutes.conference_id)
    if is_staff(actor):
        scope = None
    else:
        consent = partner_consent(actor, conference)
        if consent is None:  # the route's policy check makes this unreachable; never fall back to more
            raise PermissionError("no valid consent")
        scope = consent.scope
    variant = variant_for(scope)
    row = session.execute(
        select(MinutesPdf.content, MinutesPdf.sha256)
        .where(MinutesPdf.minutes_id == minutes.id, MinutesPdf.variant == variant)
    ).first()
    if row is None:
        document = render_pdf(session, minutes, minutes.content, scope)
        row = (document, _sha256(document))
        # If another request stored this scope a moment ago, its copy stays; ours is as good.
        session.execute(_insert(session, MinutesPdf).values(
            minutes_id=minutes.id, variant=variant, content=row[0], sha256=row[1], created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["minutes_id", "variant"]))
    audit.record("minutes.downloaded", minutes, actor=actor, session=session, variant=variant,
                 version_number=minutes.version_number)
    return Download(row[0], row[1], filename(minutes.content["pseudonym"], conference_day(minutes.content),
                                             minutes.version_number), variant)


# --- batch export ----------------------------------------------------------------------------


@dataclass
class ExportRow:
    minutes_id: int
    pseudonym: str
    day: date
    version_number: int
    sha256: str
    finalised_at: datetime
    filename: str


@dataclass
class Export:
    rows: list
    filename: str

    def index_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(["Pseudonym", "Datum", "Version", "SHA-256", "Dateiname"])
        for r in self.rows:
            writer.writerow([r.pseudonym, r.day.isoformat(), r.version_number, r.sha256, r.filename])
        # With a BOM, spreadsheet programs read the UTF-8 file correctly.
        return "\ufeff".encode() + out.getvalue().encode("utf-8")

    def chunks(self, sessionmaker):
        """The ZIP, piece by piece: PDFs are read in small batches, each in its own short
        transaction, so a large export neither fills memory nor holds the database."""
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for start in range(0, len(self.rows), EXPORT_BATCH):
                batch = self.rows[start:start + EXPORT_BATCH]
                with sessionmaker() as s:
                    contents = dict(s.execute(
                        select(MinutesPdf.minutes_id, MinutesPdf.content)
                        .where(MinutesPdf.minutes_id.in_([r.minutes_id for r in batch]),
                               MinutesPdf.variant == ARCHIVE)
                    ).all())
                    s.rollback()
                for r in batch:
                    # PDFs are compressed already: stored as they are, byte for byte.
                    archive.writestr(_zip_info(r.filename, r.finalised_at), contents[r.minutes_id])
                    yield sink.take()
            archive.writestr(_zip_info("index.csv", utcnow(), zipfile.ZIP_DEFLATED), self.index_csv())
        yield sink.take()


class _Sink:
    """A write-only stream for ``zipfile``: collects what was written until it is taken."""

    def __init__(self):
        self._parts = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _zip_info(name: str, when: datetime, compression=zipfile.ZIP_STORED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=to_local(when).timetuple()[:6])
    info.compress_type = compression
    info.external_attr = 0o640 << 16
    return info


def export(session, actor: User, date_from: date, date_to: date, district_id=None, agency_id=None) -> Export:
    """The team's final minutes of conferences held in [date_from, date_to] (Berlin days)."""
    if date_to < date_from:
        raise MinutesError("date_to", _l("Das Ende des Zeitraums liegt vor seinem Beginn."))
    if (date_to - date_from).days >= MAX_EXPORT_DAYS:
        raise MinutesError("date_to", _l("Bitte wählen Sie einen Zeitraum von höchstens einem Jahr."))
    start = local_to_utc(datetime.combine(date_from, time.min))
    end = local_to_utc(datetime.combine(date_to + timedelta(days=1), time.min))
    query = (
        select(Minutes.id, Case.pseudonym, Conference.starts_at, Minutes.version_number, Minutes.pdf_sha256,
               Minutes.finalised_at)
        .join(Conference, Conference.id == Minutes.conference_id).join(Case, Case.id == Conference.case_id)
        .where(Case.team_id == actor.team_id, Minutes.status == "final",
               Conference.starts_at >= start, Conference.starts_at < end)
        .order_by(Conference.starts_at, Case.pseudonym, Minutes.id)
    )
    if district_id:
        query = query.where(Case.district_id == district_id)
    if agency_id:
        query = query.where(exists().where(Invitation.conference_id == Conference.id,
                                           Invitation.agency_id == agency_id, Invitation.status != "cancelled"))
    rows, taken = [], set()
    for minutes_id, pseudonym, starts_at, version_number, sha, finalised_at in session.execute(query):
        day = to_local(starts_at).date()
        name = filename(pseudonym, day, version_number)
        n = 1
        while name in taken:  # two conferences of one case on one day
            n += 1
            name = filename(pseudonym, day, version_number).replace(".pdf", f"-{n}.pdf")
        taken.add(name)
        rows.append(ExportRow(minutes_id, pseudonym, day, version_number, sha, finalised_at, name))
    audit.record("minutes.exported", actor=actor, session=session, object_type="team", object_id=actor.team_id,
                 date_from=date_from.isoformat(), date_to=date_to.isoformat(), district_id=district_id,
                 agency_id=agency_id, minutes_ids=[r.minutes_id for r in rows])
    return Export(rows, f"Protokolle_{date_from.isoformat()}_bis_{date_to.isoformat()}.zip")
