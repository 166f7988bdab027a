"""The network report and the access report through the real pages (every page checked with
axe-core): the Steuerung lands on the report, the chart is an image with its text beside it, and a
caseworker opens the access report from the case page."""

import re
from datetime import datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from app.clock import berlin_today, local_to_utc
from app.reports.network import Period
from tests.browser.conftest import follow, log_in, visit

pytestmark = pytest.mark.browser


def test_steuerung_reads_the_report_and_caseworker_the_access_report(factory, new_context):
    team = factory.team("Team Nord")
    district = factory.district("Nordend")
    worker = factory.user("caseworker", team=team, totp_secret=pyotp.random_base32())
    quarter = Period.current_quarter(berlin_today())
    start = max(quarter.start, berlin_today() - timedelta(days=20))
    case = None
    for i in range(7):
        case = factory.case(caseworker=worker, district=district)
        day = start + timedelta(days=i % max((berlin_today() - start).days, 1))
        factory.conference(case, starts_at=local_to_utc(datetime(day.year, day.month, day.day, 8)), status="held")
    controlling = factory.user("controlling", name="Stella Steuerung", totp_secret=pyotp.random_base32())

    page = new_context().new_page()
    log_in(page, controlling)
    expect(page).to_have_url(re.compile(r"/netzwerkbericht$"))
    expect(page.get_by_role("heading", name="Netzwerk- und Ergebnisbericht (§ 18 SGB II)")).to_be_visible()
    table = page.get_by_role("table", name="Durchgeführte Fallkonferenzen nach Stadtteil und Quartal")
    expect(table).to_contain_text("Nordend")
    expect(page.get_by_role("img", name="Durchgeführte Fallkonferenzen nach Stadtteil").first).to_be_visible()
    expect(page.get_by_role("link", name="Fälle")).to_have_count(0)
    follow(page, page.get_by_role("button", name="Bericht anzeigen"))

    page = new_context().new_page()
    log_in(page, worker)
    visit(page, f"/faelle/{case.id}")
    expect(page.get_by_text("Jahre nach dem Abschluss des Falls gelöscht")).to_be_visible()
    follow(page, page.get_by_role("link", name="Auskunft für die Person"))
    expect(page.get_by_role("heading", name=f"Auskunft zum Fall {case.pseudonym}")).to_be_visible()
    expect(page.get_by_role("table", name="Weitergaben und Zugriffe, älteste zuerst")).to_contain_text(
        "Jobcenter – Fallmanagement"
    )
