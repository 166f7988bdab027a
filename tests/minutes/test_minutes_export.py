"""The team lead's batch export: a streamed ZIP of the team's final minutes with an index."""

import csv
import hashlib
import io
import zipfile
from datetime import timedelta

from app.clock import berlin_today, to_local
from app.minutes import export
from tests.conftest import login_as, post, text_of
from tests.minutes.conftest import audit_actions, finalised, make_scene, page_url, save_draft, stored_pdf

EXPORT = "/protokolle/export"


def period(days_back=40, days_ahead=0):
    today = berlin_today()
    return {
        "date_from": (today - timedelta(days=days_back)).isoformat(),
        "date_to": (today + timedelta(days=days_ahead)).isoformat(),
    }


def open_zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.data))


def index_rows(archive) -> list[dict]:
    raw = archive.read("index.csv")
    assert raw.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_the_export_page_says_it_may_take_a_while(app, client, scene):
    login_as(client, app, scene.team_lead)
    r = client.get(EXPORT)
    assert r.status_code == 200
    page = text_of(r)
    assert "Bitte haben Sie etwas Geduld" in page and "kann der Download eine Weile dauern" in page
    assert "<script" not in r.get_data(as_text=True)


def test_a_month_of_final_minutes_as_zip_with_index(app, client, scene):
    v1 = finalised(client, app, scene)
    post(
        client,
        app,
        f"/protokolle/{v1.id}/korrektur",
        {
            "summary": "Korrigiert.",
            "decisions": "",
            "next_date_note": "",
            "reason": "Tippfehler.",
            "version": str(v1.version),
        },
    )
    login_as(client, app, scene.team_lead)
    r = post(client, app, EXPORT, period(), buffered=False)  # as sent, not read whole by the client
    assert r.status_code == 200 and r.is_streamed
    assert r.headers["Content-Type"] == "application/zip"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="Protokolle_')
    archive = open_zip(r)
    assert archive.testzip() is None
    day = to_local(scene.conference.starts_at).date().isoformat()
    name = f"Protokoll_{scene.case.pseudonym}_{day}_v2.pdf"
    assert sorted(archive.namelist()) == sorted([name, "index.csv"])  # the valid version only
    content = archive.read(name)
    rows = index_rows(archive)
    assert rows == [
        {
            "Pseudonym": scene.case.pseudonym,
            "Datum": day,
            "Version": "2",
            "SHA-256": hashlib.sha256(content).hexdigest(),
            "Dateiname": name,
        }
    ]
    from tests.minutes.conftest import latest

    current = latest(app, scene.conference)
    assert content == stored_pdf(app, current).content and rows[0]["SHA-256"] == current.pdf_sha256
    entry = audit_actions(app, "minutes.exported")[-1]
    assert entry.actor_id == scene.team_lead.id and entry.object_type == "team" and entry.object_id == scene.team.id
    assert entry.details["minutes_ids"] == [current.id]
    assert entry.details["date_from"] == period()["date_from"]


def test_only_the_team_its_period_district_and_agency(app, client, factory):
    a = make_scene(factory)
    login_as(client, app, a.organiser)
    finalised(client, app, a)
    # a second conference of another district, with other agencies, a month earlier
    other_district = factory.district("Tempelsee")
    case2 = factory.case(caseworker=a.organiser, district=other_district)
    held = factory.conference(
        case2,
        starts_at=a.conference.starts_at - timedelta(days=30),
        status="held",
        organiser=a.organiser,
        location=a.location,
    )
    agency2 = factory.agency("Bildungswerk Main")
    factory.consent(case2, agency2)
    factory.invitation(held, agency2, status="accepted")
    login_as(client, app, a.organiser)
    save_draft(client, app, held, {"summary": "Zweite."}, finalise=True)
    # another team's final minutes are never part of it
    b_team = factory.team("Team Süd")
    b_organiser = factory.user("caseworker", team=b_team)
    b_case = factory.case(caseworker=b_organiser)
    b_conf = factory.conference(
        b_case, starts_at=a.conference.starts_at, status="held", organiser=b_organiser, location=a.location
    )
    login_as(client, app, b_organiser)
    assert save_draft(client, app, b_conf, {"summary": "Süd."}, finalise=True).status_code == 302

    login_as(client, app, a.team_lead)

    def exported(**filters):
        r = post(client, app, EXPORT, {**period(60), **filters})
        assert r.status_code == 200
        return sorted(row["Pseudonym"] for row in index_rows(open_zip(r)))

    assert exported() == sorted([a.case.pseudonym, case2.pseudonym])
    assert exported(district_id=str(a.district.id)) == [a.case.pseudonym]
    assert exported(agency_id=str(agency2.id)) == [case2.pseudonym]
    assert exported(agency_id=str(a.debt.id)) == [a.case.pseudonym]
    recent = {
        "date_from": to_local(a.conference.starts_at).date().isoformat(),
        "date_to": to_local(a.conference.starts_at).date().isoformat(),
    }
    assert exported(**recent) == [a.case.pseudonym]
    # A period without minutes: no empty ZIP, the page says so and keeps the input.
    empty = post(client, app, EXPORT, {"date_from": "2020-01-01", "date_to": "2020-01-31"})
    assert empty.status_code == 200 and empty.mimetype == "text/html"
    page = text_of(empty)
    assert "Keine abgeschlossenen Protokolle vom" in page and "keine Datei erzeugt" in page
    assert 'value="2020-01-01"' in empty.get_data(as_text=True)


