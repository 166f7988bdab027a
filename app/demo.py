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
    ("steuerung@demo.invalid", "Stella Steuerung (Demo)", Role.CONTROLLING, None, None),
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
    conferences = seed_conferences(session, seed_cases(session))
    minutes = seed_minutes(session, conferences)
    seed_work_queue(session, minutes, conferences)
    seed_accountability(session, minutes)
    seed_consultations(session)
    seed_poll(session)
    return True


# --- accountability (issue 15) -------------------------------------------------------------------


def seed_accountability(session, minutes) -> None:
    """What the access report, the network report and the retention run show in the demo: partners
    who looked at a conference and downloaded its minutes (as the audit trail records it), and a case
    closed more than three years ago, with a held conference, notes, a measure and final minutes,
    that `flask retention-run --dry-run` lists as due, row by row."""
    from datetime import timedelta

    from app.cases.models import Case, Consent
    from app.clock import BERLIN, add_years, berlin_today, utcnow
    from app.conferences.models import AgendaItem, Conference, Invitation, InvitationStatus, Measure, Note
    from app.minutes import services as minutes_services
    from app.minutes.models import MinutesStatus

    partners = {u.agency_id: u for u in session.execute(select(User).where(User.role == Role.PARTNER)).scalars()}
    for m in minutes:
        if m.status != MinutesStatus.FINAL:
            continue
        conference = session.get(Conference, m.conference_id)
        for inv in session.execute(
            select(Invitation).where(
                Invitation.conference_id == conference.id, Invitation.status == InvitationStatus.ACCEPTED
            )
        ).scalars():
            partner = partners.get(inv.agency_id)
            consent = next(
                (
                    c
                    for c in session.execute(
                        select(Consent).where(
                            Consent.case_id == conference.case_id,
                            Consent.agency_id == inv.agency_id,
                            Consent.superseded_at.is_(None),
                        )
                    ).scalars()
                    if c.is_valid_on(berlin_today())
                ),
                None,
            )
            if partner is None or consent is None:
                continue
            audit.record("conference.viewed", conference, actor=partner, session=session, consent_id=consent.id)
            audit.record(
                "minutes.downloaded",
                m,
                actor=partner,
                session=session,
                variant="scope:" + ",".join(sorted(consent.scope)),
                version_number=m.version_number,
                agency_id=inv.agency_id,
                consent_id=consent.id,
            )
    # A case closed three years and a month ago: due for deletion.
    from app.cases.services import next_pseudonym

    caseworker = session.execute(select(User).where(User.email == "fallmanagement@demo.invalid")).scalar_one()
    district = session.execute(select(District).where(District.name == "Bieber")).scalar_one()
    closed = utcnow() - timedelta(days=(berlin_today() - add_years(berlin_today(), -3)).days + 31)
    created = closed - timedelta(days=300)
    case = Case(
        pseudonym=next_pseudonym(session, created.astimezone(BERLIN).year),
        team_id=caseworker.team_id,
        caseworker_id=caseworker.id,
        district_id=district.id,
        age_band="50plus",
        household_type="single",
        summary=DEMO_SUMMARIES[0],
        goals=DEMO_GOALS[0],
        internal_reference="DEMO-L001BG4711000",
        status=CaseStatus.CLOSED,
        close_reason="work",
        closed_at=closed,
        created_at=created,
        updated_at=closed,
    )
    session.add(case)
    session.flush()
    agency = session.execute(select(Agency).where(Agency.name == AGENCIES[0][0])).scalar_one()
    day = created.astimezone(BERLIN).date()
    session.add(
        Consent(
            case_id=case.id,
            agency_id=agency.id,
            signed_on=day,
            valid_until=day + timedelta(days=365),
            scope=["general", "debt"],
            proof_reference="E-Akte, Einwilligung (Demo)",
            recorded_by_id=caseworker.id,
            recorded_at=created,
        )
    )
    # Its one conference, held two months after the case was opened, with what hangs off it.
    starts = created + timedelta(days=60)
    location = session.execute(select(Location).order_by(Location.id)).scalars().first()
    conference = Conference(
        case_id=case.id,
        occasion="Fallkonferenz (Demo, Abschluss vor mehr als drei Jahren)",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=60),
        location_id=location.id,
        organiser_id=caseworker.id,
        status="held",
        person_attends=True,
        person_attended=True,
        ical_uid=f"demo-retention-{case.id}@fallkonferenz.invalid",
        created_at=starts - timedelta(days=14),
        updated_at=starts,
    )
    session.add(conference)
    session.flush()
    session.add(
        Invitation(
            conference_id=conference.id,
            agency_id=agency.id,
            status="accepted",
            attendance="present",
            sent_count=1,
            last_sent_at=starts - timedelta(days=14),
            answered_at=starts - timedelta(days=10),
            created_at=starts - timedelta(days=14),
        )
    )
    session.add(AgendaItem(conference_id=conference.id, position=1, title="Schulden und Arbeit", categories=["debt"]))
    partner = partners.get(agency.id)
    for author, agency_id, body in (
        (caseworker, None, "Die Person hat ein Angebot als Lagerhelfer in Aussicht."),
        (partner, agency.id, "Schuldenregulierung läuft, Ratenplan mit zwei Gläubigern vereinbart."),
    ):
        if author is not None:
            session.add(
                Note(
                    conference_id=conference.id,
                    author_id=author.id,
                    agency_id=agency_id,
                    body=body,
                    categories=["debt"] if agency_id else ["work"],
                    created_at=starts,
                    updated_at=starts,
                )
            )
    session.add(
        Measure(
            conference_id=conference.id,
            case_id=case.id,
            what="Ratenplan an die Gläubiger senden",
            categories=["debt"],
            responsible_kind="agency",
            responsible_agency_id=agency.id,
            due_on=starts.astimezone(BERLIN).date() + timedelta(days=21),
            status="done",
            created_at=starts,
            updated_at=starts,
        )
    )
    session.flush()
    # Final minutes with their archive PDF (the retention run deletes the PDF with the case).
    minutes_services.save_draft(session, conference, None, caseworker, DEMO_MINUTES[0], finalise=True)
    history = _seed_report_history(session)
    audit.record("demo.accountability_seeded", session=session, due_case_id=case.id, history_cases=history)
    session.commit()


