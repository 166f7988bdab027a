"""Persons present (issue 13): who of an agency, an interpreter, the person's own support; stored
per conference, guarded like any free text, shown in the minutes under the participant masking
rule (an agency's staff only where the agency can be named, others only within the scope)."""

from sqlalchemy import select

from app.conferences.models import AgendaItem, AttendingPerson
from app.permissions import JOBCENTER, Reader, visible_content
from tests.conferences.conftest import audit_actions, count, fresh, future
from tests.conftest import login_as, post, text_of


def _held(factory, session, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=-1), status="held")
    session.add(AgendaItem(conference_id=conf.id, position=1, title="Lage"))
    session.commit()
    debt = factory.invitation(conf, scene.debt, status="accepted")
    health = factory.invitation(conf, scene.health, status="accepted")
    return conf, debt, health


def _form(conf, *persons, **extra):
    data = {"version": str(conf.version), "person_attended": "yes"}
    for i, person in enumerate(persons):
        for key, value in person.items():
            data[f"persons-{i}-{key}"] = value
    data.update(extra)
    return data


def test_persons_are_recorded_and_shown_in_the_minutes(app, client, session, factory, scene):
    conf, _debt, _health = _held(factory, session, scene)
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}/durchfuehrung")
    html = page.get_data(as_text=True)
    assert 'name="persons-0-kind"' in html and 'name="persons-1-kind"' in html
    assert "Niemals den Namen der Person, um die es geht." in text_of(page)
    response = post(
        client,
        app,
        f"/konferenzen/{conf.id}/durchfuehrung",
        _form(
            conf,
            {"kind": "agency_staff", "agency_id": str(scene.debt.id), "description": "Paula Partner"},
            {"kind": "agency_staff", "agency_id": str(scene.health.id), "description": "Ärztlicher Dienst"},
            {"kind": "interpreter", "agency_id": "", "description": "Dolmetscherin für Arabisch"},
            {"kind": "support", "agency_id": "", "description": "rechtliche Betreuung"},
            {"kind": "", "agency_id": "", "description": ""},
        ),
    )
    assert response.status_code == 302, text_of(response)[:3000]
    rows = session.execute(select(AttendingPerson).order_by(AttendingPerson.position)).scalars().all()
    session.commit()
    assert [(p.kind, p.agency_id, p.description) for p in rows] == [
        ("agency_staff", scene.debt.id, "Paula Partner"),
        ("agency_staff", scene.health.id, "Ärztlicher Dienst"),
        ("interpreter", None, "Dolmetscherin für Arabisch"),
        ("support", None, "rechtliche Betreuung"),
    ]
    [entry] = audit_actions(session, "conference.recorded")
    assert entry.details["persons"] == ["agency_staff", "agency_staff", "interpreter", "support"]
    assert "Paula" not in str(entry.details)  # kinds only, never the text
    # The form shows them again, and the minutes' draft lists them.
    assert 'value="Dolmetscherin für Arabisch"' in client.get(f"/konferenzen/{conf.id}/durchfuehrung").get_data(
        as_text=True
    )
    minutes = text_of(client.get(f"/konferenzen/{conf.id}/protokoll"))
    assert "anwesend: Paula Partner" in minutes and "anwesend: Ärztlicher Dienst" in minutes
    assert "Dolmetscher:in: Dolmetscherin für Arabisch" in minutes
    assert "Begleitung der Person (Vertrauensperson): rechtliche Betreuung" in minutes
    # Saving again replaces them.
    fresh(session, conf)
    again = post(client, app, f"/konferenzen/{conf.id}/durchfuehrung", _form(conf, {"kind": "interpreter"}))
    assert again.status_code == 302 and count(session, AttendingPerson) == 1


def test_a_name_of_the_person_concerned_is_caught_by_the_guard(app, client, session, factory, scene):
    conf, _debt, _health = _held(factory, session, scene)
    login_as(client, app, scene.caseworker)
    refused = post(
        client,
        app,
        f"/konferenzen/{conf.id}/durchfuehrung",
        _form(conf, {"kind": "support", "description": "Bruder der Kundin, Herr Yılmaz"}),
    )
    assert refused.status_code == 400
    assert "Enthält vermutlich einen Namen" in text_of(refused)
    assert count(session, AttendingPerson) == 0


