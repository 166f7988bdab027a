"""Backup and restore (``flask backup PATH``, ``flask restore PATH``).

SQLite: the backup is taken with SQLite's online backup API from one read transaction,
so it is a consistent snapshot that includes every write committed before it began, while
users go on writing (a plain ``cp`` of a database in WAL mode is not). The copy is checked
(``PRAGMA integrity_check``, the audit chain) before it is moved into place.

PostgreSQL: ``pg_dump --format=custom`` (run when it is installed; else the command says
how). A restore checks the archive in a scratch database first (``pg_restore``, audit
chain), then restores it into the live database in one transaction.

Restore refuses while the application runs: every process that creates the application
(gunicorn workers, the mail and reminder jobs, flask commands) holds a shared ``flock`` on
``instance/fallkonferenz.lock`` for its lifetime; the restore needs it exclusively. The
kernel drops a lock with its process, so a crashed worker leaves no stale lock behind.

After a restore, the pseudonym counter is raised to the high-water mark kept outside the
database (``app.high_water``) and to the counter of the database being replaced, where it
can still be read: no pseudonym handed out before the restore is handed out again.
"""

import contextlib
import fcntl
import glob
import hashlib
import os
import shutil
import sqlite3
import subprocess
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlmodel import Session

from app import audit, db, high_water

LOCK_FILE = "fallkonferenz.lock"


class BackupError(Exception):
    """A backup or restore that must not go on; the message says why (German, for the operator)."""


# --- the server lock -------------------------------------------------------------------


def hold_server_lock(app) -> None:
    """Share the deployment's lock for the life of this process (see the module's text)."""
    path = Path(app.instance_path) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        # Unwritable instance folder (the health check says so), or a restore is running
        # right now: this process does not count as a user of the database.
        return
    app.extensions["server_lock_fd"] = fd
    weakref.finalize(app, _close, fd)  # tests make many applications in one process


