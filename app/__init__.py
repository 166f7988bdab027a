"""Fallkonferenz: multi-agency case conferences for a German Jobcenter."""

import logging

from flask import Flask, current_app, g, has_request_context, redirect, request, session, url_for
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import config as app_config
from app import db

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()


def create_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app_config.load(app, config)
    logging.basicConfig(level=logging.INFO)

    if app.config["PROXY_COUNT"]:
        # Behind a reverse proxy: the client's address (log-in limit) and HTTPS (HSTS, Secure
        # cookies) come from the proxy's X-Forwarded-* headers, trusted for that many hops.
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    db.init_app(app)
    from app import models  # noqa: F401  (every table registered before first use)
    from app.backup import hold_server_lock

    hold_server_lock(app)  # `flask restore` refuses while any process holds it

    if app.config["APP_ENV"] == "production":
        _refuse_demo_accounts(app)

    # Ids in URLs: a number beyond the database's integer is no page (404), not an error.
    app.url_map.converters["int"] = DatabaseId
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Europe/Berlin")
    _init_login(app)

    from app import errors, filters, mail, navigation, security
    from app.accounts.routes import bp as accounts_bp
    from app.admin.routes import bp as admin_bp
    from app.cases.routes import bp as cases_bp
    from app.conferences.routes import bp as conferences_bp
    from app.consultations.public import bp as public_hours_bp
    from app.consultations.routes import bp as consultations_bp
    from app.main.routes import bp as main_bp
    from app.minutes.routes import bp as minutes_bp
    from app.reports.routes import bp as reports_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(conferences_bp)
    app.register_blueprint(minutes_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(consultations_bp)
    app.register_blueprint(public_hours_bp)

    errors.init_app(app)
    filters.init_app(app)
    mail.init_app(app)
    navigation.init_app(app)
    mail.init_app(app)
    security.init_app(app)

    from app import cli

    cli.init_app(app)
    return app


def _refuse_demo_accounts(app) -> None:
    """Demo accounts have a published password: a production database must hold none."""
    from sqlalchemy import func, inspect, select

    from app.accounts.models import User

    engine = app.extensions["db_engine"]
    if not inspect(engine).has_table(User.__tablename__):
        return  # a new database, before its first migration
    with engine.connect() as conn:
        demo = conn.execute(
            select(func.count()).select_from(User).where(func.lower(User.email).like("%@demo.invalid"))
        ).scalar()
    if demo:
        raise app_config.ConfigError(
            "Die Datenbank enthält Demo-Konten (@demo.invalid); in Produktion sind sie nicht erlaubt."
        )


class DatabaseId(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)  # PostgreSQL's integer
        super().__init__(url_map, *args, **kwargs)


# Written by the log-in session's loader, outside any route's own work.
BOOKKEEPING = {"user_session"}


def _select_locale():
    # A page whose language is in its URL (the public consultation hours) says so in ``g``;
    # it never reads the cookie session. Outside a request (the command line): German.
    if has_request_context() and g.get("page_locale"):
        return g.page_locale
    if has_request_context():
        from app.security import is_cookieless_request

        if is_cookieless_request():
            return "de"
    lang = session.get("lang") if has_request_context() else None
    if lang in ("de", "en"):
        return lang
    return "de"


def _init_login(app):
    from app.accounts import services
    from app.accounts.models import User

    login_manager.init_app(app)
    # The idle clock the loader found due is written with the request's own commit, when the
    # route commits; otherwise at the end of the request (``end_transaction``).
    event.listen(app.extensions["db_sessionmaker"], "before_commit", services.move_session_clock)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    # Session protection is done by the server-side session record instead.
    login_manager.session_protection = None

    # The login manager is shared by every app create_app makes (one per worker, several
    # in tests): the loader reads the settings of the app serving the request.
    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        return services.load_session_user(
            db.get_session(),
            token,
            idle=current_app.config["SESSION_IDLE_TIMEOUT"],
            absolute=current_app.config["SESSION_ABSOLUTE_TIMEOUT"],
        )

    @app.before_request
    def require_login():
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if request.endpoint is None or request.endpoint == "static" or getattr(view, "public", False):
            return None
        if not current_user.is_authenticated:
            return redirect(
                url_for("accounts.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
            )
        g.user = current_user
        return None

    @app.after_request
    def end_transaction(response):
        """The route commits its work, once. What may be left is the log-in session's
        bookkeeping (the idle clock the loader moved, an expired session it removed), kept
        here; a refused or invalid request's leftovers are dropped. Anything else left
        uncommitted is a route that forgot its commit: an error in tests, dropped otherwise."""
        s = g.get("db_session")
        if s is None:
            return response
        if response.status_code < 400:
            services.move_session_clock(s)
        else:
            s.info.pop(services.SESSION_CLOCK, None)
        left = db.uncommitted_tables(s)
        if response.status_code >= 400 or not left:
            s.rollback()
        elif left <= BOOKKEEPING:
            s.commit()
        else:
            s.rollback()
            if app.config.get("TESTING"):
                raise AssertionError(f"route {request.endpoint} left uncommitted changes to {sorted(left)}")
            app.logger.error("Route %s left uncommitted changes; they were dropped.", request.endpoint)
        return response
