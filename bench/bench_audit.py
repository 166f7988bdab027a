"""Benchmark 3: time of `flask audit-verify` over one million audit entries.

    .venv/bin/python bench/bench_audit.py [--entries 1000000] [--postgres]

Builds a chain of entries shaped like the application's (ids and action names), then runs
the real CLI command in a subprocess and reports its wall time. Target: under 15 s.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from common import ROOT, database, machine, migrate

TARGET_SECONDS = 15.0


def fill(url: str, entries: int):
    from sqlalchemy import create_engine, insert

    from app.audit import GENESIS, AuditEntry, _digest
    from app.clock import utcnow

    engine = create_engine(url)
    rnd = random.Random(7)
    actions = ["case.viewed", "conference.viewed", "case.updated", "note.created", "login.succeeded"]
    prev, at = GENESIS, utcnow() - timedelta(days=3650)
    batch = []
    with engine.begin() as conn:
        for _i in range(entries):
            at += timedelta(seconds=rnd.randint(1, 300))
            action = rnd.choice(actions)
            actor, otype, oid, details = rnd.randint(1, 40), "case_file", rnd.randint(1, 100000), {}
            digest = _digest(prev, at, actor, action, otype, oid, details)
            batch.append(
                dict(
                    at=at,
                    actor_id=actor,
                    action=action,
                    object_type=otype,
                    object_id=oid,
                    details=details,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
            if len(batch) == 20000:
                conn.execute(insert(AuditEntry.__table__), batch)
                batch.clear()
        if batch:
            conn.execute(insert(AuditEntry.__table__), batch)
    engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    kind = "postgres" if args.postgres else "sqlite"
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp) / "audit.sqlite") as url:
        migrate(url)
        t0 = time.monotonic()
        fill(url, args.entries)
        print(f"filled {args.entries} entries in {time.monotonic() - t0:.1f} s")
        env = dict(os.environ, DATABASE_URL=url, FLASK_APP="app:create_app", SECRET_KEY="bench")
        t0 = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-m", "flask", "audit-verify"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        elapsed = time.monotonic() - t0
        print(out.stdout.strip() or out.stderr.strip())
        print(f"\nmachine: {machine()}")
        print(f"| database | entries | audit-verify (s) | target < {TARGET_SECONDS:.0f} s |")
        print("|---|---|---|---|")
        print(
            f"| {kind} | {args.entries:,} | {elapsed:.1f} | "
            f"{'met' if elapsed < TARGET_SECONDS and out.returncode == 0 else 'NOT met'} |"
        )


if __name__ == "__main__":
    main()
