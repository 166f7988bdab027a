"""Opening, viewing, listing, editing, reassigning, closing and reopening cases."""

import re
from datetime import timedelta

from sqlalchemy import select

from app.cases.models import Case, CaseObstacle
from app.clock import utcnow
from tests.cases.conftest import audit_actions, case_data, count
from tests.conftest import counted_statements, login_as, post, text_of

STALE = (
    "Der Fall wurde zwischenzeitlich von jemand anderem geändert. Ihre Eingaben sind unten erhalten; "
    "bitte prüfen und erneut speichern."
)


def _only_case(session) -> Case:
    session.expire_all()
    return session.execute(select(Case)).scalar_one()


# --- open -------------------------------------------------------------------------------


def test_caseworker_opens_a_case_with_a_generated_pseudonym(app, client, session, caseworker, district):
    login_as(client, app, caseworker)
    r = post(client, app, "/faelle/neu", case_data(district))
    case = _only_case(session)
    assert r.status_code == 302 and r.location.endswith(f"/faelle/{case.id}")
    assert re.fullmatch(r"FK-20\d\d-0001", case.pseudonym)
    assert (case.team_id, case.caseworker_id, case.status, case.version) == (
        caseworker.team_id,
        caseworker.id,
        "open",
        1,
    )
    assert (case.age_band, case.household_type, case.internal_reference) == ("25_34", "single_parent", "123BG456")
    assert sorted(session.execute(select(CaseObstacle.obstacle)).scalars()) == ["childcare", "debt"]
    created = audit_actions(session, "case.created")
    assert [(e.object_id, e.actor_id) for e in created] == [(case.id, caseworker.id)]
    # Ids and codes only: no free text in the audit trail.
    assert "Teilzeitstelle" not in repr(created[0].details) and "123BG456" not in repr(created[0].details)
    page = text_of(client.get(r.location))
    assert f"Der Fall {case.pseudonym} wurde angelegt." in page


def test_second_case_gets_the_next_number(app, client, session, caseworker, district):
    login_as(client, app, caseworker)
    post(client, app, "/faelle/neu", case_data(district))
    post(client, app, "/faelle/neu", case_data(district, internal_reference=""))
    session.expire_all()
    pseudonyms = sorted(session.execute(select(Case.pseudonym)).scalars())
    assert [p[-4:] for p in pseudonyms] == ["0001", "0002"]
    assert session.execute(select(Case.internal_reference).where(Case.pseudonym == pseudonyms[1])).scalar() is None


def test_team_lead_may_open_a_case_for_the_team(app, client, session, factory, team, district):
    lead = factory.user("team_lead", team=team)
    login_as(client, app, lead)
    assert post(client, app, "/faelle/neu", case_data(district)).status_code == 302
    assert _only_case(session).team_id == team.id


def test_guard_warns_about_a_phone_number_and_keeps_the_input(app, client, session, caseworker, district):
    login_as(client, app, caseworker)
    summary = "Erreichbar unter 0170 1234567, sucht Arbeit."
    r = post(client, app, "/faelle/neu", case_data(district, summary=summary))
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Enthält vermutlich eine Telefonnummer: „0170 …“" in page
    assert "Kein Bezug zur Person – trotzdem speichern" in page
    assert summary in page  # the input stays on the page
    assert count(session, Case) == 0

    # Rephrased: saved without any override.
    r = post(client, app, "/faelle/neu", case_data(district, summary="Telefonisch gut erreichbar, sucht Arbeit."))
    assert r.status_code == 302
    assert audit_actions(session, "pii.override") == []


def test_confirming_the_guard_saves_and_audits_the_kinds_only(app, client, session, caseworker, district):
    login_as(client, app, caseworker)
    summary = "Hotline der Schuldnerberatung: 069 12345678."
    r = post(client, app, "/faelle/neu", case_data(district, summary=summary, confirm_not_personal="y"))
    assert r.status_code == 302
    case = _only_case(session)
    assert case.summary == summary
    [override] = audit_actions(session, "pii.override")
    assert (override.object_type, override.object_id, override.details) == ("case_file", case.id, {"kinds": ["phone"]})


# --- view -------------------------------------------------------------------------------


def test_case_page_shows_facts_and_internal_reference_to_the_team_and_is_audited(
    app, client, session, factory, team, caseworker, district
):
    case = factory.case(team=team, caseworker=caseworker, district=district, internal_reference="INT-4711")
    session.add(CaseObstacle(case_id=case.id, obstacle="language"))
    session.commit()
    colleague = factory.user("caseworker", team=team)
    login_as(client, app, colleague)  # staff see all cases of their team
    r = client.get(f"/faelle/{case.id}")
    assert r.status_code == 200
    page = text_of(r)
    for text in (
        case.pseudonym,
        "Nordend",
        "25 bis 34",
        "alleinlebend",
        "Sprache",
        "Clara Fallmanagerin",
        "INT-4711",
        "Langzeitarbeitslos, sucht Teilzeitstelle.",
        "Stabile Beschäftigung.",
    ):
        assert text in page
    viewed = audit_actions(session, "case.viewed")
    assert [(e.object_id, e.actor_id) for e in viewed] == [(case.id, colleague.id)]


