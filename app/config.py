"""Configuration: defaults, then instance/config.py, then environment variables."""

import os
import secrets
from datetime import timedelta
from pathlib import Path


class Defaults:
    APP_ENV = "development"
    DEBUG = False
    TESTING = False
    SECRET_KEY = None
    DATABASE_URL = None  # filled in from the instance folder when unset
    SQL_ECHO = False

    ORGANISATION_NAME = "MainArbeit – Kommunales Jobcenter Offenbach"
    ORGANISATION_LOGO = "pdf/logo.svg"  # in the PDFs; a file under app/static (svg, png, jpg), "" for none

    # Minutes PDFs (app/pdf.py): rendering stops at these limits with a message, never runs away.
    # The time limit stays well below SQLite's busy timeout (app/db.py, 30 s) and gunicorn's
    # worker timeout (30 s by default, 60 s in deploy/): a rendering never outlasts either.
    PDF_TIME_LIMIT = 15  # seconds
    PDF_MAX_PAGES = 150
    PDF_MAX_HTML_BYTES = 2 * 1024 * 1024
    BASE_URL = "http://127.0.0.1:5000"
    PROXY_COUNT = 0  # reverse proxies in front of the app whose X-Forwarded-* headers are trusted

    # Requests: a larger body is refused (413) before any form is read, and so is a multipart
    # body of more parts. The largest form (minutes: two texts of 20,000 characters) stays far below.
    MAX_CONTENT_LENGTH = 256 * 1024
    MAX_FORM_PARTS = 500

    # Sessions: server-side records, so log-out and deactivation end them at once.
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=10)
    SESSION_COOKIE_NAME = "fk_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False

    # Failed log-ins per window: per account (the address typed), and, much higher, per client
    # address, so that one office behind a NAT address is not locked out by a few typos.
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 50
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)

    REQUIRE_TWO_FACTOR = True
    TOTP_ISSUER = "Fallkonferenz"

    ACCOUNT_TOKEN_LIFETIME = timedelta(hours=48)
    # Password reset on the public form, per RESET_WINDOW: requests from one client address (more
    # are refused with 429), and e-mails to one account (more get the same answer, and no e-mail).
    RESET_MAX_PER_ADDRESS = 10
    RESET_MAX_PER_ACCOUNT = 3
    RESET_WINDOW = timedelta(hours=1)
    PASSWORD_MIN_LENGTH = 12

    CONSENT_DEFAULT_VALIDITY_DAYS = 365

    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_SENDER = "Fallkonferenz <fallkonferenz@jobcenter.invalid>"
    MAIL_OUTBOX = None  # folder for .eml files when no MAIL_SERVER; default instance/outbox
    # The outbox (app/mail.py): delivery right after the commit with a short timeout, then
    # `flask send-mail` with the normal one; retries with exponential backoff.
    MAIL_SEND_AFTER_COMMIT = True
    MAIL_TIMEOUT_AFTER_COMMIT = 3  # seconds per SMTP step, in the request
    MAIL_TIMEOUT = 30  # seconds per SMTP step, in `flask send-mail`
    MAIL_MAX_ATTEMPTS = 12  # then "failed" (about 7 hours with the defaults below)
    MAIL_RETRY_BASE_SECONDS = 60  # the wait after the first failure; doubled per attempt
    MAIL_RETRY_MAX_SECONDS = 3600
    MAIL_CLAIM_SECONDS = 600  # a deliverer's lease on one message; far above one attempt

    # Pseudonym high-water mark outside the database (app/cases/services.py, `flask restore`);
    # default instance/pseudonym-high-water.json. "" switches it off.
    PSEUDONYM_HIGH_WATER = None

    DEMO_DATA = False

    WTF_CSRF_TIME_LIMIT = None  # the session's own lifetime bounds the token
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ("de", "en")
    PAGE_SIZE = 25


