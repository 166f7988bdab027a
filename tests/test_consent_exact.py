"""Consent-exact content (DESIGN.md section 4): a partner sees an item exactly when its consent
covers every category of the item, on every surface that reaches it.

One held conference holds an agenda item, a note, a measure and a decision for every single
data category, for two pairs, and for none (Jobcenter only), each named by a marker word. Four
partner agencies with different consent scopes take part, each revealing different categories
by taking part. Each surface is read by each partner and checked item by item:

- the conference page, the shared draft of the minutes and the partner's PDF of the final minutes
  (agenda, discussion, notes, measures, summary, decisions, participants);
- the partner start page (the agency's own measures);
- every e-mail to a partner (which carry no case content at all).

Then the consent changes between two requests: narrowed, the next page shows less; withdrawn,
nothing at all.
"""

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.agencies.models import Agency
from app.cases.models import DATA_CATEGORIES, Consent
from app.clock import berlin_today, utcnow
from app.conferences.models import AgendaItem
from app.minutes.models import Minutes
from tests.conftest import login_as, outbox_messages, post, text_of, working_day

CATEGORY_SETS = [(code,) for code in DATA_CATEGORIES] + [("debt", "housing"), ("general", "health"), ()]

# Partner agencies: consent scope, and what their taking part reveals.
AGENCIES = {
    "Narrow": (("general",), ["general"]),
    "Debt": (("general", "work", "debt"), ["debt"]),
    "Health": (("general", "health"), ["health"]),
    "Wide": (tuple(DATA_CATEGORIES), ["addiction"]),
}


def marker(kind: str, categories) -> str:
    """A word that survives PDF text extraction and names the item's kind and categories."""
    return kind + "".join(code.capitalize() for code in categories) + ("Intern" if not categories else "") + "Marker"


def shares(scope, categories) -> bool:
    return bool(categories) and set(categories) <= set(scope)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def pdf_text(data: bytes) -> str:
    return flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


class World:
    """The conference, its agencies and partners, and what was put into it."""

    def __init__(self, factory):
        self.factory = factory
        s = factory.s
        team = factory.team("Team Nord")
        self.organiser = factory.user("caseworker", team=team, name="Olga Organisatorin")
        self.case = factory.case(caseworker=self.organiser, internal_reference="INTREF-CONSENT-EXACT")
        self.agencies, self.partners, self.consents = {}, {}, {}
        for name, (scope, reveals) in AGENCIES.items():
            agency = factory.agency(f"Einrichtung{name}")
            agency.reveals = reveals
            self.agencies[name] = agency
            self.consents[name] = factory.consent(self.case, agency, scope=scope)
            self.partners[name] = factory.user(
                "partner", agency=agency, name=f"Partner {name}", email=f"partner.{name.lower()}@partner.example"
            )
        s.commit()
        self.conference = factory.conference(
            self.case,
            status="held",
            starts_at=(utcnow() - timedelta(days=1)).replace(microsecond=0),
            organiser=self.organiser,
            occasion="AnlassGeheimMarker",
        )
        for agency in self.agencies.values():
            factory.invitation(self.conference, agency, status="accepted")
        for position, categories in enumerate(CATEGORY_SETS, start=1):
            s.add(
                AgendaItem(
                    conference_id=self.conference.id,
                    position=position,
                    title=marker("Top", categories),
                    discussion=marker("Besprechung", categories),
                    categories=list(categories),
                )
            )
            factory.note(
                self.conference, self.organiser, body=marker("Notiz", categories), categories=categories, agency=None
            )
            factory.measure(self.conference, what=marker("Massnahme", categories), categories=categories)
        # A measure each agency holds, within its scope, and one the debt agency holds outside it
        # (its consent narrowed after it was agreed): the responsible agency always sees its own.
        for name, agency in self.agencies.items():
            factory.measure(
                self.conference,
                what=f"EigeneAufgabe{name}Marker",
                responsible_kind="agency",
                agency=agency,
                categories=AGENCIES[name][0][:1],
            )
        factory.measure(
            self.conference,
            what="SchuldnerGesundheitMarker",
            responsible_kind="agency",
            agency=self.agencies["Debt"],
            categories=("health",),
        )
        s.commit()

    def minutes_form(self, version=None) -> dict:
        data = {
            "summary": "ZusammenfassungDebtMarker",
            "summary_categories": ["debt"],
            "next_date_note": "NotizTerminMarker",
        }
        for i, categories in enumerate(CATEGORY_SETS):
            data[f"decisions-{i}-text"] = marker("Beschluss", categories)
            if categories:
                data[f"decisions-{i}-categories"] = list(categories)
        if version is not None:
            data["version"] = str(version)
        return data

    def expected_items(self, name) -> dict[str, bool]:
        """Every item marker on a page of the minutes, and whether partner ``name`` sees it."""
        scope = AGENCIES[name][0]
        seen = {}
        for categories in CATEGORY_SETS:
            for kind in ("Top", "Besprechung", "Notiz", "Massnahme", "Beschluss"):
                seen[marker(kind, categories)] = shares(scope, categories)
        for other in AGENCIES:
            seen[f"EigeneAufgabe{other}Marker"] = other == name or shares(scope, AGENCIES[other][0][:1])
        seen["SchuldnerGesundheitMarker"] = name == "Debt" or shares(scope, ("health",))
        seen["ZusammenfassungDebtMarker"] = shares(scope, ("debt",))
        # Free text without categories: the Jobcenter's own.
        seen["AnlassGeheimMarker"] = seen["NotizTerminMarker"] = False
        seen["INTREF-CONSENT-EXACT"] = False
        return seen

    def expected_names(self, name) -> dict[str, bool]:
        scope = set(AGENCIES[name][0])
        return {f"Einrichtung{other}": other == name or set(AGENCIES[other][1]) <= scope for other in AGENCIES}


