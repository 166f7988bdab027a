"""Minutes (Protokoll): draft, comments, finalisation, corrections and downloads.

A held conference's draft shows the conference's records live plus the organiser's summary
and decisions. Finalising freezes what the minutes show into ``Minutes.content``, renders
the archival PDF once, stores it with its SHA-256 and closes the conference, so its records
can no longer be edited. A correction is a new, final version made from the same frozen
content with corrected text; the version it replaces is marked "replaced".

Every PDF is rendered from the frozen content: the archive copy for the Jobcenter, and
one copy per consent scope for partner agencies, cached in ``MinutesPdf``.

Services take domain objects and plain data, write the audit entry (ids and codes only)
and leave the commit to the route.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import audit, db, mail
from app.accounts.models import User
from app.agencies.models import Agency
from app.cases.models import Case
from app.clock import berlin_today, de_date, utcnow
from app.conferences.models import Conference, ConferenceStatus, Invitation, InvitationStatus
from app.db import insert
from app.forms import StaleEdit, check_version
from app.minutes.document import ARCHIVE, MinutesError, assemble, conference_day, filename, render_pdf, variant_for
from app.minutes.models import Minutes, MinutesComment, MinutesPdf, MinutesStatus
from app.permissions import Reader, valid_consent

MAX_COMMENT_DAYS = 30


# --- reading -------------------------------------------------------------------------------


def record_view(session, conference: Conference, actor: User) -> None:
    audit.record("minutes.viewed", conference, actor=actor, session=session)


def finaliser_names(session, versions_: list[Minutes]) -> dict[int, str]:
    ids = {v.finalised_by_id for v in versions_ if v.finalised_by_id}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}


def versions(session, conference: Conference) -> list[Minutes]:
    """Every version of the conference's minutes, newest first."""
    return list(
        session.execute(
            select(Minutes).where(Minutes.conference_id == conference.id).order_by(Minutes.version_number.desc())
        ).scalars()
    )


def comments(session, minutes: Minutes) -> list[tuple[MinutesComment, str, str]]:
    """(comment, agency name, author name), oldest first."""
    return list(
        session.execute(
            select(MinutesComment, Agency.name, User.name)
            .join(Agency, Agency.id == MinutesComment.agency_id)
            .join(User, User.id == MinutesComment.author_id)
            .where(MinutesComment.minutes_id == minutes.id)
            .order_by(MinutesComment.created_at, MinutesComment.id)
        ).all()
    )


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- draft ---------------------------------------------------------------------------------


def _texts(data: dict) -> dict:
    """The written parts of the minutes from ``data``: summary and the note on the next date as
    text, each decision with its data categories."""
    return {
        "summary": (data.get("summary") or "").strip(),
        "summary_categories": sorted(set(data.get("summary_categories") or ())),
        "decisions": [
            {"text": d["text"].strip(), "categories": sorted(set(d.get("categories") or ()))}
            for d in data.get("decisions") or ()
            if d.get("text", "").strip()
        ],
        "next_date_note": (data.get("next_date_note") or "").strip(),
    }


def texts_of(minutes: Minutes) -> dict:
    """The written parts of ``minutes`` as a form would send them."""
    return {
        "summary": minutes.summary,
        "summary_categories": minutes.summary_categories,
        "decisions": minutes.decisions,
        "next_date_note": minutes.next_date_note,
    }


def _add_version(session, minutes: Minutes) -> None:
    """Insert a version; the unique (conference, version number) refuses a concurrent twin."""
    try:
        with session.begin_nested():
            session.add(minutes)
    except IntegrityError:
        raise StaleEdit() from None


def save_draft(
    session,
    conference: Conference,
    minutes: Minutes | None,
    actor: User,
    data: dict,
    overridden_kinds=(),
    finalise: bool = False,
    prepared: "Prepared | None" = None,
) -> Minutes:
    """Create or update the draft; with ``finalise`` also finalise it in the same step."""
    db.lock_for_write(session)
    if conference.status != ConferenceStatus.HELD:
        raise MinutesError(None, _l("Ein Protokoll gibt es nur für eine durchgeführte Fallkonferenz."))
    if minutes is None:
        if session.execute(select(Minutes.id).where(Minutes.conference_id == conference.id)).first():
            raise StaleEdit()  # someone started the minutes since the form was loaded
        minutes = Minutes(conference_id=conference.id, version_number=1, status=MinutesStatus.DRAFT)
        _add_version(session, minutes)
        action = "minutes.created"
    else:
        session.refresh(minutes, with_for_update=True)
        # A form without a version was loaded before the minutes existed: someone else started them.
        if minutes.status != MinutesStatus.DRAFT or data.get("version") is None:
            raise StaleEdit()
        check_version(minutes, data.get("version"))
        action = "minutes.updated"
    for key, value in _texts(data).items():
        setattr(minutes, key, value)
    minutes.updated_at = utcnow()
    session.flush()
    audit.record(action, minutes, actor=actor, session=session, conference_id=conference.id)
    audit.record_overrides(minutes, actor, overridden_kinds, session=session)
    if finalise:
        _finalise(session, conference, minutes, actor, prepared)
    return minutes


