"""Notes (Stellungnahmen), the record of the conference (attendance, discussion) and measures."""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, or_, select

from app import audit
from app.accounts.models import Role
from app.agencies.models import Agency
from app.cases.models import DATA_CATEGORIES
from app.clock import utcnow
from app.conferences.models import (
    OPEN_MEASURE_STATUSES,
    PERSON_KINDS,
    RESPONSIBLE_KINDS,
    AttendingPerson,
    Conference,
    Measure,
    Note,
    PersonKind,
    ResponsibleKind,
)
from app.conferences.services import ConferenceError
from app.conferences.services.invitations import live_invitations
from app.conferences.services.scheduling import agenda_items
from app.forms import check_version
from app.permissions import valid_consent


def add_note(
    session, conference, actor, *, body: str, categories: list[str], visibility: str, overridden_kinds=()
) -> Note:
    note = Note(
        conference_id=conference.id,
        author_id=actor.id,
        agency_id=actor.agency_id if actor.role == Role.PARTNER else None,
        body=body.strip(),
        categories=sorted(set(categories)),
        visibility=visibility,
    )
    session.add(note)
    session.flush()
    audit.record(
        "note.created",
        note,
        actor=actor,
        session=session,
        conference_id=conference.id,
        categories=note.categories,
        visibility=visibility,
    )
    audit.record_overrides(note, actor, overridden_kinds, session=session)
    return note


def edit_note(
    session, note, actor, *, version, body: str, categories: list[str], visibility: str, overridden_kinds=()
) -> None:
    check_version(note, version)
    note.body, note.categories, note.visibility = body.strip(), sorted(set(categories)), visibility
    note.updated_at = utcnow()
    audit.record(
        "note.updated",
        note,
        actor=actor,
        session=session,
        conference_id=note.conference_id,
        categories=note.categories,
        visibility=visibility,
    )
    audit.record_overrides(note, actor, overridden_kinds, session=session)


def withdraw_note(session, note, actor, *, version) -> None:
    check_version(note, version)
    note.withdrawn_at = utcnow()
    note.updated_at = note.withdrawn_at
    audit.record("note.withdrawn", note, actor=actor, session=session, conference_id=note.conference_id)


def note_category_choices(reader) -> list[str]:
    """Categories a partner may tag: those its consent covers. The Jobcenter may tag all."""
    if reader.is_jobcenter:
        return list(DATA_CATEGORIES)
    return [key for key in DATA_CATEGORIES if key in reader.scope]


def record_conference(
    session,
    conference,
    actor,
    *,
    version,
    person_attended,
    attendance: dict,
    discussion: dict,
    categories: dict,
    persons: list[dict] | None = None,
    overridden_kinds=(),
) -> None:
    """Attendance per invited party, whether the person attended, the persons present (agency staff,
    interpreter, the person's support; ``None`` leaves them as they are), and per agenda item its
    discussion and data categories."""
    check_version(conference, version)
    if persons is not None:
        _replace_persons(session, conference, persons)
    conference.person_attended = person_attended
    conference.updated_at = utcnow()
    for inv, _name in live_invitations(session, conference):
        if inv.id in attendance:
            inv.attendance = attendance[inv.id]
    for item in agenda_items(session, conference):
        new_categories = sorted(set(categories.get(item.id, item.categories)))
        if item.discussion != discussion.get(item.id, item.discussion) or sorted(item.categories) != new_categories:
            item.discussion = discussion.get(item.id, item.discussion)
            item.categories = new_categories
            item.version += 1
    audit.record(
        "conference.recorded",
        conference,
        actor=actor,
        session=session,
        attendance={str(k): v for k, v in attendance.items()},
        person_attended=person_attended,
        # Kinds only: the descriptions are free text and stay out of the audit trail.
        **({"persons": sorted(p["kind"] for p in persons)} if persons else {}),
    )
    audit.record_overrides(conference, actor, overridden_kinds, session=session)


def attending_persons(session, conference) -> list[dict]:
    """The persons recorded as present, in order, as the record form takes them."""
    return [
        {"kind": p.kind, "agency_id": p.agency_id, "description": p.description}
        for p in session.execute(
            select(AttendingPerson)
            .where(AttendingPerson.conference_id == conference.id)
            .order_by(AttendingPerson.position, AttendingPerson.id)
        ).scalars()
    ]