def test_case_of_another_team_is_not_found_and_the_refusal_audited(app, client, session, factory, caseworker):
    other = factory.case(internal_reference="FREMD-1")
    login_as(client, app, caseworker)
    for url in (f"/faelle/{other.id}", f"/faelle/{other.id}/bearbeiten", "/faelle/999999"):
        r = client.get(url)
        assert r.status_code == 404
        assert "FREMD-1" not in r.get_data(as_text=True)
    assert len(audit_actions(session, "access.refused")) == 3


def test_timeline_shows_conferences_measures_and_notes(app, client, factory, team, caseworker, district):
    case = factory.case(team=team, caseworker=caseworker, district=district)
    agency = factory.agency("Suchtberatung am Main")
    conf = factory.conference(case, occasion="Zweites Fallgespräch")
    factory.measure(conf, what="Schuldnerberatung aufsuchen", responsible_kind="agency", agency=agency)
    factory.note(conf, factory.user("partner", agency=agency), body="Termin wurde wahrgenommen.")
    login_as(client, app, caseworker)
    page = text_of(client.get(f"/faelle/{case.id}"))
    assert "Zweites Fallgespräch (geplant)" in page
    assert "Schuldnerberatung aufsuchen" in page and "(vereinbart)" in page
    assert "Stellungnahme" in page and "Termin wurde wahrgenommen." in page and "Suchtberatung am Main" in page