REPORT_DISTRICTS = ("Nordend", "Innenstadt", "Lauterborn", "Senefelder")


def _seed_report_history(session, per_district: int = 12) -> int:
    """Conferences held this quarter in four districts, so that the network report has figures
    above the suppression threshold (and some below it, suppressed). Most of these cases are
    closed again, with the reason, to fill the outcomes."""
    import random
    from datetime import datetime, time, timedelta

    from app.cases.models import CLOSE_REASONS, OBSTACLES, Case, CaseObstacle, Consent
    from app.cases.services import next_pseudonym
    from app.clock import BERLIN, berlin_today, local_to_utc, utcnow
    from app.conferences.models import Conference, Invitation, Measure
    from app.reports.network import Period

    rng = random.Random(15)
    today, now = berlin_today(), utcnow()
    quarter = Period.current_quarter(today)
    span = max((today - quarter.start).days, 1)
    districts = {d.name: d for d in session.execute(select(District)).scalars()}
    agencies = [session.execute(select(Agency).where(Agency.name == AGENCIES[i][0])).scalar_one() for i in (0, 1, 3)]
    staff = list(
        session.execute(
            select(User).where(User.role.in_((Role.CASEWORKER, Role.TEAM_LEAD))).order_by(User.id)
        ).scalars()
    )
    location = session.execute(select(Location).order_by(Location.id)).scalars().first()
    answers = ("accepted", "accepted", "accepted", "declined", "pending")
    attendance = {"accepted": ("present", "present", "excused"), "declined": ("absent",), "pending": (None,)}
    # (what, obstacle categories, responsible: a kind of party or an index into ``agencies``)
    measures: tuple[tuple[str, list[str], str | int], ...] = (
        ("Bewerbungsunterlagen überarbeiten", ["work"], "person"),
        ("Termin in der Schuldnerberatung wahrnehmen", ["debt"], 0),
        ("Beratung im Stadtteilbüro zu Wohngeld", ["housing"], 2),
        ("Vermittlungsvorschläge prüfen", ["work"], "jobcenter"),
    )
    made = 0
    for d, district_name in enumerate(REPORT_DISTRICTS):
        for i in range(per_district - 3 * d):
            owner = staff[(i + d) % len(staff)]
            day = quarter.start + timedelta(days=rng.randrange(span))
            starts = local_to_utc(datetime.combine(day, time(9 + i % 6)))
            if starts >= now:
                starts = now - timedelta(hours=2)
            created = starts - timedelta(days=rng.randint(10, 120))
            case = Case(
                pseudonym=next_pseudonym(session, created.astimezone(BERLIN).year),
                team_id=owner.team_id,
                caseworker_id=owner.id,
                district_id=districts[district_name].id,
                age_band=rng.choice(("u25", "25_34", "35_49", "50plus")),
                household_type=rng.choice(("single", "single_parent", "couple_children")),
                summary=DEMO_SUMMARIES[(i + d) % len(DEMO_SUMMARIES)],
                goals=DEMO_GOALS[i % len(DEMO_GOALS)],
                internal_reference=f"DEMO-R{d}{i:02d}BG{rng.randint(1000000, 9999999)}",
                created_at=created,
                updated_at=created,
            )
            if i % 5 != 4:
                closed = min(starts + timedelta(days=rng.randint(7, 40)), now - timedelta(hours=1))
                case.status, case.closed_at, case.updated_at = CaseStatus.CLOSED, closed, closed
                case.close_reason = list(CLOSE_REASONS)[(i + d) % len(CLOSE_REASONS)]
            session.add(case)
            session.flush()
            for obstacle in rng.sample(list(OBSTACLES), 2):
                session.add(CaseObstacle(case_id=case.id, obstacle=obstacle))
            conference = Conference(
                case_id=case.id,
                occasion="Fallkonferenz (Demo, Berichtszeitraum)",
                starts_at=starts,
                ends_at=starts + timedelta(minutes=60),
                location_id=location.id,
                organiser_id=owner.id,
                status="held",
                person_attends=True,
                person_attended=i % 3 != 0,
                ical_uid=f"demo-report-{case.id}@fallkonferenz.invalid",
                created_at=created,
                updated_at=starts,
            )
            session.add(conference)
            session.flush()
            for k, agency in enumerate(agencies):
                session.add(
                    Consent(
                        case_id=case.id,
                        agency_id=agency.id,
                        signed_on=created.astimezone(BERLIN).date(),
                        valid_until=created.astimezone(BERLIN).date() + timedelta(days=365),
                        scope=["general", "work", "debt", "housing"],
                        proof_reference="E-Akte, Einwilligung (Demo)",
                        recorded_by_id=owner.id,
                        recorded_at=created,
                    )
                )
                answer = answers[(i + k + d) % len(answers)]
                session.add(
                    Invitation(
                        conference_id=conference.id,
                        agency_id=agency.id,
                        status=answer,
                        attendance=attendance[answer][i % len(attendance[answer])],
                        sent_count=1,
                        last_sent_at=starts - timedelta(days=14),
                        answered_at=None if answer == "pending" else starts - timedelta(days=9),
                        created_at=starts - timedelta(days=14),
                    )
                )
            for k, (what, categories, responsible) in enumerate(measures[: 2 + i % 3]):
                kind = "agency" if isinstance(responsible, int) else responsible
                agency_id = agencies[responsible].id if isinstance(responsible, int) else None
                status = ("done", "in_progress", "agreed", "not_done", "done")[(i + k) % 5]
                session.add(
                    Measure(
                        conference_id=conference.id,
                        case_id=case.id,
                        what=what,
                        categories=categories,
                        responsible_kind=kind,
                        responsible_agency_id=agency_id,
                        due_on=day + timedelta(days=7 + 7 * k),
                        status=status,
                        created_at=starts,
                        updated_at=starts,
                    )
                )
            made += 1
    session.flush()
    return made


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


