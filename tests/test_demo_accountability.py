"""The demo shows the three duties of issue 15: the Steuerung's network report of this quarter with
figures, suppressed cells and charts; the access report of a demo case naming the partners that saw
it; and `flask retention-run --dry-run` listing the case due for deletion, row by row."""

import html
import re

from sqlalchemy import select

from app.accounts.models import User
from app.agencies.models import Agency
from app.audit import AuditEntry
from app.cases.models import Case
from app.conferences.models import Conference
from app.demo import seed
from app.minutes.models import Minutes
from tests.conftest import login_as


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_demo_makes_report_access_report_and_retention_visible(app, client, session):
    with app.app_context():  # the demo renders the minutes' PDFs
        seed(session)
    session.commit()

    steuerung = session.execute(select(User).where(User.email == "steuerung@demo.invalid")).scalar_one()
    login_as(client, app, steuerung)
    r = client.get("/netzwerkbericht")
    page = _text(r)
    assert r.status_code == 200
    assert "Zahlen aller Teams" in page and "< 5" in page
    # Some districts above the threshold, so the charts have bars.
    assert re.search(r"Nordend (\d\d|[5-9]) ", page), page[:2000]
    assert r.get_data(as_text=True).count('src="data:image/svg+xml;base64,') >= 3

    # A case whose minutes a partner downloaded (the demo's audit trail), opened by its team.
    download = (
        session.execute(select(AuditEntry).where(AuditEntry.action == "minutes.downloaded").order_by(AuditEntry.id))
        .scalars()
        .first()
    )
    case = session.execute(
        select(Case)
        .join(Conference, Conference.case_id == Case.id)
        .join(Minutes, Minutes.conference_id == Conference.id)
        .where(Minutes.id == download.object_id)
    ).scalar_one()
    agency = session.get(Agency, download.details["agency_id"])
    worker = session.execute(select(User).where(User.team_id == case.team_id, User.role == "caseworker")).scalars()
    login_as(client, app, next(iter(worker)))
    page = _text(client.get(f"/faelle/{case.id}/auskunft"))
    assert agency.name in page
    assert "Protokoll als PDF heruntergeladen" in page

    result = app.test_cli_runner().invoke(args=["retention-run", "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Fälle vollständig zu löschen: 1\n" in out and "nichts gelöscht" in out
    for row in ("case_file: 1", "conference: 1", "minutes: 1", "minutes_pdf: 1", "note: 2", "measure: 1"):
        assert f"  {row}\n" in out, out
    due = session.execute(select(Case).where(Case.internal_reference == "DEMO-L001BG4711000")).scalar_one()
    assert due.status == "closed"
