"""The team lead's batch export: final minutes of a period as one ZIP with an index."""

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from app import audit
from app.accounts.models import User
from app.cases.models import Case
from app.clock import local_to_utc, to_local, utcnow
from app.conferences.models import Conference, Invitation, InvitationStatus
from app.minutes.document import ARCHIVE, MinutesError, filename
from app.minutes.models import Minutes, MinutesPdf, MinutesStatus

MAX_EXPORT_DAYS = 366
EXPORT_BATCH = 20  # PDFs read from the database per short transaction while streaming


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
                batch = self.rows[start : start + EXPORT_BATCH]
                with sessionmaker() as s:
                    contents = dict(
                        s.execute(
                            select(MinutesPdf.minutes_id, MinutesPdf.content).where(
                                MinutesPdf.minutes_id.in_([r.minutes_id for r in batch]), MinutesPdf.variant == ARCHIVE
                            )
                        ).all()
                    )
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


def last_month(today: date) -> tuple[date, date]:
    """The calendar month before ``today``'s: the export form's default period."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def export(session, actor: User, date_from: date, date_to: date, district_id=None, agency_id=None) -> Export:
    """The team's final minutes of conferences held in [date_from, date_to] (Berlin days);
    without any, an empty Export (no rows, nothing audited)."""
    if date_to < date_from:
        raise MinutesError("date_to", _l("Das Ende des Zeitraums liegt vor seinem Beginn."))
    if (date_to - date_from).days >= MAX_EXPORT_DAYS:
        raise MinutesError("date_to", _l("Bitte wählen Sie einen Zeitraum von höchstens einem Jahr."))
    start = local_to_utc(datetime.combine(date_from, time.min))
    end = local_to_utc(datetime.combine(date_to + timedelta(days=1), time.min))
    query = (
        select(
            Minutes.id,
            Case.pseudonym,
            Conference.starts_at,
            Minutes.version_number,
            Minutes.pdf_sha256,
            Minutes.finalised_at,
        )
        .join(Conference, Conference.id == Minutes.conference_id)
        .join(Case, Case.id == Conference.case_id)
        .where(
            Case.team_id == actor.team_id,
            Minutes.status == MinutesStatus.FINAL,
            Conference.starts_at >= start,
            Conference.starts_at < end,
        )
        .order_by(Conference.starts_at, Case.pseudonym, Minutes.id)
    )
    if district_id:
        query = query.where(Case.district_id == district_id)
    if agency_id:
        query = query.where(
            exists().where(
                Invitation.conference_id == Conference.id,
                Invitation.agency_id == agency_id,
                Invitation.status != InvitationStatus.CANCELLED,
            )
        )
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
    if not rows:
        # Nothing is exported: the page says so (no empty ZIP), and there is nothing to audit.
        return Export([], "")
    audit.record(
        "minutes.exported",
        actor=actor,
        session=session,
        object_type="team",
        object_id=actor.team_id,
        date_from=date_from.isoformat(),
        date_to=date_to.isoformat(),
        district_id=district_id,
        agency_id=agency_id,
        minutes_ids=[r.minutes_id for r in rows],
    )
    return Export(rows, f"Protokolle_{date_from.isoformat()}_bis_{date_to.isoformat()}.zip")
