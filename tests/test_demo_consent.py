"""The demo, walked as each demo partner: every conference page, shared draft and PDF it can
reach shows nothing outside its consent (DESIGN.md section 4). The rule is computed here from
the rows themselves, not through the application's filter."""

import io
import re

from pypdf import PdfReader
from sqlalchemy import or_, select

from app.accounts.models import User
from app.agencies.models import Agency, reveals
from app.cases.models import Consent
from app.clock import berlin_today
from app.conferences.models import AgendaItem, Conference, Invitation, Measure, Note
from app.demo import seed
from app.minutes.models import Minutes
from tests.conftest import login_as, text_of

PARTNERS = (
    "partner.schuldnerberatung@demo.invalid",
    "partner.bildung@demo.invalid",
    "partner.gesundheit@demo.invalid",
    "partner.stadtteilbuero@demo.invalid",
)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _shares(scope, categories) -> bool:
    return bool(categories) and set(categories) <= set(scope)


def _scope(session, case_id, agency_id):
    today = berlin_today()
    consents = session.execute(
        select(Consent).where(
            Consent.case_id == case_id, Consent.agency_id == agency_id, Consent.superseded_at.is_(None)
        )
    ).scalars()
    return next((set(c.scope) for c in consents if c.is_valid_on(today)), None)


def _outside(session, conference, agency_id, scope) -> list[str]:
    """Texts of the conference that the agency must not see, by the rule of DESIGN.md section 4."""
    hidden = []
    for item in session.execute(select(AgendaItem).where(AgendaItem.conference_id == conference.id)).scalars():
        if not _shares(scope, item.categories):
            hidden += [item.title, item.discussion]
    for note in session.execute(select(Note).where(Note.conference_id == conference.id)).scalars():
        own = note.agency_id == agency_id
        if not (_shares(scope, note.categories) and (own or note.visibility == "shared")) or note.withdrawn_at:
            hidden.append(note.body)
    for measure in session.execute(
        select(Measure).where(
            or_(Measure.conference_id == conference.id, Measure.reviewed_in_conference_id == conference.id)
        )
    ):
        measure = measure[0]
        if measure.responsible_agency_id != agency_id and not _shares(scope, measure.categories):
            hidden.append(measure.what)
    for minutes in session.execute(select(Minutes).where(Minutes.conference_id == conference.id)).scalars():
        if not _shares(scope, minutes.summary_categories):
            hidden.append(minutes.summary)
        hidden += [d["text"] for d in minutes.decisions if not _shares(scope, d["categories"])]
        hidden += [minutes.next_date_note, minutes.correction_reason]
    for _invitation, agency in session.execute(
        select(Invitation, Agency)
        .join(Agency, Agency.id == Invitation.agency_id)
        .where(Invitation.conference_id == conference.id)
    ):
        if agency.id != agency_id and not set(reveals(agency)) <= scope:
            hidden.append(agency.name)
    hidden.append(conference.occasion)
    return [text for text in hidden if text and len(text) > 8]


def test_each_demo_partner_reads_nothing_outside_its_consent(app, client, session):
    with app.app_context():
        seed(session)
    users = {u.email: u for u in session.execute(select(User)).scalars()}
    conferences = list(session.execute(select(Conference).order_by(Conference.id)).scalars())
    session.commit()
    checked_pages = checked_pdfs = hidden_items = 0
    for email in PARTNERS:
        partner = users[email]
        login_as(client, app, partner)
        for conference in conferences:
            response = client.get(f"/konferenzen/{conference.id}")
            if response.status_code != 200:
                continue
            scope = _scope(session, conference.case_id, partner.agency_id)
            assert scope is not None, (email, conference.id)
            outside = _outside(session, conference, partner.agency_id, scope)
            hidden_items += len(outside)
            surfaces = {
                "page": text_of(response),
                "minutes page": text_of(client.get(f"/konferenzen/{conference.id}/protokoll")),
            }
            final = session.execute(
                select(Minutes).where(Minutes.conference_id == conference.id, Minutes.status == "final")
            ).scalar_one_or_none()
            if final is not None:
                pdf = client.get(f"/protokolle/{final.id}/pdf")
                assert pdf.status_code == 200
                surfaces["PDF"] = _flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages))
                checked_pdfs += 1
            session.commit()
            for surface, text in surfaces.items():
                shown = [item for item in outside if _flat(item) in text]
                assert not shown, f"{email} reads on the {surface} of conference {conference.id}: {shown}"
            checked_pages += 1
    # The demo must actually exercise the rule: pages, PDFs and hidden items for several partners.
    assert checked_pages >= 8 and checked_pdfs >= 2 and hidden_items >= 20, (checked_pages, checked_pdfs, hidden_items)
