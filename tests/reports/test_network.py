"""The § 18 network report: right figures per scope, suppression on the page, CSV and PDF, and a
fixed number of queries."""

import html
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.cases.models import Case, CaseObstacle
from app.clock import berlin_today, local_to_utc, to_local
from app.conferences.models import Conference, Invitation, Measure
from app.reports import network
from app.reports.network import Period
from app.reports.suppression import TOTAL
from tests.conftest import get_counting_queries, login_as


def _at(day, hour=10):
    return local_to_utc(datetime(day.year, day.month, day.day, hour))


def _text(response):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


@pytest.fixture
def quarter():
    return Period.previous_quarter(berlin_today())


def _held(factory, case, day, **kw):
    return factory.conference(case, starts_at=_at(day), status="held", **kw)


def _team_scene(factory, team, district, quarter, n_conferences):
    worker = factory.user("caseworker", team=team)
    made = []
    for i in range(n_conferences):
        case = factory.case(caseworker=worker, district=district)
        made.append(_held(factory, case, quarter.start + timedelta(days=i % 60)))
    return made


def test_team_lead_sees_own_team_and_controlling_all_teams(app, client, factory, quarter):
    north, south = factory.team("Team Nord"), factory.team("Team Süd")
    district = factory.district("Nordend")
    _team_scene(factory, north, district, quarter, 7)
    _team_scene(factory, south, district, quarter, 2)
    lead = factory.user("team_lead", team=north)
    login_as(client, app, lead)
    args = f"?jahr={quarter.year}&quartal={quarter.quarter}"
    page = _text(client.get("/netzwerkbericht" + args))
    # Team Nord alone: 7 conferences in Nordend; team Süd's 2 are not counted.
    assert "Nordend 7 7" in page
    controlling = factory.user("controlling")
    login_as(client, app, controlling)
    page = _text(client.get("/netzwerkbericht" + args))
    assert "Nordend 9 9" in page
    assert "Zahlen aller Teams" in page


def test_small_cells_are_shown_as_below_the_threshold(app, client, factory, quarter):
    team = factory.team()
    big, small = factory.district("Bieber"), factory.district("Bürgel")
    _team_scene(factory, team, big, quarter, 9)
    _team_scene(factory, team, small, quarter, 2)
    login_as(client, app, factory.user("team_lead", team=team))
    page = _text(client.get(f"/netzwerkbericht?jahr={quarter.year}&quartal={quarter.quarter}"))
    # Bürgel's 2 are "< 5"; Bieber's 9 would reveal them through the total of 11: hidden too ("x").
    assert "Bürgel < 5 < 5" in page
    assert "Bieber x x" in page
    assert "Insgesamt 11 11" in page
    assert " 2 " not in page.split("Durchgeführte Fallkonferenzen nach Stadtteil und Quartal")[1].split("Fälle")[0]


