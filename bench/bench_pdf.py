"""Benchmark: rendering and serving the minutes PDF.

    .venv/bin/python bench/bench_pdf.py [--runs 7] [--serve-runs 200]

Builds a realistic conference in a temporary SQLite database (8 invited parties, 10 agenda
items with discussion, 30 measures, 12 notes, a review of earlier measures) and prints,
as medians of repeated runs in one process:

- the time to render its minutes through the application's code (load the content from
  the database, render the template, render the PDF/A with the checked fetcher and limits);
- the time WeasyPrint alone takes for the same HTML with the same fonts and stylesheet
  (served from memory, no checks);
- their ratio (target: the application adds at most 15 %);
- the time to serve the already finalised PDF through the test client, log-in session,
  policy check and audit entry included (target: under 10 ms).
"""

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.15
TARGET_SERVE_MS = 10.0


def build(session):
    """The conference: returns (conference, organiser)."""
    import uuid

    from app.accounts.models import Team, User
    from app.agencies.models import Agency, District, Location
    from app.cases.models import Case, Consent
    from app.clock import utcnow
    from app.conferences.models import AgendaItem, Conference, Invitation, Measure, Note

    team = Team(name="Team Nord")
    district = District(name="Nordend")
    location = Location(
        name="Stadtteilbüro Nordend, Gruppenraum", kind="neighbourhood_office", address="Gruppenraum, Erdgeschoss"
    )
    session.add_all([team, district, location])
    session.flush()
    organiser = User(email="moderation@jobcenter.example", name="Fatma Öztürk-Weiß", role="caseworker", team_id=team.id)
    session.add(organiser)
    session.flush()
    case = Case(
        pseudonym="FK-2026-0815",
        team_id=team.id,
        caseworker_id=organiser.id,
        district_id=district.id,
        age_band="35_49",
        household_type="single_parent",
        internal_reference="INTREF-1",
    )
    session.add(case)
    session.flush()
    starts = (utcnow() - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)

    def conference(when, status, previous=None):
        c = Conference(
            case_id=case.id,
            occasion="Überprüfung der Vereinbarungen",
            starts_at=when,
            ends_at=when + timedelta(minutes=90),
            location_id=location.id,
            organiser_id=organiser.id,
            status=status,
            person_attends=True,
            person_attended=True,
            ical_uid=f"{uuid.uuid4()}@bench",
            previous_conference_id=previous,
        )
        session.add(c)
        session.flush()
        return c

    previous = conference(starts - timedelta(days=90), "closed")
    conf = conference(starts, "held", previous.id)
    conference(starts + timedelta(days=90), "planned", conf.id)
    kinds = ["counselling", "education", "health", "neighbourhood_office", "youth", "counselling", "other", "health"]
    names = [
        "Schuldner- und Insolvenzberatung",
        "Bildungswerk Main",
        "Gesundheitsförderung Offenbach",
        "Stadtteilbüro Nordend",
        "Jugendberufshilfe",
        "Suchtberatung am Main",
        "Nachbarschaftshilfe Bieber",
        "Sozialpsychiatrischer Dienst",
    ]
    agencies = []
    for n, (name, kind) in enumerate(zip(names, kinds, strict=False)):
        agency = Agency(name=f"{name} (Bench)", type=kind, contact_email=f"a{n}@bench.example")
        session.add(agency)
        session.flush()
        agencies.append(agency)
        session.add(
            Consent(
                case_id=case.id,
                agency_id=agency.id,
                signed_on=date.today() - timedelta(days=30),
                valid_until=date.today() + timedelta(days=300),
                scope=["general", "work", "debt"],
                proof_reference="Akte",
                recorded_by_id=organiser.id,
            )
        )
        session.add(
            Invitation(
                conference_id=conf.id,
                agency_id=agency.id,
                status="accepted",
                attendance=["present", "present", "excused", "absent"][n % 4],
            )
        )
    discussion = (
        "Die Beteiligten schildern den Stand aus ihrer Sicht. Die Schuldenregulierung kommt voran, "
        "die Kinderbetreuung ist ab dem Frühjahr gesichert. Offene Fragen zur Qualifizierung werden "
        "bis zum nächsten Termin geklärt; die Person wünscht eine Teilzeitstelle am Vormittag.\n"
    )
    for n in range(10):
        session.add(
            AgendaItem(
                conference_id=conf.id,
                position=n + 1,
                title=f"Tagesordnungspunkt {n + 1}: Übergänge",
                discussion=discussion * 2,
            )
        )
    for n in range(12):
        agency = agencies[n % 8] if n % 3 else None
        session.add(
            Note(
                conference_id=conf.id,
                author_id=organiser.id,
                agency_id=agency.id if agency else None,
                body=("Stellungnahme: " + discussion) * 2,
                categories=[["general"], ["debt"], ["work"]][n % 3],
                visibility="jobcenter" if n == 4 else "shared",
            )
        )
    for n in range(30):
        session.add(
            Measure(
                conference_id=conf.id,
                case_id=case.id,
                what=f"Maßnahme {n + 1}: Unterlagen für den Antrag zusammenstellen und gemeinsam prüfen",
                responsible_kind="agency",
                responsible_agency_id=agencies[n % 8].id,
                due_on=date.today() + timedelta(days=14 + n),
            )
        )
    for n in range(5):
        session.add(
            Measure(
                conference_id=previous.id,
                case_id=case.id,
                what=f"Frühere Maßnahme {n + 1}",
                responsible_kind="person",
                due_on=date.today() - timedelta(days=20),
                status="done",
                outcome="Erledigt und belegt.",
                reviewed_in_conference_id=conf.id,
            )
        )
    session.commit()
    return conf, organiser


