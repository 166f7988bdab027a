"""Benchmark 5: do other requests wait while minutes are finalised? (issue 11)

    .venv/bin/python bench/bench_finalise.py               # SQLite
    .venv/bin/python bench/bench_finalise.py --postgres    # on a throwaway PostgreSQL server
    .venv/bin/python bench/bench_finalise.py --readers 6 --seconds 15 --finalisations 10

A fresh database with the demo data and as many held conferences with draft minutes as there
are finalisations (each with an agenda, notes and measures, so that its PDF has a few pages).
The server runs as `make run` starts it: gunicorn with 2 workers on a free loopback port.

Readers (default 6), each a logged-in caseworker with its own session, walk in turn the
conference list, a conference page (its view is audited: a write) and /healthz, as fast as
the server answers. First for ``--seconds`` alone ("before"), then while one organiser
finalises the minutes one after the other ("during"; each finalisation renders the archive
PDF/A). Printed: p50 and p95 of the readers' requests before and during, per kind of
request, the ratio of the p95s, and how long each finalisation took.

Target: p95 during ≤ 2 × p95 before.
"""

import argparse
import os
import statistics
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

from bench_load import SECRET, free_port, start_gunicorn, stop_gunicorn
from common import database, machine, migrate, percentile

TARGET_RATIO = 2.0
READER = "fallmanagement@demo.invalid"


def build(url: str, finalisations: int) -> list[tuple[int, int]]:
    """Migrations, the demo, and ``finalisations`` held conferences with draft minutes of the
    reader's team: returns (minutes id, version) of each draft."""
    from datetime import timedelta

    from sqlalchemy import select

    from app import create_app, db
    from app.accounts.models import User
    from app.cases.models import Case, CaseStatus
    from app.clock import utcnow
    from app.conferences.models import AgendaItem, Conference, Measure, Note
    from app.demo import seed
    from app.minutes import services

    migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "REQUIRE_TWO_FACTOR": False})
    drafts = []
    with app.app_context():
        s = db.get_session()
        seed(s)
        organiser = s.execute(select(User).where(User.email == READER)).scalar_one()
        cases = s.execute(
            select(Case).where(Case.team_id == organiser.team_id, Case.status == CaseStatus.OPEN).order_by(Case.id)
        ).scalars()
        location = s.execute(select(Conference.location_id)).scalars().first()
        for n, case in zip(range(finalisations), cases, strict=False):
            starts = (utcnow() - timedelta(days=2, hours=n)).replace(microsecond=0)
            conf = Conference(
                case_id=case.id,
                occasion="Fallgespräch",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                location_id=location,
                organiser_id=organiser.id,
                status="held",
                ical_uid=f"bench-{n}@fallkonferenz",
            )
            s.add(conf)
            s.flush()
            for position in range(1, 7):
                s.add(
                    AgendaItem(
                        conference_id=conf.id,
                        position=position,
                        title=f"Punkt {position}",
                        categories=["general"],
                        discussion="Besprochen wurde der Stand. " * 30,
                    )
                )
                s.add(
                    Note(
                        conference_id=conf.id,
                        author_id=organiser.id,
                        body="Notiz zur Lage. " * 40,
                        categories=["general"],
                    )
                )
                s.add(
                    Measure(
                        conference_id=conf.id,
                        case_id=case.id,
                        what=f"Maßnahme {position}",
                        categories=["work"],
                        responsible_kind="jobcenter",
                        due_on=(starts + timedelta(days=30)).date(),
                    )
                )
            s.flush()
            minutes = services.save_draft(
                s, conf, None, organiser, {"summary": "Zusammenfassung. " * 50, "summary_categories": ["general"]}
            )
            drafts.append((minutes.id, minutes.version))
        s.commit()
    app.extensions["db_engine"].dispose()
    return drafts


def session_cookie(app, email: str) -> tuple[str, str]:
    """A server-side session for ``email`` and its signed cookie; and a CSRF token for its forms."""
    import hashlib

    from itsdangerous import URLSafeTimedSerializer
    from sqlalchemy import select

    from app import db
    from app.accounts import services as accounts
    from app.accounts.models import User

    raw = hashlib.sha1(os.urandom(64)).hexdigest()
    with app.app_context():
        s = db.get_session()
        token = accounts.start_session(s, s.execute(select(User).where(User.email == email)).scalar_one())
        s.commit()
    value = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": token, "_fresh": True, "csrf_token": raw}
    )
    csrf = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)
    return f"{app.config['SESSION_COOKIE_NAME']}={value}", csrf


