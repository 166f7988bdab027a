"""What a partner sees and does: DESIGN.md section 4 on the conference page, notes, measures."""

from sqlalchemy import select

from app.clock import berlin_today
from app.conferences.models import AgendaItem, Measure, Note
from tests.conferences.conftest import audit_actions, count, fresh, future
from tests.conftest import login_as, post, text_of


def _conference(factory, session, scene, **kw):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(), **kw)
    session.add(
        AgendaItem(
            conference_id=conf.id,
            position=1,
            title="Lage der Person",
            categories=["general"],
            discussion="INTERNE-BESPRECHUNG",
        )
    )
    session.commit()
    return conf


def _notes(factory, scene, conf):
    """One note of every kind, each with a body that names it."""
    staff = scene.caseworker
    return {
        "staff_shared_general": factory.note(conf, staff, "STAFF-SHARED-GENERAL", ("general",), agency=None),
        "staff_jobcenter_only": factory.note(
            conf, staff, "STAFF-JOBCENTER-ONLY", ("general",), "jobcenter", agency=None
        ),
        "staff_shared_health": factory.note(conf, staff, "STAFF-SHARED-HEALTH", ("health",), agency=None),
        "staff_shared_mixed": factory.note(conf, staff, "STAFF-SHARED-DEBT-HOUSING", ("debt", "housing"), agency=None),
        "debt_shared": factory.note(conf, scene.partner_debt, "DEBT-SHARED-DEBT", ("debt",)),
        "debt_jobcenter": factory.note(conf, scene.partner_debt, "DEBT-JOBCENTER-ONLY", ("general",), "jobcenter"),
        "health_shared_health": factory.note(conf, scene.partner_health, "HEALTH-SHARED-HEALTH", ("health",)),
        "health_shared_general": factory.note(conf, scene.partner_health, "HEALTH-SHARED-GENERAL", ("general",)),
        "health_jobcenter": factory.note(conf, scene.partner_health, "HEALTH-JOBCENTER-ONLY", ("health",), "jobcenter"),
    }


SEES = {
    # debt agency: consent general, work, debt
    "debt": {"staff_shared_general", "debt_shared", "debt_jobcenter", "health_shared_general"},
    # health agency: consent general, health
    "health": {
        "staff_shared_general",
        "staff_shared_health",
        "health_shared_health",
        "health_shared_general",
        "health_jobcenter",
    },
}


