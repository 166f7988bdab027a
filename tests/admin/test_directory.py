"""Administration of the directory: teams, agencies, locations, districts."""

import pytest
from markupsafe import escape
from sqlalchemy import select

from app.accounts.models import Team
from app.agencies.models import AGENCY_TYPE_LABELS, Agency, District, Location
from app.audit import AuditEntry
from tests.conftest import login_as, post, text_of
from tests.dbstate import differences, scalars, snapshot


@pytest.fixture
def admin(app, client, factory):
    user = factory.user("admin")
    login_as(client, app, user)
    return user


def one(session, model, **where):
    found = scalars(session, select(model).filter_by(**where))
    return found[0] if found else None


def last_action(session):
    return scalars(session, select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1))[0]


def test_teams_are_created_renamed_and_deactivated(app, client, session, admin):
    r = post(client, app, "/verwaltung/teams/neu", {"name": "  Team Nord  ", "active": "y"})
    assert r.status_code == 302 and r.location.endswith("/verwaltung/teams")
    team = one(session, Team, name="Team Nord")  # stored without the blanks
    assert team.active and last_action(session) == "team.created"
    assert "Team Nord" in text_of(client.get("/verwaltung/teams"))

    r = post(client, app, f"/verwaltung/teams/{team.id}", {"name": "Team Nordost"})  # box unticked
    assert r.status_code == 302
    team = one(session, Team, id=team.id)
    assert (team.name, team.active) == ("Team Nordost", False)
    assert last_action(session) == "team.updated"


@pytest.mark.parametrize("agency_type", list(AGENCY_TYPE_LABELS))
def test_agencies_of_every_type_with_district_and_contact(app, client, session, factory, admin, agency_type):
    district = factory.district("Nordend")
    r = post(
        client,
        app,
        "/verwaltung/einrichtungen/neu",
        {
            "name": "Einrichtung am Main",
            "type": agency_type,
            "district_id": str(district.id),
            "contact_email": "kontakt@example.org",
            "active": "y",
        },
    )
    assert r.status_code == 302
    agency = one(session, Agency, name="Einrichtung am Main")
    assert (agency.type, agency.district_id, agency.contact_email) == (agency_type, district.id, "kontakt@example.org")
    page = text_of(client.get("/verwaltung/einrichtungen"))
    assert "Nordend" in page and "kontakt@example.org" in page
    label = AGENCY_TYPE_LABELS[agency_type]
    assert str(label) in page


def test_agency_is_edited(app, client, session, factory, admin):
    agency = factory.agency(type="health")
    r = post(
        client,
        app,
        f"/verwaltung/einrichtungen/{agency.id}",
        {"name": agency.name, "type": "youth", "district_id": "", "contact_email": "neu@example.org", "active": "y"},
    )
    assert r.status_code == 302
    agency = one(session, Agency, id=agency.id)
    assert (agency.type, agency.contact_email, agency.district_id) == ("youth", "neu@example.org", None)
    assert last_action(session) == "agency.updated"


def test_online_location_needs_an_https_video_link(app, client, session, admin):
    data = {"name": "Videoraum", "kind": "online", "district_id": "", "agency_id": "", "address": "", "active": "y"}
    for link, message in [
        ("", "Für einen Online-Ort ist ein Link zur Videokonferenz nötig."),
        ("http://video.example.org/raum", "die mit https:// beginnt"),
        ("javascript:alert(1)", "die mit https:// beginnt"),
    ]:
        r = post(client, app, "/verwaltung/orte/neu", {**data, "video_url": link})
        assert r.status_code == 400, link
        assert message in text_of(r)
        assert "Bitte prüfen Sie Ihre Eingaben." in text_of(r)
    assert one(session, Location, name="Videoraum") is None

    r = post(client, app, "/verwaltung/orte/neu", {**data, "video_url": "https://video.example.org/raum"})
    assert r.status_code == 302
    assert one(session, Location, name="Videoraum").video_url == "https://video.example.org/raum"


def test_location_at_partner_premises(app, client, session, factory, admin):
    district, agency = factory.district(), factory.agency()
    r = post(
        client,
        app,
        "/verwaltung/orte/neu",
        {
            "name": "Seminarraum 1",
            "kind": "partner_premises",
            "district_id": str(district.id),
            "agency_id": str(agency.id),
            "address": "Seminarraum 1, 2. OG",
            "video_url": "",
            "active": "y",
        },
    )
    assert r.status_code == 302
    loc = one(session, Location, name="Seminarraum 1")
    assert (loc.kind, loc.district_id, loc.agency_id, loc.address) == (
        "partner_premises",
        district.id,
        agency.id,
        "Seminarraum 1, 2. OG",
    )


def test_districts_are_created_and_listed(app, client, session, admin):
    assert post(client, app, "/verwaltung/stadtteile/neu", {"name": "Kaiserlei", "active": "y"}).status_code == 302
    assert one(session, District, name="Kaiserlei").active
    assert "Kaiserlei" in text_of(client.get("/verwaltung/stadtteile"))
    assert last_action(session) == "district.created"


# --- bad input ------------------------------------------------------------------------------

REQUIRED = "Bitte füllen Sie dieses Feld aus."
CHOICE = "Bitte wählen Sie einen der angebotenen Einträge."
EMAIL = "Bitte geben Sie eine gültige E-Mail-Adresse ein."
CONTROL = "Der Text enthält unzulässige Steuerzeichen."