def test_the_zip_is_streamed_in_pieces_reading_in_short_transactions(app, client, factory, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    a = make_scene(factory)
    conferences = [a.conference]
    for n in range(4):
        conferences.append(
            factory.conference(
                a.case,
                starts_at=a.conference.starts_at - timedelta(days=n + 1),
                status="held",
                organiser=a.organiser,
                location=a.location,
            )
        )
    login_as(client, app, a.organiser)
    for conf in conferences:
        assert save_draft(client, app, conf, {"summary": "Text."}, finalise=True).status_code == 302
    login_as(client, app, a.team_lead)
    r = post(client, app, EXPORT, period(), buffered=False)
    pieces = list(r.response)
    assert len([p for p in pieces if p]) >= 6  # one piece per PDF, then the index and directory
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    names = archive.namelist()
    assert len(names) == 6 and names[-1] == "index.csv"
    # the same case on several days: the names are unique and follow the pattern
    assert all(n.startswith(f"Protokoll_{a.case.pseudonym}_") and n.endswith("_v1.pdf") for n in names[:-1])
    for row in index_rows(archive):
        assert hashlib.sha256(archive.read(row["Dateiname"])).hexdigest() == row["SHA-256"]


def test_only_team_leads_export(app, client, scene, factory):
    for user in (scene.organiser, scene.partner_debt, factory.user("admin")):
        login_as(client, app, user)
        assert client.get(EXPORT).status_code == 403
        assert post(client, app, EXPORT, period()).status_code == 403
    assert not audit_actions(app, "minutes.exported")


BAD = [
    ({"date_from": "", "date_to": ""}, "Bitte füllen Sie dieses Feld aus."),
    ({"date_from": "31.02.2026", "date_to": "2026-03-01"}, "Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ)."),
    ({"date_from": "kein Datum", "date_to": "2026-03-01"}, "Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ)."),
    ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "Das Ende des Zeitraums liegt vor seinem Beginn."),
    ({"date_from": "2024-01-01", "date_to": "2026-03-01"}, "Bitte wählen Sie einen Zeitraum von höchstens einem Jahr."),
    (
        {"date_from": "2026-03-01", "date_to": "2026-03-31", "district_id": "999999"},
        "Bitte wählen Sie einen der angebotenen Einträge.",
    ),
    (
        {"date_from": "2026-03-01", "date_to": "2026-03-31", "agency_id": "abc"},
        "Bitte wählen Sie einen der angebotenen Einträge.",
    ),
]


def test_bad_export_input_is_refused_in_german_with_the_input_kept(app, client, scene):
    login_as(client, app, scene.team_lead)
    for data, message in BAD:
        r = post(client, app, EXPORT, data)
        assert r.status_code == 400, data
        page = r.get_data(as_text=True)
        assert message in page, (data, message)
        for key in ("date_from", "date_to"):
            assert f'value="{data[key]}"' in page or not data[key], (key, data)
    assert not audit_actions(app, "minutes.exported")


def test_dates_in_german_notation_are_understood(app, client, scene):
    finalised(client, app, scene)
    login_as(client, app, scene.team_lead)
    today = berlin_today()
    r = post(
        client,
        app,
        EXPORT,
        {"date_from": (today - timedelta(days=30)).strftime("%d.%m.%Y"), "date_to": today.strftime("%d.%m.%Y")},
    )
    assert r.status_code == 200 and len(open_zip(r).namelist()) == 2


def test_team_leads_find_the_export_in_the_navigation(app, client, scene):
    login_as(client, app, scene.team_lead)
    assert 'href="/protokolle/export"' in client.get(EXPORT).get_data(as_text=True)
    login_as(client, app, scene.organiser)
    assert 'href="/protokolle/export"' not in client.get(page_url(scene.conference)).get_data(as_text=True)


def test_the_form_defaults_to_the_last_month_and_says_so(app, client, scene):
    login_as(client, app, scene.team_lead)
    first, last = export.last_month(berlin_today())
    assert first.day == 1 and (last + timedelta(days=1)).day == 1 and last < berlin_today().replace(day=1)
    html = client.get(EXPORT).get_data(as_text=True)
    assert f'value="{first.isoformat()}"' in html and f'value="{last.isoformat()}"' in html
    assert "Vorausgewählt ist der letzte Monat" in text_of(client.get(EXPORT))
    # Its selects are KERN's.
    assert html.count('class="kern-form-input__select-wrapper"') == 2


def test_a_period_without_minutes_downloads_nothing_and_audits_nothing(app, client, scene):
    login_as(client, app, scene.team_lead)
    r = post(client, app, EXPORT, {"date_from": "2020-01-01", "date_to": "2020-01-31"})
    assert r.status_code == 200 and "Content-Disposition" not in r.headers
    assert not audit_actions(app, "minutes.exported")


def test_last_month_across_the_turn_of_the_year():
    from datetime import date

    assert export.last_month(date(2027, 1, 15)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert export.last_month(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