def share_draft(session, minutes: Minutes, actor: User, days: int, link: str) -> list[str]:
    """Open the draft to the invited agencies for comments for ``days`` days; e-mail them."""
    if not 1 <= days <= MAX_COMMENT_DAYS:
        raise MinutesError("days", _l("Bitte wählen Sie eine Frist zwischen 1 und %(n)s Tagen.", n=MAX_COMMENT_DAYS))
    session.refresh(minutes, with_for_update=True)
    if minutes.status != MinutesStatus.DRAFT:
        raise StaleEdit()
    conference = session.get(Conference, minutes.conference_id)
    case = session.get(Case, conference.case_id)
    minutes.comments_until = berlin_today() + timedelta(days=days)
    minutes.updated_at = utcnow()
    rows = session.execute(
        select(Invitation, Agency.contact_email, User.email)
        .join(Agency, Agency.id == Invitation.agency_id)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.conference_id == conference.id, Invitation.status != InvitationStatus.CANCELLED)
    ).all()
    recipients = sorted(
        {
            named or contact
            for inv, contact, named in rows
            if valid_consent(conference.case_id, inv.agency_id) is not None
        }
    )
    for to in recipients:
        mail.queue(
            [to],
            "minutes_shared",
            session=session,
            pseudonym=case.pseudonym,
            day=de_date(conference.starts_at),
            until=de_date(minutes.comments_until),
            link=link,
        )
    audit.record(
        "minutes.shared",
        minutes,
        actor=actor,
        session=session,
        days=days,
        agency_ids=sorted({inv.agency_id for inv, _c, _n in rows}),
    )
    return recipients


def add_comment(
    session, minutes: Minutes, actor: User, body: str, overridden_kinds=(), link: str = ""
) -> MinutesComment:
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
    mail.queue(
        [organiser.email], "minutes_commented", session=session, pseudonym=case.pseudonym, agency=agency.name, link=link
    )
    audit.record(
        "minutes.commented", comment, actor=actor, session=session, minutes_id=minutes.id, agency_id=actor.agency_id
    )
    audit.record_overrides(comment, actor, overridden_kinds, session=session)
    return comment


# --- finalisation and correction -------------------------------------------------------------
#
# Rendering the archive PDF takes a second or more. On SQLite a transaction that writes holds
# the one write lock, so rendering inside it would hold up every other writer (and the audit
# entry of every page view) for that long. So a finalisation has two steps: ``prepare`` reads
# what the version will show and renders its PDF outside any write transaction; the route then
# ends that read and calls ``save_draft``/``finalise``/``correct`` with the rendering, which in
# a short write transaction check that nothing it shows has changed meanwhile (else: stale,
# 409) and store it. Without a prepared rendering (the CLI, the demo) they render in place.


@dataclass
class Prepared:
    """A version's archive PDF rendered ahead of the write: from this content and these texts,
    finalised at ``at``."""

    content: dict
    texts: dict
    at: datetime
    document: bytes


def prepare(
    session,
    conference: Conference,
    actor: User,
    data: dict,
    *,
    draft: Minutes | None = None,
    replaces: Minutes | None = None,
) -> Prepared:
    """Render the archive PDF of the version that ``data`` would finalise: the draft (new or
    ``draft``) of a held conference, or a correction of ``replaces`` (its frozen content). Reads
    only; the caller ends the transaction before storing the result."""
    texts = _texts(data)
    if replaces is not None:
        content = replaces.content
        version = Minutes(
            conference_id=conference.id,
            version_number=replaces.version_number + 1,
            replaces_id=replaces.id,
            correction_reason=(data.get("reason") or "").strip(),
            **texts,
        )
    else:
        content = assemble(session, conference)
        version = Minutes(
            conference_id=conference.id, version_number=draft.version_number if draft is not None else 1, **texts
        )
    # Never added to the session: a stand-in with the values the stored version will have.
    version.status, version.finalised_by_id, version.finalised_at = MinutesStatus.FINAL, actor.id, utcnow()
    return Prepared(content, texts, version.finalised_at, render_pdf(session, version, content))


