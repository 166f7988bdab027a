"""Demo data: fictional teams, agencies, locations and one account per kind of user."""

from typing import Any

from sqlalchemy import func, select

from app import audit
from app.accounts.models import Role, Team, User
from app.accounts.services import hash_password
from app.agencies.models import Agency, AgencyType, District, Location, LocationKind
from app.cases.models import CaseStatus

DEMO_PASSWORD = "Fallkonferenz-Demo-2026"

DISTRICTS = [
    "Innenstadt",
    "Nordend",
    "Westend",
    "Mathildenviertel",
    "Lauterborn",
    "Senefelder",
    "Tempelsee",
    "Bieber",
    "Bürgel",
    "Rumpenheim",
    "Waldheim",
    "Buchhügel",
    "Kaiserlei",
]

# name, type, district, contact, what its taking part reveals (None: its type's default)
AGENCIES = [
    (
        "Schuldner- und Insolvenzberatung Offenbach (Demo)",
        AgencyType.COUNSELLING,
        "Innenstadt",
        "schuldnerberatung@demo.invalid",
        ["debt"],
    ),
    ("Bildungswerk Main (Demo)", AgencyType.EDUCATION, "Kaiserlei", "bildung@demo.invalid", None),
    ("Gesundheitsförderung Offenbach (Demo)", AgencyType.HEALTH, "Westend", "gesundheit@demo.invalid", None),
    (
        "Stadtteilbüro Nordend (Demo)",
        AgencyType.NEIGHBOURHOOD_OFFICE,
        "Nordend",
        "stadtteilbuero.nordend@demo.invalid",
        None,
    ),
    (
        "Stadtteilbüro Lauterborn (Demo)",
        AgencyType.NEIGHBOURHOOD_OFFICE,
        "Lauterborn",
        "stadtteilbuero.lauterborn@demo.invalid",
        None,
    ),
    (
        "Stadtteilbüro Senefelder (Demo)",
        AgencyType.NEIGHBOURHOOD_OFFICE,
        "Senefelder",
        "stadtteilbuero.senefelder@demo.invalid",
        None,
    ),
    (
        "Suchtberatung am Main (Demo)",
        AgencyType.COUNSELLING,
        "Mathildenviertel",
        "suchtberatung@demo.invalid",
        ["addiction"],
    ),
    ("Jugendberufshilfe Offenbach (Demo)", AgencyType.YOUTH, "Innenstadt", "jugend@demo.invalid", None),
    (
        "Migrationsberatung Offenbach (Demo)",
        AgencyType.COUNSELLING,
        "Innenstadt",
        "migration@demo.invalid",
        ["residence"],
    ),
    ("Nachbarschaftshilfe Bieber (Demo)", AgencyType.OTHER, "Bieber", "nachbarschaft@demo.invalid", ["general"]),
]