def test_figures_match_a_direct_count_on_generated_data(app, factory):
    from app import db
    from app.demo import seed
    from app.generate import generate

    with app.app_context():
        s = db.get_session()
        seed(s)
        generate(s, 400, batch=200, seed=7, echo=lambda *_: None)
        today = berlin_today()
        for period in (Period(today.year - 1, None), Period(today.year - 2, 3)):
            report = network.network_report(s, period=period, team_id=None, today=today, threshold=1)
            start, end = _at(period.start, 0), _at(period.end, 0)
            conferences = s.execute(
                select(Conference, Case)
                .join(Case, Case.id == Conference.case_id)
                .where(Conference.status.in_(("held", "closed")))
            ).all()
            in_period = [(c, k) for c, k in conferences if start <= c.starts_at < end]
            assert in_period, "the generated data must have conferences in the period"
            t = report.table("conferences")
            for q in period.quarters:
                for district_id, _name in t.rows:
                    direct = sum(
                        1
                        for c, k in in_period
                        if k.district_id == district_id and (to_local(c.starts_at).month - 1) // 3 + 1 == q
                    )
                    assert t.cell(district_id, f"q{q}").value == direct
            assert t.cell(TOTAL, TOTAL).value == len(in_period)
            ids = {c.id for c, _k in in_period}
            invitations = s.execute(select(Invitation).where(Invitation.conference_id.in_(ids))).scalars().all()
            answered = [i for i in invitations if i.status != "cancelled"]
            assert report.table("answers").cell(TOTAL, TOTAL).value == len(answered)
            accepted = sum(1 for i in answered if i.status == "accepted")
            assert (
                sum(report.table("answers").cell(r, "accepted").value for r, _ in report.table("answers").rows)
                == accepted
            )
            measures = s.execute(select(Measure).where(Measure.conference_id.in_(ids))).scalars().all()
            assert report.table("measures").cell(TOTAL, TOTAL).value == len(measures)
            overdue = sum(1 for m in measures if m.status in ("agreed", "in_progress") and m.due_on < today)
            assert report.table("overdue").cell(TOTAL, "overdue").value == overdue
            obstacles = {}
            for case_id in {k.id for _c, k in in_period}:
                for (o,) in s.execute(select(CaseObstacle.obstacle).where(CaseObstacle.case_id == case_id)):
                    obstacles[o] = obstacles.get(o, 0) + 1
            for code, _label in report.table("obstacles").rows:
                assert report.table("obstacles").cell(code, "n").value == obstacles.get(code, 0)
            # The cohort: cases whose first held conference lies in the period.
            first = {}
            for c, k in conferences:
                if k.id not in first or c.starts_at < first[k.id][0].starts_at:
                    first[k.id] = (c, k)
            cohort = [(c, k) for c, k in first.values() if start <= c.starts_at < end]
            assert report.table("cohort").cell(TOTAL, "n").value == len(cohort)
            within = 0
            for c, k in cohort:
                if k.closed_at and to_local(k.closed_at).date() <= network.add_months(to_local(c.starts_at).date(), 12):
                    within += 1
            assert report.table("outcomes").cell(TOTAL, TOTAL).value == within
        s.rollback()


def test_csv_and_pdf_carry_period_rule_and_suppressed_cells(app, client, factory, quarter):
    team = factory.team()
    _team_scene(factory, team, factory.district("Tempelsee"), quarter, 3)
    login_as(client, app, factory.user("team_lead", team=team))
    args = f"?jahr={quarter.year}&quartal={quarter.quarter}"
    r = client.get("/netzwerkbericht/csv" + args)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data().decode("utf-8-sig")
    assert f"{quarter.quarter}. Quartal {quarter.year}" in text
    assert ";Tempelsee;" in text and ";< 5" in text and ";3\r\n" not in text
    assert "Geheimhaltung" in text
    r = client.get("/netzwerkbericht/pdf" + args)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    import io

    from pypdf import PdfReader

    pdf_text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages).split())
    assert f"{quarter.quarter}. Quartal {quarter.year}" in pdf_text
    assert "Geheimhaltung" in pdf_text and "< 5" in pdf_text
    assert "Was gezählt wird" in pdf_text


def test_the_report_is_audited_with_period_and_form(app, client, factory, quarter):
    from app.audit import AuditEntry

    lead = factory.user("team_lead", team=factory.team())
    login_as(client, app, lead)
    client.get(f"/netzwerkbericht/csv?jahr={quarter.year}&quartal={quarter.quarter}")
    entry = (
        factory.s.execute(select(AuditEntry).where(AuditEntry.actor_id == lead.id).order_by(AuditEntry.id.desc()))
        .scalars()
        .first()
    )
    assert entry.action == "report.network_exported"
    assert entry.details["period"] == quarter.slug and entry.details["output"] == "csv"


def test_bad_period_is_a_german_400(app, client, factory):
    login_as(client, app, factory.user("controlling"))
    r = client.get("/netzwerkbericht?jahr=abc&quartal=7")
    assert r.status_code == 400
    assert "Bitte wählen Sie" in r.get_data(as_text=True) or "gültig" in r.get_data(as_text=True)


def test_query_count_does_not_grow_with_data(app, client, factory, quarter):
    team = factory.team()
    lead = factory.user("team_lead", team=team)
    login_as(client, app, lead)
    url = f"/netzwerkbericht?jahr={quarter.year}&quartal={quarter.quarter}"
    _team_scene(factory, team, factory.district(), quarter, 2)
    small, r = get_counting_queries(app, client, url)
    assert r.status_code == 200
    _team_scene(factory, team, factory.district(), quarter, 12)
    assert get_counting_queries(app, client, url)[0] == small
