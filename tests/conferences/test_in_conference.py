"""In the conference: attendance, discussion, measures; the review in a follow-up."""

from sqlalchemy import select

from app.conferences.models import AgendaItem, Measure
from tests.conferences.conftest import audit_actions, count, fresh, future
from tests.conftest import login_as, post, text_of, working_day


def _held(factory, session, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=-1), status="held")
    items = [AgendaItem(conference_id=conf.id, position=i, title=t) for i, t in enumerate(("Lage", "Maßnahmen"), 1)]
    session.add_all(items)
    session.commit()
    return conf, items


def _record_form(conf, invs, items, **overrides):
    data = {
        "version": str(conf.version),
        "person_attended": "yes",
        **{f"attendance_{inv.id}": status for inv, status in invs},
        **{f"discussion_{item.id}": f"Besprochen: {item.title}." for item in items},
    }
    data.update(overrides)
    return data


def test_record_attendance_person_and_discussion(app, client, session, factory, scene):
    conf, items = _held(factory, session, scene)
    debt = factory.invitation(conf, scene.debt, status="accepted")
    health = factory.invitation(conf, scene.health, status="declined")
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}/durchfuehrung")
    assert page.status_code == 200
    body = text_of(page)
    assert "Anwesenheit und Besprechung" in body and "Schuldnerberatung" in body and "Lage" in body
    data = _record_form(conf, [(debt, "present"), (health, "excused")], items)
    assert post(client, app, f"/konferenzen/{conf.id}/durchfuehrung", data).status_code == 302
    fresh(session, conf, debt, health, *items)
    assert (conf.person_attended, conf.version) == (True, 2)
    assert (debt.attendance, health.attendance) == ("present", "excused")
    assert [i.discussion for i in items] == ["Besprochen: Lage.", "Besprochen: Maßnahmen."]
    [entry] = audit_actions(session, "conference.recorded")
    assert entry.details == {
        "attendance": {str(debt.id): "present", str(health.id): "excused"},
        "person_attended": True,
    }
    assert "Besprochen" not in repr(entry.details)
    view = text_of(client.get(f"/konferenzen/{conf.id}"))
    assert "Besprochen: Lage." in view and "entschuldigt" in view and "Person war anwesend" in view


def test_record_refuses_bad_input_and_stale_saves(app, client, session, factory, scene):
    conf, items = _held(factory, session, scene)
    debt = factory.invitation(conf, scene.debt, status="accepted")
    login_as(client, app, scene.caseworker)
    url = f"/konferenzen/{conf.id}/durchfuehrung"
    for overrides, message, status in [
        ({f"attendance_{debt.id}": "vielleicht"}, "Bitte wählen Sie einen der angebotenen Einträge.", 400),
        ({"person_attended": "egal"}, "Bitte wählen Sie einen der angebotenen Einträge.", 400),
        ({f"discussion_{items[0].id}": "Frau Yılmaz berichtet von Schulden."}, "Enthält vermutlich einen Namen", 400),
        ({f"discussion_{items[0].id}": "x" * 10001}, "10000", 400),
        ({"version": "7"}, "Jemand anderes hat diesen Eintrag gespeichert", 409),
    ]:
        data = _record_form(conf, [(debt, "present")], items, **overrides)
        response = post(client, app, url, data)
        assert response.status_code == status, overrides
        assert message in text_of(response), overrides
        if f"discussion_{items[0].id}" in overrides and len(overrides[f"discussion_{items[0].id}"]) < 100:
            assert overrides[f"discussion_{items[0].id}"] in response.get_data(as_text=True)
        fresh(session, conf, debt, *items)
        assert (conf.version, conf.person_attended, debt.attendance) == (1, None, None)
        assert [i.discussion for i in items] == ["", ""]
    assert audit_actions(session, "conference.recorded") == []


def _measure(scene, **overrides):
    data = {
        "what": "Bewerbungsunterlagen überarbeiten",
        "categories": ["work"],
        "responsible": f"agency:{scene.debt.id}",
        "due_on": working_day(14).isoformat(),
        "status": "agreed",
        "outcome": "",
    }
    data.update(overrides)
    return data


def test_measures_for_an_invited_agency_the_jobcenter_and_the_person(app, client, session, factory, scene):
    conf, _items = _held(factory, session, scene)
    factory.invitation(conf, scene.debt, status="accepted")
    factory.invitation(conf, scene.other, status="cancelled")
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}/massnahmen/neu")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'value="agency:{scene.debt.id}"' in html
    assert f'value="agency:{scene.other.id}"' not in html  # withdrawn invitation
    for responsible in (f"agency:{scene.debt.id}", "jobcenter", "person"):
        assert (
            post(
                client, app, f"/konferenzen/{conf.id}/massnahmen/neu", _measure(scene, responsible=responsible)
            ).status_code
            == 302
        )
    measures = session.execute(select(Measure).order_by(Measure.id)).scalars().all()
    session.commit()
    assert [(m.responsible_kind, m.responsible_agency_id, m.case_id) for m in measures] == [
        ("agency", scene.debt.id, scene.case.id),
        ("jobcenter", None, scene.case.id),
        ("person", None, scene.case.id),
    ]
    assert len(audit_actions(session, "measure.created")) == 3
    body = text_of(client.get(f"/konferenzen/{conf.id}"))
    assert "Vereinbarte Maßnahmen" in body and "die Person selbst" in body and "Jobcenter" in body