def seed_work_queue(session, minutes, conferences) -> None:
    """Something in each list of the staff's work queue (issue 13): a draft shared with the
    invited agencies and commented on by one, and an invitation whose e-mail failed for good.
    Runs after seed_minutes, in an app context (the e-mails are rendered from the templates).

    The services read consents through ``db.session`` (fresh in every request, as the policy
    wants): for the time of this step that is the demo's own session, as under ``flask seed-demo``."""
    from flask import g

    previous = g.pop("db_session", None)
    g.db_session = session
    try:
        _share_and_comment(session, minutes, conferences)
        _fail_one_invitation_mail(session, conferences)
        session.commit()
    finally:
        g.pop("db_session", None)
        if previous is not None:
            g.db_session = previous


def _share_and_comment(session, minutes, conferences) -> None:
    """The first draft of a conference with an accepted invitation whose agency has a partner
    account and a valid consent: shared for comments, and commented on by that partner."""
    from app.clock import berlin_today
    from app.conferences.models import Invitation, InvitationStatus
    from app.conferences.services.invitations import consent_valid_on
    from app.links import base_url
    from app.minutes import services
    from app.minutes.models import MinutesStatus

    base = base_url()  # `make run` sets no BASE_URL: the demo's own address then
    today = berlin_today()
    partners = {u.agency_id: u for u in session.execute(select(User).where(User.role == Role.PARTNER)).scalars()}
    by_id = {c.id: c for c in conferences}
    for draft in (m for m in minutes if m.status == MinutesStatus.DRAFT):
        conference = by_id[draft.conference_id]
        agencies = session.execute(
            select(Invitation.agency_id)
            .where(
                Invitation.conference_id == conference.id,
                Invitation.status == InvitationStatus.ACCEPTED,
                consent_valid_on(conference.case_id, Invitation.agency_id, today),
            )
            .order_by(Invitation.id)
        ).scalars()
        commenter = next((partners[a] for a in agencies if a in partners), None)
        if commenter is None:
            continue
        link = f"{base}/konferenzen/{conference.id}/protokoll"
        services.share_draft(session, draft, session.get(User, conference.organiser_id), 7, link)
        services.add_comment(
            session, draft, commenter, "Bitte bei Punkt 2 ergänzen, dass der Ratenplan schon begonnen hat.", link=link
        )
        return


