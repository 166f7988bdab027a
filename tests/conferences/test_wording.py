"""Wording on the conference pages (issue 13, "Layout, wording, accessibility"): singular and
plural, hidden suffixes that stay hidden, "Moderation", no doubled room names, the person's
attendance after the meeting, honest messages, and a guard hint that does not lead into the
guard's own error."""

import re

import pytest

from app import pii
from app.agencies.models import place_text
from app.clock import berlin_today
from app.conferences.models import AgendaItem
from app.forms import directory_names
from tests.conferences.conftest import future
from tests.conftest import login_as, outbox_messages, post, text_of


def _flash(response) -> str:
    return " ".join(re.findall(r'<span class="kern-title">([^<]*)</span>', response.get_data(as_text=True)))


def test_hidden_suffixes_of_the_invitation_buttons_stay_hidden(app, client, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=5))
    factory.invitation(conf, scene.debt)
    login_as(client, app, scene.caseworker)
    html = client.get(f"/konferenzen/{conf.id}").get_data(as_text=True)
    for label in ("Erneut senden", "Zurückziehen"):
        button = re.search(rf'<span class="kern-label">{label}(.*?)</span></button>', html)
        assert button, label
        # The agency's name is only in a visually hidden part of the label.
        assert button.group(1) == '<span class="kern-sr-only"> (Schuldnerberatung)</span>'


def test_moderation_and_the_persons_attendance_before_and_after_the_meeting(app, client, factory, scene):
    planned = factory.conference(scene.case, location=scene.location, starts_at=future(days=5), person_attends=True)
    held = factory.conference(
        scene.case, location=scene.location, starts_at=future(days=-5), status="held", person_attends=True
    )
    recorded = factory.conference(
        scene.case,
        location=scene.location,
        starts_at=future(days=-6),
        status="held",
        person_attends=True,
        person_attended=False,
    )
    login_as(client, app, scene.caseworker)

    def text(url):
        return " ".join(re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True)).split())

    before = text(f"/konferenzen/{planned.id}")
    assert "Moderation Clara Fallmanagerin" in before and "Organisation" not in before
    assert "Teilnahme der Person geplant" in before
    after = text(f"/konferenzen/{held.id}")
    assert "Teilnahme der Person" not in after and "Person war anwesend nicht erfasst" in after
    assert "Person war anwesend nein" in text(f"/konferenzen/{recorded.id}")


def test_the_invitation_mail_names_the_moderation(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=5))
    session.add(AgendaItem(conference_id=conf.id, position=1, title="Stand der Dinge"))
    session.commit()
    login_as(client, app, scene.caseworker)
    response = post(client, app, f"/konferenzen/{conf.id}/einladungen", {"agencies": [str(scene.debt.id)]})
    assert response.status_code == 302
    (msg,) = outbox_messages(app)
    body = msg.get_body(("plain",)).get_content()
    assert "Moderation: Clara Fallmanagerin" in body and "Organisation" not in body


def test_no_doubled_room_names(app, client, factory, scene):
    room = factory.location("Jobcenter, Besprechungsraum 2.14")
    room.address = "Raum 2.14, 2. OG"
    factory.s.flush()
    conf = factory.conference(scene.case, location=room, starts_at=future(days=5))
    login_as(client, app, scene.caseworker)
    body = text_of(client.get(f"/konferenzen/{conf.id}"))
    assert "Jobcenter, Besprechungsraum 2.14, 2. OG" in body and body.count("2.14") == 1
    assert place_text("Stadtteilbüro Nordend, Gruppenraum", "Gruppenraum, Erdgeschoss") == (
        "Stadtteilbüro Nordend, Gruppenraum, Erdgeschoss"
    )
    assert place_text("Raum A", "Berliner Straße 1, 63065 Offenbach") == "Raum A, Berliner Straße 1, 63065 Offenbach"
    assert place_text("Raum A", None) == "Raum A"


@pytest.mark.parametrize("invited", [0, 1, 2])
def test_cancelling_says_who_was_told(app, client, factory, scene, invited):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=5))
    for agency in (scene.debt, scene.health)[:invited]:
        factory.invitation(conf, agency)
    login_as(client, app, scene.caseworker)
    response = post(
        client,
        app,
        f"/konferenzen/{conf.id}/absagen",
        {"reason": "Termin entfällt.", "version": str(conf.version)},
        follow_redirects=True,
    )
    message = _flash(response)
    expected = {
        0: "Die Fallkonferenz ist abgesagt. Es war keine Einrichtung eingeladen.",
        1: "Die Fallkonferenz ist abgesagt; 1 eingeladene Einrichtung wurde benachrichtigt.",
        2: "Die Fallkonferenz ist abgesagt; 2 eingeladene Einrichtungen wurden benachrichtigt.",
    }[invited]
    assert expected in message, message
    assert "Einrichtungen wurden benachrichtigt" not in message or invited == 2


def test_invitations_sent_in_singular_and_plural(app, client, factory, scene):
    for agencies in ([scene.debt], [scene.debt, scene.health]):
        conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=5 + len(agencies)))
        login_as(client, app, scene.caseworker)
        response = post(
            client,
            app,
            f"/konferenzen/{conf.id}/einladungen",
            {"agencies": [str(a.id) for a in agencies]},
            follow_redirects=True,
        )
        expected = "1 Einladung verschickt." if len(agencies) == 1 else "2 Einladungen verschickt."
        assert expected in _flash(response)


BRACKETED_PLURAL = re.compile(r"[A-Za-zÄÖÜäöüß]\((en|n|e|s|er|innen)\)(?!\w)")


def test_no_bracketed_plurals_left_in_templates_or_messages():
    """ "Einladung(en)" is how a program counts, not how people write: ngettext instead."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app"
    offenders = []
    for path in [*root.rglob("*.html"), *root.rglob("*.txt")]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if BRACKETED_PLURAL.search(line):
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    for path in root.rglob("*.py"):
        if path.name == "topics.py":  # the topic lexicon's docstrings list word forms
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Docstrings speak to developers ("http(s):"); every other string may reach a user.
        docstrings = {
            id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if id(node) in docstrings:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and BRACKETED_PLURAL.search(node.value):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.strip()[:80]}")
    assert not offenders, "\n".join(offenders)


def test_the_answer_hint_asks_for_functions_and_its_example_passes_the_guard(app, client, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(days=5))
    factory.invitation(conf, scene.debt)
    login_as(client, app, scene.partner_debt)
    for url in (f"/konferenzen/{conf.id}", f"/konferenzen/{conf.id}/antwort"):
        html = client.get(url).get_data(as_text=True)
        hint = re.search(r'<div class="kern-hint" id="comment-hint">([^<]*)</div>', html).group(1)
        assert "Namen" in hint and "mit Namen" not in hint  # it asks for the function instead
        example = re.search(r"„([^“]+)“", hint).group(1)
        with app.test_request_context():
            assert pii.find_personal_data(example, today=berlin_today(), known=directory_names()) == []
        # Written as the hint suggests, the answer is saved without the guard stopping it.
        response = post(client, app, f"/konferenzen/{conf.id}/antwort", {"answer": "accepted", "comment": example})
        assert response.status_code == 302, text_of(response)