def median_of(fn, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="renders per measurement (default 7)")
    parser.add_argument("--serve-runs", type=int, default=200, help="downloads measured (default 200)")
    args = parser.parse_args(argv)

    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    from app import create_app, db, pdf
    from app.accounts import services as accounts
    from app.minutes import document, services
    from app.minutes.models import Minutes
    from app.models import metadata

    tmp = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite'}",
            "SECRET_KEY": "bench",
            "MAIL_OUTBOX": str(tmp / "outbox"),
        },
        instance_path=str(tmp / "instance"),
    )
    with app.app_context():
        metadata.create_all(db.engine())
        s = db.get_session()
        conf, organiser = build(s)
        draft = Minutes(
            conference_id=conf.id,
            summary="Zusammenfassung der Fallkonferenz. " * 20,
            decisions="1. Beschluss.\n2. Beschluss.\n3. Beschluss.",
            next_date_note="In drei Monaten.",
        )

        # 1. through the application: content from the database, template, checked PDF/A render
        def through_app():
            content = document.assemble(s, conf)
            s.rollback()  # each run reads afresh, as a request would
            return document.render_pdf(s, draft, content)

        # 2. WeasyPrint alone: the same HTML and the same (already decoded) fonts and stylesheet
        content = document.assemble(s, conf)
        html = document.document_html(s, draft, content)
        served = {}
        checked = pdf.StaticOnlyFetcher(app.static_folder)
        for url in pdf.render(html, static_folder=app.static_folder).served:
            response = checked.fetch(url)
            served[url] = (response.read(), response.content_type)

        class FromMemory(URLFetcher):
            def fetch(self, url, headers=None):
                body, content_type = served[url]
                return URLFetcherResponse(url, body, {"Content-Type": content_type})

        def weasyprint_alone():
            return HTML(string=html, base_url=pdf.STATIC_BASE, url_fetcher=FromMemory()).write_pdf(
                pdf_variant=pdf.PDF_VARIANT, pdf_tags=True
            )

        def weasyprint_default_fetcher():
            return HTML(string=html, base_url=Path(app.static_folder).as_uri() + "/").write_pdf(
                pdf_variant=pdf.PDF_VARIANT, pdf_tags=True
            )

        document = through_app()  # warm-up: templates compiled, fonts decoded once per process
        weasyprint_alone()
        app_times, alone_times = [], []
        for _ in range(args.runs):  # interleaved, so drift of the machine hits both alike
            app_times.append(median_of(through_app, 1)[0])
            alone_times.append(median_of(weasyprint_alone, 1)[0])
        default_median, _ = median_of(weasyprint_default_fetcher, max(3, args.runs // 2))
        template_median, _ = median_of(lambda: document.document_html(s, draft, content), args.runs * 3)
        assemble_median, _ = median_of(lambda: (document.assemble(s, conf), s.rollback()), args.runs * 3)

        # 3. serving the finalised PDF
        s.rollback()
        minutes = services.save_draft(
            s, conf, None, organiser, {"summary": draft.summary, "decisions": draft.decisions}, finalise=True
        )
        s.commit()
        minutes_id = minutes.id
        token = accounts.start_session(s, organiser)
        s.commit()

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    url = f"/protokolle/{minutes_id}/pdf"
    first = client.get(url)
    assert first.status_code == 200 and first.data.startswith(b"%PDF"), first.status_code
    serve_times = []
    for _ in range(args.serve_runs):
        started = time.perf_counter()
        response = client.get(url)
        serve_times.append(time.perf_counter() - started)
        assert response.status_code == 200

    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(document)).pages)
    app_median, alone_median = statistics.median(app_times), statistics.median(alone_times)
    ratio = app_median / alone_median
    serve_ms = statistics.median(serve_times) * 1000
    serve_p95 = sorted(serve_times)[int(0.95 * (len(serve_times) - 1))] * 1000
    print(
        f"Minutes PDF benchmark — {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"WeasyPrint {__import__('weasyprint').__version__}, SQLite"
    )
    print(
        f"document: {pages} pages, {len(document) // 1024} KB, {pdf.PDF_VARIANT}, tagged; "
        f"8 invited parties, 10 agenda items, 30 measures, 12 notes"
    )
    print(
        f"render through the application  median {app_median * 1000:8.1f} ms  ({args.runs} runs; of which "
        f"content from the database {assemble_median * 1000:.1f} ms, template {template_median * 1000:.1f} ms)"
    )
    print(
        f"WeasyPrint alone, same HTML     median {alone_median * 1000:8.1f} ms  ({args.runs} runs; fonts and "
        f"stylesheet from memory)"
    )
    print(
        f"  for comparison: WeasyPrint with its default fetcher (decodes the WOFF2 fonts on every render) "
        f"{default_median * 1000:.1f} ms"
    )
    print(
        f"ratio application / WeasyPrint  {ratio:8.3f}     target ≤ {TARGET_RATIO:.2f}: "
        f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}"
    )
    print(
        f"serve a finalised PDF           median {serve_ms:8.2f} ms  (p95 {serve_p95:.2f} ms, {args.serve_runs} "
        f"requests) target < {TARGET_SERVE_MS:.0f} ms: {'met' if serve_ms < TARGET_SERVE_MS else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