@pytest.fixture
def world(factory):
    return World(factory)


def check(text: str, expected: dict[str, bool], where: str) -> None:
    wrong = {item: want for item, want in expected.items() if (item in text) != want}
    assert not wrong, f"{where}: items shown (True) or hidden (False) against the rule: {wrong}"


def test_the_conference_page_shows_each_partner_exactly_what_its_consent_covers(app, client, world):
    for name, partner in world.partners.items():
        login_as(client, app, partner)
        response = client.get(f"/konferenzen/{world.conference.id}")
        assert response.status_code == 200
        text = text_of(response)
        # The page lists agenda titles, notes and measures (the discussion and the decisions are
        # in the minutes).
        expected = {
            item: want
            for item, want in world.expected_items(name).items()
            if not item.startswith(("Besprechung", "Beschluss", "Zusammenfassung", "NotizTermin"))
        }
        check(text, expected, f"conference page of {name}")
        check(text, world.expected_names(name), f"participants on the conference page of {name}")
        hidden_agencies = sum(not seen for seen in world.expected_names(name).values())
        assert text.count("eine weitere Einrichtung") >= hidden_agencies, name


def test_the_shared_draft_and_the_final_pdf_show_each_partner_exactly_what_its_consent_covers(app, client, world):
    login_as(client, app, world.organiser)
    assert post(client, app, f"/konferenzen/{world.conference.id}/protokoll", world.minutes_form()).status_code == 302
    with app.app_context():
        from app import db

        minutes = db.get_session().execute(select(Minutes)).scalar_one()
    assert post(client, app, f"/protokolle/{minutes.id}/teilen", {"days": "7"}).status_code == 302

    for name, partner in world.partners.items():
        login_as(client, app, partner)
        text = text_of(client.get(f"/konferenzen/{world.conference.id}/protokoll"))
        check(text, world.expected_items(name), f"shared draft of {name}")
        check(text, world.expected_names(name), f"participants in the shared draft of {name}")

    login_as(client, app, world.organiser)
    with app.app_context():
        from app import db

        version = db.get_session().get(Minutes, minutes.id).version
    assert post(client, app, f"/protokolle/{minutes.id}/abschliessen", {"version": str(version)}).status_code == 302
    for name, partner in world.partners.items():
        login_as(client, app, partner)
        response = client.get(f"/protokolle/{minutes.id}/pdf")
        assert response.status_code == 200
        text = pdf_text(response.data)
        check(text, world.expected_items(name), f"PDF of {name}")
        check(text, world.expected_names(name), f"participants in the PDF of {name}")
        assert f"Fassung für Einrichtung{name} im Umfang ihrer Einwilligung" in text
        assert b"INTREF-CONSENT-EXACT" not in response.data
    # The archive copy keeps everything.
    login_as(client, app, world.organiser)
    archive = pdf_text(client.get(f"/protokolle/{minutes.id}/pdf").data)
    everything = {item: True for item in world.expected_items("Wide") if item != "INTREF-CONSENT-EXACT"}
    check(archive, everything, "archive copy")


