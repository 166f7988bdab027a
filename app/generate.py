"""Synthetic data at scale: ``flask generate-data --cases 100000``.

Ten years of a city's case conferences for benchmarks: cases over both teams and all
districts, ~1.5 conferences per case, 3 invitations, 4 measures and 3 notes per
conference, consents for the invited agencies, finalised-minutes metadata for held
conferences and the audit entries all this would have written (~20 per case, hash
chained). Bulk inserts through SQLAlchemy Core, one transaction per batch of cases.
"""

import hashlib
import random
import time
import uuid
from datetime import timedelta

from sqlalchemy import func, insert, select, text

from app import audit
from app.accounts.models import Role, User
from app.agencies.models import Agency, District, Location
from app.cases.models import (
    AGE_BANDS,
    DATA_CATEGORIES,
    HOUSEHOLD_TYPES,
    OBSTACLES,
    Case,
    CaseObstacle,
    Consent,
    PseudonymCounter,
)
from app.clock import utcnow
from app.conferences.models import AgendaItem, Conference, Invitation, Measure, Note
from app.minutes.models import Minutes

SUMMARIES = [
    "Langzeitleistungsbezug, gesundheitliche Einschränkungen, sucht Teilzeitbeschäftigung im Handel.",
    "Abgebrochene Ausbildung, Schulden aus Handyverträgen, Interesse an Pflegehelferkurs.",
    "Alleinerziehend, Betreuung des jüngsten Kindes ungeklärt, Sprachkurs B1 abgeschlossen.",
    "Wohnungslosigkeit droht, Mietschulden, Kontakt zur Schuldnerberatung besteht.",
]
GOALS = [
    "Aufnahme einer sozialversicherungspflichtigen Beschäftigung.",
    "Stabilisierung der Wohnsituation und Schuldenregulierung.",
    "Abschluss einer Qualifizierung im Lager- und Logistikbereich.",
]
MEASURES = [
    "Termin bei der Schuldnerberatung wahrnehmen",
    "Bewerbungstraining besuchen",
    "Antrag auf Kinderbetreuung stellen",
    "Sprachkurs B2 anmelden",
    "Gesundheitskurs beginnen",
    "Unterlagen zur Anerkennung einreichen",
    "Praktikum im Einzelhandel beginnen",
]
NOTES = [
    "Regelmäßige Teilnahme an den Terminen, Motivation gut.",
    "Ratenzahlung mit zwei Gläubigern vereinbart.",
    "Gesundheitliche Stabilisierung, Belastbarkeit ca. 4 Stunden täglich.",
]


class _Ids:
    """Hands out primary keys, so related rows can be built before they are inserted."""

    def __init__(self, session, *models):
        self.next = {m: (session.execute(select(func.max(m.id))).scalar() or 0) + 1 for m in models}

    def __call__(self, model):
        value = self.next[model]
        self.next[model] += 1
        return value


def _ensure_partner_users(session, agencies, now):
    """Every agency needs someone who can have written its notes."""
    existing = dict(
        session.execute(
            select(User.agency_id, func.min(User.id)).where(User.role == Role.PARTNER).group_by(User.agency_id)
        ).all()
    )
    for agency in agencies:
        if agency.id not in existing:
            user = User(
                email=f"partner{agency.id}@generated.invalid",
                name=f"Partner {agency.id}",
                role=Role.PARTNER,
                agency_id=agency.id,
                active=True,
                created_at=now,
            )
            session.add(user)
            session.flush()
            existing[agency.id] = user.id
    return existing