_ENV_TYPES = {
    "PDF_TIME_LIMIT": int,
    "PDF_MAX_PAGES": int,
    "PDF_MAX_HTML_BYTES": int,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": "bool",
    "MAIL_SEND_AFTER_COMMIT": "bool",
    "MAIL_TIMEOUT_AFTER_COMMIT": int,
    "MAIL_TIMEOUT": int,
    "MAIL_MAX_ATTEMPTS": int,
    "MAIL_RETRY_BASE_SECONDS": int,
    "MAIL_RETRY_MAX_SECONDS": int,
    "MAIL_CLAIM_SECONDS": int,
    "REQUIRE_TWO_FACTOR": "bool",
    "DEMO_DATA": "bool",
    "DEBUG": "bool",
    "SESSION_COOKIE_SECURE": "bool",
    "SQL_ECHO": "bool",
    "PAGE_SIZE": int,
    "PROXY_COUNT": int,
    "MAX_CONTENT_LENGTH": int,
    "MAX_FORM_PARTS": int,
    "LOGIN_MAX_FAILURES": int,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": int,
    "RESET_MAX_PER_ADDRESS": int,
    "RESET_MAX_PER_ACCOUNT": int,
    "CONSENT_DEFAULT_VALIDITY_DAYS": int,
    "SESSION_IDLE_TIMEOUT": "minutes",
}
_ENV_KEYS = [
    "APP_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "BASE_URL",
    "ORGANISATION_NAME",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USE_TLS",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_SENDER",
    "MAIL_OUTBOX",
    "MAIL_SEND_AFTER_COMMIT",
    "MAIL_TIMEOUT_AFTER_COMMIT",
    "MAIL_TIMEOUT",
    "MAIL_MAX_ATTEMPTS",
    "MAIL_RETRY_BASE_SECONDS",
    "MAIL_RETRY_MAX_SECONDS",
    "MAIL_CLAIM_SECONDS",
    "PSEUDONYM_HIGH_WATER",
    "REQUIRE_TWO_FACTOR",
    "DEMO_DATA",
    "DEBUG",
    "SESSION_COOKIE_SECURE",
    "SQL_ECHO",
    "PAGE_SIZE",
    "LOGIN_MAX_FAILURES",
    "LOGIN_MAX_FAILURES_PER_ADDRESS",
    "CONSENT_DEFAULT_VALIDITY_DAYS",
    "SESSION_IDLE_TIMEOUT",
    "ORGANISATION_LOGO",
    "PDF_TIME_LIMIT",
    "PDF_MAX_PAGES",
    "PDF_MAX_HTML_BYTES",
    "PROXY_COUNT",
    "MAX_CONTENT_LENGTH",
    "MAX_FORM_PARTS",
    "RESET_MAX_PER_ADDRESS",
    "RESET_MAX_PER_ACCOUNT",
]


def _convert(key, raw):
    kind = _ENV_TYPES.get(key)
    if kind == "bool":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind == "minutes":
        return timedelta(minutes=int(raw))
    if kind is int:
        return int(raw)
    return raw


class ConfigError(RuntimeError):
    pass


# At most two thirds of SQLite's busy timeout and of gunicorn's default worker timeout (30 s each).
MAX_PDF_TIME_LIMIT = 20


def load(app, overrides=None):
    app.config.from_object(Defaults)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    for key in _ENV_KEYS:
        if key in os.environ:
            app.config[key] = _convert(key, os.environ[key])
    if overrides:
        app.config.update(overrides)

    production = app.config["APP_ENV"] == "production"
    if not app.config.get("SECRET_KEY"):
        if production:
            raise ConfigError("SECRET_KEY fehlt: in Produktion muss ein geheimer Schlüssel gesetzt sein.")
        app.config["SECRET_KEY"] = _instance_secret(instance)
    if production:
        if app.config["DEBUG"]:
            raise ConfigError("DEBUG ist in Produktion nicht erlaubt.")
        if app.config["DEMO_DATA"]:
            raise ConfigError("Demodaten sind in Produktion nicht erlaubt.")
        app.config["SESSION_COOKIE_SECURE"] = True
    if not 1 <= app.config["PDF_TIME_LIMIT"] <= MAX_PDF_TIME_LIMIT:
        raise ConfigError(
            f"PDF_TIME_LIMIT muss zwischen 1 und {MAX_PDF_TIME_LIMIT} Sekunden liegen: deutlich unter der "
            "Wartezeit der Datenbank (30 s) und der Zeitgrenze der Arbeitsprozesse."
        )
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'fallkonferenz.sqlite'}"
    if not app.config.get("MAIL_OUTBOX"):
        app.config["MAIL_OUTBOX"] = str(instance / "outbox")
    if app.config.get("PSEUDONYM_HIGH_WATER") is None:
        app.config["PSEUDONYM_HIGH_WATER"] = str(instance / "pseudonym-high-water.json")


def _instance_secret(instance: Path) -> str:
    """A secret generated once per deployment, so restarts keep sessions valid."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