def test_summary_with_html_is_shown_as_text(app, client, factory, team, caseworker, district):
    case = factory.case(
        team=team, caseworker=caseworker, district=district, summary='<script>alert("x")</script><b>fett</b>'
    )
    login_as(client, app, caseworker)
    page = client.get(f"/faelle/{case.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


# --- list -------------------------------------------------------------------------------


def _listed(client, query=""):
    r = client.get("/faelle" + query)
    assert r.status_code == 200, r.status_code
    return re.findall(r">(FK-\d{4}-\d{4})</a>", r.get_data(as_text=True))


def test_list_shows_only_the_own_teams_cases_with_filters_and_search(
    app, client, session, factory, team, caseworker, district
):
    other_district = factory.district("Lauterborn")
    colleague = factory.user("caseworker", team=team, name="Kollege")
    a = factory.case(team=team, caseworker=caseworker, district=district)
    b = factory.case(team=team, caseworker=colleague, district=other_district)
    c = factory.case(team=team, caseworker=caseworker, district=district, status="closed")
    foreign = factory.case(district=district)
    session.add(CaseObstacle(case_id=b.id, obstacle="debt"))
    session.commit()
    login_as(client, app, caseworker)

    assert set(_listed(client)) == {a.pseudonym, b.pseudonym}  # open cases by default
    assert set(_listed(client, "?status=alle")) == {a.pseudonym, b.pseudonym, c.pseudonym}
    assert _listed(client, "?status=abgeschlossen") == [c.pseudonym]
    assert _listed(client, f"?stadtteil={other_district.id}") == [b.pseudonym]
    assert _listed(client, "?hemmnis=debt") == [b.pseudonym]
    assert _listed(client, f"?fachkraft={colleague.id}") == [b.pseudonym]
    assert _listed(client, f"?suche={a.pseudonym[-4:]}&status=alle") == [a.pseudonym]
    assert _listed(client, f"?suche={a.pseudonym.lower()}") == [a.pseudonym]
    assert _listed(client, "?suche=%25") == []  # a LIKE wildcard is searched for literally
    assert foreign.pseudonym not in _listed(client, "?status=alle")


def test_list_shows_next_conference_and_open_measures(app, client, factory, team, caseworker, district):
    case = factory.case(team=team, caseworker=caseworker, district=district)
    soon = utcnow().replace(microsecond=0) + timedelta(days=3)
    factory.conference(case, starts_at=soon + timedelta(days=10))
    factory.conference(case, starts_at=soon)
    factory.conference(case, starts_at=soon - timedelta(days=20), status="held")
    held = factory.conference(case, starts_at=soon - timedelta(days=40), status="held")
    factory.conference(case, starts_at=soon + timedelta(days=1), status="cancelled")
    factory.measure(held)
    factory.measure(held, status="in_progress")
    factory.measure(held, status="done")
    login_as(client, app, caseworker)
    with app.test_request_context():
        from app.filters import datetime_de

        expected = datetime_de(soon)
    row = re.search(rf"{case.pseudonym}</a>.*?</tr>", text_of(client.get("/faelle")))
    cells = re.findall(r'<td class="kern-table__cell"[^>]*>([^<]*)</td>', row.group(0))
    assert expected in cells
    assert "2" in cells  # agreed and in progress; done is not open


def test_list_sorting_and_pagination(app, client, factory, team, caseworker, district):
    app.config["PAGE_SIZE"] = 2
    try:
        cases = [factory.case(team=team, caseworker=caseworker, district=district) for _ in range(5)]
        soon = utcnow() + timedelta(days=2)
        factory.conference(cases[3], starts_at=soon + timedelta(days=1))
        factory.conference(cases[1], starts_at=soon)
        login_as(client, app, caseworker)
        by_name = sorted(c.pseudonym for c in cases)
        assert _listed(client, "?sortierung=pseudonym") == by_name[:2]
        assert _listed(client, "?sortierung=pseudonym&seite=2") == by_name[2:4]
        assert _listed(client, "?sortierung=pseudonym&seite=3") == by_name[4:]
        assert _listed(client, "?sortierung=konferenz") == [cases[1].pseudonym, cases[3].pseudonym]
        page = client.get("/faelle?sortierung=pseudonym&seite=2").get_data(as_text=True)
        assert "5 Fälle, Seite 2 von 3" in page
        # The links to the neighbouring pages keep the filter.
        assert "seite=3" in page and "sortierung=pseudonym" in page
    finally:
        app.config["PAGE_SIZE"] = 25


def test_list_costs_the_same_queries_for_3_or_25_rows(app, client, factory, team, caseworker, district):
    def fill(n):
        for _ in range(n):
            case = factory.case(team=team, caseworker=caseworker, district=district)
            conf = factory.conference(case)
            factory.measure(conf)

    login_as(client, app, caseworker)
    fill(3)
    client.get("/faelle")  # warm-up: the first request loads caches
    with counted_statements(app) as few:
        assert len(_listed(client)) == 3
    fill(22)
    with counted_statements(app) as many:
        assert len(_listed(client)) == 25
    assert len(few) == len(many), (few, many)
    case_queries = [s for s in many if "FROM case_file" in s]
    assert len(case_queries) == 2  # the page rows and the count


def test_invalid_list_filter_is_a_german_400(app, client, caseworker):
    login_as(client, app, caseworker)
    r = client.get("/faelle?stadtteil=abc&status=irgendwas")
    assert r.status_code == 400
    assert "Bitte wählen Sie einen der angebotenen Einträge." in text_of(r) or "Keine gültige Auswahl" in text_of(r)


# --- edit -------------------------------------------------------------------------------


def test_edit_saves_changes_raises_the_version_and_audits_the_fields(
    app, client, session, factory, team, caseworker, district
):
    case = factory.case(team=team, caseworker=caseworker, district=district)
    login_as(client, app, caseworker)
    assert client.get(f"/faelle/{case.id}/bearbeiten").status_code == 200
    r = post(
        client,
        app,
        f"/faelle/{case.id}/bearbeiten",
        case_data(
            district,
            summary="Neue Lage.",
            obstacles=["housing"],
            internal_reference=case.internal_reference,
            version="1",
        ),
    )
    assert r.status_code == 302
    case = _only_case(session)
    assert (case.summary, case.version, case.household_type) == ("Neue Lage.", 2, "single_parent")
    assert list(session.execute(select(CaseObstacle.obstacle)).scalars()) == ["housing"]
    [updated] = audit_actions(session, "case.updated")
    assert set(updated.details["fields"]) == {"summary", "goals", "household_type", "obstacles"}


def test_stale_edit_is_refused_with_409_and_input_kept(app, client, session, factory, team, caseworker, district):
    case = factory.case(team=team, caseworker=caseworker, district=district)
    login_as(client, app, caseworker)
    assert (
        post(
            client, app, f"/faelle/{case.id}/bearbeiten", case_data(district, summary="Erste Fassung.", version="1")
        ).status_code
        == 302
    )
    r = post(
        client, app, f"/faelle/{case.id}/bearbeiten", case_data(district, summary="Meine ältere Fassung.", version="1")
    )
    assert r.status_code == 409
    page = text_of(r)
    assert STALE in page and "Meine ältere Fassung." in page
    assert re.search(r'<input[^>]*name="version"[^>]*value="2"', page)
    case = _only_case(session)
    assert (case.summary, case.version) == ("Erste Fassung.", 2)
    # Saving again, having seen the warning, goes through.
    assert (
        post(
            client,
            app,
            f"/faelle/{case.id}/bearbeiten",
            case_data(district, summary="Meine ältere Fassung.", version="2"),
        ).status_code
        == 302
    )


def test_two_staff_editing_the_same_version_one_wins(app, client, factory, session, team, caseworker, district):
    case = factory.case(team=team, caseworker=caseworker, district=district)
    other_client = app.test_client()
    login_as(client, app, caseworker)
    login_as(other_client, app, factory.user("team_lead", team=team))
    first = post(client, app, f"/faelle/{case.id}/bearbeiten", case_data(district, summary="A", version="1"))
    second = post(other_client, app, f"/faelle/{case.id}/bearbeiten", case_data(district, summary="B", version="1"))
    assert (first.status_code, second.status_code) == (302, 409)
    assert _only_case(session).summary == "A"


# --- reassign, close, reopen ---------------------------------------------------------------


def test_reassign_within_the_team(app, client, session, factory, team, caseworker, district):
    case = factory.case(team=team, caseworker=caseworker, district=district)
    colleague = factory.user("caseworker", team=team, name="Kollegin")
    login_as(client, app, caseworker)
    assert "Kollegin" in text_of(client.get(f"/faelle/{case.id}/zustaendigkeit"))
    r = post(client, app, f"/faelle/{case.id}/zustaendigkeit", {"caseworker_id": str(colleague.id)})
    assert r.status_code == 302
    assert _only_case(session).caseworker_id == colleague.id
    [entry] = audit_actions(session, "case.reassigned")
    assert entry.details == {"previous_id": caseworker.id, "caseworker_id": colleague.id}


def test_reassign_to_someone_outside_the_team_is_refused(app, client, session, factory, team, caseworker, district):
    case = factory.case(team=team, caseworker=caseworker, district=district)
    outsider = factory.user("caseworker")
    inactive = factory.user("caseworker", team=team, active=False)
    partner = factory.user("partner")
    login_as(client, app, caseworker)
    for user_id in (outsider.id, inactive.id, partner.id, 999999):
        r = post(client, app, f"/faelle/{case.id}/zustaendigkeit", {"caseworker_id": str(user_id)})
        assert r.status_code == 400
        assert "Bitte wählen Sie einen der angebotenen Einträge." in text_of(r)
    assert _only_case(session).caseworker_id == caseworker.id


def test_close_makes_the_case_read_only_and_reopen_restores_it(
    app, client, session, factory, team, caseworker, district
):
    case = factory.case(team=team, caseworker=caseworker, district=district)
    login_as(client, app, caseworker)
    r = post(client, app, f"/faelle/{case.id}/schliessen", {"reason": "work"})
    assert r.status_code == 302
    closed = _only_case(session)
    assert (closed.status, closed.close_reason) == ("closed", "work") and closed.closed_at is not None
    page = text_of(client.get(f"/faelle/{case.id}"))
    assert "Arbeit aufgenommen" in page and "Bearbeiten" not in page and "Fall wieder öffnen" in page

    for url, data in (
        (f"/faelle/{case.id}/bearbeiten", case_data(district, version="1")),
        (f"/faelle/{case.id}/zustaendigkeit", {"caseworker_id": str(caseworker.id)}),
        (f"/faelle/{case.id}/einwilligungen/neu", {}),
    ):
        assert client.get(url).status_code == 409
        r = post(client, app, url, data)
        assert r.status_code == 409
        assert "Dieser Fall ist abgeschlossen und kann nicht bearbeitet werden." in text_of(r)
    assert post(client, app, f"/faelle/{case.id}/schliessen", {"reason": "work"}).status_code == 409
    assert _only_case(session).version == 1

    assert post(client, app, f"/faelle/{case.id}/wiedereroeffnen").status_code == 302
    reopened = _only_case(session)
    assert (reopened.status, reopened.close_reason, reopened.closed_at) == ("open", None, None)
    assert post(client, app, f"/faelle/{case.id}/wiedereroeffnen").status_code == 409
    assert [e.action for e in audit_actions(session) if e.action in ("case.closed", "case.reopened")] == [
        "case.closed",
        "case.reopened",
    ]


def test_every_change_is_in_the_audit_trail_with_ids_only(app, client, session, factory, team, caseworker, district):
    login_as(client, app, caseworker)
    post(client, app, "/faelle/neu", case_data(district))
    case = _only_case(session)
    post(client, app, f"/faelle/{case.id}/bearbeiten", case_data(district, summary="Anders.", version="1"))
    post(client, app, f"/faelle/{case.id}/schliessen", {"reason": "moved"})
    post(client, app, f"/faelle/{case.id}/wiedereroeffnen")
    entries = [e for e in audit_actions(session) if e.object_type == "case_file"]
    assert [e.action for e in entries] == ["case.created", "case.updated", "case.closed", "case.reopened"]
    for e in entries:
        assert "Anders" not in repr(e.details) and "123BG456" not in repr(e.details)
    assert all(e.actor_id == caseworker.id for e in entries)