def generate(session, cases: int, *, batch: int = 1000, seed: int = 1, echo=print) -> dict:
    rnd = random.Random(seed)
    now = utcnow()
    staff = session.execute(select(User).where(User.role.in_([Role.CASEWORKER, Role.TEAM_LEAD]))).scalars().all()
    if not staff:
        raise RuntimeError("Keine Teams mit Fallmanagement vorhanden: zuerst `flask seed-demo` ausführen.")
    by_team: dict[int, list[int]] = {}
    for u in staff:
        by_team.setdefault(u.team_id, []).append(u.id)
    teams = sorted(by_team)
    districts = [d.id for d in session.execute(select(District)).scalars()]
    agencies = session.execute(select(Agency).where(Agency.active.is_(True))).scalars().all()
    locations = [loc.id for loc in session.execute(select(Location)).scalars()]
    partner_of = _ensure_partner_users(session, agencies, now)
    session.commit()
    agency_ids = [a.id for a in agencies]
    categories = list(DATA_CATEGORIES)
    ids = _Ids(session, Case, Consent, Conference, Invitation, AgendaItem, Note, Measure, Minutes)
    chain = audit.BulkChain(session)
    counters: dict[int, int] = {r.year: r.last_number for r in session.execute(select(PseudonymCounter)).scalars()}
    totals = dict.fromkeys(
        ["case_file", "conference", "invitation", "measure", "note", "consent", "minutes", "audit_entry"], 0
    )
    started = time.monotonic()
    span = timedelta(days=3650)

    for first in range(0, cases, batch):
        rows: dict[str, list[dict]] = {
            k: []
            for k in (
                "case_file",
                "case_obstacle",
                "consent",
                "conference",
                "invitation",
                "agenda_item",
                "note",
                "measure",
                "minutes",
                "audit_entry",
            )
        }

        def log(action, actor, otype, oid, at, rows=rows, **details):
            rows["audit_entry"].append(chain.row(action, actor, otype, oid, at, **details))

        # Cases are generated in time order, so the audit chain runs forward in time too.
        offsets = sorted(rnd.random() for _ in range(min(batch, cases - first)))
        base = now - span + span * (first / cases)
        for frac in offsets:
            created = base + span * (batch / cases) * frac
            if created > now - timedelta(days=1):
                created = now - timedelta(days=1, minutes=rnd.randint(0, 600))
            team = rnd.choice(teams)
            worker = rnd.choice(by_team[team])
            case_id = ids(Case)
            entries_before = len(rows["audit_entry"])
            year = created.year
            counters[year] = counters.get(year, 0) + 1
            age_days = (now - created).days
            # Case conferences run for months, not years: nearly every older case is closed.
            closed = rnd.random() < (0.97 if age_days > 365 else 0.5 if age_days > 180 else 0.1)
            rows["case_file"].append(
                dict(
                    id=case_id,
                    pseudonym=f"FK-{year}-{counters[year]:04d}",
                    team_id=team,
                    caseworker_id=worker,
                    district_id=rnd.choice(districts),
                    age_band=rnd.choice(list(AGE_BANDS)),
                    household_type=rnd.choice(list(HOUSEHOLD_TYPES)),
                    summary=rnd.choice(SUMMARIES),
                    goals=rnd.choice(GOALS),
                    internal_reference=f"{rnd.randint(100, 999)}D{rnd.randint(100000, 999999)}",
                    status="closed" if closed else "open",
                    close_reason="work" if closed else None,
                    closed_at=min(created + timedelta(days=rnd.randint(120, 360)), now - timedelta(hours=1))
                    if closed
                    else None,
                    created_at=created,
                    updated_at=created,
                    version=1,
                )
            )
            for ob in rnd.sample(list(OBSTACLES), rnd.randint(1, 3)):
                rows["case_obstacle"].append(dict(case_id=case_id, obstacle=ob))
            log("case.created", worker, "case_file", case_id, created)
            invited = rnd.sample(agency_ids, 3)
            for agency_id in invited:
                consent_id = ids(Consent)
                signed = (created + timedelta(days=rnd.randint(0, 10))).date()
                withdrawn = signed + timedelta(days=rnd.randint(30, 300)) if rnd.random() < 0.05 else None
                rows["consent"].append(
                    dict(
                        id=consent_id,
                        case_id=case_id,
                        agency_id=agency_id,
                        signed_on=signed,
                        valid_until=signed + timedelta(days=365),
                        scope=rnd.sample(categories, rnd.randint(2, 5)),
                        proof_reference=f"Akte Blatt {rnd.randint(1, 80)}",
                        note="",
                        recorded_by_id=worker,
                        recorded_at=created,
                        replaces_id=None,
                        withdrawn_on=withdrawn,
                        withdrawal_note="",
                        withdrawn_by_id=worker if withdrawn else None,
                        withdrawn_recorded_at=None,
                        superseded_at=None,
                    )
                )
                log("consent.recorded", worker, "consent", consent_id, created)
            n_conf = 1 if rnd.random() < 0.5 else 2
            for k in range(n_conf):
                starts = (created + timedelta(days=rnd.randint(14, 60) + 90 * k)).replace(
                    minute=0, second=0, microsecond=0
                )
                starts = starts.replace(hour=rnd.choice([7, 8, 9, 12, 13]))
                conf_id = ids(Conference)
                past = starts < now
                status = (
                    (
                        "cancelled"
                        if rnd.random() < 0.08
                        else ("closed" if starts < now - timedelta(days=14) else "held")
                    )
                    if past
                    else "planned"
                )
                rows["conference"].append(
                    dict(
                        id=conf_id,
                        case_id=case_id,
                        occasion="Folgekonferenz" if k else "Erste Fallkonferenz",
                        starts_at=starts,
                        ends_at=starts + timedelta(minutes=90),
                        location_id=rnd.choice(locations),
                        organiser_id=worker,
                        status=status,
                        cancel_reason="Termin entfällt" if status == "cancelled" else "",
                        person_attends=True,
                        person_attended=(rnd.random() < 0.8) if past else None,
                        previous_conference_id=conf_id - 1 if k else None,
                        ical_uid=f"{uuid.UUID(int=rnd.getrandbits(128))}@fallkonferenz",
                        ical_sequence=0,
                        reminder_sent_at=None,
                        created_at=created,
                        updated_at=created,
                        version=1,
                    )
                )
                log("conference.created", worker, "conference", conf_id, created)
                for pos in range(1, 4):
                    rows["agenda_item"].append(
                        dict(
                            id=ids(AgendaItem),
                            conference_id=conf_id,
                            position=pos,
                            title=["Aktuelle Situation", "Stellungnahmen", "Vereinbarungen"][pos - 1],
                            discussion="Besprochen." if past else "",
                            categories=["general"] if pos != 2 else [],
                            version=1,
                        )
                    )
                for agency_id in invited:
                    inv_status = (
                        rnd.choice(["accepted", "accepted", "declined"])
                        if past
                        else rnd.choice(["pending", "accepted", "declined"])
                    )
                    rows["invitation"].append(
                        dict(
                            id=ids(Invitation),
                            conference_id=conf_id,
                            agency_id=agency_id,
                            user_id=None,
                            status=inv_status,
                            answer_comment="",
                            answered_at=None if inv_status == "pending" else created,
                            answered_by_id=None if inv_status == "pending" else partner_of[agency_id],
                            attendance=("present" if inv_status == "accepted" else "excused") if past else None,
                            sent_count=1,
                            last_sent_at=created,
                            cancelled_at=None,
                            created_at=created,
                        )
                    )
                    log("invitation.sent", worker, "conference", conf_id, created, agency_id=agency_id)
                for j in range(3):
                    agency_id = invited[j]
                    rows["note"].append(
                        dict(
                            id=ids(Note),
                            conference_id=conf_id,
                            author_id=partner_of[agency_id],
                            agency_id=agency_id,
                            body=rnd.choice(NOTES),
                            categories=rnd.sample(categories, rnd.randint(1, 2)),
                            visibility="shared" if rnd.random() < 0.8 else "jobcenter",
                            withdrawn_at=None,
                            created_at=starts - timedelta(days=2),
                            updated_at=starts - timedelta(days=2),
                            version=1,
                        )
                    )
                    log("note.created", partner_of[agency_id], "conference", conf_id, created)
                if status in ("held", "closed"):
                    for _ in range(4):
                        due = (starts + timedelta(days=rnd.randint(14, 60))).date()
                        # Measures are followed up: only recent ones of open cases are still
                        # open past their date (the overdue list a caseworker works through).
                        if due >= now.date() or not closed and (now.date() - due).days < 90 and rnd.random() < 0.5:
                            m_status = rnd.choice(["agreed", "in_progress"])
                        else:
                            m_status = rnd.choices(["done", "not_done"], [4, 1])[0]
                        kind = rnd.choice(["agency", "agency", "jobcenter", "person"])
                        rows["measure"].append(
                            dict(
                                id=ids(Measure),
                                conference_id=conf_id,
                                case_id=case_id,
                                what=rnd.choice(MEASURES),
                                categories=["general"],
                                responsible_kind=kind,
                                responsible_agency_id=rnd.choice(invited) if kind == "agency" else None,
                                due_on=due,
                                status=m_status,
                                outcome="",
                                reviewed_in_conference_id=None,
                                reminded_on=None,
                                created_at=starts,
                                updated_at=starts,
                                version=1,
                            )
                        )
                    log("measure.created", worker, "conference", conf_id, starts)
                if status == "closed":
                    finalised = starts + timedelta(days=rnd.randint(1, 10))
                    minutes_id = ids(Minutes)
                    rows["minutes"].append(
                        dict(
                            id=minutes_id,
                            conference_id=conf_id,
                            version_number=1,
                            status="final",
                            summary="Die Teilnehmenden haben die Situation besprochen.",
                            summary_categories=["general"],
                            decisions=[{"text": "Maßnahmen wie vereinbart.", "categories": ["general"]}],
                            next_date_note="",
                            replaces_id=None,
                            correction_reason="",
                            comments_until=None,
                            finalised_by_id=worker,
                            finalised_at=finalised,
                            pdf_sha256=hashlib.sha256(f"{minutes_id}".encode()).hexdigest(),
                            pdf_size=60000,
                            created_at=starts,
                            updated_at=finalised,
                            version=1,
                        )
                    )
                    log("minutes.finalised", worker, "minutes", minutes_id, finalised)
            # Views make up the rest of a real trail: about 20 entries per case in all.
            for _ in range(max(0, 20 - (len(rows["audit_entry"]) - entries_before))):
                log("case.viewed", worker, "case_file", case_id, created + timedelta(minutes=rnd.randint(1, 600)))

        tables = [
            ("case_file", Case),
            ("case_obstacle", CaseObstacle),
            ("consent", Consent),
            ("conference", Conference),
            ("invitation", Invitation),
            ("agenda_item", AgendaItem),
            ("note", Note),
            ("measure", Measure),
            ("minutes", Minutes),
            ("audit_entry", audit.AuditEntry),
        ]
        for name, model in tables:
            if rows[name]:
                session.execute(insert(model.__table__), rows[name])
                if name in totals:
                    totals[name] += len(rows[name])
        for year, last in counters.items():
            counter = session.get(PseudonymCounter, year)
            if counter is None:
                session.add(PseudonymCounter(year=year, last_number=last))
            else:
                counter.last_number = last
        session.commit()
        done = min(first + batch, cases)
        elapsed = time.monotonic() - started
        echo(f"{done:>8} / {cases} Fälle  ({elapsed:6.1f} s, {done / elapsed:7.0f} Fälle/s)")

    if session.get_bind().dialect.name == "postgresql":
        for table in (
            "case_file",
            "consent",
            "conference",
            "invitation",
            "agenda_item",
            "note",
            "measure",
            "minutes",
            "audit_entry",
        ):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )
        session.commit()
    # Fresh statistics, so the planner knows the tables' sizes from the first query on.
    session.execute(text("ANALYZE"))
    session.commit()
    return totals
