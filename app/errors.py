"""German error pages; never a bare 500 traceback.

The pages render without the database when it is the database that failed: the header
then shows no user (``current_user`` and the navigation need the database). Logs keep the
error type and the SQLite/PostgreSQL error code, never an exception's text: a driver's
text names host and port, SQL parameters can quote personal data (``redact_log_records``).
"""

import logging
import sqlite3
import traceback

from flask import g, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest, HTTPException

log = logging.getLogger(__name__)

TITLES = {
    400: _l("Ungültige Anfrage"),
    403: _l("Kein Zugriff"),
    404: _l("Seite nicht gefunden"),
    405: _l("Methode nicht erlaubt"),
    409: _l("Zwischenzeitlich geändert"),
    413: _l("Anfrage zu groß"),
    429: _l("Zu viele Versuche"),
    500: _l("Interner Fehler"),
}


class FilesRefused(BadRequest):
    """A file sent to the application: no route takes files (``app.security``)."""

    page_message = _l("Diese Anwendung nimmt keine Dateien an. Bitte senden Sie das Formular ohne Datei.")


def _rollback():
    s = g.get("db_session")
    if s is not None:
        try:
            s.rollback()
        except Exception as err:  # noqa: BLE001  (the database is gone: nothing to undo there)
            log.warning("Rollback nach Fehler nicht möglich: %s", describe(err))


def database_error(err) -> bool:
    try:
        import psycopg

        driver: tuple[type[BaseException], ...] = (sqlite3.Error, psycopg.Error)
    except ImportError:  # pragma: no cover
        driver = (sqlite3.Error,)
    while err is not None:
        if isinstance(err, (SQLAlchemyError, *driver)):
            return True
        err = err.__cause__ or err.__context__
    return False


def error_code(err) -> str:
    """SQLite's error name or PostgreSQL's SQLSTATE of the error or its cause, else ""."""
    seen = 0
    while err is not None and seen < 5:
        orig = getattr(err, "orig", None) or err
        code = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None)
        if code:
            return str(code)
        err, seen = err.__cause__ or err.__context__, seen + 1
    return ""


def describe(err) -> str:
    """``OperationalError SQLITE_CANTOPEN``: type and code, nothing of the message."""
    code = error_code(err)
    return f"{type(err).__name__} {code}" if code else type(err).__name__


def _render(code: int, title, message=None, *, database_failed=False):
    if not database_failed:
        try:
            return render_template("errors/error.html", code=code, title=title, message=message), code
        except Exception as err:
            if not database_error(err):
                raise
            # The page needs the database (the logged-in user, the navigation), and it is gone.
            log.warning("Fehlerseite ohne Datenbank: %s", describe(err))
    _rollback()
    # Flask-Login reads the user from the database for every template: an anonymous user
    # for this response keeps the error page free of database access.
    g._login_user = AnonymousUserMixin()
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_app(app):
    redact_log_records()

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        _rollback()
        return _render(
            400,
            _("Formular abgelaufen"),
            _(
                "Das Formular war abgelaufen oder unvollständig. "
                "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(err):
        code = err.code or 500
        if code >= 500:
            _rollback()
        return _render(code, TITLES.get(code, _("Fehler")), getattr(err, "page_message", None))

    @app.errorhandler(Exception)
    def unexpected(err):
        _rollback()
        # Type, code and stack only: exception messages (SQL parameters, form values) can
        # quote personal data, a driver's message names host and port.
        log.error("Unerwarteter Fehler: %s\n%s", describe(err), "".join(traceback.format_tb(err.__traceback__)))
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise err
        return _render(500, _("Interner Fehler"), database_failed=database_error(err))


class _RedactedRecord(logging.LogRecord):
    """A log record whose exceptions keep type, code and stack frames, not their text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.exc_info and self.exc_info[1] is not None:
            _etype, err, tb = self.exc_info
            self.exc_text = "Traceback (most recent call last):\n" + "".join(traceback.format_tb(tb)) + describe(err)
            self.exc_info = None
        if isinstance(self.args, tuple) and any(isinstance(a, BaseException) for a in self.args):
            self.args = tuple(describe(a) if isinstance(a, BaseException) else a for a in self.args)


def redact_log_records() -> None:
    """Every log record of the process (ours, SQLAlchemy's pool, Flask's own) loses exception text."""
    if logging.getLogRecordFactory() is not _RedactedRecord:
        logging.setLogRecordFactory(_RedactedRecord)
