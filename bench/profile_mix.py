"""Where the CPU time of a page goes: the load benchmark's page mix in one process, profiled.

    .venv/bin/python bench/profile_mix.py                      # SQLite file of bench_pages (1,000 cases)
    .venv/bin/python bench/profile_mix.py --cases 100000 --requests 2000
    .venv/bin/python bench/profile_mix.py --url postgresql+psycopg://…/fk_pages_100000

Every client of bench_load.py (the same accounts, sessions and pages) sends its pages in turn
through the Flask test client, as gunicorn's worker would call the application; the first
round is not profiled (templates compiled, caches filled). Printed: the mean time per request
and the top of cProfile's table by own time and by cumulative time.
"""

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path

from bench_load import CLIENTS, ROTATION, client_pages
from common import CACHE, machine


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", type=int, default=1000, help="the SQLite file of bench_pages.py with this many cases"
    )
    parser.add_argument("--url", help="another database (built like bench_pages.py builds it)")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="only the mean time per request")
    parser.add_argument("--callers", help="also print who calls the functions matching this pattern")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{CACHE / f'pages-{args.cases}.sqlite'}"
    if url.startswith("sqlite") and not (CACHE / f"pages-{args.cases}.sqlite").exists():
        raise SystemExit(f"missing: run bench_pages.py --sizes {args.cases} first")

    from sqlalchemy import select

    from app import create_app, db
    from app.accounts import services as accounts
    from app.accounts.models import User

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REQUIRE_TWO_FACTOR": False})
    pages = client_pages(app)
    clients = []
    for n in range(CLIENTS):
        email = ROTATION[n % len(ROTATION)]
        c = app.test_client()
        with app.app_context():
            s = db.get_session()
            user = s.execute(select(User).where(User.email == email)).scalar_one()
            token = accounts.start_session(s, user)
            s.commit()
        with c.session_transaction() as sess:
            sess["_user_id"], sess["_fresh"] = token, True
        clients.append((c, pages[email]))

    def one_round(limit=None):
        sent = 0
        i = 0
        while limit is None or sent < limit:
            for c, paths in clients:
                path = paths[i % len(paths)]
                r = c.get(path)
                if r.status_code != 200:
                    raise SystemExit(f"{path} answered {r.status_code}")
                sent += 1
                if limit is not None and sent >= limit:
                    break
            i += 1
            if limit is None and i >= max(len(p) for _c, p in clients):
                break
        return sent

    one_round()  # warm-up: every page once
    profiler = None if args.no_profile else cProfile.Profile()
    t0 = time.process_time()
    if profiler:
        profiler.enable()
    sent = one_round(args.requests)
    if profiler:
        profiler.disable()
    cpu = time.process_time() - t0
    print(f"machine: {machine()}; database: {url.split(':')[0]}; {sent} requests")
    print(f"CPU per request: {cpu / sent * 1000:.2f} ms" + ("" if args.no_profile else " (under cProfile)"))
    if profiler:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.top)
            lines = out.getvalue().splitlines()
            start = next(i for i, ln in enumerate(lines) if ln.strip().startswith("ncalls"))
            print(f"\n--- top {args.top} by {key} ---")
            print("\n".join(ln.replace(str(Path(__file__).resolve().parent.parent) + "/", "") for ln in lines[start:]))
        if args.callers:
            pstats.Stats(profiler).sort_stats("tottime").print_callers(args.callers, args.top)


if __name__ == "__main__":
    main()
