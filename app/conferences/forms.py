"""Forms of the conference pages. Every free-text field passes the anonymisation guard."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.conferences.models import (
    ATTENDANCE,
    MEASURE_STATUS,
    NOTE_VISIBILITY,
    InvitationStatus,
    MeasureStatus,
    NoteVisibility,
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

    def tagged(self):
        return [([self.what, self.outcome], self.categories)]


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