def _replace_persons(session, conference, persons: list[dict]) -> None:
    """Agency staff only of an agency invited to this conference (its invitation not withdrawn)."""
    invited = {inv.agency_id for inv, _name in live_invitations(session, conference)}
    for person in persons:
        if person["kind"] not in PERSON_KINDS:
            raise ConferenceError("persons", _l("Bitte wählen Sie, wer anwesend war."))
        if person["kind"] == PersonKind.AGENCY_STAFF and person.get("agency_id") not in invited:
            raise ConferenceError("persons", _l("Fachkräfte können nur für eingeladene Einrichtungen erfasst werden."))
    session.execute(delete(AttendingPerson).where(AttendingPerson.conference_id == conference.id))
    for position, person in enumerate(persons, start=1):
        session.add(
            AttendingPerson(
                conference_id=conference.id,
                position=position,
                kind=person["kind"],
                agency_id=person.get("agency_id") if person["kind"] == PersonKind.AGENCY_STAFF else None,
                description=person.get("description", "").strip(),
            )
        )
    session.flush()


def responsible_choices(session, conference, measure=None) -> list[tuple[str, str]]:
    """Who can be responsible for a measure: the Jobcenter, the person, or an invited agency; and
    for an existing measure the agency that holds it, even once its invitation has ended (so
    that its outcome can still be recorded)."""
    agencies = [(f"agency:{inv.agency_id}", name) for inv, name in live_invitations(session, conference)]
    if measure is not None and measure.responsible_agency_id is not None:
        held = f"agency:{measure.responsible_agency_id}"
        if held not in dict(agencies):
            agencies.append((held, session.get(Agency, measure.responsible_agency_id).name))
    return [
        (ResponsibleKind.JOBCENTER.value, str(RESPONSIBLE_KINDS[ResponsibleKind.JOBCENTER])),
        (ResponsibleKind.PERSON.value, str(RESPONSIBLE_KINDS[ResponsibleKind.PERSON])),
    ] + agencies


def parse_responsible(session, conference, value: str, measure=None) -> tuple[str, int | None]:
    allowed = dict(responsible_choices(session, conference, measure))
    if value not in allowed:
        raise ConferenceError(
            "responsible", _l("Bitte wählen Sie das Jobcenter, die Person oder eine eingeladene Einrichtung.")
        )
    if value.startswith("agency:"):
        return ResponsibleKind.AGENCY, int(value.split(":", 1)[1])
    return ResponsibleKind(value), None


def responsible_value(measure) -> str:
    if measure.responsible_kind == ResponsibleKind.AGENCY:
        return f"agency:{measure.responsible_agency_id}"
    return measure.responsible_kind


def _check_within_scope(session, conference, agency_id: int, categories: list[str]) -> None:
    """DESIGN.md section 4: a measure is given to an agency only within its consent's scope;
    and it needs categories, since the agency always sees the measures it holds."""
    name = session.get(Agency, agency_id).name
    if not categories:
        raise ConferenceError(
            "categories",
            _l(
                "Eine Maßnahme, die %(agency)s übernimmt, sieht diese Einrichtung: Bitte wählen Sie ihre "
                "Datenkategorien.",
                agency=name,
            ),
        )
    consent = valid_consent(conference.case_id, agency_id)
    outside = [
        code for code in DATA_CATEGORIES if code in categories and (consent is None or code not in consent.scope)
    ]
    if outside:
        raise ConferenceError(
            "categories",
            _l(
                "Die Einwilligung für %(agency)s umfasst nicht: %(categories)s. Geben Sie die Maßnahme einer "
                "anderen Stelle oder wählen Sie nur Kategorien im Umfang der Einwilligung.",
                agency=name,
                categories=", ".join(str(DATA_CATEGORIES[code]) for code in outside),
            ),
        )