LOCATIONS: list[tuple[Any, ...]] = [
    ("Jobcenter, Besprechungsraum 2.14", LocationKind.JOBCENTER_ROOM, "Innenstadt", None, "Raum 2.14, 2. OG", None),
    ("Jobcenter, Besprechungsraum 3.02", LocationKind.JOBCENTER_ROOM, "Innenstadt", None, "Raum 3.02, 3. OG", None),
    (
        "Stadtteilbüro Nordend, Gruppenraum",
        LocationKind.NEIGHBOURHOOD_OFFICE,
        "Nordend",
        "Stadtteilbüro Nordend (Demo)",
        "Gruppenraum, Erdgeschoss",
        None,
    ),
    (
        "Stadtteilbüro Lauterborn, Beratungsraum",
        LocationKind.NEIGHBOURHOOD_OFFICE,
        "Lauterborn",
        "Stadtteilbüro Lauterborn (Demo)",
        "Beratungsraum",
        None,
    ),
    (
        "Bildungswerk Main, Seminarraum 1",
        LocationKind.PARTNER_PREMISES,
        "Kaiserlei",
        "Bildungswerk Main (Demo)",
        "Seminarraum 1",
        None,
    ),
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
    for name, type_, district, email, reveals in AGENCIES:
        agencies[name] = Agency(
            name=name, type=type_, district_id=districts[district].id, contact_email=email, reveals=reveals
        )
        session.add(agencies[name])
    session.flush()
    for name, kind, district, agency, address, video in LOCATIONS:
        session.add(
            Location(
                name=name,
                kind=kind,
                district_id=districts[district].id if district else None,
                agency_id=agencies[agency].id if agency else None,
                address=address,
                video_url=video,
            )
        )
    password_hash = hash_password(DEMO_PASSWORD)
    for email, name, role, team, agency in ACCOUNTS:
        session.add(
            User(
                email=email,
                name=name,
                role=role,
                password_hash=password_hash,
                team_id=teams[team].id if team else None,
                agency_id=agencies[agency].id if agency else None,
            )
        )
    session.flush()
    audit.record("demo.seeded", session=session)
    session.commit()
    seed_minutes(session, seed_conferences(session, seed_cases(session)))
    return True


# --- cases and consents (issue 3) ------------------------------------------------------------

DEMO_SUMMARIES = [
    "Langzeitleistungsbezug seit mehreren Jahren, sucht eine Teilzeitstelle im Einzelhandel.",
    "Ausbildung im Gastgewerbe abgebrochen, Schulden aus Verträgen, Interesse an einer Qualifizierung.",
    "Alleinerziehend, Betreuung des jüngsten Kindes am Nachmittag ungeklärt, Sprachkurs B1 abgeschlossen.",
    "Mietschulden, Räumung droht; Kontakt zur Schuldnerberatung ist hergestellt.",
    "Gesundheitliche Einschränkungen, höchstens sechs Stunden täglich belastbar; ärztliche Abklärung läuft.",
    "Pflegt einen Angehörigen, kann nur stundenweise arbeiten; Führerschein vorhanden, kein Auto.",
    "Berufserfahrung als Lagerhelfer, ausländischer Abschluss noch nicht anerkannt.",
    "Suchterkrankung in Behandlung, stabil seit einem halben Jahr; wünscht eine geregelte Tagesstruktur.",
]
DEMO_GOALS = [
    "Aufnahme einer sozialversicherungspflichtigen Beschäftigung mit 20 Wochenstunden.",
    "Stabilisierung der Wohnsituation und Regulierung der Schulden.",
    "Abschluss einer Qualifizierung im Bereich Lager und Logistik.",
    "Verlässliche Kinderbetreuung, danach Einstieg in eine Teilzeitstelle.",
    "Anerkennung des Berufsabschlusses und Sprachkurs B2.",
]
# Which consents a case gets, in turn (agency indexes into AGENCIES; scopes from DATA_CATEGORIES).
# The first cases of each team get valid consents for the agencies their demo conferences
# invite (CONSENT_SCOPES), so seed_conferences finds them; the rest show every state.
CONSENT_PATTERNS = [
    [(0, "valid", ["general", "debt", "housing"]), (1, "withdrawn", ["general", "work"])],
    [(2, "expired", ["general", "health"]), (3, "valid", ["general", "housing", "family"])],
    [(1, "valid", ["general", "work", "residence"]), (0, "expired", ["debt"])],
    [(3, "withdrawn", ["general", "family"]), (6, "valid", ["general", "health", "addiction"])],
    [(0, "changed", ["general", "debt"]), (2, "valid", ["general", "work", "health"])],
    [],
]


def seed_cases(session, per_team: int = 20) -> list:
    """About ``per_team`` cases per demo team, with consents of the demo agencies in every state
    (valid, withdrawn, expired, changed) and internal references; three per team closed.

    Returns the cases in creation order, for ``seed_conferences``.
    """
    import random
    from datetime import timedelta

    from app.cases.models import AGE_BANDS, CLOSE_REASONS, HOUSEHOLD_TYPES, OBSTACLES, Case, CaseObstacle, Consent
    from app.cases.services import next_pseudonym
    from app.clock import BERLIN, berlin_today, utcnow

    rng = random.Random(2026)  # the same demo every time
    today, now = berlin_today(), utcnow()
    districts = list(session.execute(select(District).order_by(District.name)).scalars())
    agencies = {a.name: a for a in session.execute(select(Agency)).scalars()}
    by_index = [agencies.get(a[0]) for a in AGENCIES]
    teams = list(session.execute(select(Team).where(Team.name.in_(("Team Nord", "Team Süd"))).order_by(Team.name)))
    made = []
    for (team,) in teams:
        staff = list(
            session.execute(
                select(User)
                .where(User.team_id == team.id, User.role.in_((Role.CASEWORKER, Role.TEAM_LEAD)))
                .order_by(User.id)
            ).scalars()
        )
        if not staff:
            continue
        for i in range(per_team):
            owner = staff[i % len(staff)]
            created = now - timedelta(days=rng.randint(5, 400))
            case = Case(
                pseudonym=next_pseudonym(session, created.astimezone(BERLIN).year),
                team_id=team.id,
                caseworker_id=owner.id,
                district_id=districts[(i * 5 + team.id) % len(districts)].id,
                age_band=rng.choice(list(AGE_BANDS)),
                household_type=rng.choice(list(HOUSEHOLD_TYPES)),
                summary=DEMO_SUMMARIES[(i + team.id) % len(DEMO_SUMMARIES)],
                goals=DEMO_GOALS[i % len(DEMO_GOALS)],
                internal_reference=f"DEMO-{team.id}{i:03d}BG{rng.randint(1000000, 9999999)}",
                created_at=created,
                updated_at=created,
            )
            if i >= per_team - 3:
                case.status, case.close_reason = "closed", list(CLOSE_REASONS)[i % len(CLOSE_REASONS)]
                case.closed_at = now - timedelta(days=i)
            session.add(case)
            session.flush()
            for obstacle in rng.sample(list(OBSTACLES), rng.randint(1, 3)):
                session.add(CaseObstacle(case_id=case.id, obstacle=obstacle))
            pattern = (
                [(a, "valid", scope) for a, scope in CONSENT_SCOPES.items()]
                if i < len(CONFERENCE_PLAN)
                else CONSENT_PATTERNS[i % len(CONSENT_PATTERNS)]
            )
            for agency_index, state, scope in pattern:
                agency = by_index[agency_index]
                if agency is None:
                    continue
                _demo_consent(session, Consent, case, agency, state, scope, owner, today, now, rng)
            made.append(case)
    session.flush()
    audit.record("demo.cases_seeded", session=session, cases=len(made))
    session.commit()
    return made


def _demo_consent(session, Consent, case, agency, state, scope, recorder, today, now, rng):
    from datetime import timedelta

    signed = today - timedelta(days=rng.randint(20, 200))
    consent = Consent(
        case_id=case.id,
        agency_id=agency.id,
        signed_on=signed,
        valid_until=signed + timedelta(days=365),
        scope=scope,
        proof_reference=f"E-Akte, Dokument {rng.randint(2, 40)}",
        recorded_by_id=recorder.id,
        recorded_at=now - timedelta(days=(today - signed).days),
    )
    if state == "expired":
        consent.signed_on = today - timedelta(days=420)
        consent.valid_until = today - timedelta(days=rng.randint(3, 50))
    elif state == "withdrawn":
        consent.withdrawn_on = today - timedelta(days=rng.randint(1, 15))
        consent.withdrawal_note = "Widerruf schriftlich eingegangen."
        consent.withdrawn_by_id, consent.withdrawn_recorded_at = recorder.id, now
    session.add(consent)
    session.flush()
    if state == "changed":
        # The scope was widened later: the first record is kept as history.
        consent.superseded_at = now - timedelta(days=3)
        session.add(
            Consent(
                case_id=case.id,
                agency_id=agency.id,
                signed_on=today - timedelta(days=3),
                valid_until=today + timedelta(days=362),
                scope=scope + ["housing"],
                proof_reference="E-Akte, Dokument 41",
                recorded_by_id=recorder.id,
                replaces_id=consent.id,
                recorded_at=now - timedelta(days=3),
            )
        )


# --- minutes (issue 5) ----------------------------------------------------------------------

# Summary and each decision with the data categories they reveal: a partner sees them only
# where its consent covers all of them.
DEMO_MINUTES = [
    {
        "summary": "Die Lage hat sich stabilisiert. Die Schuldenregulierung läuft, "
        "ein Bewerbungstraining ist vereinbart.",
        "summary_categories": ["debt", "general", "work"],
        "decisions": [
            {"text": "Das Bewerbungstraining wird gefördert.", "categories": ["work"]},
            {"text": "Die Schuldnerberatung begleitet den Ratenplan.", "categories": ["debt"]},
        ],
        "next_date_note": "Folgetermin in etwa drei Monaten.",
    },
    {
        "summary": "Die Kinderbetreuung ist gesichert; eine Teilzeitstelle am Vormittag ist das nächste Ziel.",
        "summary_categories": ["family", "general", "work"],
        "decisions": [
            {"text": "Vermittlungsvorschläge nur für Teilzeit am Vormittag.", "categories": ["work"]},
            {"text": "Sprachkurs B1 wird beantragt.", "categories": ["residence"]},
        ],
        "next_date_note": "",
    },
    {
        "summary": "Gesundheitliche Einschränkungen werden ärztlich abgeklärt, bevor weitere Schritte folgen.",
        "summary_categories": ["general", "health"],
        "decisions": [
            {"text": "Gutachten abwarten.", "categories": ["health"]},
            {"text": "Bis dahin keine Vermittlungsvorschläge.", "categories": ["work"]},
        ],
        "next_date_note": "Neuer Termin nach Eingang des Gutachtens.",
    },
]


def seed_minutes(session, conferences) -> list:
    """Minutes for the held demo conferences (after seed_conferences): every other one
    finalised as PDF/A, the first of those corrected to version 2; the rest stay drafts.
    Runs in an app context (the PDF is rendered from the templates)."""
    from app.minutes import services
    from app.minutes.models import Minutes

    made = []
    held = [
        c
        for c in conferences
        if c.status == "held"
        and session.execute(select(Minutes.id).where(Minutes.conference_id == c.id)).first() is None
    ]
    for n, conference in enumerate(held):
        organiser = session.get(User, conference.organiser_id)
        text = DEMO_MINUTES[n % len(DEMO_MINUTES)]
        minutes = services.save_draft(session, conference, None, organiser, text, finalise=n % 2 == 0)
        if n == 0:
            minutes = services.correct(
                session,
                minutes,
                organiser,
                {
                    **text,
                    "decisions": text["decisions"]
                    + [{"text": "Die Person meldet sich nach dem Training.", "categories": ["work"]}],
                    "reason": "Beschluss 3 fehlte in Version 1.",
                    "version": minutes.version,
                },
            )
        made.append(minutes)
    session.commit()
    return made


# --- conferences (issue 4) -----------------------------------------------------------------
#
# Per case (in the order given), what happened and what is planned. Agencies by their index in
# AGENCIES: 0 debt counselling, 1 Bildungswerk, 2 health promotion, 3 Stadtteilbüro Nordend
# (the four with demo partner accounts), 6 addiction counselling, 8 migration counselling.
# Each partner account is invited somewhere and left out somewhere else.
CONSENT_SCOPES = {
    0: ["general", "work", "debt", "housing"],
    1: ["general", "work", "residence"],
    2: ["general", "work", "health"],
    3: ["general", "housing", "family"],
    6: ["general", "health", "addiction"],
    8: ["general", "residence", "work"],
}
CONFERENCE_PLAN: list[dict[str, Any]] = [
    # held: {agency: (answer, attendance)}; upcoming: {agency: answer}; upcoming is a follow-up of held
    {
        "held": {0: ("accepted", "present"), 1: ("accepted", "present"), 2: ("declined", "excused")},
        "upcoming": {0: "accepted", 1: "pending", 2: "pending"},
        "days": 5,
    },
    {
        "held": {3: ("accepted", "present"), 0: ("accepted", "absent")},
        "upcoming": {3: "pending", 0: "declined"},
        "days": 1,
    },
    {"held": None, "upcoming": {2: "accepted", 6: "pending", 1: "pending"}, "days": 9},
    {"held": {8: ("accepted", "present"), 3: ("declined", "excused")}, "upcoming": None, "cancelled": {1: "pending"}},
]
# (title, data categories, discussion once held): each partner sees the items its consent covers.
DEMO_AGENDA = [
    (
        "Begrüßung und Anlass",
        ["general"],
        "Die Person hat den Anlass selbst geschildert und ist mit der Fallkonferenz einverstanden.",
    ),
    (
        "Aktuelle Situation aus Sicht der Beteiligten",
        ["general", "work"],
        "Die Beteiligten sehen Fortschritte bei der Stellensuche; eine Teilzeitstelle am Vormittag ist realistisch.",
    ),
    (
        "Stand der Schuldenregulierung",
        ["debt", "housing"],
        "Mietschulden ca. 3.000 €, eine Stromsperre ist angedroht; der Ratenplan ist in Arbeit.",
    ),
    (
        "Gesundheitliche Situation",
        ["health"],
        "Rückenbeschwerden, Krankschreibung bis Monatsende; höchstens sechs Stunden täglich belastbar.",
    ),
    (
        "Interne Abstimmung zum Leistungsbezug",
        [],
        "Nur für das Jobcenter: Weiterbewilligung läuft, keine Sanktionen vorgesehen.",
    ),
    ("Vereinbarung von Maßnahmen", ["general"], "Maßnahmen siehe unten; alle Beteiligten haben zugestimmt."),
    ("Nächster Termin", ["general"], "Folgekonferenz in einigen Wochen."),
]
# (what, data categories, responsible agency index or "jobcenter"/"person", due in days from today, status, outcome)
DEMO_MEASURES: list[tuple[Any, ...]] = [
    ("Ratenplan mit den Gläubigern abstimmen", ["debt"], 0, -6, "agreed", ""),
    ("Bewerbungstraining (vier Termine) besuchen", ["work"], "person", 2, "in_progress", "Zwei Termine wahrgenommen."),
    ("Vermittlungsvorschläge für Teilzeit am Vormittag", ["work"], "jobcenter", -2, "in_progress", ""),
    (
        "Anmeldung zum Sprachkurs B1",
        ["residence", "work"],
        1,
        -10,
        "done",
        "Anmeldung ist erfolgt, Beginn im nächsten Monat.",
    ),
    ("Wohngeldantrag gemeinsam ausfüllen", ["housing"], 3, -3, "not_done", "Termin zweimal nicht wahrgenommen."),
    ("Rückmeldung zum Stand der Beratung", ["debt"], 0, 21, "agreed", ""),
    ("Ärztliches Gutachten zur Belastbarkeit einholen", ["health"], "jobcenter", 10, "agreed", ""),
]
# (author: agency index or None for the organiser, body, categories, visibility, withdrawn)
DEMO_NOTES = [
    (None, "Seit dem letzten Gespräch regelmäßiger Kontakt; Termine werden eingehalten.", ["general"], "shared", False),
    (None, "Interne Einschätzung: Leistungsbezug stabil, keine Sanktionen vorgesehen.", ["work"], "jobcenter", False),
    (0, "Die Schuldenregulierung ist begonnen; ein Ratenplan wird verhandelt.", ["debt"], "shared", False),
    (0, "Hinweis nur für das Jobcenter: Eine Pfändung ist angekündigt.", ["debt"], "jobcenter", False),
    (2, "Gesundheitliche Einschränkungen erlauben derzeit höchstens 20 Wochenstunden.", ["health"], "shared", False),
    (1, "Interesse an einer Qualifizierung im Lager- und Logistikbereich.", ["work"], "shared", False),
    (3, "Unterstützung beim Ausfüllen von Anträgen im Stadtteilbüro möglich.", ["housing"], "shared", False),
    (1, "Diese Stellungnahme wurde durch eine neuere ersetzt.", ["general"], "shared", True),
]


def seed_conferences(session, cases) -> list:
    """Past and upcoming conferences for the demo ``cases`` (open ones, in order), with invitations
    in every state, notes of every kind and measures in every status (some overdue).

    Rows are written directly (no e-mails). Consents are added where an invited agency has
    none. Returns the conferences, for ``seed_minutes``.
    """
    import uuid
    from datetime import datetime, time, timedelta

    from app.cases.models import Consent
    from app.clock import berlin_today, local_to_utc, utcnow
    from app.conferences.models import AgendaItem, Conference, Invitation, Measure, Note

    agencies = {a.name: a for a in session.execute(select(Agency)).scalars()}
    by_index = {i: agencies[a[0]] for i, a in enumerate(AGENCIES) if a[0] in agencies}
    partners = {u.agency_id: u for u in session.execute(select(User).where(User.role == Role.PARTNER)).scalars()}
    locations = list(session.execute(select(Location).order_by(Location.id)).scalars())
    today = berlin_today()
    made = []

    def at(days, hour=10):
        return local_to_utc(datetime.combine(today + timedelta(days=days), time(hour)))

    def consent_for(case, agency_index):
        agency = by_index[agency_index]
        if any(
            c.is_valid_on(today)
            for c in session.execute(
                select(Consent).where(Consent.case_id == case.id, Consent.agency_id == agency.id)
            ).scalars()
        ):
            return
        session.add(
            Consent(
                case_id=case.id,
                agency_id=agency.id,
                signed_on=today - timedelta(days=60),
                valid_until=today + timedelta(days=300),
                scope=CONSENT_SCOPES[agency_index],
                proof_reference="Demo: Einwilligung in der Akte",
                recorded_by_id=case.caseworker_id,
            )
        )

    def conference(case, n, starts_at, status, answers, previous=None, agenda=DEMO_AGENDA):
        conf = Conference(
            case_id=case.id,
            occasion="Folgekonferenz" if previous else "Erstes Fallgespräch",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=90),
            location_id=locations[n % len(locations)].id,
            organiser_id=case.caseworker_id,
            status=status,
            person_attends=n % 2 == 0,
            ical_uid=f"{uuid.uuid4()}@fallkonferenz",
            previous_conference_id=previous.id if previous else None,
            cancel_reason="Termin entfällt, neuer Termin folgt." if status == "cancelled" else "",
        )
        session.add(conf)
        session.flush()
        for position, (title, categories, discussion) in enumerate(agenda, start=1):
            session.add(
                AgendaItem(
                    conference_id=conf.id,
                    position=position,
                    title=title,
                    categories=categories,
                    discussion=discussion if status == "held" else "",
                )
            )
        for index, answer in answers.items():
            consent_for(case, index)
            answer, attendance = answer if isinstance(answer, tuple) else (answer, None)
            partner = partners.get(by_index[index].id)
            session.add(
                Invitation(
                    conference_id=conf.id,
                    agency_id=by_index[index].id,
                    status=answer,
                    user_id=partner.id if partner and n % 2 == 0 else None,
                    sent_count=1,
                    last_sent_at=starts_at - timedelta(days=14),
                    answered_at=None if answer == "pending" else starts_at - timedelta(days=10),
                    answered_by_id=partner.id if partner and answer != "pending" else None,
                    answer_comment="Wir nehmen mit einer Person teil." if answer == "accepted" else "",
                    attendance=attendance,
                )
            )
        made.append(conf)
        return conf

    def notes(conf, case, answers):
        invited = {i for i, a in answers.items() if (a[0] if isinstance(a, tuple) else a) != "declined"}
        for author_index, body, categories, visibility, withdrawn in DEMO_NOTES:
            if author_index is None:
                author, agency_id = case.caseworker_id, None
            elif author_index in invited and by_index[author_index].id in partners:
                author, agency_id = partners[by_index[author_index].id].id, by_index[author_index].id
            else:
                continue
            session.add(
                Note(
                    conference_id=conf.id,
                    author_id=author,
                    agency_id=agency_id,
                    body=body,
                    categories=categories,
                    visibility=visibility,
                    withdrawn_at=utcnow() if withdrawn else None,
                )
            )

    # Each team's open cases get the plans in turn, the second team starting half-way, so that
    # both teams have held and upcoming conferences, answered and unanswered invitations.
    by_team: dict[int, list] = {}
    for case in cases:
        if case.status == CaseStatus.OPEN:
            by_team.setdefault(case.team_id, []).append(case)
    planned = []
    for k, team_cases in enumerate(by_team.values()):
        for i, case in enumerate(team_cases[: len(CONFERENCE_PLAN)]):
            planned.append((case, CONFERENCE_PLAN[(i + 2 * k) % len(CONFERENCE_PLAN)]))
    for n, (case, plan) in enumerate(planned):
        held = None
        if plan.get("held"):
            held = conference(case, n, at(-28 - 7 * n), "held", plan["held"])
            held.person_attended = n % 2 == 0
            notes(held, case, plan["held"])
            accepted = [i for i, (a, _att) in plan["held"].items() if a == "accepted"]
            for what, categories, responsible, due, status, outcome in DEMO_MEASURES:
                if isinstance(responsible, int) and responsible not in accepted:
                    # Another agency that took part takes it over, if its consent covers it (DESIGN.md section 4).
                    responsible = next((i for i in accepted if set(categories) <= set(CONSENT_SCOPES[i])), "jobcenter")
                kind = "agency" if isinstance(responsible, int) else responsible
                session.add(
                    Measure(
                        conference_id=held.id,
                        case_id=case.id,
                        what=what,
                        categories=categories,
                        responsible_kind=kind,
                        responsible_agency_id=by_index[responsible].id if kind == "agency" else None,
                        due_on=today + timedelta(days=due),
                        status=status,
                        outcome=outcome,
                    )
                )
        if plan.get("upcoming"):
            agenda = (
                DEMO_AGENDA
                if held is None
                else ([("Überprüfung der vereinbarten Maßnahmen", ["general"], "")] + DEMO_AGENDA[1:])
            )
            upcoming = conference(
                case, n, at(plan["days"], 9 + n), "planned", plan["upcoming"], previous=held, agenda=agenda
            )
            notes(upcoming, case, plan["upcoming"])
        if plan.get("cancelled"):
            conference(case, n, at(12), "cancelled", plan["cancelled"])
    session.flush()
    audit.record("demo.conferences_seeded", session=session, conferences=len(made))
    session.commit()
    return made