def _fail_one_invitation_mail(session, conferences) -> None:
    """The first pending invitation of a planned conference is sent again, and that e-mail
    is refused for good by the recipient's server."""
    import smtplib

    from flask import current_app

    from app import mail
    from app.conferences.models import Invitation, InvitationStatus
    from app.conferences.services.notifications import send_invitation_mail

    planned = {c.id: c for c in conferences if c.status == "planned"}
    pending = session.execute(
        select(Invitation)
        .where(Invitation.status == InvitationStatus.PENDING, Invitation.conference_id.in_(planned))
        .order_by(Invitation.id)
        .limit(1)
    ).scalar_one_or_none()
    if pending is None:
        return
    conference = planned[pending.conference_id]
    send_invitation_mail(session, conference, pending, session.get(User, conference.organiser_id), kind="resend")
    session.flush()
    message = session.execute(
        select(mail.OutboxMessage)
        .where(mail.OutboxMessage.ref_type == "invitation", mail.OutboxMessage.ref_id == pending.id)
        .order_by(mail.OutboxMessage.id.desc())
        .limit(1)
    ).scalar_one()
    refused = smtplib.SMTPRecipientsRefused({"kontakt@demo.invalid": (550, b"5.1.1 mailbox unknown")})
    message.status, message.attempts = mail.FAILED, current_app.config["MAIL_MAX_ATTEMPTS"]
    message.last_error = mail.error_code(refused)


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


# --- consultation hours in the neighbourhood and a date poll (issue 14) -------------------------

