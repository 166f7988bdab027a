"""Demo data: fictional teams, agencies, locations and one account per kind of user."""
from sqlalchemy import func, select

from app import audit
from app.accounts.models import Role, Team, User
from app.accounts.services import hash_password
from app.agencies.models import Agency, AgencyType, District, Location, LocationKind

DEMO_PASSWORD = "Fallkonferenz-Demo-2026"

DISTRICTS = [
    "Innenstadt", "Nordend", "Westend", "Mathildenviertel", "Lauterborn", "Senefelder",
    "Tempelsee", "Bieber", "Bürgel", "Rumpenheim", "Waldheim", "Buchhügel", "Kaiserlei",
]

# name, type, district, contact
AGENCIES = [
    ("Schuldner- und Insolvenzberatung Offenbach (Demo)", AgencyType.COUNSELLING, "Innenstadt", "schuldnerberatung@demo.invalid"),
    ("Bildungswerk Main (Demo)", AgencyType.EDUCATION, "Kaiserlei", "bildung@demo.invalid"),
    ("Gesundheitsförderung Offenbach (Demo)", AgencyType.HEALTH, "Westend", "gesundheit@demo.invalid"),
    ("Stadtteilbüro Nordend (Demo)", AgencyType.NEIGHBOURHOOD_OFFICE, "Nordend", "stadtteilbuero.nordend@demo.invalid"),
    ("Stadtteilbüro Lauterborn (Demo)", AgencyType.NEIGHBOURHOOD_OFFICE, "Lauterborn", "stadtteilbuero.lauterborn@demo.invalid"),
    ("Stadtteilbüro Senefelder (Demo)", AgencyType.NEIGHBOURHOOD_OFFICE, "Senefelder", "stadtteilbuero.senefelder@demo.invalid"),
    ("Suchtberatung am Main (Demo)", AgencyType.COUNSELLING, "Mathildenviertel", "suchtberatung@demo.invalid"),
    ("Jugendberufshilfe Offenbach (Demo)", AgencyType.YOUTH, "Innenstadt", "jugend@demo.invalid"),
    ("Migrationsberatung Offenbach (Demo)", AgencyType.COUNSELLING, "Innenstadt", "migration@demo.invalid"),
    ("Nachbarschaftshilfe Bieber (Demo)", AgencyType.OTHER, "Bieber", "nachbarschaft@demo.invalid"),
]

LOCATIONS = [
    ("Jobcenter, Besprechungsraum 2.14", LocationKind.JOBCENTER_ROOM, "Innenstadt", None, "Raum 2.14, 2. OG", None),
    ("Jobcenter, Besprechungsraum 3.02", LocationKind.JOBCENTER_ROOM, "Innenstadt", None, "Raum 3.02, 3. OG", None),
    ("Stadtteilbüro Nordend, Gruppenraum", LocationKind.NEIGHBOURHOOD_OFFICE, "Nordend", "Stadtteilbüro Nordend (Demo)", "Gruppenraum, Erdgeschoss", None),
    ("Stadtteilbüro Lauterborn, Beratungsraum", LocationKind.NEIGHBOURHOOD_OFFICE, "Lauterborn", "Stadtteilbüro Lauterborn (Demo)", "Beratungsraum", None),
    ("Bildungswerk Main, Seminarraum 1", LocationKind.PARTNER_PREMISES, "Kaiserlei", "Bildungswerk Main (Demo)", "Seminarraum 1", None),
    ("Videokonferenz (Demo)", LocationKind.ONLINE, None, None, None, "https://video.demo.invalid/fallkonferenz"),
]

# email, name, role, team, agency
ACCOUNTS = [
    ("admin@demo.invalid", "Alex Admin (Demo)", Role.ADMIN, None, None),
    ("teamleitung@demo.invalid", "Tanja Teamleitung (Demo)", Role.TEAM_LEAD, "Team Nord", None),
    ("fallmanagement@demo.invalid", "Fatih Fallmanager (Demo)", Role.CASEWORKER, "Team Nord", None),
    ("fallmanagement.sued@demo.invalid", "Sabine Süd (Demo)", Role.CASEWORKER, "Team Süd", None),
    ("partner.schuldnerberatung@demo.invalid", "Paul Schuldnerberatung (Demo)", Role.PARTNER, None, AGENCIES[0][0]),
    ("partner.bildung@demo.invalid", "Berna Bildung (Demo)", Role.PARTNER, None, AGENCIES[1][0]),
    ("partner.gesundheit@demo.invalid", "Greta Gesundheit (Demo)", Role.PARTNER, None, AGENCIES[2][0]),
    ("partner.stadtteilbuero@demo.invalid", "Stefan Stadtteilbüro (Demo)", Role.PARTNER, None, AGENCIES[3][0]),
]