def _close(fd) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def take_server_lock_exclusively(app) -> None:
    fd = app.extensions.get("server_lock_fd")
    if fd is None:
        fd = os.open(Path(app.instance_path) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        app.extensions["server_lock_fd"] = fd
        weakref.finalize(app, _close, fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise BackupError(
            "Die Anwendung läuft noch (gunicorn, der E-Mail- oder Erinnerungs-Job oder ein anderer "
            "flask-Befehl nutzt diese Installation). Bitte zuerst beenden, z. B. "
            "`systemctl stop fallkonferenz fallkonferenz-mail.timer fallkonferenz-reminders.timer`."
        ) from None


# --- backup ----------------------------------------------------------------------------


@dataclass
class Summary:
    path: Path
    size: int
    sha256: str
    audit_entries: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_sqlite_copy(path: Path) -> int:
    """Integrity and the audit chain of a SQLite copy; returns the number of audit entries."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as err:
        raise BackupError(f"Die Datei ist keine lesbare SQLite-Datenbank ({type(err).__name__}).") from None
    finally:
        conn.close()
    if result != ["ok"]:
        raise BackupError(f"integrity_check meldet Fehler ({len(result)} Meldungen): die Kopie ist beschädigt.")
    if not {"audit_entry", "pseudonym_counter", "case_file"} <= tables:
        raise BackupError("Die Datei ist keine Fallkonferenz-Datenbank (Tabellen fehlen).")
    engine = create_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as s:
            count, broken = audit.verify(s)
    finally:
        engine.dispose()
    if broken is not None:
        raise BackupError(f"audit-verify: Kette unterbrochen bei Eintrag {broken} (nach {count} gültigen Einträgen).")
    return count


def backup(app, target: Path) -> Summary:
    if target.exists():
        raise BackupError(f"{target} gibt es schon; eine Sicherung überschreibt keine andere.")
    if not target.parent.is_dir():
        raise BackupError(f"Den Ordner {target.parent} gibt es nicht.")
    url = app.config["DATABASE_URL"]
    if make_url(url).get_backend_name() == "sqlite":
        return _backup_sqlite(db.sqlite_path(url), target)
    return _backup_postgres(url, target)


def _backup_sqlite(live: str, target: Path) -> Summary:
    if live is None or not os.path.exists(live):
        raise BackupError("Die SQLite-Datenbankdatei gibt es nicht.")
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(live, timeout=30)
    dst = sqlite3.connect(tmp)
    try:
        # One step (pages=-1): one read transaction, a consistent snapshot; writers go on (WAL).
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
    try:
        entries = _check_sqlite_copy(tmp)
        _fsync(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Summary(target, target.stat().st_size, _sha256(target), entries)


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise BackupError(
            f"{name} fehlt. PostgreSQL sichern Sie mit `pg_dump --format=custom --file=PFAD DATENBANK` "
            f"(Paket postgresql-client, Version des Servers) und stellen mit `pg_restore` wieder her."
        )
    return found


def _libpq(url) -> tuple[str, dict]:
    """A libpq connection string without the password, and the environment that carries it."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _backup_postgres(url, target: Path) -> Summary:
    pg_dump = _pg_tool("pg_dump")
    conninfo, env = _libpq(url)
    tmp = target.with_name(f".{target.name}.tmp")
    result = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", f"--file={tmp}", conninfo], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"pg_dump ist fehlgeschlagen (Exit {result.returncode}).")
    _fsync(tmp)
    os.replace(tmp, target)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            entries = conn.execute(text("SELECT count(*) FROM audit_entry")).scalar()
    finally:
        engine.dispose()
    return Summary(target, target.stat().st_size, _sha256(target), entries)


# --- restore ---------------------------------------------------------------------------


@dataclass
class Restored:
    audit_entries: int
    counters: dict  # {year: last number} after the restore
    kept: Path | None  # the replaced database (SQLite), or None


def _counters(conn) -> dict[int, int]:
    try:
        return {int(y): int(n) for y, n in conn.execute(text("SELECT year, last_number FROM pseudonym_counter"))}
    except Exception:  # noqa: BLE001  (a broken or missing database: its counter is unknown)
        return {}


def _raise_counters(conn, marks: dict[int, int]) -> dict[int, int]:
    current = _counters(conn)
    for year, n in marks.items():
        if n > current.get(year, -1):
            if year in current:
                conn.execute(text("UPDATE pseudonym_counter SET last_number = :n WHERE year = :y"), {"n": n, "y": year})
            else:
                conn.execute(
                    text("INSERT INTO pseudonym_counter (year, last_number) VALUES (:y, :n)"), {"n": n, "y": year}
                )
    return {**current, **{y: max(n, current.get(y, 0)) for y, n in marks.items()}}


def _merge(*marks: dict) -> dict[int, int]:
    out: dict[int, int] = {}
    for m in marks:
        for y, n in m.items():
            out[y] = max(n, out.get(y, 0))
    return out


def _live_counters(url) -> dict[int, int]:
    """The counters of the database about to be replaced, if it can still be read."""
    if make_url(url).get_backend_name() == "sqlite" and not os.path.exists(db.sqlite_path(url) or ""):
        return {}
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return _counters(conn)
    except Exception:  # noqa: BLE001
        return {}
    finally:
        engine.dispose()


def restore(app, source: Path) -> Restored:
    if not source.is_file():
        raise BackupError(f"{source} gibt es nicht.")
    take_server_lock_exclusively(app)
    url = app.config["DATABASE_URL"]
    mark_file = app.config.get("PSEUDONYM_HIGH_WATER") or None
    marks = _merge(high_water.read(mark_file) if mark_file else {}, _live_counters(url))
    app.extensions["db_engine"].dispose()
    if make_url(url).get_backend_name() == "sqlite":
        restored = _restore_sqlite(db.sqlite_path(url), source, marks)
    else:
        restored = _restore_postgres(url, source, marks)
    if mark_file:
        high_water.raise_to(mark_file, restored.counters)
    # The restore itself goes into the (restored) audit trail: ids and codes only.
    with app.app_context():
        s = db.new_session()
        try:
            audit.record("database.restored", session=s, via="cli", audit_entries=restored.audit_entries)
            s.commit()
        finally:
            s.close()
    return restored


def _restore_sqlite(live: str, source: Path, marks: dict) -> Restored:
    if live is None:
        raise BackupError("Nur eine SQLite-Datei kann so wiederhergestellt werden.")
    folder = Path(live).parent
    work = folder / f".restore-{os.getpid()}.sqlite"
    work.unlink(missing_ok=True)
    try:
        # A working copy next to the database: checked, counters raised, then copied in.
        src, dst = sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(work)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.DatabaseError as err:
            raise BackupError(f"Die Datei ist keine lesbare SQLite-Datenbank ({type(err).__name__}).") from None
        finally:
            dst.close()
            src.close()
        entries = _check_sqlite_copy(work)
        engine = create_engine(f"sqlite:///{work}")
        try:
            with engine.begin() as conn:
                counters = _raise_counters(conn, marks)
        finally:
            engine.dispose()

        kept = None
        if os.path.exists(live):
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = Path(f"{live}.before-restore-{stamp}")
            old = sqlite3.connect(live, timeout=30)
            keep = sqlite3.connect(kept)
            try:
                old.backup(keep)  # the replaced database stays, as a file of its own
            except sqlite3.DatabaseError:
                kept.unlink(missing_ok=True)
                kept = None  # unreadable: nothing worth keeping
            finally:
                keep.close()
                old.close()
        src, dst = sqlite3.connect(work), sqlite3.connect(live, timeout=30)
        try:
            # Into the live file through SQLite itself (its WAL included), not by renaming files.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            if [r[0] for r in dst.execute("PRAGMA integrity_check")] != ["ok"]:
                raise BackupError("Nach dem Zurückspielen meldet integrity_check Fehler.")
        finally:
            dst.close()
            src.close()
        return Restored(entries, counters, kept)
    finally:
        work.unlink(missing_ok=True)


def _restore_postgres(url, source: Path, marks: dict) -> Restored:
    pg_restore = _pg_tool("pg_restore")
    conninfo, env = _libpq(url)
    if subprocess.run([pg_restore, "--list", str(source)], env=env, capture_output=True).returncode != 0:
        raise BackupError("pg_restore kann die Datei nicht lesen: kein Archiv von pg_dump --format=custom.")
    # First into a scratch database on the same server, to check the chain before touching the live one.
    live = make_url(url)
    scratch_name = f"{live.database}_restore_check"
    admin = create_engine(live.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch_name}"'))
            conn.execute(text(f'CREATE DATABASE "{scratch_name}"'))
        scratch = live.set(database=scratch_name)
        scratch_info, _ = _libpq(scratch)
        if (
            subprocess.run(
                [pg_restore, "--no-owner", "--exit-on-error", "-d", scratch_info, str(source)],
                env=env,
                capture_output=True,
            ).returncode
            != 0
        ):
            raise BackupError("pg_restore in eine Prüfdatenbank ist fehlgeschlagen: das Archiv ist beschädigt.")
        engine = create_engine(scratch)
        try:
            with Session(engine) as s:
                count, broken = audit.verify(s)
        finally:
            engine.dispose()
        if broken is not None:
            raise BackupError(
                f"audit-verify: Kette unterbrochen bei Eintrag {broken} (nach {count} gültigen Einträgen)."
            )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch_name}"'))
        admin.dispose()
    result = subprocess.run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "-d",
            conninfo,
            str(source),
        ],
        env=env,
        capture_output=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore ist fehlgeschlagen (Exit {result.returncode}); die Datenbank ist unverändert.")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            counters = _raise_counters(conn, marks)
    finally:
        engine.dispose()
    return Restored(count, counters, None)