class Readers:
    def __init__(self, port: int, cookies: list[str], paths: list[str]):
        self.port, self.cookies, self.paths = port, cookies, paths
        self.phase = "before"
        self.samples: dict[str, list[tuple[str, float]]] = {"before": [], "during": []}
        self.errors = 0
        self.stop = threading.Event()

    def run(self, cookie: str):
        conn = HTTPConnection("127.0.0.1", self.port, timeout=60)
        n = 0
        while not self.stop.is_set():
            path = self.paths[n % len(self.paths)]
            n += 1
            phase = self.phase
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn = HTTPConnection("127.0.0.1", self.port, timeout=60)
            elapsed = time.perf_counter() - t0
            if not ok:
                self.errors += 1
            self.samples[phase].append((path.split("/")[1] or "/", elapsed))


def finalise_all(port: int, cookie: str, csrf: str, drafts) -> list[float]:
    took = []
    for minutes_id, version in drafts:
        body = urllib.parse.urlencode({"version": version, "csrf_token": csrf}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/protokolle/{minutes_id}/abschliessen",
            data=body,
            method="POST",
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as r:  # follows the redirect to the minutes page
            assert r.status == 200, r.status
        took.append(time.perf_counter() - t0)
    return took


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--readers", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--finalisations", type=int, default=10)
    args = parser.parse_args()
    kind = "postgres" if args.postgres else "sqlite"

    from sqlalchemy import select

    from app import create_app, db
    from app.conferences.models import Conference
    from app.minutes.models import Minutes, MinutesStatus

    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp) / "finalise.sqlite") as url:
        tmp = Path(tmp)
        drafts = build(url, args.finalisations)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "REQUIRE_TWO_FACTOR": False})
        with app.app_context():
            conference_id = db.get_session().execute(select(Conference.id).order_by(Conference.id)).scalars().first()
        cookies = [session_cookie(app, READER)[0] for _ in range(args.readers)]
        organiser_cookie, csrf = session_cookie(app, READER)
        app.extensions["db_engine"].dispose()

        load_before = os.getloadavg()[0]
        port = free_port()
        server = start_gunicorn(url, port, tmp / "gunicorn.log")
        try:
            readers = Readers(port, cookies, ["/konferenzen", f"/konferenzen/{conference_id}", "/healthz"])
            threads = [threading.Thread(target=readers.run, args=(c,), daemon=True) for c in cookies]
            for t in threads:
                t.start()
            time.sleep(args.seconds)
            readers.phase = "during"
            took = finalise_all(port, organiser_cookie, csrf, drafts)
            readers.stop.set()
            for t in threads:
                t.join()
        finally:
            stop_gunicorn(server)
        with app.app_context():
            final = db.get_session().execute(select(Minutes.id).where(Minutes.status == MinutesStatus.FINAL)).all()
        app.extensions["db_engine"].dispose()

    print(
        f"\nmachine: {machine()}; database: {kind}; gunicorn 2 sync workers; {args.readers} readers; "
        f"load average before the run {load_before:.1f}"
    )
    print(
        f"{args.finalisations} finalisations, {len(final)} final minutes afterwards; "
        f"each took {statistics.median(took):.2f} s median, {max(took):.2f} s at most"
    )
    print("\n| requests | phase | n | p50 (ms) | p95 (ms) |")
    print("|---|---|---|---|---|")
    ratios = {}
    for kind_ in ("all", "konferenzen", "healthz"):
        p95 = {}
        for phase in ("before", "during"):
            values = [t for k, t in readers.samples[phase] if kind_ == "all" or k == kind_]
            p95[phase] = percentile(values, 95)
            print(
                f"| {kind_} | {phase} | {len(values)} | {percentile(values, 50) * 1000:.0f} | {p95[phase] * 1000:.0f} |"
            )
        ratios[kind_] = p95["during"] / p95["before"]
    print(
        f"\np95 during / before: all {ratios['all']:.2f}, conference pages {ratios['konferenzen']:.2f}, "
        f"/healthz {ratios['healthz']:.2f} (target ≤ {TARGET_RATIO:.0f}); reader errors: {readers.errors}"
    )
    met = ratios["all"] <= TARGET_RATIO and readers.errors == 0 and len(final) >= args.finalisations
    print("target met" if met else "target NOT met")


if __name__ == "__main__":
    main()
