"""The access report (Art. 15 GDPR, § 83 SGB X): everything stored, and exactly the agencies that saw
the case, from the audit trail; staff by role, never by name; producing it is audited."""

import json

from sqlalchemy import select

from app.audit import AuditEntry
from app.clock import berlin_today
from tests.conftest import login_as, post
from tests.minutes.conftest import finalised, make_scene, pdf_text


def test_lists_exactly_the_agencies_that_saw_the_case(app, client, factory):
    scene = make_scene(factory)
    minutes = finalised(client, app, scene)
    # The debt counselling service views the conference and downloads its copy of the minutes.
    login_as(client, app, scene.partner_debt)
    assert client.get(f"/konferenzen/{scene.conference.id}").status_code == 200
    assert client.get(f"/protokolle/{minutes.id}/pdf").status_code == 200
    # The health service views the conference, then the person withdraws its consent: no more access.
    login_as(client, app, scene.partner_health)
    assert client.get(f"/konferenzen/{scene.conference.id}").status_code == 200
    login_as(client, app, scene.organiser)
    r = post(
        client,
        app,
        f"/faelle/{scene.case.id}/einwilligungen/{scene.consent_health.id}/widerrufen",
        {"withdrawn_on": berlin_today().isoformat(), "note": ""},
    )
    assert r.status_code == 302
    login_as(client, app, scene.partner_health)
    assert client.get(f"/konferenzen/{scene.conference.id}").status_code == 404
    # The youth service was invited but never looked. An agency of another case looks at its own.
    other_agency = factory.agency("Suchtberatung Anderswo")
    other_case = factory.case(caseworker=scene.organiser)
    factory.consent(other_case, other_agency, scope=("general",))
    other_conference = factory.conference(other_case)
    factory.invitation(other_conference, other_agency, status="accepted")
    login_as(client, app, factory.user("partner", agency=other_agency))
    assert client.get(f"/konferenzen/{other_conference.id}").status_code == 200

    login_as(client, app, scene.organiser)
    r = client.get(f"/faelle/{scene.case.id}/auskunft/json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    bundle = json.loads(r.data)
    saw = {a["name"] for a in bundle["agencies_that_saw_the_case"]}
    assert saw == {scene.debt.name, scene.health.name}
    downloads = [d for d in bundle["disclosures"] if d["action"] == "minutes.downloaded"]
    assert [d["who"] for d in downloads] == [scene.debt.name]
    health_views = [d for d in bundle["disclosures"] if d["who"] == scene.health.name]
    assert health_views and all(d["action"] == "conference.viewed" for d in health_views)
    assert set(health_views[0]["scope"]) == set(scene.consent_health.scope)
    # Everything stored: the consent's history with the withdrawal, the minutes, the notes.
    withdrawn = [c for c in bundle["consents"] if c["agency"] == scene.health.name]
    assert withdrawn[-1]["withdrawn_on"] == berlin_today().isoformat()
    conference = next(c for c in bundle["conferences"] if c["id"] == scene.conference.id)
    assert conference["minutes"][0]["pdf_sha256"] == minutes.pdf_sha256
    assert conference["notes"] and conference["measures"]
    assert bundle["case"]["internal_reference"] == scene.case.internal_reference
    # Staff by role, never by name.
    text = r.get_data(as_text=True)
    assert scene.organiser.name not in text and scene.team_lead.name not in text
    assert "Jobcenter – Fallmanagement" in text

    r = client.get(f"/faelle/{scene.case.id}/auskunft/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = " ".join(pdf_text(r.data).split())
    assert scene.debt.name in pdf and scene.health.name in pdf and other_agency.name not in pdf
    assert scene.organiser.name not in pdf

    page = client.get(f"/faelle/{scene.case.id}/auskunft").get_data(as_text=True)
    seen_list = page.split('id="gesehen"')[1].split("</ul>")[0]
    assert scene.debt.name in seen_list and scene.health.name in seen_list and scene.youth.name not in seen_list

    csv_text = client.get(f"/faelle/{scene.case.id}/auskunft/csv").get_data().decode("utf-8-sig")
    assert scene.debt.name in csv_text and "heruntergeladen" in csv_text

    produced = (
        factory.s.execute(
            select(AuditEntry).where(AuditEntry.action == "case.access_report", AuditEntry.object_id == scene.case.id)
        )
        .scalars()
        .all()
    )
    assert [e.details["output"] for e in produced] == ["json", "pdf", "page", "csv"]
    assert all(e.actor_id == scene.organiser.id for e in produced)


def test_other_team_learns_nothing(app, client, factory):
    scene = make_scene(factory)
    login_as(client, app, factory.user("team_lead", team=factory.team("Team Süd")))
    assert client.get(f"/faelle/{scene.case.id}/auskunft/json").status_code == 404
    entry = (
        factory.s.execute(
            select(AuditEntry).where(AuditEntry.action == "access.refused").order_by(AuditEntry.id.desc())
        )
        .scalars()
        .first()
    )
    assert entry.details["rule"] == "case.access_report"
