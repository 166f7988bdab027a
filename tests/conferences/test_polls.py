"""Finding a date (Terminabstimmung): slots, answers, the organiser's table, the decision that
schedules the conference and invites with calendar files, consent withdrawal, reminders."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from app import db
from app.clock import berlin_today, local_to_utc
from app.conferences.models import (
    Conference,
    DatePoll,
    Invitation,
    PollAnswer,
    PollParticipant,
    PollSlot,
)
from app.conferences.services.reminders import poll_reminders
from tests.conftest import login_as, outbox_messages, post, text_of


def _day(days):
    return (berlin_today() + timedelta(days=days)).isoformat()


@pytest.fixture
def setup(factory):
    team = factory.team()
    worker = factory.user("caseworker", team=team)
    case = factory.case(team=team, caseworker=worker)
    room = factory.location("Jobcenter Raum 1")
    office = factory.location("Stadtteilbüro Nordend", kind="neighbourhood_office")
    conference = factory.conference(case, location=room, organiser=worker)
    a = factory.agency("Schuldnerberatung")
    b = factory.agency("Bildungswerk")
    c = factory.agency("Suchtberatung")
    no_consent = factory.agency("Ohne Einwilligung")
    for agency in (a, b, c):
        factory.consent(case, agency)
    return dict(
        team=team,
        worker=worker,
        case=case,
        room=room,
        office=office,
        conference=conference,
        a=a,
        b=b,
        c=c,
        no_consent=no_consent,
        pa=factory.user("partner", agency=a),
        pb=factory.user("partner", agency=b),
    )


def _slots(s, days=(10, 11, 12)):
    data = {}
    for i, d in enumerate(days):
        data[f"slots-{i}-day"] = _day(d)
        data[f"slots-{i}-start_time"] = "10:00"
        data[f"slots-{i}-end_time"] = "11:30"
        data[f"slots-{i}-location_id"] = str((s["office"] if i == 1 else s["room"]).id)
    return data


def _start(client, app, s, agencies=("a", "b", "c"), days=(10, 11, 12)):
    login_as(client, app, s["worker"])
    return post(
        client,
        app,
        f"/konferenzen/{s['conference'].id}/terminabstimmung/neu",
        {**_slots(s, days), "agencies": [str(s[k].id) for k in agencies]},
    )


def _poll(factory, s):
    factory.s.commit()
    return factory.s.execute(select(DatePoll).where(DatePoll.conference_id == s["conference"].id)).scalar_one()


def test_organiser_proposes_slots_and_the_agencies_are_asked_by_email(app, client, factory, setup):
    r = _start(client, app, setup)
    assert r.status_code == 302
    poll = _poll(factory, setup)
    slots = factory.s.execute(select(PollSlot).where(PollSlot.poll_id == poll.id)).scalars().all()
    assert len(slots) == 3
    mails = [m for m in outbox_messages(app) if "Terminabstimmung" in m["Subject"]]
    assert sorted(m["To"] for m in mails) == sorted(setup[k].contact_email for k in ("a", "b", "c"))
    body = mails[0].get_body().get_content()
    assert setup["case"].pseudonym in body and setup["case"].internal_reference not in body
    assert "Erstes Fallgespräch" not in body  # the occasion is the Jobcenter's own


@pytest.mark.parametrize(
    "change,field_error",
    [
        ({"days": (10,)}, "Bitte schlagen Sie 2 bis 8 Termine vor."),
        ({"agencies": ()}, "Bitte wählen Sie mindestens eine Einrichtung."),
        ({"agencies": ("no_consent",)}, "Bitte wählen Sie einen der angebotenen Einträge."),
        ({"days": (-3, 4)}, "Alle Termine müssen in der Zukunft liegen."),
        ({"days": (4, 4)}, "Jeder Termin darf nur einmal vorkommen."),
    ],
)
def test_bad_polls_are_refused_with_a_message_and_nothing_saved(app, client, factory, setup, change, field_error):
    kw = {"agencies": change.get("agencies", ("a", "b")), "days": change.get("days", (10, 11))}
    if kw["days"] == (4, 4):
        login_as(client, app, setup["worker"])
        data = _slots(setup, (4, 4))
        data["slots-1-location_id"] = str(setup["room"].id)
        r = post(
            client,
            app,
            f"/konferenzen/{setup['conference'].id}/terminabstimmung/neu",
            {**data, "agencies": [str(setup["a"].id)]},
        )
    else:
        r = _start(client, app, setup, **kw)
    assert r.status_code == 400
    assert field_error in text_of(r)
    factory.s.commit()
    assert factory.s.execute(select(DatePoll)).first() is None
    assert not [m for m in outbox_messages(app) if "Terminabstimmung" in m["Subject"]]


def test_bad_slot_rows_keep_the_input(app, client, setup):
    login_as(client, app, setup["worker"])
    data = _slots(setup, (10, 11))
    data["slots-0-end_time"] = "09:00"
    data["slots-1-day"] = "31.02.2026"
    data["slots-2-day"] = _day(12)  # a row without time and place
    r = post(
        client,
        app,
        f"/konferenzen/{setup['conference'].id}/terminabstimmung/neu",
        {**data, "agencies": [str(setup["a"].id)]},
    )
    assert r.status_code == 400
    page = text_of(r)
    assert "Das Ende muss nach dem Beginn liegen." in page
    assert "Bitte geben Sie ein gültiges Datum ein" in page
    assert "Bitte füllen Sie Datum, Beginn, Ende und Ort aus." in page
    assert "31.02.2026" in page


def test_partner_sees_pseudonym_and_places_only_and_answers(app, client, factory, setup):
    _start(client, app, setup)
    poll = _poll(factory, setup)
    slots = (
        factory.s.execute(select(PollSlot).where(PollSlot.poll_id == poll.id).order_by(PollSlot.starts_at))
        .scalars()
        .all()
    )
    partner = app.test_client()
    login_as(partner, app, setup["pa"])
    page = partner.get(f"/konferenzen/{setup['conference'].id}/terminabstimmung")
    assert page.status_code == 200
    html = text_of(page)
    assert setup["case"].pseudonym in html and "Stadtteilbüro Nordend" in html
    for hidden in ("Erstes Fallgespräch", setup["case"].internal_reference, "Bildungswerk", "Suchtberatung"):
        assert hidden not in html
    # The conference page itself stays closed: the agency is asked, not invited.
    assert partner.get(f"/konferenzen/{setup['conference'].id}").status_code == 404
    answers = {f"slot_{slots[0].id}": "yes", f"slot_{slots[1].id}": "maybe", f"slot_{slots[2].id}": "no"}
    incomplete = post(
        partner,
        app,
        f"/konferenzen/{setup['conference'].id}/terminabstimmung/antwort",
        {**dict(list(answers.items())[:2]), "version": "1"},
    )
    assert incomplete.status_code == 400 and "Bitte antworten Sie für diesen Termin." in text_of(incomplete)
    wrong = post(
        partner,
        app,
        f"/konferenzen/{setup['conference'].id}/terminabstimmung/antwort",
        {**answers, f"slot_{slots[0].id}": "vielleicht", "version": "1"},
    )
    assert wrong.status_code == 400
    guarded = post(
        partner,
        app,
        f"/konferenzen/{setup['conference'].id}/terminabstimmung/antwort",
        {**answers, "comment": "Frau Yılmaz kann nur vormittags, Tel. 0171 2345678", "version": "1"},
    )
    assert guarded.status_code == 400 and "Frau Yılmaz" in text_of(guarded)
    ok = post(
        partner,
        app,
        f"/konferenzen/{setup['conference'].id}/terminabstimmung/antwort",
        {**answers, "comment": "Vormittags passt besser.", "version": "1"},
    )
    assert ok.status_code == 302
    stale = post(
        partner, app, f"/konferenzen/{setup['conference'].id}/terminabstimmung/antwort", {**answers, "version": "1"}
    )
    assert stale.status_code == 409
    factory.s.commit()
    stored = dict(factory.s.execute(select(PollAnswer.slot_id, PollAnswer.answer)).all())
    assert stored == {slots[0].id: "yes", slots[1].id: "maybe", slots[2].id: "no"}


def _answer(app, factory, s, user_key, values):
    poll = _poll(factory, s)
    slots = (
        factory.s.execute(select(PollSlot).where(PollSlot.poll_id == poll.id).order_by(PollSlot.starts_at))
        .scalars()
        .all()
    )
    participant = factory.s.execute(
        select(PollParticipant).where(
            PollParticipant.poll_id == poll.id, PollParticipant.agency_id == s[user_key].agency_id
        )
    ).scalar_one()
    c = app.test_client()
    login_as(c, app, s[user_key])
    r = post(
        c,
        app,
        f"/konferenzen/{s['conference'].id}/terminabstimmung/antwort",
        {**{f"slot_{sl.id}": v for sl, v in zip(slots, values, strict=True)}, "version": str(participant.version)},
    )
    assert r.status_code == 302
    return slots


def test_table_best_first_with_clashes_then_decision_schedules_and_invites(app, client, factory, setup):
    # Another conference of the same organiser on day 10, and the office booked on day 11 by another team.
    factory.conference(
        factory.case(team=setup["team"], caseworker=setup["worker"]),
        location=factory.location(),
        organiser=setup["worker"],
        starts_at=local_to_utc(datetime.combine(berlin_today() + timedelta(days=10), time(10, 30))),
    )
    factory.conference(
        factory.case(),
        location=setup["office"],
        starts_at=local_to_utc(datetime.combine(berlin_today() + timedelta(days=11), time(11, 0))),
    )
    _start(client, app, setup)
    slots = _answer(app, factory, setup, "pa", ["maybe", "yes", "no"])
    _answer(app, factory, setup, "pb", ["yes", "yes", "yes"])
    page = client.get(f"/konferenzen/{setup['conference'].id}/terminabstimmung")
    html = text_of(page)
    assert page.status_code == 200
    order = [int(x) for x in __import__("re").findall(r'data-slot="(\d+)"', page.get_data(as_text=True))]
    assert order[0] == slots[1].id  # two yes
    assert order[-1] == slots[2].id  # one no
    assert "Sie haben eine andere Fallkonferenz" in html and "Ort belegt: Fallkonferenz" in html
    assert "Vormittags" not in html
    poll = _poll(factory, setup)
    before = len(outbox_messages(app))
    r = post(
        client,
        app,
        f"/konferenzen/{setup['conference'].id}/terminabstimmung/entscheidung",
        {"slot": str(slots[1].id), "version": str(poll.version)},
    )
    assert r.status_code == 302
    factory.s.commit()
    conference = factory.s.get(Conference, setup["conference"].id, populate_existing=True)
    assert conference.starts_at == slots[1].starts_at and conference.location_id == setup["office"].id
    invited = set(
        factory.s.execute(select(Invitation.agency_id).where(Invitation.conference_id == conference.id)).scalars()
    )
    assert invited == {setup["a"].id, setup["b"].id, setup["c"].id}
    mails = outbox_messages(app)[before:]
    assert len([m for m in mails if "Einladung zur Fallkonferenz" in m["Subject"]]) == 3
    assert all(
        any(part.get_content_type() == "text/calendar" for part in m.iter_attachments())
        for m in mails
        if "Einladung" in m["Subject"]
    )
    statuses = dict(factory.s.execute(select(PollSlot.id, PollSlot.status).where(PollSlot.poll_id == poll.id)).all())
    assert statuses == {slots[0].id: "released", slots[1].id: "chosen", slots[2].id: "released"}
    # Decided: no second decision, no more answers.
    again = post(
        client,
        app,
        f"/konferenzen/{setup['conference'].id}/terminabstimmung/entscheidung",
        {"slot": str(slots[0].id), "version": str(poll.version + 1)},
    )
    assert again.status_code == 403


def test_withdrawn_consent_removes_access_and_answers(app, client, factory, setup):
    from app.cases.models import Consent
    from app.cases.services import withdraw_consent

    _start(client, app, setup)
    _answer(app, factory, setup, "pa", ["yes", "yes", "no"])
    consent = factory.s.execute(
        select(Consent).where(Consent.case_id == setup["case"].id, Consent.agency_id == setup["a"].id)
    ).scalar_one()
    withdraw_consent(factory.s, consent, setup["worker"], berlin_today())
    factory.s.commit()
    partner = app.test_client()
    login_as(partner, app, setup["pa"])
    assert partner.get(f"/konferenzen/{setup['conference'].id}/terminabstimmung").status_code == 404
    assert factory.s.execute(select(PollAnswer)).first() is None
    html = text_of(client.get(f"/konferenzen/{setup['conference'].id}/terminabstimmung"))
    assert "Schuldnerberatung" not in html and "Bildungswerk" in html


def test_reminder_once_after_two_days_for_those_who_have_not_answered(app, client, factory, setup):
    _start(client, app, setup)
    _answer(app, factory, setup, "pa", ["yes", "yes", "no"])
    poll = _poll(factory, setup)
    from app.clock import utcnow

    factory.s.commit()

    def run(now):
        with app.app_context():
            s = db.get_session()
            result = poll_reminders(s, now)
            s.commit()
        return result[0]

    assert run(utcnow()) == 0  # not yet two days
    assert run(utcnow() + timedelta(days=2, minutes=1)) == 2
    assert run(utcnow() + timedelta(days=5)) == 0  # once only
    subjects = [m["To"] for m in outbox_messages(app) if m["Subject"].startswith("Erinnerung: Terminabstimmung")]
    assert sorted(subjects) == sorted([setup["b"].contact_email, setup["c"].contact_email])
    assert poll.id


def test_partner_start_page_lists_the_open_poll(app, client, factory, setup):
    _start(client, app, setup)
    partner = app.test_client()
    login_as(partner, app, setup["pa"])
    start = text_of(partner.get("/"))
    assert f"Terminabstimmung für die Fallkonferenz {setup['case'].pseudonym}" in start
    assert "Ihre Antwort fehlt noch" in start


def test_cancelling_the_conference_ends_its_poll(app, client, factory, setup):
    _start(client, app, setup)
    r = post(
        client, app, f"/konferenzen/{setup['conference'].id}/absagen", {"reason": "Termin entfällt.", "version": "1"}
    )
    assert r.status_code == 302
    poll = _poll(factory, setup)
    factory.s.refresh(poll)
    assert poll.status == "cancelled"
    assert set(factory.s.execute(select(PollSlot.status).where(PollSlot.poll_id == poll.id)).scalars()) == {"released"}
    partner = app.test_client()
    login_as(partner, app, setup["pa"])
    page = partner.get(f"/konferenzen/{setup['conference'].id}/terminabstimmung")
    assert page.status_code == 200 and "Diese Terminabstimmung ist beendet." in text_of(page)
    assert (
        post(
            partner, app, f"/konferenzen/{setup['conference'].id}/terminabstimmung/antwort", {"version": "1"}
        ).status_code
        == 403
    )
