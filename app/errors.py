"""German error pages; never a bare 500 traceback."""
import logging
import traceback

from flask import g, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
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
        s.rollback()


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_error(err):
        _rollback()
        return render_template(
            "errors/error.html", code=400, title=_("Formular abgelaufen"),
            message=_("Das Formular war abgelaufen oder unvollständig. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal."),
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(err):
        code = err.code or 500
        if code >= 500:
            _rollback()
        message = getattr(err, "page_message", None)
        return render_template("errors/error.html", code=code, title=TITLES.get(code, _("Fehler")),
                               message=message), code

    @app.errorhandler(Exception)
    def unexpected(err):
        _rollback()
        # Type and stack only: exception messages (SQL parameters, form values) can
        # quote personal data.
        log.error("Unerwarteter Fehler: %s\n%s", type(err).__name__,
                  "".join(traceback.format_tb(err.__traceback__)))
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise err
        return render_template("errors/error.html", code=500, title=_("Interner Fehler"), message=None), 500