def test_staff_preview_shows_exactly_what_the_agency_sees(app, client, world):
    login_as(client, app, world.organiser)
    for name, agency in world.agencies.items():
        text = text_of(client.get(f"/konferenzen/{world.conference.id}?ansicht={agency.id}"))
        assert f"Vorschau: So sieht Einrichtung{name} diese Seite." in text
        expected = {
            item: want
            for item, want in world.expected_items(name).items()
            if not item.startswith(("Besprechung", "Beschluss", "Zusammenfassung", "NotizTermin"))
        }
        check(text, expected, f"staff preview as {name}")
        assert "Stellungnahme schreiben" not in text and "Antwort speichern" not in text  # read-only
    # The same for the draft of the minutes, and the list of what each agency will not see.
    assert post(client, app, f"/konferenzen/{world.conference.id}/protokoll", world.minutes_form()).status_code == 302
    page = text_of(client.get(f"/konferenzen/{world.conference.id}/protokoll"))
    assert "Was die Einrichtungen nicht sehen" in page
    for name, agency in world.agencies.items():
        text = text_of(client.get(f"/konferenzen/{world.conference.id}/protokoll?ansicht={agency.id}"))
        preview = text[text.index("Vorschau: So sieht") :]
        check(preview, world.expected_items(name), f"minutes preview as {name}")


def test_the_partner_start_page_lists_only_the_agencys_own_measures(app, client, world, factory):
    # The start page lists open measures of upcoming work: make the conference's measures due soon.
    for name, partner in world.partners.items():
        login_as(client, app, partner)
        text = text_of(client.get("/"))
        for other in AGENCIES:
            assert (f"EigeneAufgabe{other}Marker" in text) == (other == name), (name, other)
        assert ("SchuldnerGesundheitMarker" in text) == (name == "Debt")
        for categories in CATEGORY_SETS:
            assert marker("Massnahme", categories) not in text  # the Jobcenter's measures


def test_no_partner_email_carries_case_content(app, client, world):
    """Invitations, updates, reminders, the shared draft and cancellations: pseudonym, time and
    place only, whatever the consent covers."""
    login_as(client, app, world.organiser)
    planned = world.factory.conference(world.case, organiser=world.organiser, occasion="AnlassGeheimMarker")
    world.factory.s.add(AgendaItem(conference_id=planned.id, position=1, title="TopDebtMarker", categories=["debt"]))
    world.factory.s.commit()
    agency_ids = [str(a.id) for a in world.agencies.values()]
    assert post(client, app, f"/konferenzen/{planned.id}/einladungen", {"agencies": agency_ids}).status_code == 302
    assert post(client, app, f"/konferenzen/{world.conference.id}/protokoll", world.minutes_form()).status_code == 302
    with app.app_context():
        from app import db

        minutes = db.get_session().execute(select(Minutes)).scalar_one()
    assert post(client, app, f"/protokolle/{minutes.id}/teilen", {"days": "7"}).status_code == 302
    addresses = [a.contact_email for a in world.agencies.values()] + [p.email for p in world.partners.values()]
    messages = [m for m in outbox_messages(app) if any(address in str(m["To"]) for address in addresses)]
    assert len(messages) >= 2 * len(world.partners)
    for message in messages:
        body = "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")
        assert "Marker" not in body and "Marker" not in str(message["Subject"]), message["Subject"]
        assert "INTREF-CONSENT-EXACT" not in body


