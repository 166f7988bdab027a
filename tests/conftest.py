"""Fixtures and factories. ``--db=postgres`` runs the suite on a throwaway PostgreSQL."""

import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import request_started
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from app import create_app, db
from app.accounts import services as accounts
from app.accounts.models import Team, User
from app.agencies.models import Agency, District, Location
from app.models import metadata

PASSWORD = "Richtig-Langes-Passwort-1"
_HASH = accounts.hash_password(PASSWORD)  # one hash for every factory user: argon2 is slow on purpose


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        default=os.environ.get("TEST_DB", "sqlite"),
        choices=["sqlite", "postgres"],
        help="database for the test run",
    )


# --- one database per process ------------------------------------------------------------
#
# With pytest-xdist (``-n auto``, the default of ``make test``) every worker is a process of
# its own with its own session fixtures: its own SQLite file under its own temporary folder,
# its own outbox, and free ports for every server a test starts. On PostgreSQL one
# throwaway server serves the whole run (started once, by the controller) and each worker
# creates its own database on it.

_PG_SERVER = "fk_pg_server"  # workerinput key: the server's URL, without a database name


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config):
    if config.getoption("--db") == "postgres" and not _is_worker(config):
        from tests.pg import ThrowawayPostgres

        config._fk_postgres = ThrowawayPostgres()
        config._fk_postgres.start()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist, in the controller: hand each worker the server the controller started."""
    pg = getattr(node.config, "_fk_postgres", None)
    if pg is not None:
        node.workerinput[_PG_SERVER] = pg.server_url


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist, in the controller: collect the pages each worker checked with axe-core."""
    urls = getattr(node, "workeroutput", {}).get("axe_checked_urls", [])
    node.config._fk_axe_urls = getattr(node.config, "_fk_axe_urls", []) + urls


def axe_summary(terminalreporter, urls):
    if urls:
        terminalreporter.write_line(
            f"axe-core: {len(urls)} pages checked (WCAG 2.1 A/AA), {len(set(urls))} distinct addresses"
        )


def pytest_terminal_summary(terminalreporter, config):
    # Without xdist tests/browser/conftest.py writes the line itself.
    axe_summary(terminalreporter, getattr(config, "_fk_axe_urls", []))


def pytest_unconfigure(config):
    pg = getattr(config, "_fk_postgres", None)
    if pg is not None:
        pg.stop()


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    config = request.config
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if config.getoption("--db") == "postgres":
        from tests.pg import create_database

        server = config.workerinput[_PG_SERVER] if _is_worker(config) else config._fk_postgres.server_url
        yield create_database(server, f"fallkonferenz_test_{worker}")
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


class ClosingClient(FlaskClient):
    """Reads each response whole and closes it, as a WSGI server does once it has sent the body:
    what the application does after its response (the e-mail of a password reset) has happened
    when the request returns. ``buffered=False`` keeps a response open, to look before that."""

    def open(self, *args, buffered=True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "MAIL_OUTBOX": str(instance / "outbox"),
            "PSEUDONYM_HIGH_WATER": str(instance / "pseudonym-high-water.json"),
            "MAIL_SERVER": None,
            "BASE_URL": "http://localhost",
            "SERVER_NAME": None,
        }
    )
    application.test_client_class = ClosingClient
    with application.app_context():
        metadata.create_all(db.engine())
    yield application
    with application.app_context():
        db.engine().dispose()


# --- isolation: each test's writes are rolled back ----------------------------------------
#
# The default, as SQLAlchemy documents it for test suites: the test runs inside one
# connection-level transaction that is rolled back at its end. Every session the app and
# the test open (``app.extensions["db_sessionmaker"]``) is bound to that connection with
# ``join_transaction_mode="create_savepoint"``, so a route's commit ends a SAVEPOINT and
# its rollback returns to it: the route's transaction handling runs as in production,
# and nothing of the test outlives it. On SQLite the outer transaction begins outside a
# request, so with the write lock (BEGIN IMMEDIATE, app/db.py): requests then never wait,
# and a GET's deferred BEGIN is exercised by the ``committed`` tests in
# tests/test_page_view_locking.py.
#
# That is one connection in one thread. Tests that use other connections on purpose (a
# second engine or app, threads, a live server answering in threads, the SQLite locking
# between connections) are marked ``committed``: they run on real transactions, as the
# app does in production, and every table is emptied after them.


def _committed(request) -> bool:
    return request.node.get_closest_marker("committed") is not None


