"""Benchmark 1: server time and SQL queries per page at 1,000 and 100,000 cases.

    .venv/bin/python bench/bench_pages.py                 # SQLite, 1,000 and 100,000 cases
    .venv/bin/python bench/bench_pages.py --postgres      # on a throwaway PostgreSQL server
    .venv/bin/python bench/bench_pages.py --sizes 1000,20000 --repeat 20

Each database is built with the real migrations, the demo data and `generate-data`
(SQLite files are kept in /tmp/fk-bench and reused). Requests go through the whole
application (Flask test client: routing, log-in check, policy, queries, audit entry,
templates) as logged-in demo users; the time is measured around each request, and the
queries are counted with SQLAlchemy's cursor events. Targets (issue 6): at the largest
size every median < 30 ms and p95 < 60 ms, at most 12 queries per page and the same
number at every size, median at the largest size ≤ 1.5 × the median at the smallest.
"""

import argparse
import time
from pathlib import Path

from common import CACHE, database, is_built, machine, mark_built, median, migrate, percentile


def build(url: str, cases: int):
    from app import create_app, db
    from app.demo import seed
    from app.generate import generate

    migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REQUIRE_TWO_FACTOR": False})
    with app.app_context():
        s = db.get_session()
        seed(s, if_empty=True)
        generate(s, cases, batch=2000, echo=lambda line: print("  " + line, flush=True))
    if url.startswith("postgresql"):
        # A live database is vacuumed by autovacuum; a freshly loaded one has no visibility map
        # yet, so every index-only scan would still read the table until autovacuum comes by.
        from sqlalchemy import create_engine, text

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
        engine.dispose()


