"""A note, measure or review reached through another conference's URL (issue 10, finding 4): 404,
and the refusal is in the audit trail with the record that was probed and the rule that refused."""

from sqlalchemy import select

from app.audit import AuditEntry
from tests.conftest import login_as
from tests.dbstate import scalars


def _refusals(session):
    return [
        (e.actor_id, e.object_type, e.object_id, e.details)
        for e in scalars(
            session, select(AuditEntry).where(AuditEntry.action == "access.refused").order_by(AuditEntry.id)
        )
    ]


def test_records_of_another_conference_are_refused_and_audited(app, client, session, factory):
    team = factory.team()
    caseworker = factory.user("caseworker", team=team)
    case = factory.case(team=team, caseworker=caseworker)
    agency = factory.agency()
    factory.consent(case, agency)
    mine, other = factory.conference(case), factory.conference(case)
    factory.invitation(mine, agency)
    factory.invitation(other, agency)
    partner = factory.user("partner", agency=agency)
    note = factory.note(other, partner)
    measure = factory.measure(other)
    held = factory.conference(case, status="held")
    follow_up = factory.conference(case, previous_conference_id=held.id)

    login_as(client, app, caseworker)
    for url in (
        f"/konferenzen/{mine.id}/stellungnahmen/{note.id}",
        f"/konferenzen/{mine.id}/massnahmen/{measure.id}",
        f"/konferenzen/{follow_up.id}/ueberpruefung/{measure.id}",
    ):
        assert client.get(url).status_code == 404, url
    # Through its own conference, each is there.
    assert client.get(f"/konferenzen/{other.id}/massnahmen/{measure.id}").status_code == 200
    partner_client = app.test_client()
    login_as(partner_client, app, partner)
    assert partner_client.get(f"/konferenzen/{mine.id}/stellungnahmen/{note.id}").status_code == 404
    assert partner_client.get(f"/konferenzen/{other.id}/stellungnahmen/{note.id}").status_code == 200

    assert _refusals(session) == [
        (caseworker.id, "note", note.id, {"rule": "conference.part"}),
        (caseworker.id, "measure", measure.id, {"rule": "conference.part"}),
        (caseworker.id, "measure", measure.id, {"rule": "conference.review"}),
        (partner.id, "note", note.id, {"rule": "conference.part"}),
    ]