def add_measure(
    session,
    conference,
    actor,
    *,
    what: str,
    categories: list[str],
    responsible: str,
    due_on: date,
    status: str,
    outcome: str,
    overridden_kinds=(),
) -> Measure:
    kind, agency_id = parse_responsible(session, conference, responsible)
    categories = sorted(set(categories))
    if agency_id is not None:
        _check_within_scope(session, conference, agency_id, categories)
    measure = Measure(
        conference_id=conference.id,
        case_id=conference.case_id,
        what=what.strip(),
        categories=categories,
        responsible_kind=kind,
        responsible_agency_id=agency_id,
        due_on=due_on,
        status=status,
        outcome=(outcome or "").strip(),
    )
    session.add(measure)
    session.flush()
    audit.record(
        "measure.created",
        measure,
        actor=actor,
        session=session,
        conference_id=conference.id,
        responsible_kind=kind,
        agency_id=agency_id,
        status=status,
        categories=categories,
    )
    audit.record_overrides(measure, actor, overridden_kinds, session=session)
    return measure


def add_measures(session, conference, actor, *, rows: list[dict], overridden_kinds=()) -> list[Measure]:
    """Several measures agreed at once (one form): all or none. A refusal names its row:
    ``ConferenceError.field`` is "rows-<index>-<field>"."""
    added = []
    for row in rows:
        try:
            added.append(
                add_measure(
                    session,
                    conference,
                    actor,
                    what=row["what"],
                    categories=row["categories"],
                    responsible=row["responsible"],
                    due_on=row["due_on"],
                    status=row["status"],
                    outcome="",
                    overridden_kinds=(),
                )
            )
        except ConferenceError as err:
            raise ConferenceError(f"rows-{row['index']}-{err.field}", err.message) from None
    for measure in added:
        audit.record_overrides(measure, actor, overridden_kinds, session=session)
    return added


def update_measure(
    session,
    measure,
    actor,
    *,
    version,
    what: str,
    categories: list[str],
    responsible: str,
    due_on: date,
    status: str,
    outcome: str,
    overridden_kinds=(),
) -> None:
    """Change what, who, by when, status and outcome (while the conference's minutes are open)."""
    conference = session.get(Conference, measure.conference_id)
    kind, agency_id = parse_responsible(session, conference, responsible, measure)
    categories = sorted(set(categories))
    # The scope is checked when the holder or the categories change; an agency whose consent has
    # narrowed since keeps the measure it holds, so that its outcome can be recorded.
    if agency_id is not None and (
        agency_id != measure.responsible_agency_id or categories != sorted(measure.categories)
    ):
        _check_within_scope(session, conference, agency_id, categories)
    check_version(measure, version)
    measure.what, measure.responsible_kind, measure.responsible_agency_id = what.strip(), kind, agency_id
    measure.categories = categories
    if measure.due_on != due_on:
        measure.reminded_on = None  # a new due date gets its own reminders
    measure.due_on, measure.status, measure.outcome = due_on, status, (outcome or "").strip()
    measure.updated_at = utcnow()
    audit.record(
        "measure.updated",
        measure,
        actor=actor,
        session=session,
        status=status,
        responsible_kind=kind,
        agency_id=agency_id,
        categories=categories,
    )
    audit.record_overrides(measure, actor, overridden_kinds, session=session)


def update_measure_status(
    session, measure, actor, *, version, status: str, outcome: str, review_conference=None, overridden_kinds=()
) -> None:
    """A status change by the responsible partner, or the review in a follow-up conference."""
    check_version(measure, version)
    measure.status, measure.outcome = status, (outcome or "").strip()
    measure.updated_at = utcnow()
    if review_conference is not None:
        measure.reviewed_in_conference_id = review_conference.id
    audit.record(
        "measure.reviewed" if review_conference is not None else "measure.status_changed",
        measure,
        actor=actor,
        session=session,
        status=status,
        review_conference_id=review_conference.id if review_conference is not None else None,
    )
    audit.record_overrides(measure, actor, overridden_kinds, session=session)


def under_review(follow_up):
    return and_(
        Measure.conference_id == follow_up.previous_conference_id,
        or_(Measure.status.in_(OPEN_MEASURE_STATUSES), Measure.reviewed_in_conference_id == follow_up.id),
    )
