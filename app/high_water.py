"""The pseudonym high-water mark: the last number handed out per year, kept outside the database.

Pseudonyms are never reused (DESIGN.md section 3). The counter in the database guarantees
that while the database lives; a restore from a backup takes it back to the backup's
state, and the pseudonyms handed out since would be handed out again. So every number is
also written here, in a small file beside the database's deployment (the instance folder,
``PSEUDONYM_HIGH_WATER``), before the case is committed, and ``next_pseudonym`` never hands
out a number at or below the mark, whatever the database says. ``flask restore`` raises
the restored counter to the mark as well.

A number written here whose case was rolled back is skipped, never reused: a gap, no harm.

Several application servers: the mark must be ONE file that every server writes, on shared
storage (e.g. an NFS v4 mount, the same ``PSEUDONYM_HIGH_WATER`` path everywhere). The
database's counter row already keeps running servers from handing out a number twice; the
file is what survives a restore or the loss of the database, so it must have seen every
server's numbers. A file of its own per server would only know that server's share
(``next_pseudonym`` notices a file behind the database's counter, logs it and raises it).
The lock is a POSIX record lock (``lockf``), which NFS carries between hosts; the file is
read again under it and replaced whole (write, fsync, rename).
"""

import fcntl
import json
import os
from contextlib import contextmanager

SESSION_KEY = "pseudonym_high_water"  # the file's path in every session's info (app.db)


@contextmanager
def _locked(path):
    # Writers of different years are not serialised by the database's counter row, nor is
    # `flask restore`. POSIX record locks (not flock): NFS carries them between hosts.
    with open(f"{path}.lock", "a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(lock, fcntl.LOCK_UN)


def read(path) -> dict[int, int]:
    """{year: last number} (empty without a file)."""
    try:
        with open(path) as fh:
            return {int(year): int(n) for year, n in json.load(fh).items()}
    except FileNotFoundError:
        return {}


def raise_to(path, marks: dict[int, int]) -> None:
    """Raise the mark of each year to at least the given number, durably (fsync, rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with _locked(path):
        current = read(path)
        merged = dict(current)
        for year, n in marks.items():
            merged[year] = max(n, current.get(year, 0))
        if merged == current:
            return
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump({str(y): n for y, n in sorted(merged.items())}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