def test_partner_page_shows_only_what_the_consent_allows(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    previous = factory.conference(
        scene.case, location=scene.location, starts_at=future(days=-30), status="held", occasion="FRUEHERE-KONFERENZ"
    )
    conf.previous_conference_id = previous.id
    session.commit()
    factory.invitation(conf, scene.debt, status="accepted")
    factory.invitation(conf, scene.health)
    notes = _notes(factory, scene, conf)
    withdrawn = factory.note(conf, scene.partner_debt, "DEBT-WITHDRAWN", ("general",))
    withdrawn.withdrawn_at = withdrawn.created_at
    session.commit()
    factory.measure(previous, what="MASSNAHME-DER-FRUEHEREN-KONFERENZ")
    factory.measure(
        conf, what="Bewerbungsunterlagen erstellen", responsible_kind="agency", agency=scene.debt, categories=("work",)
    )
    for who, user in (("debt", scene.partner_debt), ("health", scene.partner_health)):
        login_as(client, app, user)
        response = client.get(f"/konferenzen/{conf.id}")
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        for name, note in notes.items():
            assert (note.body in body) == (name in SEES[who]), (who, name)
        for secret in (
            scene.case.internal_reference,
            scene.case.summary,
            scene.case.goals,
            "INTERNE-BESPRECHUNG",
            "DEBT-WITHDRAWN",
            "FRUEHERE-KONFERENZ",
            "MASSNAHME-DER-FRUEHEREN-KONFERENZ",
            f"/konferenzen/{previous.id}",
            f"/faelle/{scene.case.id}",
        ):
            assert secret not in body, (who, secret)
        text = text_of(response)
        assert scene.case.pseudonym in text and "Nordend" in text and "Lage der Person" in text
        # The measure's categories (work) are in the debt agency's scope, which holds it, not in health's.
        assert ("Bewerbungsunterlagen erstellen" in text) == (who == "debt")
    # Staff see every note, the Jobcenter-only ones too.
    login_as(client, app, scene.caseworker)
    body = client.get(f"/konferenzen/{conf.id}").get_data(as_text=True)
    assert all(note.body in body for note in notes.values())
    assert "zurückgezogen am" in body


def test_partner_sees_no_names_of_other_invited_agencies(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    factory.invitation(conf, scene.debt)
    factory.invitation(conf, scene.health, status="declined")
    login_as(client, app, scene.partner_debt)
    body = text_of(client.get(f"/konferenzen/{conf.id}"))
    assert "Gesundheitsamt" not in body and "abgesagt" not in body


def test_access_ends_with_the_consent_and_stays_closed_without_invitation(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    factory.invitation(conf, scene.debt, status="accepted")
    factory.invitation(conf, scene.health, status="declined")
    # Same agency, another conference of the case it is not invited to.
    other = _conference(factory, session, scene)
    login_as(client, app, scene.partner_debt)
    assert client.get(f"/konferenzen/{conf.id}").status_code == 200
    assert client.get(f"/konferenzen/{other.id}").status_code == 404
    scene.consent_debt.withdrawn_on = berlin_today()
    session.commit()
    assert client.get(f"/konferenzen/{conf.id}").status_code == 404
    assert audit_actions(session, "access.refused")[-1].details == {"rule": "conference.view"}
    # Declined: may look and change the answer, but writes no note.
    login_as(client, app, scene.partner_health)
    assert client.get(f"/konferenzen/{conf.id}").status_code == 200
    assert client.get(f"/konferenzen/{conf.id}/stellungnahmen/neu").status_code == 403
    # Never invited.
    login_as(client, app, scene.partner_other)
    assert client.get(f"/konferenzen/{conf.id}").status_code == 404


def test_every_view_is_audited(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    factory.invitation(conf, scene.debt)
    login_as(client, app, scene.partner_debt)
    client.get(f"/konferenzen/{conf.id}")
    login_as(client, app, scene.team_lead)
    client.get(f"/konferenzen/{conf.id}")
    views = audit_actions(session, "conference.viewed")
    assert [(v.actor_id, v.object_id) for v in views] == [
        (scene.partner_debt.id, conf.id),
        (scene.team_lead.id, conf.id),
    ]
    assert views[0].details == {"consent_id": scene.consent_debt.id}


NOTE = {"body": "Die Schuldenregulierung ist begonnen.", "categories": ["debt"], "visibility": "shared"}


def test_partner_writes_edits_and_withdraws_a_note_until_the_conference_is_held(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    factory.invitation(conf, scene.debt, status="accepted")
    login_as(client, app, scene.partner_debt)
    page = client.get(f"/konferenzen/{conf.id}/stellungnahmen/neu")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Only the categories of the agency's consent are offered.
    assert 'value="debt"' in html and 'value="work"' in html
    assert 'value="health"' not in html and 'value="addiction"' not in html
    assert post(client, app, f"/konferenzen/{conf.id}/stellungnahmen/neu", NOTE).status_code == 302
    note = session.execute(select(Note)).scalar_one()
    session.commit()
    assert (note.agency_id, note.author_id, note.categories, note.visibility) == (
        scene.debt.id,
        scene.partner_debt.id,
        ["debt"],
        "shared",
    )
    assert audit_actions(session, "note.created")[0].details == {
        "conference_id": conf.id,
        "categories": ["debt"],
        "visibility": "shared",
    }
    # Edit
    edited = {**NOTE, "body": "Neue Fassung.", "visibility": "jobcenter", "version": "1"}
    assert post(client, app, f"/konferenzen/{conf.id}/stellungnahmen/{note.id}", edited).status_code == 302
    fresh(session, note)
    assert (note.body, note.visibility, note.version) == ("Neue Fassung.", "jobcenter", 2)
    # Stale edit: 409, input kept, nothing changed.
    stale = post(client, app, f"/konferenzen/{conf.id}/stellungnahmen/{note.id}", {**edited, "body": "Veraltet"})
    assert stale.status_code == 409
    assert "Jemand anderes hat diesen Eintrag gespeichert" in text_of(stale) and "Veraltet" in stale.get_data(
        as_text=True
    )
    fresh(session, note)
    assert (note.body, note.version) == ("Neue Fassung.", 2)
    # Another agency's partner may not touch it (it does not even see it: Jobcenter only).
    factory.invitation(conf, scene.health)
    login_as(client, app, scene.partner_health)
    assert client.get(f"/konferenzen/{conf.id}/stellungnahmen/{note.id}").status_code == 403
    assert "Neue Fassung." not in client.get(f"/konferenzen/{conf.id}").get_data(as_text=True)
    # Withdraw: stale version refused, current accepted.
    login_as(client, app, scene.partner_debt)
    assert (
        post(
            client, app, f"/konferenzen/{conf.id}/stellungnahmen/{note.id}/zurueckziehen", {"version": "1"}
        ).status_code
        == 409
    )
    assert (
        post(
            client, app, f"/konferenzen/{conf.id}/stellungnahmen/{note.id}/zurueckziehen", {"version": "2"}
        ).status_code
        == 302
    )
    fresh(session, note)
    assert note.withdrawn_at is not None
    assert "Neue Fassung." not in client.get(f"/konferenzen/{conf.id}").get_data(as_text=True)
    assert [e.action for e in audit_actions(session) if e.action.startswith("note.")] == [
        "note.created",
        "note.updated",
        "note.withdrawn",
    ]
    # Once held, a partner's note is part of the record.
    second = factory.note(conf, scene.partner_debt, "Zweite Stellungnahme", ("general",))
    conf.status = "held"
    session.commit()
    assert client.get(f"/konferenzen/{conf.id}/stellungnahmen/{second.id}").status_code == 403
    assert client.get(f"/konferenzen/{conf.id}/stellungnahmen/neu").status_code == 403


BAD_NOTES = [
    ({"body": ""}, "Bitte füllen Sie dieses Feld aus."),
    ({"categories": []}, "Bitte wählen Sie mindestens eine Datenkategorie."),
    ({"categories": ["health"]}, "Bitte wählen Sie einen der angebotenen Einträge."),
    ({"categories": ["erfunden"]}, "Bitte wählen Sie einen der angebotenen Einträge."),
    ({"visibility": "alle"}, "Bitte wählen Sie einen der angebotenen Einträge."),
    ({"visibility": ""}, "Bitte wählen Sie, wer die Stellungnahme sehen darf."),
    ({"body": "Herr Dr. Weber hat Schulden bei der Sparkasse."}, "Enthält vermutlich einen Namen"),
    ({"body": "IBAN DE89 3704 0044 0532 0130 00 wird gepfändet."}, "Enthält vermutlich eine IBAN"),
    ({"body": "x" * 10001}, "10000"),
]


def test_bad_notes_are_refused_in_german_and_kept(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    factory.invitation(conf, scene.debt)
    login_as(client, app, scene.partner_debt)
    for overrides, message in BAD_NOTES:
        data = {**NOTE, **overrides}
        response = post(client, app, f"/konferenzen/{conf.id}/stellungnahmen/neu", data)
        assert response.status_code == 400, overrides
        body = text_of(response)
        assert message in body and "Bitte prüfen Sie Ihre Eingaben." in body, overrides
        if data["body"] and len(data["body"]) < 200:
            assert data["body"] in response.get_data(as_text=True)
    assert count(session, Note) == 0


def test_personal_data_in_a_partner_note_can_be_confirmed_and_is_audited(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    factory.invitation(conf, scene.debt)
    login_as(client, app, scene.partner_debt)
    data = {**NOTE, "body": "Termine über die Zentrale 069 123456-0 vereinbaren.", "confirm_not_personal": "y"}
    assert post(client, app, f"/konferenzen/{conf.id}/stellungnahmen/neu", data).status_code == 302
    [override] = audit_actions(session, "pii.override")
    assert override.object_type == "note" and override.details == {"kinds": ["phone"]}
    assert override.actor_id == scene.partner_debt.id


def test_partner_updates_its_own_agencys_measure_only(app, client, session, factory, scene):
    conf = _conference(factory, session, scene, status="held")
    factory.invitation(conf, scene.debt, status="accepted")
    factory.invitation(conf, scene.health, status="accepted")
    own = factory.measure(conf, what="Schuldnerberatung: Erstgespräch", responsible_kind="agency", agency=scene.debt)
    theirs = factory.measure(conf, what="Gesundheitscheck", responsible_kind="agency", agency=scene.health)
    jobcenter = factory.measure(conf, what="Vermittlungsvorschlag")
    login_as(client, app, scene.partner_debt)
    page = client.get(f"/konferenzen/{conf.id}/massnahmen/{own.id}")
    assert page.status_code == 200 and "Stand der Maßnahme eintragen" in text_of(page)
    done = {
        "status": "done",
        "outcome": "Erstgespräch hat stattgefunden.",
        "version": "1",
        "what": "Versuch, den Text zu ändern",
        "due_on": "2020-01-01",
    }
    assert post(client, app, f"/konferenzen/{conf.id}/massnahmen/{own.id}", done).status_code == 302
    fresh(session, own)
    assert (own.status, own.outcome, own.what, own.version) == (
        "done",
        "Erstgespräch hat stattgefunden.",
        "Schuldnerberatung: Erstgespräch",
        2,
    )
    [entry] = audit_actions(session, "measure.status_changed")
    assert entry.details["status"] == "done" and entry.actor_id == scene.partner_debt.id
    for other in (theirs, jobcenter):
        assert post(client, app, f"/konferenzen/{conf.id}/massnahmen/{other.id}", done).status_code == 403
        fresh(session, other)
        assert other.status == "agreed"
    # Stale and bad input.
    stale = post(client, app, f"/konferenzen/{conf.id}/massnahmen/{own.id}", {**done, "status": "not_done"})
    assert stale.status_code == 409
    bad = post(client, app, f"/konferenzen/{conf.id}/massnahmen/{own.id}", {**done, "status": "weg", "version": "2"})
    assert bad.status_code == 400 and "Bitte wählen Sie einen der angebotenen Einträge." in text_of(bad)
    fresh(session, own)
    assert (own.status, own.version) == ("done", 2)
    assert count(session, Measure) == 3