def too_long(n):
    return "x" * (n + 1), f"Feld kann nicht länger als {n} Zeichen sein."


VALID = {
    "teams": {"name": "Team West", "active": "y"},
    "stadtteile": {"name": "Hafen", "active": "y"},
    "einrichtungen": {
        "name": "Beratung Ost",
        "type": "health",
        "district_id": "",
        "contact_email": "ost@example.org",
        "active": "y",
    },
    "orte": {
        "name": "Raum 1.01",
        "kind": "jobcenter_room",
        "district_id": "",
        "agency_id": "",
        "address": "1. OG",
        "video_url": "",
        "active": "y",
    },
}
# kind: [(case, changes, German message, a submitted value the page must keep)]
BAD_INPUT = {
    "teams": [
        ("empty", {"name": ""}, REQUIRED, None),
        ("long name", {"name": too_long(120)[0]}, too_long(120)[1], None),
        ("NUL", {"name": "Team\x00West"}, CONTROL, None),
    ],
    "stadtteile": [
        ("empty", {"name": " "}, REQUIRED, None),
        ("long name", {"name": too_long(80)[0]}, too_long(80)[1], None),
        ("escape", {"name": "Hafen\x1b"}, CONTROL, None),
    ],
    "einrichtungen": [
        ("empty", dict.fromkeys(VALID["einrichtungen"], ""), REQUIRED, None),
        ("long name", {"name": too_long(160)[0]}, too_long(160)[1], "ost@example.org"),
        ("unknown type", {"type": "casino"}, CHOICE, "Beratung Ost"),
        ("unknown district", {"district_id": "999999"}, CHOICE, "Beratung Ost"),
        (
            "district not a number",
            {"district_id": "1 OR 1=1"},
            "Bitte wählen Sie einen der angebotenen Einträge.",
            "Beratung Ost",
        ),
        ("no contact", {"contact_email": ""}, REQUIRED, "Beratung Ost"),
        ("bad contact", {"contact_email": "<b>ost</b>"}, EMAIL, "<b>ost</b>"),
    ],
    "orte": [
        ("empty", dict.fromkeys(VALID["orte"], ""), REQUIRED, None),
        ("long name", {"name": too_long(160)[0]}, too_long(160)[1], "1. OG"),
        ("long address", {"address": too_long(300)[0]}, too_long(300)[1], "Raum 1.01"),
        ("unknown kind", {"kind": "boat"}, CHOICE, "Raum 1.01"),
        ("unknown agency", {"agency_id": "999999"}, CHOICE, "Raum 1.01"),
        ("agency not a number", {"agency_id": "eins"}, "Bitte wählen Sie einen der angebotenen Einträge.", "Raum 1.01"),
        ("script link", {"kind": "online", "video_url": "javascript:alert(1)"}, "https://", "javascript:alert(1)"),
    ],
}
CASES = [(kind, *case) for kind, cases in BAD_INPUT.items() for case in cases]
OBJECTS = {"teams": "team", "stadtteile": "district", "einrichtungen": "agency", "orte": "location"}


@pytest.mark.parametrize("target", ["new", "edit"])
@pytest.mark.parametrize("kind,case,changes,message,kept", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_bad_input(app, client, factory, admin, kind, case, changes, message, kept, target):
    url = f"/verwaltung/{kind}/neu"
    if target == "edit":
        url = f"/verwaltung/{kind}/{getattr(factory, OBJECTS[kind])().id}"
    before = snapshot(app)

    r = post(client, app, url, {**VALID[kind], **changes})

    assert r.status_code == 400
    assert message in text_of(r)
    page = r.get_data(as_text=True)
    assert "Bitte prüfen Sie Ihre Eingaben." in page
    if kept is not None:
        assert f'value="{escape(kept)}"' in page
    assert "<b>ost</b>" not in page
    assert differences(before, snapshot(app)) == []


@pytest.mark.parametrize("kind", list(VALID))
def test_duplicate_name_is_refused_regardless_of_case(app, client, factory, admin, kind):
    existing = getattr(factory, OBJECTS[kind])()
    before = snapshot(app)
    r = post(client, app, f"/verwaltung/{kind}/neu", {**VALID[kind], "name": existing.name.upper()})
    assert r.status_code == 400
    assert "Dieser Name ist schon vergeben." in text_of(r)
    assert differences(before, snapshot(app)) == []


@pytest.mark.parametrize("kind", list(VALID))
def test_names_are_shown_escaped(app, client, session, admin, kind):
    name = "<script>alert(1)</script>"
    assert post(client, app, f"/verwaltung/{kind}/neu", {**VALID[kind], "name": name}).status_code == 302
    html = client.get(f"/verwaltung/{kind}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_agency_name_is_escaped_in_the_user_form(app, client, factory, admin):
    factory.agency(name="<img src=x onerror=alert(1)>")
    html = client.get("/verwaltung/benutzer/neu").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html


def test_unknown_kind_or_id_is_a_german_404(app, client, admin):
    for url in ("/verwaltung/unbekannt", "/verwaltung/unbekannt/neu", "/verwaltung/teams/999999"):
        r = client.get(url)
        assert r.status_code == 404
        assert "Seite nicht gefunden" in text_of(r)
    assert post(client, app, "/verwaltung/orte/999999", VALID["orte"]).status_code == 404