def pages(app):
    """(label, user e-mail, url) for every page the issue names, picked from the data."""
    from sqlalchemy import func, select

    from app import db
    from app.accounts.models import User
    from app.cases.models import Case, Consent
    from app.clock import berlin_today
    from app.conferences.models import Conference, Invitation

    with app.app_context():
        s = db.get_session()
        cw = s.execute(select(User).where(User.email == "fallmanagement@demo.invalid")).scalar_one()
        partner = s.execute(select(User).where(User.email == "partner.schuldnerberatung@demo.invalid")).scalar_one()
        # A case of the caseworker's team with conferences, and a conference the partner is invited to.
        conf = s.execute(
            select(Conference)
            .join(Case, Case.id == Conference.case_id)
            .join(Invitation, Invitation.conference_id == Conference.id)
            .join(Consent, (Consent.case_id == Case.id) & (Consent.agency_id == Invitation.agency_id))
            .where(
                Case.team_id == cw.team_id,
                Invitation.agency_id == partner.agency_id,
                Invitation.status == "accepted",
                Conference.status == "planned",
                Consent.withdrawn_on.is_(None),
                Consent.valid_until >= berlin_today(),
                Consent.signed_on <= berlin_today(),
            )
            .order_by(Conference.starts_at)
            .limit(1)
        ).scalar_one()
        district = s.execute(select(Case.district_id).limit(1)).scalar()
        team_cases = s.execute(select(func.count()).select_from(Case).where(Case.team_id == cw.team_id)).scalar()
    # Counted over every status, so the deep page lists all statuses (the list's default, open
    # cases only, has far fewer pages: page 500 of it would be empty).
    last_page = max(1, min(500, team_cases // app.config["PAGE_SIZE"]))
    return [
        ("caseworker start page", "fallmanagement@demo.invalid", "/"),
        ("case list, first page", "fallmanagement@demo.invalid", "/faelle"),
        (
            "case list, filtered",
            "fallmanagement@demo.invalid",
            f"/faelle?status=offen&stadtteil={district}&hemmnis=debt",
        ),
        ("case list, page 500 (or the last)", "fallmanagement@demo.invalid", f"/faelle?status=alle&seite={last_page}"),
        ("case page", "fallmanagement@demo.invalid", f"/faelle/{conf.case_id}"),
        ("conference page", "fallmanagement@demo.invalid", f"/konferenzen/{conf.id}"),
        ("partner start page", "partner.schuldnerberatung@demo.invalid", "/"),
        ("partner conference page", "partner.schuldnerberatung@demo.invalid", f"/konferenzen/{conf.id}"),
        ("team lead overview", "teamleitung@demo.invalid", "/team"),
        # The § 18 network report (issue 15): its own target, median ≤ 300 ms at the largest size.
        ("network report, team, this quarter", "teamleitung@demo.invalid", "/netzwerkbericht"),
        (
            "network report, all teams, last year",
            "steuerung@demo.invalid",
            f"/netzwerkbericht?jahr={berlin_today().year - 1}&quartal=",
        ),
    ]


# Pages with a target of their own: (median at the largest size, ms). Every other page: the targets above.
OWN_TARGETS = {"network report, team, this quarter": 300, "network report, all teams, last year": 300}


def measure(url: str, repeat: int):
    from sqlalchemy import event, select

    from app import create_app, db
    from app.accounts import services as accounts
    from app.accounts.models import User

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REQUIRE_TWO_FACTOR": False})
    counter = {"n": 0}
    with app.app_context():
        event.listen(db.engine(), "before_cursor_execute", lambda *a: counter.__setitem__("n", counter["n"] + 1))
    clients = {}

    def client_for(email):
        if email not in clients:
            c = app.test_client()
            with app.app_context():
                s = db.get_session()
                user = s.execute(select(User).where(User.email == email)).scalar_one()
                token = accounts.start_session(s, user)
                s.commit()
            with c.session_transaction() as sess:
                sess["_user_id"], sess["_fresh"] = token, True
            clients[email] = c
        return clients[email]

    results = {}
    for label, email, path in pages(app):
        c = client_for(email)
        for _ in range(3):  # warm-up: templates compiled, caches filled
            c.get(path)
        times, queries = [], set()
        for _ in range(repeat):
            counter["n"] = 0
            t0 = time.perf_counter()
            r = c.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            queries.add(counter["n"])
            if r.status_code != 200:
                raise SystemExit(f"{label}: {path} answered {r.status_code}")
        results[label] = (median(times), percentile(times, 95), max(queries), path)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--cache", type=Path, default=CACHE, help="folder of the SQLite files (built once, reused)")
    parser.add_argument(
        "--pg-server",
        help="a running PostgreSQL server (URL without database, e.g. from `python -m tests.pg`): "
        "its databases fk_pages_<size> are built once and kept",
    )
    args = parser.parse_args()
    kind = "postgres" if args.postgres else "sqlite"
    sizes = [int(x) for x in args.sizes.split(",")]
    table = {}
    for size in sizes:
        path = args.cache / f"pages-{size}.sqlite"
        with database(kind, path, args.pg_server, f"fk_pages_{size}") as url:
            fresh = not path.exists() if kind == "sqlite" else not (args.pg_server and is_built(url))
            if fresh:
                if kind == "postgres" and args.pg_server:  # a half-built one from an interrupted run
                    from tests.pg import create_database

                    url = create_database(args.pg_server.rstrip("/"), f"fk_pages_{size}")
                print(f"building {size} cases on {kind} …", flush=True)
                t0 = time.monotonic()
                build(url, size)
                if kind == "postgres" and args.pg_server:
                    mark_built(url)
                print(f"  built in {time.monotonic() - t0:.0f} s", flush=True)
            table[size] = measure(url, args.repeat)
    small, large = sizes[0], sizes[-1]
    print(f"\nmachine: {machine()}; database: {kind}; {args.repeat} requests per page after 3 warm-up requests\n")
    head = " | ".join(f"{s:,} cases: median / p95 (ms), queries" for s in sizes)
    print(f"| page | {head} | targets |")
    print("|---|" + "---|" * len(sizes) + "---|")
    all_ok = True
    for label in table[small]:
        cells, ok = [], True
        for s in sizes:
            med, p95, q, _ = table[s][label]
            cells.append(f"{med:.1f} / {p95:.1f}, {q}")
        med_l, p95_l, q_l, _ = table[large][label]
        med_s, _, q_s, _ = table[small][label]
        if label in OWN_TARGETS:
            checks = [med_l <= OWN_TARGETS[label], q_l == q_s]
            names = [f"median≤{OWN_TARGETS[label]}", "same queries"]
        else:
            checks = [med_l < 30, p95_l < 60, q_l <= 12, q_l == q_s, med_l <= 1.5 * med_s]
            names = ["median<30", "p95<60", "queries≤12", "same queries", "growth≤1.5×"]
        ok = all(checks)
        all_ok &= ok
        verdict = "met" if ok else "NOT met: " + ", ".join(n for n, c in zip(names, checks, strict=False) if not c)
        print(f"| {label} | " + " | ".join(cells) + f" | {verdict} |")
    print("\nall targets met" if all_ok else "\nsome targets NOT met")


if __name__ == "__main__":
    main()
