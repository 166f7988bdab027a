"""Growth of each page between two databases, measured side by side (for a shared machine).

    FK_BENCH_CACHE=/tmp/scale-bench .venv/bin/python bench/compare_sizes.py        # SQLite files of bench_pages.py
    .venv/bin/python bench/compare_sizes.py --urls URL_1000 URL_100000             # e.g. fk_pages_<N> on PostgreSQL

bench_pages.py measures the small database, then the large one; when other work on the machine
comes and goes meanwhile, its ratio moves with it. Here the two are asked in turn, request by
request, in one process, so both see the same load; the figure is the process's CPU time per
request (``time.process_time``: what the application itself spends, without waiting for a
core). On SQLite that is the whole page; on PostgreSQL the server's share is not in it — the
wall-clock median is printed beside it.
"""

import argparse
import statistics
import time

from bench_pages import pages
from common import CACHE


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", nargs=2, help="the small and the large database")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    urls = args.urls or [f"sqlite:///{CACHE / f'pages-{n}.sqlite'}" for n in (1000, 100000)]

    from sqlalchemy import select

    from app import create_app, db
    from app.accounts import services as accounts
    from app.accounts.models import User

    sides = []
    for url in urls:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REQUIRE_TWO_FACTOR": False})
        clients, side = {}, {}
        for label, email, path in pages(app):
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
            side[label] = (clients[email], path)
        sides.append(side)
    labels = list(sides[0])
    cpu = {(i, label): [] for i in range(2) for label in labels}
    wall = {(i, label): [] for i in range(2) for label in labels}
    for round_ in range(args.repeat + 3):
        for label in labels:
            for i, side in enumerate(sides):
                client, path = side[label]
                t0, c0 = time.perf_counter(), time.process_time()
                r = client.get(path)
                if r.status_code != 200:
                    raise SystemExit(f"{label}: {path} answered {r.status_code}")
                if round_ >= 3:  # warm-up: templates compiled, caches filled
                    cpu[i, label].append((time.process_time() - c0) * 1000)
                    wall[i, label].append((time.perf_counter() - t0) * 1000)
    print(f"{args.repeat} requests per page and database, in turn; medians in ms\n")
    print("| page | small: CPU / wall | large: CPU / wall | growth of CPU time |")
    print("|---|---|---|---|")
    worst = 0.0
    for label in labels:
        c = [statistics.median(cpu[i, label]) for i in range(2)]
        w = [statistics.median(wall[i, label]) for i in range(2)]
        worst = max(worst, c[1] / c[0])
        print(f"| {label} | {c[0]:.1f} / {w[0]:.1f} | {c[1]:.1f} / {w[1]:.1f} | {c[1] / c[0]:.2f}× |")
    print(f"\nlargest growth of CPU time: {worst:.2f}×")


if __name__ == "__main__":
    main()
