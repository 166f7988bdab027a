"""E-mail: rendered from templates, queued in the request's session, sent after commit.

With ``MAIL_SERVER`` set, messages go by SMTP; otherwise they are written as ``.eml``
files to the outbox folder. A rollback drops whatever was queued. A route that must not let
the e-mail's delivery show in its response time (the password reset) calls ``after_response``:
its committed e-mails leave once the response has been sent.
"""
import logging
import smtplib
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, g, has_request_context, render_template
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import db
from app.clock import utcnow

log = logging.getLogger(__name__)


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
        msg.add_attachment(a.content, maintype=a.maintype, subtype=a.subtype,
                           filename=a.filename, params=a.params)
    return msg


def queue(to: list[str], template: str, attachments=(), session=None, **context) -> EmailMessage:
    """Queue an e-mail in the current transaction; it leaves only if that commits."""
    msg = build(to, template, attachments, **context)
    session = session or db.get_session()
    if not session.in_transaction():
        # Without a transaction a rollback fires no event, and the message would leave
        # with the next commit.
        session.begin()
    session.info.setdefault("outbox", []).append(
        (msg, current_app._get_current_object())
    )
    return msg


def deliver(msg: EmailMessage, app=None) -> None:
    app = app or current_app._get_current_object()
    cfg = app.config
    if cfg.get("MAIL_SERVER"):
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
            smtp.send_message(msg)
    else:
        outbox = Path(cfg["MAIL_OUTBOX"])
        outbox.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        (outbox / name).write_bytes(bytes(msg))


def after_response() -> None:
    """This request's committed e-mails leave after its response has gone out, not before."""
    g.mail_after_response = []


def init_app(app):
    @app.after_request
    def send_held(response):
        held = g.pop("mail_after_response", None)
        if held:
            # Called by the WSGI server once the body is sent (and by the test client on close).
            response.call_on_close(lambda: _deliver_all(held))
        return response


@event.listens_for(Session, "after_commit")
def _send_after_commit(session):
    outbox = session.info.pop("outbox", None)
    if not outbox:
        return
    held = g.get("mail_after_response") if has_request_context() else None
    if held is not None:
        held.extend(outbox)
        return
    _deliver_all(outbox)


def _deliver_all(outbox) -> None:
    for msg, app in outbox:
        try:
            deliver(msg, app)
        except (OSError, smtplib.SMTPException) as exc:
            # The record is committed; a lost e-mail must not turn into a 500. Log the
            # failure without recipients or content.
            log.error("E-Mail-Versand fehlgeschlagen: %s", type(exc).__name__)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session, previous_transaction):
    # "soft": also when nothing had reached the database yet, so a later commit of the
    # same session cannot send what was rolled back. A savepoint's rollback keeps the rest.
    if not previous_transaction.nested:
        session.info.pop("outbox", None)
