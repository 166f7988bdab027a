"""Fixtures and factories. ``--db=postgres`` runs the suite on a throwaway PostgreSQL."""
import os
import re
import tempfile
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text
from sqlmodel import SQLModel

from app import create_app, db
from app.accounts import services as accounts
from app.accounts.models import Role, Team, User
from app.agencies.models import Agency, District, Location
from app.models import metadata

PASSWORD = "Richtig-Langes-Passwort-1"
_HASH = accounts.hash_password(PASSWORD)  # one hash for every factory user: argon2 is slow on purpose


def pytest_addoption(parser):
    parser.addoption("--db", default=os.environ.get("TEST_DB", "sqlite"), choices=["sqlite", "postgres"],
                     help="database for the test run")


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    if request.config.getoption("--db") == "postgres":
        from tests.pg import ThrowawayPostgres

        pg = ThrowawayPostgres()
        url = pg.start()
        yield url
        pg.stop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "MAIL_OUTBOX": str(instance / "outbox"),
        "MAIL_SERVER": None,
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
    })
    with application.app_context():
        metadata.create_all(db.engine())
    yield application
    with application.app_context():
        db.engine().dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts on empty tables (TRUNCATE on PostgreSQL, DELETE on SQLite)."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        with db.engine().begin() as conn:
            tables = [t.name for t in reversed(metadata.sorted_tables)]
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))
    outbox = Path(application.config["MAIL_OUTBOX"])
    if outbox.exists():
        for f in outbox.iterdir():
            f.unlink()


@pytest.fixture
def session(app):
    """A database session inside an app context, for arranging and checking data."""
    with app.app_context():
        s = db.get_session()
        yield s
        s.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


# --- factories ------------------------------------------------------------------------


class Factory:
    def __init__(self, session):
        self.s = session
        self.n = 0

    def _next(self):
        self.n += 1
        return self.n

    def team(self, name=None):
        t = Team(name=name or f"Team {self._next()}")
        self.s.add(t)
        self.s.commit()
        return t

    def district(self, name=None):
        d = District(name=name or f"Stadtteil {self._next()}")
        self.s.add(d)
        self.s.commit()
        return d

    def agency(self, name=None, type="counselling", district=None):
        n = self._next()
        a = Agency(name=name or f"Einrichtung {n}", type=type, contact_email=f"einrichtung{n}@example.org",
                   district_id=district.id if district else None)
        self.s.add(a)
        self.s.commit()
        return a

    def location(self, name=None, kind="jobcenter_room"):
        loc = Location(name=name or f"Raum {self._next()}", kind=kind)
        self.s.add(loc)
        self.s.commit()
        return loc

    def user(self, role="caseworker", team=None, agency=None, email=None, active=True, totp_secret=None, name=None):
        n = self._next()
        if role in ("caseworker", "team_lead") and team is None:
            team = self.team()
        if role == "partner" and agency is None:
            agency = self.agency()
        u = User(email=email or f"user{n}@example.org", name=name or f"Person {n}", role=role,
                 team_id=team.id if team else None, agency_id=agency.id if agency else None,
                 password_hash=_HASH, active=active, totp_secret=totp_secret)
        self.s.add(u)
        self.s.commit()
        return u


@pytest.fixture
def factory(session):
    return Factory(session)


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