def test_a_narrowed_consent_shows_less_at_the_next_request_and_a_withdrawn_one_nothing(app, client, world):
    partner = world.partners["Debt"]
    login_as(client, app, partner)
    url = f"/konferenzen/{world.conference.id}"
    assert marker("Massnahme", ("debt",)) in text_of(client.get(url))
    # The person narrows the consent: a new record replaces the old one.
    s = world.factory.s
    old = s.get(Consent, world.consents["Debt"].id)
    old.superseded_at = utcnow()
    narrowed = Consent(
        case_id=world.case.id,
        agency_id=world.agencies["Debt"].id,
        signed_on=berlin_today(),
        valid_until=berlin_today() + timedelta(days=90),
        scope=["general"],
        replaces_id=old.id,
        proof_reference="Akte",
        recorded_by_id=world.organiser.id,
    )
    s.add(narrowed)
    s.commit()
    text = text_of(client.get(url))
    assert marker("Massnahme", ("debt",)) not in text and marker("Top", ("work",)) not in text
    assert marker("Top", ("general",)) in text
    assert "EigeneAufgabeDebtMarker" in text  # its own measure stays visible
    # The person withdraws it: nothing at all.
    narrowed = s.get(Consent, narrowed.id)
    narrowed.withdrawn_on = berlin_today()
    s.commit()
    assert client.get(url).status_code == 404


def test_a_measure_is_given_to_an_agency_only_within_its_consent(app, client, world):
    login_as(client, app, world.organiser)
    debt = world.agencies["Debt"]
    base = {
        "what": "Unterlagen zusammenstellen",
        "responsible": f"agency:{debt.id}",
        "status": "agreed",
        "due_on": working_day(14).isoformat(),
    }
    url = f"/konferenzen/{world.conference.id}/massnahmen/neu"
    refused = post(client, app, url, {**base, "categories": ["health"]})
    assert refused.status_code == 400
    assert "Die Einwilligung für EinrichtungDebt umfasst nicht: Gesundheit." in text_of(refused)
    none = post(client, app, url, base)
    assert none.status_code == 400 and "Bitte wählen Sie ihre Datenkategorien." in text_of(none)
    assert post(client, app, url, {**base, "categories": ["debt"]}).status_code == 302


def test_the_participants_of_another_agency_follow_what_its_taking_part_reveals(app, world):
    """The type's default where the agency names none: a counselling service reveals its kinds."""
    from app.agencies.models import AgencyType, reveals

    assert reveals(Agency(name="x", type=AgencyType.EDUCATION, contact_email="x@x.example")) == ["work"]
    assert reveals(Agency(name="x", type=AgencyType.HEALTH, contact_email="x@x.example")) == ["health"]
    assert "addiction" in reveals(Agency(name="x", type=AgencyType.COUNSELLING, contact_email="x@x.example"))
    assert reveals(Agency(name="x", type=AgencyType.COUNSELLING, contact_email="x@x.example", reveals=["debt"])) == [
        "debt"
    ]


def test_obstacles_reach_a_partner_only_within_its_consent():
    from app.cases.models import OBSTACLE_CATEGORIES
    from app.permissions import JOBCENTER, Reader, visible_content

    content = {"obstacles": list(OBSTACLE_CATEGORIES)}
    assert [o["code"] for o in visible_content(JOBCENTER, content)["obstacles"]] == list(OBSTACLE_CATEGORIES)
    seen = [o["code"] for o in visible_content(Reader(1, frozenset({"general", "debt"})), content)["obstacles"]]
    assert seen == [code for code, cats in OBSTACLE_CATEGORIES.items() if set(cats) <= {"general", "debt"}]
    assert "health" not in seen and "debt" in seen
    assert visible_content(Reader(1, frozenset()), content)["obstacles"] == []