def _seal(session, minutes: Minutes, content: dict, actor: User, prepared: Prepared | None) -> datetime:
    """Make ``minutes`` a final version of ``content`` and store its archive PDF: the one
    ``prepared`` from the same content and texts, or rendered now."""
    if prepared is not None and (
        prepared.content != content or any(getattr(minutes, key) != value for key, value in prepared.texts.items())
    ):
        raise StaleEdit()  # something the version shows changed while its PDF was rendered
    at = prepared.at if prepared is not None else utcnow()
    minutes.content = content
    minutes.status = MinutesStatus.FINAL
    minutes.finalised_by_id = actor.id
    minutes.finalised_at = minutes.updated_at = at
    document = prepared.document if prepared is not None else render_pdf(session, minutes, content)
    digest = _sha256(document)
    session.add(MinutesPdf(minutes_id=minutes.id, variant=ARCHIVE, content=document, sha256=digest))
    minutes.pdf_sha256, minutes.pdf_size = digest, len(document)
    return at


def _finalise(session, conference: Conference, minutes: Minutes, actor: User, prepared: Prepared | None) -> None:
    session.refresh(conference, with_for_update=True)
    if conference.status != ConferenceStatus.HELD:
        raise MinutesError(None, _l("Ein Protokoll gibt es nur für eine durchgeführte Fallkonferenz."))
    at = _seal(session, minutes, assemble(session, conference), actor, prepared)
    # Closed: the conference's edit rules refuse every further change to what the minutes show.
    conference.status = ConferenceStatus.CLOSED
    conference.version += 1
    conference.updated_at = at
    session.flush()
    audit.record(
        "minutes.finalised",
        minutes,
        actor=actor,
        session=session,
        conference_id=conference.id,
        version_number=minutes.version_number,
        sha256=minutes.pdf_sha256,
    )
    audit.record("conference.closed", conference, actor=actor, session=session, minutes_id=minutes.id)


def finalise(session, minutes: Minutes, actor: User, version=None, prepared: Prepared | None = None) -> Minutes:
    """Lock the draft as version ``minutes.version_number``, store its PDF, close the conference."""
    db.lock_for_write(session)
    session.refresh(minutes, with_for_update=True)
    if minutes.status != MinutesStatus.DRAFT:
        raise StaleEdit()
    check_version(minutes, version)
    _finalise(session, session.get(Conference, minutes.conference_id), minutes, actor, prepared)
    return minutes


def correct(
    session, old: Minutes, actor: User, data: dict, overridden_kinds=(), prepared: Prepared | None = None
) -> Minutes:
    """A corrected version n+1 of final minutes, naming the version it replaces and why."""
    db.lock_for_write(session)
    session.refresh(old, with_for_update=True)
    if old.status != MinutesStatus.FINAL:
        raise StaleEdit()
    check_version(old, data.get("version"))
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise MinutesError("reason", _l("Bitte geben Sie den Grund der Korrektur an."))
    new = Minutes(
        conference_id=old.conference_id,
        version_number=old.version_number + 1,
        status=MinutesStatus.DRAFT,
        replaces_id=old.id,
        correction_reason=reason,
        **_texts(data),
    )
    _add_version(session, new)
    # The conference's records are locked: the correction changes the text, not the record.
    at = _seal(session, new, old.content or {}, actor, prepared)
    old.status = MinutesStatus.REPLACED
    old.updated_at = at
    session.flush()
    audit.record(
        "minutes.corrected",
        new,
        actor=actor,
        session=session,
        conference_id=new.conference_id,
        replaces_id=old.id,
        version_number=new.version_number,
        sha256=new.pdf_sha256,
    )
    audit.record_overrides(new, actor, overridden_kinds, session=session)
    return new


# --- downloads -------------------------------------------------------------------------------


@dataclass
class Download:
    content: bytes
    sha256: str
    filename: str
    variant: str


def download(session, minutes: Minutes, actor: User, reader: Reader) -> Download:
    """The PDF for ``reader`` (the policy's ``reader_of`` the actor): the stored archive copy for
    the Jobcenter, a partner agency's view for a partner (rendered from the frozen content on
    first request, then cached)."""
    variant = variant_for(reader)
    content = minutes.content or {}
    row = session.execute(
        select(MinutesPdf.content, MinutesPdf.sha256).where(
            MinutesPdf.minutes_id == minutes.id, MinutesPdf.variant == variant
        )
    ).first()
    if row is None:
        document = render_pdf(session, minutes, content, reader)
        row = (document, _sha256(document))
        # If another request stored this view a moment ago, its copy stays; ours is as good.
        session.execute(
            insert(session, MinutesPdf)
            .values(
                minutes_id=minutes.id,
                variant=variant,
                content=row[0],
                sha256=row[1],
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["minutes_id", "variant"])
        )
    audit.record(
        "minutes.downloaded",
        minutes,
        actor=actor,
        session=session,
        variant=variant,
        version_number=minutes.version_number,
    )
    return Download(
        row[0],
        row[1],
        filename(content["pseudonym"], conference_day(content), minutes.version_number),
        variant,
    )