@pytest.fixture(autouse=True)
def _isolation(request):
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    if _committed(request):
        yield
        _empty_tables(application)
    else:
        with application.app_context():
            engine = db.engine()
        maker = application.extensions["db_sessionmaker"]
        configured = dict(maker.kw)
        connection = engine.connect()
        outer = connection.begin()
        maker.configure(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            maker.kw = configured
            outer.rollback()
            connection.close()
    # Files outside the database: the e-mails written, and the pseudonym high-water mark (it
    # outlives the tables on purpose).
    Path(application.config["PSEUDONYM_HIGH_WATER"]).unlink(missing_ok=True)
    outbox = Path(application.config["MAIL_OUTBOX"])
    if outbox.exists():
        for f in outbox.iterdir():
            f.unlink()


def _empty_tables(application):
    """After a ``committed`` test: empty tables (TRUNCATE on PostgreSQL, DELETE on SQLite)."""
    with application.app_context(), db.engine().begin() as conn:
        tables = [t.name for t in reversed(metadata.sorted_tables)]
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def session(app):
    """A database session for arranging and checking data.

    No app context stays pushed while the test runs: a request of a test client would
    reuse it, and with it ``g`` (the logged-in user, the request's database session), so
    one request's log-in would leak into every later request, of any client.
    """
    with app.app_context():
        s = db.new_session()
    # The browser tests' live server answers in threads, several at once (page, CSS, scripts):
    # one session must not be committed by two of them at the same time.
    commit_lock = threading.Lock()

    def end_transaction(_sender, **_extra):
        # An open transaction of the test would hold SQLite's write lock (BEGIN IMMEDIATE)
        # against the request and keep an old snapshot: it ends as each request starts.
        # (Under rollback isolation this ends the test's SAVEPOINT, no more.)
        with commit_lock:
            s.commit()

    request_started.connect(end_transaction, app)
    yield s
    request_started.disconnect(end_transaction, app)
    s.rollback()
    s.close()


@pytest.fixture
def client(app):
    return app.test_client()


# --- factories ------------------------------------------------------------------------


class Factory:
    """Builds rows with sensible defaults; each call adds one row and flushes once.

    Under rollback isolation a flush is enough: every session shares the test's
    connection, and the test session's SAVEPOINT ends as each request starts. A
    ``committed`` test's requests and threads use connections of their own, so there each
    row is committed (and on SQLite the write lock released) before anyone else looks.
    """

    def __init__(self, session, commit=False):
        self.s = session
        self.n = 0
        self.commit = commit

    def _save(self, row):
        self.s.add(row)
        if self.commit:
            self.s.commit()
        else:
            self.s.flush()

    def _next(self):
        self.n += 1
        return self.n

    def team(self, name=None):
        t = Team(name=name or f"Team {self._next()}")
        self._save(t)
        return t

    def district(self, name=None):
        d = District(name=name or f"Stadtteil {self._next()}")
        self._save(d)
        return d

    def agency(self, name=None, type="counselling", district=None):
        n = self._next()
        a = Agency(
            name=name or f"Einrichtung {n}",
            type=type,
            contact_email=f"einrichtung{n}@example.org",
            district_id=district.id if district else None,
        )
        self._save(a)
        return a

    def location(self, name=None, kind="jobcenter_room"):
        loc = Location(name=name or f"Raum {self._next()}", kind=kind)
        self._save(loc)
        return loc

    def user(
        self,
        role="caseworker",
        team=None,
        agency=None,
        email=None,
        active=True,
        totp_secret=None,
        name=None,
        confirmed=True,
    ):
        n = self._next()
        if role in ("caseworker", "team_lead") and team is None:
            team = self.team()
        if role == "partner" and agency is None:
            agency = self.agency()
        u = User(
            email=email or f"user{n}@example.org",
            name=name or f"Person {n}",
            role=role,
            team_id=team.id if team else None,
            agency_id=agency.id if agency else None,
            password_hash=_HASH,
            active=active,
            totp_secret=totp_secret,
            confirmed=confirmed,
        )
        self._save(u)
        return u

    # --- cases and conferences -------------------------------------------------------

    def case(self, team=None, caseworker=None, district=None, status="open", internal_reference=None, **kw):
        from app.cases.models import Case
        from app.cases.services import next_pseudonym
        from app.clock import berlin_today

        if caseworker is None:
            caseworker = self.user("caseworker", team=team)
        team_id = team.id if team else caseworker.team_id
        district = district or self.district()
        n = self._next()
        # From the application's counter, so factory cases and cases opened in a test never collide.
        pseudonym = kw.pop("pseudonym", None) or next_pseudonym(self.s, berlin_today().year)
        c = Case(
            pseudonym=pseudonym,
            team_id=team_id,
            caseworker_id=caseworker.id,
            district_id=district.id,
            age_band=kw.pop("age_band", "25_34"),
            household_type=kw.pop("household_type", "single"),
            summary=kw.pop("summary", "Langzeitarbeitslos, sucht Teilzeitstelle."),
            goals=kw.pop("goals", "Stabile Beschäftigung."),
            internal_reference=internal_reference or f"INTREF-{n:06d}",
            status=status,
            **kw,
        )
        self._save(c)
        return c

    def consent(
        self,
        case,
        agency,
        scope=("general", "work"),
        signed_on=None,
        valid_until=None,
        withdrawn_on=None,
        recorded_by=None,
    ):
        from datetime import timedelta

        from app.cases.models import Consent
        from app.clock import berlin_today

        today = berlin_today()
        c = Consent(
            case_id=case.id,
            agency_id=agency.id,
            signed_on=signed_on or today - timedelta(days=30),
            valid_until=valid_until or today + timedelta(days=335),
            scope=list(scope),
            proof_reference="Akte Blatt 12",
            recorded_by_id=(recorded_by or self._recorder(case)).id,
            withdrawn_on=withdrawn_on,
        )
        self._save(c)
        return c

    def _recorder(self, case):
        return self.s.get(User, case.caseworker_id)

    def conference(self, case, starts_at=None, location=None, status="planned", organiser=None, minutes=90, **kw):
        import uuid
        from datetime import timedelta

        from app.clock import utcnow
        from app.conferences.models import Conference

        starts_at = starts_at or (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
        conf = Conference(
            case_id=case.id,
            occasion=kw.pop("occasion", "Erstes Fallgespräch"),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            location_id=(location or self.location()).id,
            organiser_id=(organiser or self._recorder(case)).id,
            status=status,
            ical_uid=f"{uuid.uuid4()}@fallkonferenz",
            **kw,
        )
        self._save(conf)
        return conf

    def invitation(self, conference, agency, status="pending", user=None):
        from app.conferences.models import Invitation

        inv = Invitation(
            conference_id=conference.id, agency_id=agency.id, status=status, user_id=user.id if user else None
        )
        self._save(inv)
        return inv

    def note(
        self,
        conference,
        author,
        body="Stellungnahme zur Situation.",
        categories=("general",),
        visibility="shared",
        agency=None,
    ):
        from app.conferences.models import Note

        n = Note(
            conference_id=conference.id,
            author_id=author.id,
            agency_id=agency.id if agency else author.agency_id,
            body=body,
            categories=list(categories),
            visibility=visibility,
        )
        self._save(n)
        return n

    def measure(
        self,
        conference,
        what="Bewerbungstraining besuchen",
        responsible_kind="jobcenter",
        agency=None,
        due_on=None,
        status="agreed",
        categories=(),
    ):
        from datetime import timedelta

        from app.clock import berlin_today
        from app.conferences.models import Measure

        m = Measure(
            conference_id=conference.id,
            case_id=conference.case_id,
            what=what,
            categories=list(categories),
            responsible_kind=responsible_kind,
            responsible_agency_id=agency.id if agency else None,
            due_on=due_on or berlin_today() + timedelta(days=14),
            status=status,
        )
        self._save(m)
        return m


@pytest.fixture
def factory(request, session):
    return Factory(session, commit=_committed(request))


# --- clients ---------------------------------------------------------------------------


def csrf_token(client, app) -> str:
    """A valid CSRF token for the client's cookie session, as a rendered form would hold."""
    with client.session_transaction() as sess:
        raw = sess.get("csrf_token")
        if raw is None:
            raw = os.urandom(20).hex()
            sess["csrf_token"] = raw
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


def login_as(client, app, user) -> str:
    """Log a client in without the form: a server-side session, as the log-in creates."""
    with app.app_context():
        s = db.get_session()
        fresh = s.get(User, user.id)
        token = accounts.start_session(s, fresh)
        s.commit()
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    return token


def post(client, app, url, data=None, **kw):
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, app))
    return client.post(url, data=data, **kw)


