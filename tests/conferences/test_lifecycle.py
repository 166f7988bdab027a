"""The lifecycle at a glance (issue 13): the stage is computed in one place, every conference page
shows it as an ordered list with the current step, the one next action the policy allows, and what
is not possible yet and from when."""

import re
from datetime import timedelta

import pytest

from app.clock import berlin_today, utcnow
from app.conferences.models import Conference
from app.conferences.services.lifecycle import Stage, stage_of
from app.filters import datetime_de
from app.minutes.models import Minutes
from tests.conferences.conftest import future
from tests.conftest import login_as, post

STEPS = ["geplant", "eingeladen", "durchgeführt", "Protokoll im Entwurf", "zur Anmerkung", "abgeschlossen"]


def indicator(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index('<section class="lifecycle"')
    return html[start : html.index("</section>", start)]


def steps(response) -> list[tuple[str, str, bool]]:
    """(label, state in words, aria-current) of each step, in order."""
    found = re.findall(
        r'<li class="lifecycle__step[^"]*"( aria-current="step")?>\s*<span class="lifecycle__label">([^<]+)</span>'
        r'\s*<span class="lifecycle__state">([^<]+)</span>',
        indicator(response),
    )
    numbered = [(label.split(". ", 1), state, bool(current)) for current, label, state in found]
    assert [int(number) for (number, _label), _s, _c in numbered] == list(range(1, len(found) + 1))
    return [(label, state, is_current) for (_number, label), state, is_current in numbered]


def current(response) -> str:
    [label] = [label for label, _state, is_current in steps(response) if is_current]
    return label


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", indicator(response)))


def test_stage_of_every_state():
    conf = Conference(status="planned")
    assert stage_of(conf, None, invited=False) == Stage.PLANNED
    assert stage_of(conf, None, invited=True) == Stage.INVITED
    conf.status = "held"
    assert stage_of(conf, None, invited=True) == Stage.HELD
    assert stage_of(conf, Minutes(status="draft"), invited=True) == Stage.DRAFT
    assert stage_of(conf, Minutes(status="draft", comments_until=berlin_today()), invited=True) == Stage.COMMENTS
    conf.status = "closed"
    assert stage_of(conf, Minutes(status="final"), invited=True) == Stage.CLOSED
    assert stage_of(Conference(status="cancelled"), None, invited=True) is None


def test_planned_before_the_start_says_when_the_minutes_become_possible(app, client, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}")
    assert [label for label, _s, _c in steps(page)] == STEPS
    assert current(page) == "geplant"
    assert steps(page)[0][1] == "aktueller Schritt" and steps(page)[1][1] == "noch offen"
    shown = text(page)
    assert "Nächster Schritt: Einrichtungen einladen" in shown
    with app.test_request_context():
        when = datetime_de(conf.starts_at)
    assert f"Protokoll schreiben: ab Beginn am {when}, sobald die Fallkonferenz als durchgeführt markiert ist." in shown
    assert f"Als durchgeführt markieren: ab Beginn der Fallkonferenz am {when}." in shown
    # The minutes page says the same, and offers no way that does not work yet.
    minutes = client.get(f"/konferenzen/{conf.id}/protokoll")
    assert current(minutes) == "geplant" and "Protokoll schreiben: ab Beginn am" in text(minutes)
    assert f'action="/konferenzen/{conf.id}/durchgefuehrt"' not in indicator(minutes)


def test_invited_and_begun_the_next_action_is_to_mark_it_held_also_from_the_minutes_page(
    app, client, session, factory, scene
):
    conf = factory.conference(scene.case, location=scene.location, starts_at=utcnow() - timedelta(minutes=5))
    factory.invitation(conf, scene.debt)
    login_as(client, app, scene.caseworker)
    for url in (f"/konferenzen/{conf.id}", f"/konferenzen/{conf.id}/protokoll"):
        page = client.get(url)
        assert current(page) == "eingeladen"
        assert steps(page)[0][1] == "erledigt"
        box = indicator(page)
        assert f'action="/konferenzen/{conf.id}/durchgefuehrt"' in box and "Als durchgeführt markieren" in box
        assert 'name="csrf_token"' in box
    assert post(client, app, f"/konferenzen/{conf.id}/durchgefuehrt").status_code == 302
    page = client.get(f"/konferenzen/{conf.id}")
    assert current(page) == "durchgeführt" and "Nächster Schritt: Protokoll schreiben" in text(page)


def test_a_team_lead_who_does_not_moderate_is_told_who_writes_the_minutes(app, client, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=-1), status="held")
    login_as(client, app, scene.team_lead)
    page = client.get(f"/konferenzen/{conf.id}")
    assert current(page) == "durchgeführt"
    assert "Clara Fallmanagerin (Moderation) schreibt das Protokoll." in text(page)
    assert "Nächster Schritt" not in text(page)


