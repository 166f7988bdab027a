"""Forms of the conference pages. Every free-text field passes the anonymisation guard."""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.conferences.models import (
    ATTENDANCE,
    MEASURE_STATUS,
    NOTE_VISIBILITY,
    PERSON_KINDS,
    InvitationStatus,
    MeasureStatus,
    NoteVisibility,
    PersonKind,
)
from app.forms import (
    REQUIRED,
    ChoiceField,
    GermanDateField,
    GermanTimeField,
    GuardedForm,
    MultiCheckboxField,
    RadioChoiceField,
    RowForm,
    VersionedForm,
    category_field,
    id_or_none,
    no_control_characters,
    refresh_row_errors,
)

MAX_AGENDA_ITEMS = 30
MAX_AGENDA_TITLE = 300


# Dates a conference or measure can sensibly have: from a year back to two years ahead.
WITHIN_REACH = dict(
    years_back=1,
    years_ahead=2,
    range_message=_l("Bitte wählen Sie ein Datum zwischen einem Jahr zurück und zwei Jahren voraus."),
)


class AgendaRowForm(RowForm):
    """One agenda item: its title and what its discussion may reveal (the data categories)."""

    title = StringField(
        _l("Tagesordnungspunkt"),
        validators=[
            Optional(),
            Length(
                max=MAX_AGENDA_TITLE, message=_l("Jeder Tagesordnungspunkt darf höchstens %(max)d Zeichen lang sein.")
            ),
            no_control_characters,
        ],
    )
    categories = category_field()


AGENDA_ROWS_ADDED = 3  # rows a "more rows" button adds (without JavaScript: a round trip)


class ConferenceForm(GuardedForm, VersionedForm):
    guarded_fields = ("occasion",)

    def guarded(self):
        return super().guarded() + [row.form.title for row in self.agenda]

    def tagged(self):
        return [([row.form.title], row.form.categories) for row in self.agenda]

    occasion = StringField(_l("Anlass"), validators=[DataRequired(REQUIRED), Length(max=200), no_control_characters])
    day = GermanDateField(_l("Datum"), validators=[InputRequired(REQUIRED)], **WITHIN_REACH)
    start_time = GermanTimeField(_l("Beginn"), validators=[InputRequired(REQUIRED)])
    end_time = GermanTimeField(_l("Ende"), validators=[InputRequired(REQUIRED)])
    location_id = ChoiceField(_l("Ort"), coerce=id_or_none, validators=[InputRequired(REQUIRED)])
    agenda = FieldList(FormField(AgendaRowForm), label=_l("Tagesordnung"), max_entries=MAX_AGENDA_ITEMS + 10)
    person_attends = BooleanField(_l("Die Person nimmt an der Fallkonferenz teil"))
    accept_clash = BooleanField(_l("Trotz Überschneidung an diesem Ort speichern"))
    accept_date = BooleanField(_l("Trotzdem an diesem Tag und zu dieser Zeit speichern"))

    def validate_end_time(self, field):
        if field.data and self.start_time.data and field.data <= self.start_time.data:
            raise ValidationError(_l("Das Ende muss nach dem Beginn liegen."))

    def validate_agenda(self, field):
        rows = agenda_rows(self)
        if not rows:
            raise ValidationError(_l("Bitte geben Sie mindestens einen Tagesordnungspunkt an."))
        if len(rows) > MAX_AGENDA_ITEMS:
            raise ValidationError(_l("Höchstens %(n)s Tagesordnungspunkte.", n=MAX_AGENDA_ITEMS))


def agenda_rows(form) -> list[tuple[str, list[str]]]:
    """The filled agenda rows, in order: (title, categories); empty rows are dropped."""
    return [
        ((row.form.title.data or "").strip(), sorted(set(row.form.categories.data or ())))
        for row in form.agenda
        if (row.form.title.data or "").strip()
    ]


def fill_agenda(form, rows, blank: int = 2) -> None:
    """Put ``rows`` (title, categories) into the form's agenda, plus ``blank`` empty rows."""
    while len(form.agenda.entries):
        form.agenda.pop_entry()
    for title, categories in rows:
        form.agenda.append_entry({"title": title, "categories": list(categories)})
    for _ in range(blank):
        form.agenda.append_entry()


