"""E-mail through a durable outbox (DESIGN.md section 3, ``OutboxMessage``).

``queue`` renders the message and writes it as a row in the caller's transaction, so an
e-mail exists exactly when the change that caused it is committed: a rollback drops it,
a crash after the commit keeps it. Delivery happens in two places, with the same code:

- right after the commit (``after_commit`` hook), with a short timeout
  (``MAIL_TIMEOUT_AFTER_COMMIT``), and it stops at the first failure, so a slow or absent
  mail server costs a request at most that timeout once;
- ``flask send-mail`` (timer, and the end of ``send-reminders``), with the normal timeout,
  for everything still due: first attempts that did not happen and retries.

A failed attempt is retried with exponential backoff (``MAIL_RETRY_BASE_SECONDS`` doubled per
attempt, at most ``MAIL_RETRY_MAX_SECONDS``); after ``MAIL_MAX_ATTEMPTS`` attempts, or at once
when the server refuses every recipient for good (5xx), the message is ``failed``.

Two deliverers never send the same message: each message is claimed first in a short
transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's write lock)
that sets a lease (``locked_until``); the SMTP conversation runs outside any transaction,
and the result is written in another short one. A deliverer killed mid-send leaves the
lease to expire, after which the message is sent again (at least once; the outbox folder's
file name is fixed per message, so there a repeat overwrites the same file).

With ``MAIL_SERVER`` set, messages go by SMTP; otherwise they are written as ``.eml`` files
to the outbox folder (``MAIL_OUTBOX``). Logs name the error type and SMTP code only, never
recipients or content.

A route that must not let the delivery show in its response time (the password reset) calls
``after_response``: its committed e-mails are then delivered once the response has been sent.
"""

import email
import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, g, has_request_context, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, LargeBinary, event, or_, select, update
from sqlalchemy.orm import Session
from sqlmodel import Column, Field, SQLModel

from app import db
from app.clock import utcnow

log = logging.getLogger(__name__)

PENDING, SENT, FAILED = "pending", "sent", "failed"

# What staff see of an e-mail's delivery (the latest e-mail of an invitation).
DELIVERY_LABELS = {
    "queued": _l("wird versendet"),
    "sent": _l("zugestellt"),
    "retrying": _l("wird erneut versucht"),
    "failed": _l("fehlgeschlagen"),
}


class OutboxMessage(SQLModel, table=True):
    """Postausgang: one e-mail, written in the transaction of the change that caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_ref", "ref_type", "ref_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    template: str = Field(max_length=60)
    # The whole message as sent (headers, body, calendar file).
    message: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default=PENDING, max_length=10)  # pending, sent, failed
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    # Lease of the deliverer that claimed it; free when None or in the past.
    locked_until: datetime | None = None
    sent_at: datetime | None = None
    # Error type and SMTP code of the last failed attempt (no server text: it can quote addresses).
    last_error: str | None = Field(default=None, max_length=80)
    # What the e-mail is about, e.g. ("invitation", 12): its delivery state is shown there.
    ref_type: str | None = Field(default=None, max_length=40)
    ref_id: int | None = None
    # The case the e-mail is about, if it is about one: the retention run deletes it with the case.
    case_id: int | None = Field(default=None, index=True)


@dataclass
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str
    params: dict = field(default_factory=dict)


def build(to: list[str], template: str, attachments=(), **context) -> EmailMessage:
    """Render ``templates/email/<template>.txt``: its first line is the subject."""
    rendered = render_template(f"email/{template}.txt", **context)
    subject, _, body = rendered.partition("\n")
    msg = EmailMessage()
    msg["Subject"] = subject.strip()
    msg["From"] = current_app.config["MAIL_SENDER"]
    msg["To"] = ", ".join(sorted(set(to)))
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain="fallkonferenz.invalid")
    msg.set_content(body.lstrip("\n"))
    for a in attachments:
        msg.add_attachment(a.content, maintype=a.maintype, subtype=a.subtype, filename=a.filename, params=a.params)
    return msg


def queue(
    to: list[str], template: str, attachments=(), session=None, ref=None, case_id=None, **context
) -> EmailMessage:
    """Write an e-mail to the outbox in the current transaction; it leaves only if that commits.

    ``ref`` is the object the e-mail is about (e.g. an invitation): its delivery state can
    then be shown with it (``delivery_states``). ``case_id``: the case it is about, so that the
    retention run deletes the e-mail with the case's content (``app/retention.py``).
    """
    msg = build(to, template, attachments, **context)
    session = session or db.get_session()
    if not session.in_transaction():
        # Without a transaction a rollback fires no event, and the message would leave
        # with the next commit.
        session.begin()
    if ref is not None and ref.id is None:
        session.flush()
    row = OutboxMessage(
        template=template,
        message=bytes(msg),
        ref_type=ref.__tablename__ if ref is not None else None,
        ref_id=ref.id if ref is not None else None,
        case_id=case_id,
    )
    session.add(row)
    session.flush()
    session.info.setdefault("outbox", []).append((row.id, current_app._get_current_object()))
    return msg


# --- delivery --------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # The server could not be reached (or the run stopped at a failure): the rest waits.
    interrupted: bool = False


class _Transport:
    """One SMTP connection for a run (opened at the first message), or the outbox folder."""

    def __init__(self, app, timeout: float):
        self.cfg = app.config
        self.timeout = timeout
        self.smtp: smtplib.SMTP | None = None

    def send(self, message_id: int, created_at: datetime, raw: bytes) -> None:
        if not self.cfg.get("MAIL_SERVER"):
            outbox = Path(self.cfg["MAIL_OUTBOX"])
            outbox.mkdir(parents=True, exist_ok=True)
            # Named by the message: a repeated delivery (after a crash) overwrites, never doubles.
            name = f"{created_at:%Y%m%dT%H%M%S}-{message_id:08d}.eml"
            tmp = outbox / f".{name}.tmp"
            tmp.write_bytes(raw)
            tmp.replace(outbox / name)
            return
        if self.smtp is None:
            smtp = smtplib.SMTP(self.cfg["MAIL_SERVER"], self.cfg["MAIL_PORT"], timeout=self.timeout)
            try:
                if self.cfg.get("MAIL_USE_TLS"):
                    smtp.starttls()
                if self.cfg.get("MAIL_USERNAME"):
                    smtp.login(self.cfg["MAIL_USERNAME"], self.cfg["MAIL_PASSWORD"])
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        self.smtp.send_message(email.message_from_bytes(raw, policy=policy.SMTP))

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def error_code(exc: BaseException) -> str:
    """Type and SMTP code, e.g. ``SMTPDataError 451``: nothing of the server's text."""
    code = getattr(exc, "smtp_code", None)
    if code is None and isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({c for c, _msg in exc.recipients.values()})
        code = "/".join(str(c) for c in codes)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


