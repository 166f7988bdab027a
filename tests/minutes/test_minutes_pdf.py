"""The archival PDF of a realistic conference: every element the issue lists, German
characters intact, PDF/A part in the XMP, stored once, served byte for byte; user text that
looks like markup is printed as text and fetches nothing."""

import hashlib
import io
import re

from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import select

from app import pdf as pdf_module
from app.clock import to_local
from app.conferences.models import AgendaItem, Measure, Note
from app.minutes.models import Minutes, MinutesPdf
from tests.conftest import login_as
from tests.minutes.conftest import (
    INTERNAL_REFERENCE,
    MINUTES_DATA,
    NOTE_DEBT,
    NOTE_HEALTH,
    NOTE_HEALTH_AGENCY_OWN,
    NOTE_JOBCENTER_ONLY,
    NOTE_SHARED_GENERAL,
    audit_actions,
    finalised,
    pdf_text,
    stored_pdf,
)
from tests.test_pdf import local_server  # noqa: F401  (fixture)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_archive_pdf_contains_every_element_with_german_characters(app, client, scene):
    minutes = finalised(client, app, scene)
    response = client.get(f"/protokolle/{minutes.id}/pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    pages = [page.extract_text() for page in reader.pages]
    text = flat("\n".join(pages))

    start, end = to_local(scene.conference.starts_at), to_local(scene.conference.ends_at)
    expected = [
        app.config["ORGANISATION_NAME"],
        "Protokoll der Fallkonferenz",
        scene.case.pseudonym,
        "Bürgel",
        "Überprüfung der Vereinbarungen",
        format_date(start.date(), "EEEE, d. MMMM y", locale="de_DE"),
        f"{start:%H:%M} bis {end:%H:%M} Uhr",
        "Stadtteilbüro Bürgel, Gruppenraum",
        # participants with agency, invitation and attendance
        "Fatma Öztürk-Weiß (Moderation)",
        "Schuldner- und Insolvenzberatung Offenbach Paul Schäfer zugesagt anwesend",
        "Gesundheitsförderung Mühlheim – zugesagt entschuldigt",
        "Jugendberufshilfe Straße Jan Büttner abgesagt abwesend",
        "hat an der Fallkonferenz teilgenommen",
        # agenda with discussion
        "TOP 1: Begrüßung und Vorstellungsrunde",
        "TOP 2: Rückblick auf die Maßnahmen",
        "Zweiter Absatz mit Ümläuten.",
        "TOP 3: Nächste Schritte & Ziele",
        "Bewerbungstraining ab Mai; Übergang in Teilzeitarbeit geplant.",
        # notes: the archive copy has them all, the Jobcenter-only one marked
        NOTE_JOBCENTER_ONLY,
        "nur für das Jobcenter",
        NOTE_SHARED_GENERAL,
        NOTE_DEBT,
        NOTE_HEALTH,
        NOTE_HEALTH_AGENCY_OWN,
        # summary and decisions
        MINUTES_DATA["summary"],
        "1. Bewerbungstraining wird gefördert.",
        "2. Ratenplan wird bis Mitte April abgestimmt.",
        # and with whom each item is shared (the archive copy says it)
        "Weitergabe: Allgemeine Lebenssituation, Qualifikation und Arbeit, Schulden",
        # measures: what, who, by when, status
        "Vereinbarte Maßnahmen",
        "Was Wer Bis Stand",
        "Kinderbetreuungsplatz bestätigen Weitergabe: Familie und Pflege Jobcenter 31.03.2026 vereinbart",
        "Ratenplan mit Gläubigern abstimmen Weitergabe: Schulden Schuldner- und Insolvenzberatung Offenbach "
        "15.04.2026 in Arbeit",
        "Bewerbungstraining „Fit für den Job“ besuchen Weitergabe: Qualifikation und Arbeit die Person selbst "
        "29.05.2026 vereinbart",
        # review of earlier measures
        "Überprüfung früherer Maßnahmen",
        "Erstgespräch bei der Schuldnerberatung wahrnehmen",
        "13.02.2026 erledigt",
        "Termin wahrgenommen, Unterlagen vollständig.",
        # next date
        format_date(to_local(scene.following.starts_at).date(), "EEEE, d. MMMM y", locale="de_DE"),
        MINUTES_DATA["next_date_note"],
        # finalised by and on, version
        "Abgeschlossen von Fatma Öztürk-Weiß am",
        "Version 1",
        "Aktenexemplar des Jobcenters",
    ]
    missing = [e for e in expected if e not in text]
    assert not missing, missing
    # on every page: the confidentiality mark and "Seite x von y"
    assert len(pages) >= 2
    for number, page_text in enumerate(pages, start=1):
        assert "Vertraulich – enthält Sozialdaten (§ 35 SGB I)" in page_text
        assert f"Seite {number} von {len(pages)}" in page_text
    # only the pseudonym: never the internal reference, not even in the Jobcenter's copy
    assert INTERNAL_REFERENCE not in text and INTERNAL_REFERENCE.encode() not in response.data
    assert INTERNAL_REFERENCE not in str(minutes.content)


def test_xmp_metadata_names_the_pdfa_part_and_the_document(app, client, scene):
    minutes = finalised(client, app, scene)
    content = stored_pdf(app, minutes).content
    reader = PdfReader(io.BytesIO(content))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part="2"', xmp) and re.search(r'pdfaid:conformance="A"', xmp)
    assert (pdf_module.PDF_PART, pdf_module.PDF_CONFORMANCE) == ("2", "A")
    assert f"Protokoll der Fallkonferenz {scene.case.pseudonym}" in xmp
    assert reader.trailer["/Root"]["/Lang"] == "de"
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert reader.metadata.author == app.config["ORGANISATION_NAME"]


def test_the_stored_sha256_is_that_of_the_bytes_served(app, client, scene):
    minutes = finalised(client, app, scene)
    stored = stored_pdf(app, minutes)
    first = client.get(f"/protokolle/{minutes.id}/pdf")
    second = client.get(f"/protokolle/{minutes.id}/pdf")
    digest = hashlib.sha256(first.data).hexdigest()
    assert digest == minutes.pdf_sha256 == stored.sha256
    assert first.data == second.data == stored.content
    assert minutes.pdf_size == len(first.data)
    day = to_local(scene.conference.starts_at).date().isoformat()
    assert first.headers["Content-Type"] == "application/pdf"
    assert (
        first.headers["Content-Disposition"] == f'attachment; filename="Protokoll_{scene.case.pseudonym}_{day}_v1.pdf"'
    )
    assert first.headers["Cache-Control"] == "no-store"
    downloads = audit_actions(app, "minutes.downloaded")
    assert len(downloads) == 2 and downloads[0].details == {"variant": "archive", "version_number": 1}
    assert downloads[0].actor_id == scene.organiser.id and downloads[0].object_id == minutes.id


def test_the_pdf_is_rendered_once_at_finalisation(app, client, scene, monkeypatch):
    calls = []
    real = pdf_module.render
    monkeypatch.setattr(pdf_module, "render", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    minutes = finalised(client, app, scene)
    assert len(calls) == 1
    login_as(client, app, scene.team_lead)
    for _ in range(3):
        assert client.get(f"/protokolle/{minutes.id}/pdf").status_code == 200
    assert len(calls) == 1


MARKUP = [
    '<link rel="attachment" href="file:///etc/passwd">',
    '<img src="{url}/bild.png">',
    '<style>@import url("{url}/import.css");</style>',
    '@import url("{url}/plain.css");',
    '<iframe src="file:///etc/hostname"></iframe>',
]


def test_markup_in_every_user_field_is_printed_as_text_and_fetches_nothing(
    app, client, scene, factory, local_server, monkeypatch
):  # noqa: F811
    url, hits = local_server
    payload = " ".join(m.format(url=url) for m in MARKUP)
    s = factory.s
    conference = s.get(type(scene.conference), scene.conference.id)
    conference.occasion = f"Anlass {payload}"[:200]
    for item in s.execute(select(AgendaItem).where(AgendaItem.conference_id == conference.id)).scalars():
        item.title = f"Titel {payload}"[:300]
        item.discussion = f"Verlauf {payload}"
    for note in s.execute(select(Note).where(Note.conference_id == conference.id)).scalars():
        note.body = f"Notiz {payload}"
    for measure in s.execute(select(Measure)).scalars():
        measure.what, measure.outcome = f"Maßnahme {payload}", f"Ergebnis {payload}"
    scene.debt.name = f"Beratung {payload}"[:160]
    s.add(scene.debt)
    s.commit()

    fetched = []
    real_fetch = pdf_module.StaticOnlyFetcher.fetch
    monkeypatch.setattr(
        pdf_module.StaticOnlyFetcher,
        "fetch",
        lambda self, u, headers=None: fetched.append(u) or real_fetch(self, u, headers),
    )
    data = {key: f"{key} {payload}" for key in ("summary", "decisions")}
    data["next_date_note"] = '@import url("http://127.0.0.1/x.css"); <link rel=attachment href=x>'
    minutes = finalised(client, app, scene, data=data)
    archive = stored_pdf(app, minutes).content

    login_as(client, app, scene.partner_debt)
    partner = client.get(f"/protokolle/{minutes.id}/pdf")
    assert partner.status_code == 200

    for document in (archive, partner.data):
        assert hits == []
        assert all(u.startswith(pdf_module.STATIC_BASE) for u in fetched), fetched
        assert b"/EmbeddedFile" not in document and b"/URI" not in document
        text = flat(pdf_text(document))
        # autoescape: the markup is there, as text
        assert f'<img src="{url}/bild.png">' in text
        assert '<link rel="attachment" href="file:///etc/passwd">' in text
        assert f'@import url("{url}/import.css");' in text
    assert 'summary <link rel="attachment"' in flat(pdf_text(archive))


def test_a_huge_field_renders(app, client, scene, monkeypatch):
    """The longest summary and decisions the form takes, one of them a single unbroken word."""
    # Not a race against the clock: on a busy machine this takes longer than the default
    # time limit may allow. How long it takes is measured in bench/, not here.
    monkeypatch.setitem(app.config, "PDF_TIME_LIMIT", 600)
    data = {
        "summary": "Ü" * 20000,
        "decisions": ("Beschluss mit vielen Wörtern. " * 700)[:20000],
        "next_date_note": "N" * 300,
    }
    minutes = finalised(client, app, scene, data=data)
    assert minutes.status == "final"
    assert len(PdfReader(io.BytesIO(stored_pdf(app, minutes).content)).pages) < 40


def test_rendering_that_hits_a_limit_saves_nothing_and_says_so(app, client, scene, monkeypatch):
    from tests.minutes.conftest import save_draft

    monkeypatch.setitem(app.config, "PDF_MAX_PAGES", 1)
    login_as(client, app, scene.organiser)
    r = save_draft(client, app, scene.conference, finalise=True)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Das PDF konnte nicht erstellt werden" in page and "mehr als 1 Seiten" in page
    assert MINUTES_DATA["summary"] in page  # the input is kept
    from app import db

    with app.app_context():
        s = db.get_session()
        # "Speichern und abschließen" saved the draft; finalising it stored nothing.
        assert [m.status for m in s.execute(select(Minutes)).scalars()] == ["draft"]
        assert s.execute(select(MinutesPdf)).first() is None
        assert s.get(type(scene.conference), scene.conference.id).status == "held"


def test_the_logo_is_configurable_and_can_be_left_out(app, client, scene, monkeypatch):
    from app.minutes import document

    minutes = finalised(client, app, scene)
    with app.test_request_context():
        from app import db

        s = db.get_session()
        assert 'src="pdf/logo.svg"' in document.document_html(s, minutes, minutes.content)
        monkeypatch.setitem(app.config, "ORGANISATION_LOGO", "")
        assert "<img" not in document.document_html(s, minutes, minutes.content)