BAD_MEASURES = [
    ({"what": ""}, "Bitte füllen Sie dieses Feld aus."),
    ({"responsible": "agency:999999"}, "Bitte wählen Sie"),
    ({"responsible": "irgendwer"}, "Bitte wählen Sie"),
    ({"due_on": "morgen"}, "gültiges Datum"),
    ({"due_on": "2099-01-01"}, "zwischen einem Jahr zurück und zwei Jahren voraus"),
    ({"status": "vergessen"}, "Bitte wählen Sie einen der angebotenen Einträge."),
    (
        {"what": "Termin bei der Sparkasse, Kundennummer per Mail an max.muster@example.org"},
        "Enthält vermutlich eine E-Mail-Adresse",
    ),
]


def test_bad_measures_are_refused_and_kept(app, client, session, factory, scene):
    conf, _items = _held(factory, session, scene)
    factory.invitation(conf, scene.debt, status="accepted")
    other_agency_not_invited = factory.agency("Nicht eingeladen")
    login_as(client, app, scene.caseworker)
    for overrides, message in BAD_MEASURES + [
        ({"responsible": f"agency:{other_agency_not_invited.id}"}, "Bitte wählen Sie")
    ]:
        response = post(client, app, f"/konferenzen/{conf.id}/massnahmen/neu", _measure(scene, **overrides))
        assert response.status_code == 400, overrides
        assert message in text_of(response), overrides
        if overrides.get("what"):
            assert overrides["what"] in response.get_data(as_text=True)
    assert count(session, Measure) == 0


def test_staff_edit_of_a_measure_is_locked_against_stale_saves(app, client, session, factory, scene):
    conf, _items = _held(factory, session, scene)
    factory.invitation(conf, scene.debt, status="accepted")
    measure = factory.measure(conf, what="Alt")
    login_as(client, app, scene.caseworker)
    url = f"/konferenzen/{conf.id}/massnahmen/{measure.id}"
    page = client.get(url)
    assert page.status_code == 200 and "Maßnahme bearbeiten" in text_of(page)
    ok = post(client, app, url, {**_measure(scene, what="Neu", status="in_progress"), "version": "1"})
    assert ok.status_code == 302
    stale = post(client, app, url, {**_measure(scene, what="Veraltet"), "version": "1"})
    assert stale.status_code == 409 and "Veraltet" in stale.get_data(as_text=True)
    fresh(session, measure)
    assert (measure.what, measure.status, measure.responsible_agency_id, measure.version) == (
        "Neu",
        "in_progress",
        scene.debt.id,
        2,
    )


def test_follow_up_reviews_the_open_measures_of_the_earlier_conference(app, client, session, factory, scene):
    held, _items = _held(factory, session, scene)
    open_measure = factory.measure(held, what="Bewerbungstraining besuchen")
    done = factory.measure(held, what="Erledigte Sache", status="done")
    follow = factory.conference(scene.case, location=scene.location, starts_at=future(), previous_conference_id=held.id)
    unrelated = factory.measure(factory.conference(scene.case, location=scene.location), what="Fremd")
    login_as(client, app, scene.caseworker)
    view = text_of(client.get(f"/konferenzen/{follow.id}"))
    assert "Maßnahmen zur Überprüfung" in view and "Bewerbungstraining besuchen" in view
    assert "Erledigte Sache" not in view
    url = f"/konferenzen/{follow.id}/ueberpruefung/{open_measure.id}"
    assert client.get(url).status_code == 200
    response = post(
        client, app, url, {"status": "done", "outcome": "Teilgenommen, Zertifikat liegt vor.", "version": "1"}
    )
    assert response.status_code == 302
    fresh(session, open_measure)
    assert (open_measure.status, open_measure.reviewed_in_conference_id) == ("done", follow.id)
    [entry] = audit_actions(session, "measure.reviewed")
    assert entry.details["review_conference_id"] == follow.id
    # Reviewed here, the measure stays listed with its new status.
    view = text_of(client.get(f"/konferenzen/{follow.id}"))
    assert "Bewerbungstraining besuchen" in view and "(hier überprüft)" in view
    # Only measures of the earlier conference are reviewed here.
    for other in (done, unrelated):
        if other is done:
            continue
        assert client.get(f"/konferenzen/{follow.id}/ueberpruefung/{other.id}").status_code == 404
    stale = post(client, app, url, {"status": "not_done", "outcome": "", "version": "1"})
    assert stale.status_code == 409


def test_staff_notes_for_the_jobcenter_only(app, client, session, factory, scene):
    conf, _items = _held(factory, session, scene)
    factory.invitation(conf, scene.debt, status="accepted")
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}/stellungnahmen/neu")
    assert page.status_code == 200 and 'value="health"' in page.get_data(as_text=True)  # staff tag any category
    response = post(
        client,
        app,
        f"/konferenzen/{conf.id}/stellungnahmen/neu",
        {"body": "Interne Einschätzung.", "categories": ["general"], "visibility": "jobcenter"},
    )
    assert response.status_code == 302
    login_as(client, app, scene.partner_debt)
    assert "Interne Einschätzung." not in client.get(f"/konferenzen/{conf.id}").get_data(as_text=True)
