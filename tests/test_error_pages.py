"""Error pages when the database is gone (issue 11, finding 5).

A logged-in user's next request finds the database gone: the answer is the German error
page (not Flask's bare "Internal Server Error"), rendered without the database, and the
log names the error type and code only, never the driver's text (file path, host, port).
"""

import logging
import shutil

import pytest
from sqlmodel import Session, select

from app import create_app, db
from app.accounts.models import User
from app.models import metadata
from tests.conftest import _HASH, login_as


def _app(url, tmp_path):
    application = create_app(
        {
            "TESTING": True,
            "PROPAGATE_UNEXPECTED": False,
            "SECRET_KEY": "test",
            "DATABASE_URL": url,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "REQUIRE_TWO_FACTOR": False,
        },
        instance_path=str(tmp_path / "instance"),
    )
    with application.app_context():
        metadata.create_all(db.engine())
        with Session(db.engine()) as s:
            s.add(User(email="clara@example.org", name="Clara Fallmanagerin", role="caseworker", password_hash=_HASH))
            s.commit()
    return application


def _logged_in(application):
    with application.app_context(), Session(db.engine()) as s:
        user = s.exec(select(User)).one()
    client = application.test_client()
    login_as(client, application, user)
    page = client.get("/")
    assert page.status_code == 200 and "Clara Fallmanagerin" in page.get_data(as_text=True)
    return client


@pytest.fixture
def database_goes_away(tmp_path, database_url):
    """(app, logged-in client, take_away(), secrets that must not reach the log)."""
    if database_url.startswith("sqlite"):
        folder = tmp_path / "data"
        folder.mkdir()
        application = _app(f"sqlite:///{folder / 'gone.sqlite'}", tmp_path)
        client = _logged_in(application)

        def take_away():
            shutil.move(str(folder), str(tmp_path / "elsewhere"))  # not there: SQLite cannot open it
            with application.app_context():
                db.engine().dispose()

        yield application, client, take_away, [str(folder)]
        with application.app_context():
            db.engine().dispose()
    else:
        from tests.pg import ThrowawayPostgres

        pg = ThrowawayPostgres()  # a server of its own, stopped while the user is logged in
        url = pg.start()
        application = _app(url, tmp_path)
        client = _logged_in(application)
        stopped = []

        def take_away():
            pg.stop()
            stopped.append(True)

        yield application, client, take_away, ["127.0.0.1", str(pg.port)]
        with application.app_context():
            db.engine().dispose()
        if not stopped:
            pg.stop()


def test_error_page_renders_in_german_while_the_database_is_gone(database_goes_away, caplog):
    application, client, take_away, secrets = database_goes_away
    take_away()
    caplog.set_level(logging.DEBUG)

    r = client.get("/")
    page = r.get_data(as_text=True)
    assert r.status_code == 500
    assert '<html lang="de">' in page and "Interner Fehler" in page
    assert "Es ist ein Fehler aufgetreten. Ihre Eingaben wurden nicht gespeichert." in page
    assert "Internal Server Error" not in page
    assert "Clara Fallmanagerin" not in page and "Abmelden" not in page  # no user: that needs the database

    r = client.get("/gibt-es-nicht")  # a page that itself needs no database, but its header does
    assert r.status_code == 404 and "Seite nicht gefunden" in r.get_data(as_text=True)

    logged = caplog.text
    assert "OperationalError" in logged
    for secret in secrets:
        assert secret not in logged, f"{secret!r} in the log"


def test_healthz_while_the_database_is_gone_logs_no_driver_text(database_goes_away, caplog):
    application, client, take_away, secrets = database_goes_away
    take_away()
    caplog.set_level(logging.DEBUG)
    r = client.get("/healthz")
    assert r.status_code == 503 and r.get_json()["status"] == "error"
    for secret in secrets:
        assert secret not in caplog.text


def test_a_logged_exception_keeps_type_and_code_not_its_text(caplog):
    import sqlite3

    from app.errors import redact_log_records

    redact_log_records()
    conn, table = sqlite3.connect(":memory:"), "secret_table_name"
    try:
        conn.execute(f"SELECT * FROM {table}")  # the driver's text names the table; the log must not
    except sqlite3.Error:
        logging.getLogger("test").exception("Fehler")
    assert "OperationalError SQLITE_ERROR" in caplog.text
    assert "secret_table_name" not in caplog.text
