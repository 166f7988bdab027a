"""The public consultation-hour pages under the load a poster's QR code brings: server time and SQL
queries of the list, a place's page, the feeds and the poster, rendered and answered 304.

    .venv/bin/python bench/bench_public_hours.py [--hours 60] [--repeat 30]

Builds an SQLite database with the real migrations and the demo data, then adds ``--hours``
published weekly series at neighbourhood offices (every one with a cancelled and a moved date).
Requests go through the whole application (Flask test client, no log-in, no cookie).
"""

import argparse
import time
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

from common import database, machine, median, migrate, percentile

DB = Path("/tmp/fk-bench/public-hours.sqlite")


def build(url: str, hours: int):
    from sqlalchemy import select

    from app import create_app, db
    from app.accounts.models import User
    from app.agencies.models import District, Location
    from app.clock import berlin_today
    from app.consultations import services
    from app.consultations.models import ConsultationTopic
    from app.demo import seed

    migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        s = db.get_session()
        seed(s, if_empty=True)
        lead = s.execute(select(User).where(User.email == "teamleitung@demo.invalid")).scalar_one()
        districts = list(s.execute(select(District)).scalars())
        topics = [t.id for t in s.execute(select(ConsultationTopic)).scalars()]
        today = berlin_today()
        for n in range(hours):
            place = Location(name=f"Stadtteilbüro Bench {n}", kind="neighbourhood_office")
            place.district_id = districts[n % len(districts)].id
            s.add(place)
            s.flush()
            hour = services.save_hour(
                s,
                lead,
                {
                    "title": "Sprechstunde des Jobcenters",
                    "location_id": place.id,
                    "recurrence": "weekly",
                    "weekday": n % 5,
                    "week_of_month": None,
                    "starts_on": today - timedelta(days=30),
                    "ends_on": today + timedelta(days=700),
                    "start_time": clock_time(9 + n % 6),
                    "end_time": clock_time(11 + n % 6),
                    "topic_ids": topics[: 1 + n % len(topics)],
                    "languages": ["de", "tr"],
                    "step_free": True,
                    "hearing_loop": False,
                    "accessibility_note": "",
                    "appointment_needed": False,
                    "note": "",
                    "contact_office": "Jobcenter MainArbeit",
                    "contact_phone": "069 8409-0",
                    "contact_email": "",
                    "status": "published",
                },
            )
            days = [
                o.day
                for o in services.occurrences(
                    hour, today + timedelta(days=1), today + timedelta(days=40), include_skipped=False
                )
            ]
            services.add_exception(s, hour, lead, {"day": days[0], "kind": "cancelled", "note": "Fortbildung"})
        s.commit()
    return app


def measure(app, url, repeat, headers=None):
    from sqlalchemy import event

    from app import db

    with app.app_context():
        engine = db.engine()
    count = [0]

    def on_execute(*_args):
        count[0] += 1

    client = app.test_client()
    client.get(url)  # warm
    times, queries, status, size = [], [], None, 0
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        for _ in range(repeat):
            count[0] = 0
            start = time.perf_counter()
            r = client.get(url, headers=headers or {})
            times.append((time.perf_counter() - start) * 1000)
            queries.append(count[0])
            status, size = r.status_code, len(r.get_data())
            assert "Set-Cookie" not in r.headers
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return status, size, median(times), percentile(times, 95), max(queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    DB.unlink(missing_ok=True)
    with database("sqlite", DB) as url:
        app = build(url, args.hours)
        from sqlalchemy import select

        from app import db
        from app.agencies.models import Location

        with app.app_context():
            place = (
                db.get_session().execute(select(Location).where(Location.name == "Stadtteilbüro Bench 0")).scalar_one()
            )
        print(f"# {machine()}; {args.hours} published weekly series (+ demo), {args.repeat} requests each")
        print(f"{'page':48} {'status':>6} {'bytes':>8} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        urls = [
            ("/sprechstunden", "/sprechstunden"),
            ("/sprechstunden/einfach", "/sprechstunden/einfach"),
            ("place page", f"/sprechstunden/orte/{place.id}"),
            ("feed, all", "/sprechstunden/kalender.ics"),
            ("feed, place", f"/sprechstunden/orte/{place.id}/kalender.ics"),
            ("poster (PDF, cached after the first)", f"/sprechstunden/orte/{place.id}/aushang.pdf"),
        ]
        for label, url in urls:
            status, size, med, p95, q = measure(app, url, args.repeat)
            print(f"{label:48} {status:>6} {size:>8} {med:>10.1f} {p95:>8.1f} {q:>8}")
            etag = app.test_client().get(url).headers["ETag"]
            status, size, med, p95, q = measure(app, url, args.repeat, {"If-None-Match": etag})
            print(f"{label + ', If-None-Match':48} {status:>6} {size:>8} {med:>10.1f} {p95:>8.1f} {q:>8}")


if __name__ == "__main__":
    main()