def _permanent(exc: BaseException) -> bool:
    """Every recipient refused for good (5xx): retrying cannot help. Other 5xx (log-in,
    sender) are the server's configuration, which an operator can fix: those are retried."""
    return isinstance(exc, smtplib.SMTPRecipientsRefused) and all(c >= 500 for c, _msg in exc.recipients.values())


def _connection_lost(exc: BaseException) -> bool:
    """The server is gone or not reachable: the remaining messages of this run wait."""
    if isinstance(exc, smtplib.SMTPException):  # a subclass of OSError: ask it first
        return isinstance(
            exc,
            (
                smtplib.SMTPServerDisconnected,
                smtplib.SMTPConnectError,
                smtplib.SMTPHeloError,
                smtplib.SMTPNotSupportedError,
                smtplib.SMTPAuthenticationError,
            ),
        )
    return isinstance(exc, OSError)


def _due(now):
    m = OutboxMessage
    return (m.status == PENDING, m.next_attempt_at <= now, or_(m.locked_until.is_(None), m.locked_until < now))


def _claim(app, *, ids=None, after_id=0, now=None):
    """Claim the next due message (in id order) for this deliverer, or None.

    The claim is its own short transaction: PostgreSQL skips rows another deliverer holds
    (``FOR UPDATE SKIP LOCKED``), SQLite takes its write lock first, so the check and the
    lease are one step. The UPDATE repeats the conditions, so a claim never steals a lease.
    """
    m = OutboxMessage
    lease = timedelta(seconds=app.config["MAIL_CLAIM_SECONDS"])
    with app.extensions["db_sessionmaker"]() as s:
        now = now or utcnow()
        if s.get_bind().dialect.name == "sqlite":
            db.take_write_lock(s.connection())
        q = select(m.id).where(*_due(now), m.id > after_id)
        if ids is not None:
            q = q.where(m.id.in_(ids))
        chosen = s.execute(q.order_by(m.id).limit(1).with_for_update(skip_locked=True)).scalar()
        if chosen is None:
            s.rollback()
            return None
        claimed = s.execute(update(m).where(m.id == chosen, *_due(now)).values(locked_until=now + lease)).rowcount
        row = s.execute(select(m.id, m.created_at, m.message, m.attempts).where(m.id == chosen)).one()
        s.commit()
        return row if claimed == 1 else None


def _record(app, message_id: int, attempts_before: int, exc: BaseException | None) -> str:
    """Write the outcome of one attempt; returns the new state (sent, retrying, failed)."""
    cfg = app.config
    now = utcnow()
    attempts = attempts_before + 1
    values = {"attempts": attempts, "locked_until": None}
    if exc is None:
        values.update(status=SENT, sent_at=now, last_error=None)
        state = "sent"
    elif _permanent(exc) or attempts >= cfg["MAIL_MAX_ATTEMPTS"]:
        values.update(status=FAILED, last_error=error_code(exc))
        state = "failed"
    else:
        delay = min(cfg["MAIL_RETRY_BASE_SECONDS"] * 2 ** (attempts - 1), cfg["MAIL_RETRY_MAX_SECONDS"])
        values.update(next_attempt_at=now + timedelta(seconds=delay), last_error=error_code(exc))
        state = "retrying"
    with app.extensions["db_sessionmaker"]() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
        s.commit()
    return state