def test_bad_person_rows_are_refused_in_german_and_kept(app, client, session, factory, scene):
    conf, _debt, _health = _held(factory, session, scene)
    login_as(client, app, scene.caseworker)
    cases = [
        (
            {"kind": "agency_staff", "agency_id": "", "description": "Schuldnerberaterin"},
            "Bitte wählen Sie die Einrichtung",
        ),
        (
            {"kind": "agency_staff", "agency_id": str(scene.debt.id), "description": ""},
            "Namen der Fachkraft oder ihre Funktion",
        ),
        ({"kind": "", "description": "Dolmetscher"}, "Bitte füllen Sie dieses Feld aus."),
        ({"kind": "niemand", "description": "x"}, "Bitte wählen Sie einen der angebotenen Einträge."),
        ({"kind": "agency_staff", "agency_id": str(scene.other.id), "description": "x"}, "angebotenen Einträge"),
        ({"kind": "interpreter", "description": "x" * 201}, "200"),
    ]
    for row, message in cases:
        response = post(client, app, f"/konferenzen/{conf.id}/durchfuehrung", _form(conf, row))
        assert response.status_code == 400, row
        assert message in text_of(response), (row, text_of(response)[:2000])
    assert count(session, AttendingPerson) == 0


def test_more_rows_without_javascript(app, client, session, factory, scene):
    conf, _debt, _health = _held(factory, session, scene)
    login_as(client, app, scene.caseworker)
    more = post(
        client,
        app,
        f"/konferenzen/{conf.id}/durchfuehrung",
        _form(conf, {"kind": "interpreter", "description": "Tigrinya"}, weitere_zeilen="1"),
    )
    html = more.get_data(as_text=True)
    assert more.status_code == 200 and 'value="Tigrinya"' in html and 'name="persons-2-kind"' in html
    assert count(session, AttendingPerson) == 0


def _content():
    return {
        "participants": [
            {"agency_id": 1, "agency": "Schuldnerberatung", "reveals": ["debt"], "persons": ["Paula Partner"]},
            {"agency_id": 2, "agency": "Suchtberatung", "reveals": ["addiction"], "persons": ["Fachkraft Sucht"]},
        ],
        "attendees": [
            {"kind": "interpreter", "description": "Arabisch", "reveals": ["residence"]},
            {"kind": "support", "description": "rechtliche Betreuung", "reveals": ["general", "health"]},
        ],
    }


def test_persons_follow_the_participant_masking_rule():
    everything = visible_content(JOBCENTER, _content())
    assert [p["persons"] for p in everything["participants"]] == [["Paula Partner"], ["Fachkraft Sucht"]]
    assert [a["description"] for a in everything["attendees"]] == ["Arabisch", "rechtliche Betreuung"]
    debt = visible_content(Reader(1, frozenset({"debt", "general"})), _content())
    assert debt["participants"][0]["persons"] == ["Paula Partner"]
    assert debt["participants"][1] == {"masked": True}  # the addiction service and its staff: unnamed
    assert debt["attendees"] == [{"masked": True}, {"masked": True}]
    wide = visible_content(Reader(1, frozenset({"debt", "general", "health", "residence"})), _content())
    assert [a.get("description") for a in wide["attendees"]] == ["Arabisch", "rechtliche Betreuung"]


def test_a_partner_sees_its_own_staff_but_not_a_support_person_outside_its_scope(app, client, session, factory, scene):
    conf, _debt, _health = _held(factory, session, scene)
    session.add_all(
        [
            AttendingPerson(
                conference_id=conf.id,
                position=1,
                kind="agency_staff",
                agency_id=scene.health.id,
                description="Ärztlicher Dienst",
            ),
            AttendingPerson(conference_id=conf.id, position=2, kind="support", description="rechtliche Betreuung"),
        ]
    )
    from datetime import timedelta

    from app.clock import berlin_today
    from app.minutes.models import Minutes

    session.add(Minutes(conference_id=conf.id, summary="", comments_until=berlin_today() + timedelta(days=3)))
    session.commit()
    login_as(client, app, scene.partner_debt)  # scope general, work, debt
    page = text_of(client.get(f"/konferenzen/{conf.id}/protokoll"))
    assert "Ärztlicher Dienst" not in page and "rechtliche Betreuung" not in page
    assert "eine weitere Person" in page and "eine weitere Einrichtung" in page
    login_as(client, app, scene.partner_health)  # scope general, health: its own staff
    page = text_of(client.get(f"/konferenzen/{conf.id}/protokoll"))
    assert "anwesend: Ärztlicher Dienst" in page and "rechtliche Betreuung" not in page