# The topics migration 0011 seeds; the demo makes sure they are there (tests build tables without it).
CONSULTATION_TOPICS = [
    (
        "BuT – Bildung und Teilhabe",
        "Education and participation (BuT)",
        "Geld für Schule, Kita, Sport und Ausflüge von Kindern (Bildungs·paket)",
    ),
    ("Bürgergeld/Antrag", "Citizen's income (Bürgergeld): applying", "Bürger·geld beantragen"),
    ("Arbeit und Weiterbildung", "Work and further training", "Arbeit finden und dazu·lernen"),
    (
        "Kinderzuschlag und Wohngeld-Beratung",
        "Child supplement and housing benefit",
        "Extra·geld für Kinder und Geld für die Miete",
    ),
]


def ensure_consultation_topics(session) -> dict:
    from app.consultations.models import ConsultationTopic

    existing = {t.name: t for t in session.execute(select(ConsultationTopic)).scalars()}
    for name, en, easy in CONSULTATION_TOPICS:
        if name not in existing:
            existing[name] = ConsultationTopic(name=name, name_en=en, name_easy=easy)
            session.add(existing[name])
    session.flush()
    return existing


def seed_consultations(session) -> list:
    """Published consultation hours of Team Nord at the demo Stadtteilbüros (BuT on every one), a
    cancelled and a moved date, and the figures of two past dates."""
    from datetime import time, timedelta

    from app.clock import berlin_today
    from app.consultations import services
    from app.consultations.models import ConsultationStatus

    topics = ensure_consultation_topics(session)
    but, buergergeld, work, kiz = (topics[name].id for name, _en, _easy in CONSULTATION_TOPICS)
    lead = session.execute(select(User).where(User.email == "teamleitung@demo.invalid")).scalar_one_or_none()
    caseworker = session.execute(select(User).where(User.email == "fallmanagement@demo.invalid")).scalar_one_or_none()
    places = {loc.name: loc for loc in session.execute(select(Location)).scalars()}
    if lead is None:
        return []
    today = berlin_today()
    plans = [
        (
            "Stadtteilbüro Nordend, Gruppenraum",
            dict(recurrence="weekly", weekday=1, week_of_month=None),
            time(10),
            time(12),
            [but, buergergeld, work],
            ["de", "tr", "ar"],
            dict(step_free=True, hearing_loop=True, appointment_needed=False),
            "Bitte bringen Sie Ihre Bescheide mit, wenn Sie welche haben.",
        ),
        (
            "Stadtteilbüro Lauterborn, Beratungsraum",
            dict(recurrence="monthly", weekday=3, week_of_month=1),
            time(14),
            time(16, 30),
            [but, kiz],
            ["de", "ru", "uk"],
            dict(step_free=False, hearing_loop=False, appointment_needed=True),
            "",
        ),
        (
            "Bildungswerk Main, Seminarraum 1",
            dict(recurrence="biweekly", weekday=2, week_of_month=None),
            time(9, 30),
            time(11),
            [but, work],
            ["de", "en"],
            dict(step_free=True, hearing_loop=False, appointment_needed=False),
            "",
        ),
    ]
    made = []
    for name, rule, start, end, topic_ids, languages, access, note in plans:
        place = places.get(name)
        if place is None:
            continue
        hour = services.save_hour(
            session,
            lead,
            {
                "title": "Sprechstunde des Jobcenters",
                "location_id": place.id,
                **rule,
                "starts_on": today - timedelta(days=35),
                "ends_on": today + timedelta(days=330),
                "start_time": start,
                "end_time": end,
                "topic_ids": topic_ids,
                "languages": languages,
                "accessibility_note": "",
                "note": note,
                "contact_office": "Jobcenter MainArbeit, Team Nord",
                "contact_phone": "069 8409-0",
                "contact_email": "sprechstunde.nord@demo.invalid",
                "status": ConsultationStatus.PUBLISHED,
                **access,
            },
        )
        made.append(hour)
    if made:
        first = made[0]
        upcoming = [
            o.day
            for o in services.occurrences(
                first, today + timedelta(days=1), today + timedelta(days=60), include_skipped=False
            )
        ]
        if len(upcoming) >= 2:
            services.add_exception(
                session, first, lead, {"day": upcoming[0], "kind": "cancelled", "note": "Fortbildung des Teams"}
            )
            moved_to = upcoming[1] + timedelta(days=1)
            if services.hessian_holiday(moved_to) is None:
                services.add_exception(
                    session,
                    first,
                    lead,
                    {
                        "day": upcoming[1],
                        "kind": "moved",
                        "moved_on": moved_to,
                        "moved_start": time(14),
                        "moved_end": time(16),
                        "note": "Raum belegt",
                    },
                )
        for n, day in enumerate(services.held_dates(session, first)[-2:]):
            services.record_visit(
                session,
                first,
                caseworker or lead,
                {
                    "day": day,
                    "visitors": 7 + n * 3,
                    "topics": {but: 4 + n, buergergeld: 2, work: 1 + n},
                    "referrals": {"counselling": 1, "education": n},
                    "conferences_suggested": 1,
                    "note": "Viele Fragen zum Schulbedarf.",
                },
            )
        if caseworker is not None:
            services.set_publisher(session, lead, caseworker, True)
    session.commit()
    return made