def deliver(
    app=None, *, ids=None, timeout: float | None = None, stop_at_failure: bool = False, limit: int | None = None
) -> DeliveryReport:
    """Send due messages (all, or those of ``ids``) one by one, each claimed first.

    Each message is tried at most once per run. The run stops when the server cannot be
    reached, or at any failure with ``stop_at_failure`` (after a commit: the job retries).
    """
    app = app or current_app._get_current_object()
    report = DeliveryReport()
    transport = _Transport(app, app.config["MAIL_TIMEOUT"] if timeout is None else timeout)
    after_id = 0
    try:
        while limit is None or report.sent + report.retrying + report.failed < limit:
            row = _claim(app, ids=ids, after_id=after_id)
            if row is None:
                break
            message_id, created_at, raw, attempts = row
            after_id = message_id
            try:
                transport.send(message_id, created_at, raw)
            except (OSError, smtplib.SMTPException) as exc:
                state = _record(app, message_id, attempts, exc)
                log.warning("E-Mail %s nicht versandt (%s): %s", message_id, state, error_code(exc))
                setattr(report, state, getattr(report, state) + 1)
                if _connection_lost(exc):
                    transport.close()
                if stop_at_failure or _connection_lost(exc):
                    report.interrupted = True
                    break
                continue
            _record(app, message_id, attempts, None)
            report.sent += 1
    finally:
        transport.close()
    return report


def after_response() -> None:
    """This request's committed e-mails leave after its response has gone out, not before."""
    g.mail_after_response = []


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session):
    # Releasing a savepoint (``begin_nested``) fires this event too, while the transaction
    # that wrote the e-mails is still open: delivering then found nothing committed on
    # PostgreSQL, and on SQLite waited out the busy timeout for the write lock that this
    # very transaction holds. The e-mails wait for the real commit.
    if session.in_nested_transaction():
        return
    queued = session.info.pop("outbox", None)
    if not queued:
        return
    app = queued[0][1]
    if not app.config.get("MAIL_SEND_AFTER_COMMIT", True):
        return
    ids = [message_id for message_id, _app in queued]
    held = g.get("mail_after_response") if has_request_context() else None
    if held is not None:
        held.append((app, ids))
        return
    _deliver_soon(app, ids)


def _deliver_soon(app, ids) -> None:
    try:
        deliver(app, ids=ids, timeout=app.config["MAIL_TIMEOUT_AFTER_COMMIT"], stop_at_failure=True)
    except Exception as exc:  # noqa: BLE001
        # The change is committed and the e-mails are in the outbox: `flask send-mail` sends
        # them. A failure here must not turn the request into a 500.
        log.error("E-Mail-Versand nach dem Speichern fehlgeschlagen: %s", type(exc).__name__)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session, previous_transaction):
    # "soft": also when nothing had reached the database yet, so a later commit of the
    # same session does not try to send what was rolled back (the rows are gone with the
    # transaction). A savepoint's rollback keeps the rest.
    if not previous_transaction.nested:
        session.info.pop("outbox", None)


def retry_failed(session) -> int:
    """Put failed messages back in the queue (after the mail server was fixed)."""
    now = utcnow()
    return session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=now, locked_until=None)
    ).rowcount


def outbox_counts(session) -> tuple[int, int]:
    """(waiting, failed) messages in the outbox."""
    from sqlalchemy import func

    rows = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_((PENDING, FAILED)))
            .group_by(OutboxMessage.status)
        ).all()
    )
    session.rollback()
    return rows.get(PENDING, 0), rows.get(FAILED, 0)


# --- delivery state for the pages ------------------------------------------------------


def state_of(status: str, attempts: int) -> str:
    if status == SENT:
        return "sent"
    if status == FAILED:
        return "failed"
    return "retrying" if attempts else "queued"


def delivery_states(session, ref_type: str, ids) -> dict[int, str]:
    """The state of the latest e-mail about each object: {id: queued/sent/retrying/failed}."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    m = OutboxMessage
    rows = session.execute(
        select(m.ref_id, m.status, m.attempts).where(m.ref_type == ref_type, m.ref_id.in_(ids)).order_by(m.id)
    ).all()
    return {ref_id: state_of(status, attempts) for ref_id, status, attempts in rows}


def init_app(app):
    app.jinja_env.globals.update(delivery_labels=DELIVERY_LABELS)

    @app.after_request
    def send_held(response):
        held = g.pop("mail_after_response", None)
        if held:
            # Called by the WSGI server once the body is sent (and by the test client on close).
            response.call_on_close(lambda: [_deliver_soon(app_, ids) for app_, ids in held])
        return response
