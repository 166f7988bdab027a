"""Forms of the conference pages. Every free-text field passes the anonymisation guard."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.cases.models import DATA_CATEGORIES
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
    VersionedForm,
    id_or_none,
    no_control_characters,
)

MAX_AGENDA_ITEMS = 30
MAX_AGENDA_TITLE = 300


# Dates a conference or measure can sensibly have: from a year back to two years ahead.
WITHIN_REACH = dict(years_back=1, years_ahead=2, range_message=_l(
    "Bitte wählen Sie ein Datum zwischen einem Jahr zurück und zwei Jahren voraus."))


def agenda_lines(text: str | None) -> list[str]:
    """One agenda item per line; blank lines and surrounding spaces are dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ConferenceForm(GuardedForm, VersionedForm):
    guarded_fields = ("occasion", "agenda")

    occasion = StringField(_l("Anlass"), validators=[DataRequired(REQUIRED), Length(max=200), no_control_characters])
    day = GermanDateField(_l("Datum"), validators=[InputRequired(REQUIRED)], **WITHIN_REACH)
    start_time = GermanTimeField(_l("Beginn"), validators=[InputRequired(REQUIRED)])
    end_time = GermanTimeField(_l("Ende"), validators=[InputRequired(REQUIRED)])
    location_id = ChoiceField(_l("Ort"), coerce=id_or_none, validators=[InputRequired(REQUIRED)])
    agenda = TextAreaField(_l("Tagesordnung (ein Punkt pro Zeile)"), validators=[DataRequired(REQUIRED),
                                                                            no_control_characters])
    person_attends = BooleanField(_l("Die Person nimmt an der Fallkonferenz teil"))
    accept_clash = BooleanField(_l("Trotz Überschneidung an diesem Ort speichern"))

    def validate_end_time(self, field):
        if field.data and self.start_time.data and field.data <= self.start_time.data:
            raise ValidationError(_l("Das Ende muss nach dem Beginn liegen."))

    def validate_agenda(self, field):
        lines = agenda_lines(field.data)
        if not lines:
            raise ValidationError(REQUIRED)
        if len(lines) > MAX_AGENDA_ITEMS:
            raise ValidationError(_l("Höchstens %(n)s Tagesordnungspunkte.", n=MAX_AGENDA_ITEMS))
        if any(len(line) > MAX_AGENDA_TITLE for line in lines):
            raise ValidationError(_l("Jeder Tagesordnungspunkt darf höchstens %(n)s Zeichen lang sein.",
                                     n=MAX_AGENDA_TITLE))


class CancelForm(GuardedForm, VersionedForm):
    guarded_fields = ("reason",)

    reason = TextAreaField(_l("Grund der Absage"), validators=[DataRequired(REQUIRED), Length(max=2000), no_control_characters])


class InviteForm(FlaskForm):
    agencies = MultiCheckboxField(_l("Einrichtungen einladen"), coerce=id_or_none)
    people = MultiCheckboxField(_l("Zusätzlich namentlich einladen (optional)"), coerce=id_or_none)

    def validate_agencies(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie mindestens eine Einrichtung."))


class AnswerForm(GuardedForm):
    guarded_fields = ("comment",)

    answer = RadioChoiceField(_l("Ihre Antwort"), choices=[(InvitationStatus.ACCEPTED.value, _l("Wir nehmen teil")),
                                                      (InvitationStatus.DECLINED.value, _l("Wir nehmen nicht teil"))],
                        validators=[InputRequired(_l("Bitte wählen Sie eine Antwort."))])
    comment = TextAreaField(_l("Kommentar"), validators=[Optional(), Length(max=2000), no_control_characters])


class NoteForm(GuardedForm, VersionedForm):
    guarded_fields = ("body",)

    body = TextAreaField(_l("Text der Stellungnahme"), validators=[DataRequired(REQUIRED), Length(max=10000), no_control_characters])
    categories = MultiCheckboxField(_l("Datenkategorien"), choices=list(DATA_CATEGORIES.items()))
    visibility = RadioChoiceField(_l("Sichtbarkeit"), choices=list(NOTE_VISIBILITY.items()), default=NoteVisibility.SHARED.value,
                            validators=[InputRequired(_l("Bitte wählen Sie, wer die Stellungnahme sehen darf."))])

    def validate_categories(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie mindestens eine Datenkategorie."))


class WithdrawForm(VersionedForm):
    pass


class MeasureForm(GuardedForm, VersionedForm):
    guarded_fields = ("what", "outcome")

    what = TextAreaField(_l("Maßnahme (was ist zu tun?)"), validators=[DataRequired(REQUIRED), Length(max=2000), no_control_characters])
    responsible = ChoiceField(_l("Verantwortlich"), validators=[InputRequired(REQUIRED)])
    due_on = GermanDateField(_l("Fällig am"), validators=[InputRequired(REQUIRED)], **WITHIN_REACH)
    status = ChoiceField(_l("Status"), choices=list(MEASURE_STATUS.items()), default=MeasureStatus.AGREED.value)
    outcome = TextAreaField(_l("Ergebnis"), validators=[Optional(), Length(max=4000), no_control_characters])


class MeasureStatusForm(GuardedForm, VersionedForm):
    """What a responsible partner (or a follow-up review) changes: status and outcome."""

    guarded_fields = ("outcome",)

    status = ChoiceField(_l("Status"), choices=list(MEASURE_STATUS.items()))
    outcome = TextAreaField(_l("Ergebnis"), validators=[Optional(), Length(max=4000), no_control_characters])


PERSON_ATTENDED = [("", _l("noch nicht erfasst")), ("yes", _l("ja")), ("no", _l("nein"))]
ATTENDANCE_CHOICES = [("", _l("noch nicht erfasst"))] + list(ATTENDANCE.items())


def record_form(invitations, items, **kwargs):
    """The in-conference form: attendance per invited party and discussion per agenda item.

    Its fields depend on the conference, so the class is built per request.
    """

    class RecordForm(GuardedForm, VersionedForm):
        guarded_fields = tuple(f"discussion_{item.id}" for item in items)
        person_attended = ChoiceField(_l("Die Person war anwesend"), choices=PERSON_ATTENDED)

    for inv, agency_name in invitations:
        setattr(RecordForm, f"attendance_{inv.id}", ChoiceField(agency_name, choices=ATTENDANCE_CHOICES,
                                                                default=inv.attendance or ""))
    for item in items:
        setattr(RecordForm, f"discussion_{item.id}",
                TextAreaField(item.title, validators=[Optional(), Length(max=10000), no_control_characters], default=item.discussion))
    return RecordForm(**kwargs)