def ensure_districts(session) -> dict[str, District]:
    existing = {d.name: d for d in session.execute(select(District)).scalars()}
    for name in DISTRICTS:
        if name not in existing:
            existing[name] = District(name=name)
            session.add(existing[name])
    session.flush()
    return existing


def seed(session, *, if_empty: bool = False) -> bool:
    if if_empty and session.execute(select(func.count()).select_from(User)).scalar():
        return False
    districts = ensure_districts(session)
    teams = {}
    for name in ("Team Nord", "Team Süd"):
        teams[name] = Team(name=name)
        session.add(teams[name])
    agencies = {}
    for name, type_, district, email in AGENCIES:
        agencies[name] = Agency(name=name, type=type_, district_id=districts[district].id, contact_email=email)
        session.add(agencies[name])
    session.flush()
    for name, kind, district, agency, address, video in LOCATIONS:
        session.add(Location(
            name=name, kind=kind, district_id=districts[district].id if district else None,
            agency_id=agencies[agency].id if agency else None, address=address, video_url=video,
        ))
    password_hash = hash_password(DEMO_PASSWORD)
    for email, name, role, team, agency in ACCOUNTS:
        session.add(User(
            email=email, name=name, role=role, password_hash=password_hash,
            team_id=teams[team].id if team else None,
            agency_id=agencies[agency].id if agency else None,
        ))
    session.flush()
    audit.record("demo.seeded", session=session)
    session.commit()
    return True


# --- minutes (issue 5) ----------------------------------------------------------------------

DEMO_MINUTES = [
    {"summary": "Die Lage hat sich stabilisiert. Die Schuldenregulierung läuft, ein Bewerbungstraining ist vereinbart.",
     "decisions": "1. Das Bewerbungstraining wird gefördert.\n2. Die Schuldnerberatung begleitet den Ratenplan.",
     "next_date_note": "Folgetermin in etwa drei Monaten."},
    {"summary": "Die Kinderbetreuung ist gesichert; eine Teilzeitstelle am Vormittag ist das nächste Ziel.",
     "decisions": "1. Vermittlungsvorschläge nur für Teilzeit am Vormittag.\n2. Sprachkurs B1 wird beantragt.",
     "next_date_note": ""},
    {"summary": "Gesundheitliche Einschränkungen werden ärztlich abgeklärt, bevor weitere Schritte folgen.",
     "decisions": "1. Gutachten abwarten.\n2. Bis dahin keine Vermittlungsvorschläge.",
     "next_date_note": "Neuer Termin nach Eingang des Gutachtens."},
]


def seed_minutes(session, conferences) -> list:
    """Minutes for the held demo conferences (after seed_conferences): every other one
    finalised as PDF/A, the first of those corrected to version 2; the rest stay drafts.
    Runs in an app context (the PDF is rendered from the templates)."""
    from app.conferences import minutes as services
    from app.conferences.models import Minutes

    made = []
    held = [c for c in conferences if c.status == "held"
            and session.execute(select(Minutes.id).where(Minutes.conference_id == c.id)).first() is None]
    for n, conference in enumerate(held):
        organiser = session.get(User, conference.organiser_id)
        text = DEMO_MINUTES[n % len(DEMO_MINUTES)]
        minutes = services.save_draft(session, conference, None, organiser, text, finalise=n % 2 == 0)
        if n == 0:
            minutes = services.correct(session, minutes, organiser, {
                **text, "decisions": text["decisions"] + "\n3. Die Person meldet sich nach dem Training.",
                "reason": "Beschluss 3 fehlte in Version 1.", "version": minutes.version})
        made.append(minutes)
    session.commit()
    return made