def seed_poll(session):
    """One open date poll: a planned conference of Team Nord, three slots, three agencies asked
    (all with demo partner accounts); the debt counselling has answered."""
    import uuid
    from datetime import datetime, time, timedelta

    from app.cases.models import Case, Consent
    from app.clock import berlin_today, local_to_utc, utcnow
    from app.conferences.models import Conference, DatePoll, PollAnswer, PollParticipant, PollSlot

    worker = session.execute(select(User).where(User.email == "fallmanagement@demo.invalid")).scalar_one_or_none()
    if worker is None:
        return None
    today = berlin_today()
    agencies = [session.execute(select(Agency).where(Agency.name == AGENCIES[i][0])).scalar_one() for i in (0, 1, 3)]
    case = next(
        (
            c
            for c in session.execute(
                select(Case).where(Case.team_id == worker.team_id, Case.status == CaseStatus.OPEN).order_by(Case.id)
            ).scalars()
            if all(
                any(
                    consent.is_valid_on(today + timedelta(days=30))
                    for consent in session.execute(
                        select(Consent).where(
                            Consent.case_id == c.id, Consent.agency_id == a.id, Consent.superseded_at.is_(None)
                        )
                    ).scalars()
                )
                for a in agencies
            )
        ),
        None,
    )
    if case is None:
        return None
    places = list(
        session.execute(select(Location).where(Location.kind != LocationKind.ONLINE).order_by(Location.id)).scalars()
    )

    def at(days, hour):
        return local_to_utc(datetime.combine(today + timedelta(days=days), time(hour)))

    conference = Conference(
        case_id=case.id,
        occasion="Folgegespräch: Termin wird abgestimmt",
        starts_at=at(16, 10),
        ends_at=at(16, 10) + timedelta(minutes=90),
        location_id=places[0].id,
        organiser_id=worker.id,
        ical_uid=f"{uuid.uuid4()}@fallkonferenz",
    )
    session.add(conference)
    session.flush()
    poll = DatePoll(conference_id=conference.id, organiser_id=worker.id, answer_until=today + timedelta(days=7))
    session.add(poll)
    session.flush()
    slots = []
    for n, (days, hour, place) in enumerate(
        ((14, 10, places[0]), (15, 14, places[2 % len(places)]), (21, 9, places[1]))
    ):
        slot = PollSlot(
            poll_id=poll.id,
            position=n + 1,
            starts_at=at(days, hour),
            ends_at=at(days, hour) + timedelta(minutes=90),
            location_id=place.id,
        )
        session.add(slot)
        slots.append(slot)
    session.flush()
    for n, agency in enumerate(agencies):
        participant = PollParticipant(poll_id=poll.id, agency_id=agency.id)
        session.add(participant)
        session.flush()
        if n == 0:
            for slot, answer in zip(slots, ("yes", "maybe", "no"), strict=True):
                session.add(PollAnswer(participant_id=participant.id, slot_id=slot.id, answer=answer))
            participant.answered_at, participant.comment = utcnow(), "Vormittags passt es uns besser."
    audit.record("demo.poll_seeded", poll, session=session)
    session.commit()
    return poll
