"""A worker writes again once the SQLite file is writable again (issue 11, finding 4).

SQLite opens a connection read-only when the file cannot be written at that moment, and
such a connection stays read-only. The pool replaces it (app/db.py) instead of failing
every write of that worker until a restart.
"""

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from app import create_app, db
from app.agencies.models import District
from app.clock import utcnow
from app.models import metadata
from tests.conftest import post
from tests.fsfaults import read_only


@pytest.fixture
def own(tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("a SQLite fault")
    application = create_app(
        {
            "TESTING": True,
            "PROPAGATE_UNEXPECTED": False,
            "SECRET_KEY": "test",
            "MAIL_SERVER": None,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'own.sqlite'}",
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
        },
        instance_path=str(tmp_path / "instance"),
    )
    with application.app_context():
        metadata.create_all(db.engine())
        db.engine().dispose()
    yield application
    with application.app_context():
        db.engine().dispose()


def _districts(app):
    with app.app_context(), db.engine().connect() as conn:
        return conn.execute(select(func.count()).select_from(District)).scalar()


def test_a_connection_opened_read_only_is_replaced_once_the_file_is_writable(own, tmp_path):
    with read_only(tmp_path / "own.sqlite"):
        assert _districts(own) == 0  # the pool now holds a connection opened read-only
        with own.app_context(), pytest.raises(OperationalError, match="readonly"), db.engine().begin() as conn:
            conn.execute(insert(District).values(name="Während der Störung"))
        assert _districts(own) == 0  # and again, after the failed write
    with own.app_context(), db.engine().begin() as conn:  # the same pool, the file writable again
        conn.execute(insert(District).values(name="Nach der Störung"))
    assert _districts(own) == 1


def test_reading_while_read_only_does_not_keep_the_worker_read_only(own, tmp_path):
    with read_only(tmp_path / "own.sqlite"):
        assert _districts(own) == 0  # only reads while the fault lasts: nothing failed
    with own.app_context(), db.engine().begin() as conn:
        conn.execute(insert(District).values(name="Nach der Störung"))
    assert _districts(own) == 1


def test_a_request_that_failed_on_the_read_only_file_is_followed_by_one_that_works(own, tmp_path):
    from app.accounts.models import User
    from app.mail import OutboxMessage

    with own.app_context():
        with db.engine().begin() as conn:
            conn.execute(
                insert(User).values(
                    email="erika@example.org", name="Erika", role="caseworker", active=True, created_at=utcnow()
                )
            )
        db.engine().dispose()
    client = own.test_client()
    with read_only(tmp_path / "own.sqlite"):
        # The reset writes a token, an audit entry and an e-mail: refused, German error page.
        r = post(client, own, "/passwort-vergessen", {"email": "erika@example.org"})
        assert r.status_code == 500 and "Interner Fehler" in r.get_data(as_text=True)
    r = post(client, own, "/passwort-vergessen", {"email": "erika@example.org"})
    assert r.status_code == 302
    with own.app_context(), db.engine().connect() as conn:
        assert conn.execute(select(func.count()).select_from(OutboxMessage)).scalar() == 1