def outbox_messages(app):
    import email
    from email import policy

    folder = Path(app.config["MAIL_OUTBOX"])
    if not folder.exists():
        return []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in sorted(folder.glob("*.eml"))]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# Transaction control is no query of the page: under rollback isolation a request begins
# with SAVEPOINT and the test's own session releases its savepoint as the request starts,
# where on real transactions SQLite shows one BEGIN and PostgreSQL none.
_TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")


@contextmanager
def counted_statements(app):
    """The SQL statements run while the block runs (issue 6: pages in a fixed number of queries)."""
    from sqlalchemy import event

    statements = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            statements.append(statement)

    with app.app_context():
        engine = db.engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def get_counting_queries(app, client, url) -> tuple[int, "object"]:
    """GET ``url`` and count the SQL statements it runs."""
    with counted_statements(app) as statements:
        response = client.get(url)
    return len(statements), response


def working_day(days_ahead: int = 10):
    """The first day ``days_ahead`` days from today (Berlin) or later that is a Hessian working day
    (no weekend, no public holiday): dates the forms accept without a warning (app/workdays.py)."""
    from datetime import timedelta

    from app.clock import berlin_today
    from app.workdays import holiday_name

    day = berlin_today() + timedelta(days=days_ahead)
    while day.weekday() >= 5 or holiday_name(day):
        day += timedelta(days=1)
    return day


def agenda_fields(rows) -> dict:
    """Form fields of the conference form's agenda rows: ``rows`` is one title per line (text),
    or a list of titles and (title, categories) pairs."""
    if isinstance(rows, str):
        rows = rows.splitlines()
    data = {}
    for i, row in enumerate(rows):
        title, categories = (row, ()) if isinstance(row, str) else row
        data[f"agenda-{i}-title"] = title
        if categories:
            data[f"agenda-{i}-categories"] = list(categories)
    return data