def test_skipped_steps_are_said_in_words(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=-1), status="held")
    session.add(Minutes(conference_id=conf.id, summary="Entwurf."))
    session.commit()
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}")
    assert steps(page) == [
        ("geplant", "erledigt", False),
        ("eingeladen", "ausgelassen", False),
        ("durchgeführt", "erledigt", False),
        ("Protokoll im Entwurf", "aktueller Schritt", True),
        ("zur Anmerkung", "noch offen", False),
        ("abgeschlossen", "noch offen", False),
    ]
    assert "Nächster Schritt: Entwurf zur Anmerkung freigeben" in text(page)


@pytest.mark.parametrize("days,expected", [(3, "zur Anmerkung"), (-1, "zur Anmerkung")])
def test_the_comment_round_and_after_it_finalising(app, client, session, factory, scene, days, expected):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=-3), status="held")
    factory.invitation(conf, scene.debt, status="accepted")
    draft = Minutes(conference_id=conf.id, summary="Entwurf.", comments_until=berlin_today() + timedelta(days=days))
    session.add(draft)
    session.commit()
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}")
    assert current(page) == expected
    assert "Nächster Schritt: Protokoll abschließen" in text(page)
    assert f'href="/protokolle/{draft.id}/abschliessen"' in indicator(page)
    if days > 0:
        assert "Anmerkungen schreiben; schließen Sie danach ab." in text(page)
    # The invited partner: its next action is its comment while the round runs.
    login_as(client, app, scene.partner_debt)
    partner = client.get(f"/konferenzen/{conf.id}")
    assert current(partner) == expected
    if days > 0:
        assert "Nächster Schritt: Anmerkung zum Protokollentwurf schreiben" in text(partner)
    else:
        assert "Das Jobcenter schreibt das Protokoll" in text(partner)


def test_partner_sees_the_stages_and_its_next_action(app, client, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    inv = factory.invitation(conf, scene.debt)
    login_as(client, app, scene.partner_debt)
    page = client.get(f"/konferenzen/{conf.id}")
    assert current(page) == "eingeladen" and "Nächster Schritt: Teilnahme zu- oder absagen" in text(page)
    assert "Protokoll: erst nach der Fallkonferenz am" in text(page)
    inv.status = "accepted"
    factory.s.commit()
    assert "Nächster Schritt: Stellungnahme schreiben" in text(client.get(f"/konferenzen/{conf.id}"))


def test_closed_and_cancelled(app, client, session, factory, scene):
    closed = factory.conference(scene.case, location=scene.location, starts_at=future(days=-9), status="closed")
    session.add(Minutes(conference_id=closed.id, status="final", summary="x", content={}))
    cancelled = factory.conference(scene.case, location=scene.location, starts_at=future(), status="cancelled")
    session.commit()
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{closed.id}")
    assert current(page) == "abgeschlossen" and "Nächster Schritt: Folgekonferenz planen" in text(page)
    gone = client.get(f"/konferenzen/{cancelled.id}")
    assert steps(gone) == [] and "abgesagt" in text(gone) and "keine weiteren Schritte" in text(gone)