class CancelForm(GuardedForm, VersionedForm):
    guarded_fields = ("reason",)

    reason = TextAreaField(
        _l("Grund der Absage"), validators=[DataRequired(REQUIRED), Length(max=2000), no_control_characters]
    )


class InviteForm(FlaskForm):
    agencies = MultiCheckboxField(_l("Einrichtungen einladen"), coerce=id_or_none)
    people = MultiCheckboxField(_l("Zusätzlich namentlich einladen (optional)"), coerce=id_or_none)

    def validate_agencies(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie mindestens eine Einrichtung."))


class AnswerForm(GuardedForm):
    guarded_fields = ("comment",)

    answer = RadioChoiceField(
        _l("Ihre Antwort"),
        choices=[
            (InvitationStatus.ACCEPTED.value, _l("Wir nehmen teil")),
            (InvitationStatus.DECLINED.value, _l("Wir nehmen nicht teil")),
        ],
        validators=[InputRequired(_l("Bitte wählen Sie eine Antwort."))],
    )
    comment = TextAreaField(_l("Kommentar"), validators=[Optional(), Length(max=2000), no_control_characters])


class NoteForm(GuardedForm, VersionedForm):
    guarded_fields = ("body",)

    body = TextAreaField(
        _l("Text der Stellungnahme"), validators=[DataRequired(REQUIRED), Length(max=10000), no_control_characters]
    )
    categories = category_field()
    visibility = RadioChoiceField(
        _l("Sichtbarkeit"),
        choices=list(NOTE_VISIBILITY.items()),
        default=NoteVisibility.SHARED.value,
        validators=[InputRequired(_l("Bitte wählen Sie, wer die Stellungnahme sehen darf."))],
    )

    def validate_categories(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie mindestens eine Datenkategorie."))

    def tagged(self):
        return [([self.body], self.categories)]


class WithdrawForm(VersionedForm):
    pass


class MeasureForm(GuardedForm, VersionedForm):
    guarded_fields = ("what", "outcome")

    what = TextAreaField(
        _l("Maßnahme (was ist zu tun?)"), validators=[DataRequired(REQUIRED), Length(max=2000), no_control_characters]
    )
    categories = category_field()
    responsible = ChoiceField(_l("Verantwortlich"), validators=[InputRequired(REQUIRED)])
    due_on = GermanDateField(_l("Fällig am"), validators=[InputRequired(REQUIRED)], **WITHIN_REACH)
    status = ChoiceField(_l("Status"), choices=list(MEASURE_STATUS.items()), default=MeasureStatus.AGREED.value)
    outcome = TextAreaField(_l("Ergebnis"), validators=[Optional(), Length(max=4000), no_control_characters])
    accept_date = BooleanField(_l("Trotzdem mit diesem Fälligkeitsdatum speichern"))

    def tagged(self):
        return [([self.what, self.outcome], self.categories)]


MAX_MEASURES = 20
MEASURE_ROWS_ADDED = 3  # rows a "more rows" button adds (without JavaScript: a round trip)


class MeasureRowForm(RowForm):
    """One measure of several entered at once: what, its data categories, who, by when, status."""

    what = TextAreaField(
        _l("Maßnahme (was ist zu tun?)"), validators=[Optional(), Length(max=2000), no_control_characters]
    )
    categories = category_field()
    responsible = ChoiceField(_l("Verantwortlich"), default="")
    due_on = GermanDateField(_l("Fällig am"), validators=[Optional()], **WITHIN_REACH)
    status = ChoiceField(_l("Status"), choices=list(MEASURE_STATUS.items()), default=MeasureStatus.AGREED.value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Required in every row that is used (MeasuresForm.validate), not in the blank ones: the
        # labels do not say "optional", and no blank row is marked required.
        for name in ("what", "due_on"):
            self[name].flags.required = True
            self[name].render_kw = {**(self[name].render_kw or {}), "required": False}

    def filled(self) -> bool:
        """A row counts once something of it is written: a text, a due date or a category."""
        return bool(
            (self.what.data or "").strip() or self.due_on.data or self.due_on.raw_data and self.due_on.raw_data[0]
        )


class MeasuresForm(GuardedForm):
    """Several measures in one form: one row each, empty rows are dropped; a "more rows" button
    adds rows without JavaScript. ``accept_date`` confirms due dates on weekends or holidays."""

    rows = FieldList(FormField(MeasureRowForm), label=_l("Maßnahmen"), max_entries=MAX_MEASURES + 10)
    accept_date = BooleanField(_l("Trotzdem mit diesen Fälligkeitsdaten speichern"))

    def guarded(self):
        return [row.form.what for row in self.rows]

    def tagged(self):
        return [([row.form.what], row.form.categories) for row in self.rows]

    def set_responsible_choices(self, choices) -> None:
        for row in self.rows:
            row.form.responsible.choices = [("", gettext("– bitte wählen –"))] + list(choices)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        filled = [row.form for row in self.rows if row.form.filled()]
        if not filled:
            self.rows.errors = list(self.rows.errors) + [str(_l("Bitte geben Sie mindestens eine Maßnahme an."))]
            return False
        if len(filled) > MAX_MEASURES:
            self.rows.errors = list(self.rows.errors) + [
                str(_l("Höchstens %(n)s Maßnahmen auf einmal.", n=MAX_MEASURES))
            ]
            return False
        for row in filled:
            for field in (row.what, row.due_on, row.responsible):
                if not field.errors and not field.data:
                    field.errors = list(field.errors) + [str(REQUIRED)]
                    ok = False
        refresh_row_errors(self)
        return ok


def measure_rows(form) -> list[dict]:
    """The filled rows, in order, as the service takes them (``index``: the row in the form)."""
    return [
        {
            "index": i,
            "what": (row.form.what.data or "").strip(),
            "categories": sorted(set(row.form.categories.data or ())),
            "responsible": row.form.responsible.data,
            "due_on": row.form.due_on.data,
            "status": row.form.status.data,
        }
        for i, row in enumerate(form.rows)
        if row.form.filled()
    ]


def fill_measure_rows(form, rows=(), blank: int = MEASURE_ROWS_ADDED) -> None:
    """Put ``rows`` (``measure_rows``) back into the form, plus ``blank`` empty rows."""
    while len(form.rows.entries):
        form.rows.pop_entry()
    for row in rows:
        form.rows.append_entry({k: v for k, v in row.items() if k != "index"})
    for _ in range(blank):
        form.rows.append_entry()


class MeasureStatusForm(GuardedForm, VersionedForm):
    """What a responsible partner (or a follow-up review) changes: status and outcome."""

    guarded_fields = ("outcome",)

    status = ChoiceField(_l("Status"), choices=list(MEASURE_STATUS.items()))
    outcome = TextAreaField(_l("Ergebnis"), validators=[Optional(), Length(max=4000), no_control_characters])

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.measure_categories = list(categories)

    def tagged(self):
        # The outcome is shown with the measure, to whoever its categories reach.
        return [([self.outcome], self.measure_categories)]


MAX_PERSONS = 30
PERSON_ROWS_ADDED = 2


class PersonRowForm(RowForm):
    """A person present: who of an agency, an interpreter, or the person's own support. Described by
    a name of the agency's staff or a role, never by the name of the person concerned (guarded)."""

    kind = ChoiceField(_l("Wer"), choices=[("", _l("– bitte wählen –"))] + list(PERSON_KINDS.items()), default="")
    agency_id = ChoiceField(_l("Einrichtung"), coerce=id_or_none, default=None)
    description = StringField(
        _l("Name der Fachkraft oder Funktion"), validators=[Optional(), Length(max=200), no_control_characters]
    )

    def filled(self) -> bool:
        return bool(self.kind.data or (self.description.data or "").strip())


def person_rows(form) -> list[dict]:
    """The filled rows: {"kind", "agency_id", "description"}; an agency only for agency staff."""
    return [
        {
            "kind": row.form.kind.data,
            "agency_id": row.form.agency_id.data if row.form.kind.data == PersonKind.AGENCY_STAFF else None,
            "description": (row.form.description.data or "").strip(),
        }
        for row in form.persons
        if row.form.filled()
    ]


def fill_persons(form, rows, agency_choices, blank: int = PERSON_ROWS_ADDED) -> None:
    while len(form.persons.entries):
        form.persons.pop_entry()
    for row in rows:
        form.persons.append_entry(row)
    for _ in range(blank):
        form.persons.append_entry()
    set_person_choices(form, agency_choices)


def set_person_choices(form, agency_choices) -> None:
    for row in form.persons:
        row.form.agency_id.choices = [("", gettext("– keine –"))] + list(agency_choices)


PERSON_ATTENDED = [("", _l("noch nicht erfasst")), ("yes", _l("ja")), ("no", _l("nein"))]
ATTENDANCE_CHOICES = [("", _l("noch nicht erfasst"))] + list(ATTENDANCE.items())


def record_form(invitations, items, **kwargs):
    """The in-conference form: attendance per invited party, and per agenda item its discussion
    and data categories (the discussion may reveal more than the title did).

    Its fields depend on the conference, so the class is built per request.
    """

    class RecordForm(GuardedForm, VersionedForm):
        guarded_fields = tuple(f"discussion_{item.id}" for item in items)
        person_attended = ChoiceField(_l("Die Person war anwesend"), choices=PERSON_ATTENDED)
        persons = FieldList(FormField(PersonRowForm), label=_l("Anwesende Personen"), max_entries=MAX_PERSONS + 10)

        def guarded(self):
            return super().guarded() + [row.form.description for row in self.persons]

        def validate_persons(self, field):
            if len(person_rows(self)) > MAX_PERSONS:
                raise ValidationError(_l("Höchstens %(n)s Personen.", n=MAX_PERSONS))

        def validate(self, extra_validators=None) -> bool:
            ok = super().validate(extra_validators)
            for row in self.persons:
                person = row.form
                if not person.filled() or person.kind.errors:
                    continue
                if not person.kind.data:
                    person.kind.errors = list(person.kind.errors) + [str(REQUIRED)]
                    ok = False
                elif person.kind.data == PersonKind.AGENCY_STAFF:
                    if person.agency_id.data is None and not person.agency_id.errors:
                        person.agency_id.errors = list(person.agency_id.errors) + [
                            str(_l("Bitte wählen Sie die Einrichtung, zu der die Fachkraft gehört."))
                        ]
                        ok = False
                    if not (person.description.data or "").strip() and not person.description.errors:
                        person.description.errors = list(person.description.errors) + [
                            str(_l("Bitte geben Sie einen Namen der Fachkraft oder ihre Funktion an."))
                        ]
                        ok = False
            refresh_row_errors(self)
            return ok

        def tagged(self):
            return [([item.title, self[f"discussion_{item.id}"]], self[f"categories_{item.id}"]) for item in items]

    for inv, agency_name in invitations:
        setattr(
            RecordForm,
            f"attendance_{inv.id}",
            ChoiceField(agency_name, choices=ATTENDANCE_CHOICES, default=inv.attendance or ""),
        )
    for item in items:
        setattr(
            RecordForm,
            f"discussion_{item.id}",
            TextAreaField(
                item.title, validators=[Optional(), Length(max=10000), no_control_characters], default=item.discussion
            ),
        )
        setattr(RecordForm, f"categories_{item.id}", category_field(_l("Datenkategorien: %(title)s", title=item.title)))
    form = RecordForm(**kwargs)
    if not form.is_submitted():
        for item in items:
            form[f"categories_{item.id}"].data = list(item.categories)
    return form


# --- finding a date (Terminabstimmung) ----------------------------------------------------------

POLL_SLOT_ROWS = 8


class SlotRowForm(RowForm):
    """One proposed slot; an empty row is ignored."""

    day = GermanDateField(_l("Datum"), validators=[Optional()], **WITHIN_REACH)
    start_time = GermanTimeField(_l("Beginn"), validators=[Optional()])
    end_time = GermanTimeField(_l("Ende"), validators=[Optional()])
    location_id = ChoiceField(_l("Ort"), coerce=id_or_none, validators=[Optional()])

    def filled(self) -> bool:
        return any(f.data not in (None, "") for f in (self.day, self.start_time, self.end_time, self.location_id))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not ok or not self.filled():
            return ok
        for f in (self.day, self.start_time, self.end_time, self.location_id):
            if f.data in (None, ""):
                f.errors = list(f.errors) + [_l("Bitte füllen Sie Datum, Beginn, Ende und Ort aus.")]
                ok = False
        if ok and self.end_time.data <= self.start_time.data:
            self.end_time.errors = list(self.end_time.errors) + [_l("Das Ende muss nach dem Beginn liegen.")]
            ok = False
        return ok


class PollForm(FlaskForm):
    slots = FieldList(
        FormField(SlotRowForm),
        label=_l("Vorgeschlagene Termine"),
        min_entries=POLL_SLOT_ROWS,
        max_entries=POLL_SLOT_ROWS,
    )
    agencies = MultiCheckboxField(_l("Diese Einrichtungen fragen"), coerce=id_or_none)
    answer_until = GermanDateField(_l("Antwort erbeten bis"), validators=[Optional()], **WITHIN_REACH)

    def filled_slots(self):
        return [row.form for row in self.slots if row.form.filled()]

    def validate_slots(self, field):
        if not 2 <= len(self.filled_slots()) <= POLL_SLOT_ROWS:
            raise ValidationError(_l("Bitte schlagen Sie 2 bis 8 Termine vor."))

    def validate_agencies(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie mindestens eine Einrichtung."))


def poll_answer_form(slots, **kwargs):
    """Yes / if need be / no per proposed slot, and a comment. Built per request (one field per slot)."""
    from app.conferences.models import POLL_ANSWERS

    class PollAnswerForm(GuardedForm, VersionedForm):
        guarded_fields = ("comment",)
        comment = TextAreaField(_l("Kommentar (optional)"), validators=[Optional(), Length(max=1000)])

        def answers(self) -> dict:
            return {slot.id: self[f"slot_{slot.id}"].data for slot, _loc in slots}

    for slot, _location in slots:
        setattr(
            PollAnswerForm,
            f"slot_{slot.id}",
            RadioChoiceField(
                str(slot.id),
                choices=list(POLL_ANSWERS.items()),
                validators=[InputRequired(_l("Bitte antworten Sie für diesen Termin."))],
            ),
        )
    return PollAnswerForm(**kwargs)


class DecideForm(VersionedForm):
    slot = RadioChoiceField(
        _l("Termin"), coerce=id_or_none, validators=[InputRequired(_l("Bitte wählen Sie einen Termin."))]
    )


# --- the team's conference list (filters come by GET: they name nothing personal) ----------


class ConferenceFilterForm(FlaskForm):
    """Filters of the team's conference list; the route fills the choices from the database."""

    class Meta:
        csrf = False  # a filter changes nothing

    zeitraum = ChoiceField(_l("Zeitraum"), validators=[Optional()])
    von = GermanDateField(_l("Von"), validators=[Optional()], years_back=10, years_ahead=5)
    bis = GermanDateField(_l("Bis einschließlich"), validators=[Optional()], years_back=10, years_ahead=5)
    status = ChoiceField(_l("Status"), validators=[Optional()])
    ort = ChoiceField(_l("Ort"), coerce=id_or_none, validators=[Optional()])
    stadtteil = ChoiceField(_l("Stadtteil"), coerce=id_or_none, validators=[Optional()])
    moderation = ChoiceField(_l("Moderation"), coerce=id_or_none, validators=[Optional()])

    def validate_bis(self, field):
        if field.data and self.von.data and field.data < self.von.data:
            raise ValidationError(_l("Das Ende des Zeitraums liegt vor seinem Beginn."))


class WeekForm(FlaskForm):
    class Meta:
        csrf = False

    datum = GermanDateField(_l("Woche mit dem Tag"), validators=[Optional()], years_back=10, years_ahead=5)


class MeasureFilterForm(FlaskForm):
    class Meta:
        csrf = False

    stand = ChoiceField(_l("Stand"), validators=[Optional()])
    fachkraft = ChoiceField(_l("Fachkraft des Falls"), coerce=id_or_none, validators=[Optional()])
