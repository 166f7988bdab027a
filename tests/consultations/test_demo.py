"""The demo shows both parts of issue 14: BuT consultation hours at the demo Stadtteilbüros on the
public page, and an open date poll that a demo partner can answer."""

from sqlalchemy import select

from app.accounts.models import User
from app.conferences.models import DatePoll
from app.consultations.models import ConsultationHour, ConsultationTopic
from app.demo import seed
from tests.conftest import login_as, text_of


def test_demo_has_published_but_hours_and_an_open_poll(app, session, client):
    with app.app_context():
        seed(session)
    session.commit()
    but = session.execute(select(ConsultationTopic).where(ConsultationTopic.name.like("BuT%"))).scalar_one()
    hours = session.execute(select(ConsultationHour).where(ConsultationHour.status == "published")).scalars().all()
    assert len(hours) >= 2 and all(but.id in h.topic_ids for h in hours)
    page = client.get(f"/sprechstunden?thema={but.id}")
    assert page.status_code == 200
    html = text_of(page)
    assert "Stadtteilbüro Nordend, Gruppenraum" in html and "Stadtteilbüro Lauterborn, Beratungsraum" in html
    assert "Fortbildung des Teams" in html  # a cancelled date with its note
    poll = session.execute(select(DatePoll).where(DatePoll.status == "open")).scalar_one()
    partner = session.execute(select(User).where(User.email == "partner.bildung@demo.invalid")).scalar_one()
    session.commit()
    login_as(client, app, partner)
    answer = client.get(f"/konferenzen/{poll.conference_id}/terminabstimmung")
    assert answer.status_code == 200 and "ja" in text_of(answer)
