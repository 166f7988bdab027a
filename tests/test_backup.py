"""Backup and restore (issue 11, finding 6), on the database the suite runs on.

A backup taken while users write holds every case committed before it began; a restore
checks the copy (integrity, audit chain) and refuses while the application runs; after
it, no pseudonym handed out before the restore is handed out again.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlmodel import Session

from app import create_app, db, high_water
from app.accounts.models import Team, User
from app.agencies.models import District
from app.cases import services as cases
from app.cases.models import Case
from app.models import metadata
from tests.conftest import _HASH

ROOT = Path(__file__).resolve().parent.parent
DATA = {
    "age_band": "u25",
    "household_type": "single",
    "obstacles": [],
    "summary": "Sucht Ausbildungsplatz.",
    "goals": "",
    "internal_reference": "",
}


def _database(database_url, tmp_path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'instance' / 'fallkonferenz.sqlite'}"
    admin = create_engine(database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS fk_backup WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE fk_backup"))
    admin.dispose()
    return database_url.rsplit("/", 1)[0] + "/fk_backup"


class Deployment:
    """One installation: its own instance folder and database, a caseworker who opens cases."""

    def __init__(self, database_url, tmp_path):
        self.instance = tmp_path / "instance"
        self.instance.mkdir()
        self.url = _database(database_url, tmp_path)
        self.app = self.make_app()
        with self.app.app_context():
            metadata.create_all(db.engine())
            with Session(db.engine()) as s:
                team = Team(name="Team Nord")
                s.add(team)
                s.flush()
                user = User(
                    email="clara@example.org", name="Clara", role="caseworker", team_id=team.id, password_hash=_HASH
                )
                district = District(name="Nordend")
                s.add_all([user, district])
                s.commit()
                self.user_id, self.district_id = user.id, district.id

    def make_app(self):
        return create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "DATABASE_URL": self.url,
                "MAIL_OUTBOX": str(self.instance / "outbox"),
            },
            instance_path=str(self.instance),
        )

    def open_case(self) -> str:
        with self.app.test_request_context(method="POST"):
            s = db.get_session()
            case = cases.open_case(s, s.get(User, self.user_id), {**DATA, "district_id": self.district_id})
            s.commit()
            return case.pseudonym

    def pseudonyms(self) -> set[str]:
        with self.app.app_context(), db.engine().connect() as conn:
            return set(conn.execute(select(Case.pseudonym)).scalars())

    def cli(self, *args):
        return self.app.test_cli_runner().invoke(args=list(args))

    def close(self):
        with self.app.app_context():
            db.engine().dispose()


@pytest.fixture
def deployment(database_url, tmp_path):
    d = Deployment(database_url, tmp_path)
    yield d
    d.close()


class Writer(threading.Thread):
    """Opens cases one after another (bounded), as users would while the backup runs."""

    def __init__(self, deployment, limit=400):
        super().__init__(daemon=True)
        self.deployment, self.limit = deployment, limit
        self.committed, self.errors = [], []
        self.stop = threading.Event()
        self.progress = threading.Condition()

    def run(self):
        for _ in range(self.limit):
            if self.stop.is_set():
                return
            try:
                pseudonym = self.deployment.open_case()
            except Exception as exc:  # noqa: BLE001 (reported by the test)
                self.errors.append(repr(exc))
                return
            with self.progress:
                self.committed.append(pseudonym)
                self.progress.notify_all()

    def wait_for(self, n):
        with self.progress:
            assert self.progress.wait_for(lambda: len(self.committed) >= n or not self.is_alive(), timeout=120)
        assert len(self.committed) >= n, self.errors


def test_backup_while_writing_then_restore_keeps_integrity_chain_and_pseudonyms(deployment, tmp_path):
    backup = tmp_path / "sicherung.fkb"
    writer = Writer(deployment)
    writer.start()
    try:
        writer.wait_for(5)
        committed_before = list(writer.committed)
        result = deployment.cli("backup", str(backup))
        assert result.exit_code == 0, result.output
        assert "Kette vollständig" in result.output and "SHA-256:" in result.output
        writer.wait_for(len(writer.committed) + 5)  # users go on writing after the backup
    finally:
        writer.stop.set()
        writer.join(timeout=120)
    assert not writer.errors
    issued = set(writer.committed)
    assert len(issued) == len(writer.committed)

    # The application is stopped (here: its connections closed), then the backup goes back.
    deployment.close()
    result = deployment.cli("restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    assert "integrity_check ok, audit-verify ok" in result.output

    restored = deployment.pseudonyms()
    assert set(committed_before) <= restored  # every case committed before the backup began
    assert restored < issued  # and not the ones written after it
    verify = deployment.cli("audit-verify")
    assert verify.exit_code == 0 and verify.output.startswith("OK:"), verify.output
    if deployment.url.startswith("sqlite"):
        path = deployment.url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # No pseudonym handed out before the restore comes again.
    fresh = [deployment.open_case() for _ in range(3)]
    assert not set(fresh) & issued
    assert min(int(p.rsplit("-", 1)[1]) for p in fresh) > max(int(p.rsplit("-", 1)[1]) for p in issued)


@pytest.mark.parametrize("lost", ["high-water-file", "live-database"])
def test_pseudonyms_stay_unique_when_one_record_of_the_last_number_is_lost(deployment, tmp_path, lost):
    backup = tmp_path / "sicherung.fkb"
    deployment.open_case()
    assert deployment.cli("backup", str(backup)).exit_code == 0
    issued = {deployment.open_case() for _ in range(4)}
    deployment.close()
    if lost == "high-water-file":
        Path(deployment.app.config["PSEUDONYM_HIGH_WATER"]).unlink()  # the restore reads the replaced database
    else:
        if not deployment.url.startswith("sqlite"):
            pytest.skip("a lost SQLite file; PostgreSQL's database is restored in place")
        os.unlink(deployment.url.removeprefix("sqlite:///"))  # the restore reads the high-water file
    result = deployment.cli("restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    assert not {deployment.open_case() for _ in range(3)} & issued


def test_the_high_water_mark_holds_even_after_a_restore_by_hand(deployment):
    first = deployment.open_case()
    year = int(first.split("-")[1])
    high_water.raise_to(deployment.app.config["PSEUDONYM_HIGH_WATER"], {year: 41})  # as before a `cp` back
    assert deployment.open_case() == f"FK-{year}-0042"
    assert high_water.read(deployment.app.config["PSEUDONYM_HIGH_WATER"])[year] == 42


def test_restore_refuses_a_damaged_copy_or_a_broken_audit_chain(deployment, tmp_path):
    if not deployment.url.startswith("sqlite"):
        pytest.skip("the SQLite checks; PostgreSQL's archive is checked by pg_restore in a scratch database")
    deployment.open_case()
    backup = tmp_path / "sicherung.fkb"
    assert deployment.cli("backup", str(backup)).exit_code == 0
    before = deployment.pseudonyms()

    garbage = tmp_path / "kaputt.fkb"
    garbage.write_bytes(backup.read_bytes()[:4096] + b"\0" * 8192)
    result = deployment.cli("restore", str(garbage), "--yes")
    assert result.exit_code == 1 and "keine lesbare SQLite-Datenbank" in result.output

    tampered = tmp_path / "manipuliert.fkb"
    tampered.write_bytes(backup.read_bytes())
    with sqlite3.connect(tampered) as conn:
        conn.execute("UPDATE audit_entry SET action = 'case.viewed' WHERE id = 1")
    result = deployment.cli("restore", str(tampered), "--yes")
    assert result.exit_code == 1 and "audit-verify: Kette unterbrochen bei Eintrag 1" in result.output
    assert deployment.pseudonyms() == before  # nothing replaced


def test_backup_never_overwrites_an_earlier_one(deployment, tmp_path):
    backup = tmp_path / "sicherung.fkb"
    backup.write_bytes(b"eine fruehere Sicherung")
    result = deployment.cli("backup", str(backup))
    assert result.exit_code == 1 and "gibt es schon" in result.output
    assert backup.read_bytes() == b"eine fruehere Sicherung"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_restore_refuses_while_gunicorn_serves_the_installation(deployment, tmp_path):
    backup = tmp_path / "sicherung.fkb"
    assert deployment.cli("backup", str(backup)).exit_code == 0
    deployment.close()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": deployment.url, "SECRET_KEY": "test"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            f"app:create_app(instance_path={str(deployment.instance)!r})",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):  # until the worker has created the application (bounded)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
        result = deployment.cli("restore", str(backup), "--yes")  # the worker holds the lock
        assert result.exit_code == 1 and "Die Anwendung läuft noch" in result.output
    finally:
        server.terminate()
        server.wait(timeout=60)
    result = deployment.cli("restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
