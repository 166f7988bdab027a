"""Forms of the consultation-hour pages. Every free-text field passes the anonymisation guard."""

import phonenumbers
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError

from app.agencies.models import AGENCY_TYPE_LABELS
from app.consultations.models import (
    CONSULTATION_STATUS,
    EXCEPTION_KIND,
    LANGUAGES,
    RECURRENCE,
    WEEK_OF_MONTH,
    WEEKDAYS,
    ConsultationStatus,
    ExceptionKind,
    Recurrence,
)
from app.consultations.services import MAX_COUNT
from app.forms import (
    REQUIRED,
    ChoiceField,
    GermanDateField,
    GermanTimeField,
    GuardedForm,
    MultiCheckboxField,
    RadioChoiceField,
    VersionedForm,
    WholeNumberField,
    id_or_none,
)

SERIES_RANGE = dict(
    years_back=1,
    years_ahead=3,
    range_message=_l("Bitte wählen Sie ein Datum zwischen einem Jahr zurück und drei Jahren voraus."),
)
DATE_RANGE = dict(
    years_back=1,
    years_ahead=3,
    range_message=_l("Bitte wählen Sie ein Datum zwischen einem Jahr zurück und drei Jahren voraus."),
)
COUNT_RANGE = NumberRange(min=0, max=MAX_COUNT, message=_l("Bitte geben Sie eine Zahl von 0 bis %(max)s ein."))


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class HourForm(GuardedForm, VersionedForm):
    guarded_fields = ("title", "accessibility_note", "note", "contact_office")
    public_text = True  # published: no staff member's name either

    title = StringField(
        _l("Titel"),
        default=_l("Sprechstunde des Jobcenters"),
        validators=[InputRequired(REQUIRED), Length(max=160)],
    )
    location_id = ChoiceField(_l("Ort"), coerce=id_or_none, validators=[InputRequired(REQUIRED)])
    recurrence = RadioChoiceField(
        _l("Wiederholung"),
        choices=list(RECURRENCE.items()),
        default=Recurrence.WEEKLY.value,
        validators=[InputRequired(_l("Bitte wählen Sie, wie oft die Sprechstunde stattfindet."))],
    )
    weekday = ChoiceField(_l("Wochentag"), coerce=_int_or_none, choices=list(WEEKDAYS.items()), default=1)
    week_of_month = ChoiceField(
        _l("Bei „einmal im Monat“: welche Woche"),
        coerce=_int_or_none,
        choices=list(WEEK_OF_MONTH.items()),
        default=1,
    )
    starts_on = GermanDateField(_l("Beginn der Reihe"), validators=[InputRequired(REQUIRED)], **SERIES_RANGE)
    ends_on = GermanDateField(_l("Ende der Reihe"), validators=[InputRequired(REQUIRED)], **SERIES_RANGE)
    start_time = GermanTimeField(_l("Beginn"), validators=[InputRequired(REQUIRED)])
    end_time = GermanTimeField(_l("Ende"), validators=[InputRequired(REQUIRED)])
    topic_ids = MultiCheckboxField(_l("Themen"), coerce=int)
    languages = MultiCheckboxField(_l("Sprachen der Beratung"), choices=list(LANGUAGES.items()), default=["de"])
    step_free = BooleanField(_l("Stufenlos erreichbar"))
    hearing_loop = BooleanField(_l("Induktionsschleife (Hörhilfe) vorhanden"))
    accessibility_note = StringField(
        _l("Weitere Hinweise zur Barrierefreiheit"), validators=[Optional(), Length(max=300)]
    )
    appointment_needed = BooleanField(_l("Nur mit vorheriger Terminvereinbarung"))
    note = TextAreaField(_l("Hinweis für Besucherinnen und Besucher"), validators=[Optional(), Length(max=1000)])
    contact_office = StringField(
        _l("Kontakt: Stelle"),
        default=_l("Jobcenter MainArbeit"),
        validators=[InputRequired(REQUIRED), Length(max=160)],
    )
    contact_phone = StringField(_l("Kontakt: Telefon der Stelle"), validators=[Optional(), Length(max=40)])
    contact_email = EmailField(
        _l("Kontakt: Funktionspostfach"),
        validators=[Optional(), Length(max=254), Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein."))],
    )
    status = RadioChoiceField(
        _l("Veröffentlichung"),
        choices=list(CONSULTATION_STATUS.items()),
        default=ConsultationStatus.DRAFT.value,
        validators=[InputRequired(REQUIRED)],
    )

    def validate_end_time(self, field):
        if field.data and self.start_time.data and field.data <= self.start_time.data:
            raise ValidationError(_l("Das Ende muss nach dem Beginn liegen."))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("Das Ende der Reihe muss nach ihrem Beginn liegen."))

    def validate_topic_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie mindestens ein Thema."))

    def validate_languages(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie mindestens eine Sprache."))

    def validate_contact_phone(self, field):
        try:
            number = phonenumbers.parse(field.data, "DE")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(_l("Bitte geben Sie eine gültige Telefonnummer der Stelle ein, z. B. 069 1234-0."))

    def hour_data(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name not in EXCLUDED}


EXCLUDED = {"csrf_token", "version", "confirm_not_personal", "confirm_categories"}


class ExceptionForm(GuardedForm):
    guarded_fields = ("note",)
    public_text = True

    day = GermanDateField(_l("Termin der Reihe"), validators=[InputRequired(REQUIRED)], **DATE_RANGE)
    kind = RadioChoiceField(
        _l("Was ändert sich?"),
        choices=list(EXCEPTION_KIND.items()),
        default=ExceptionKind.CANCELLED.value,
        validators=[InputRequired(REQUIRED)],
    )
    moved_on = GermanDateField(_l("Neuer Tag (bei Verlegung)"), validators=[Optional()], **DATE_RANGE)
    moved_start = GermanTimeField(_l("Neuer Beginn"), validators=[Optional()])
    moved_end = GermanTimeField(_l("Neues Ende"), validators=[Optional()])
    note = StringField(_l("Hinweis für die Öffentlichkeit"), validators=[Optional(), Length(max=300)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


def visit_form(topics, **kwargs):
    """The figures of one date: visitors, per topic, referrals per agency type, conferences
    suggested, a note. Its fields depend on the hour's topics, so the class is built per request."""

    class VisitForm(GuardedForm, VersionedForm):
        guarded_fields = ("note",)

        day = ChoiceField(_l("Termin"), coerce=_date_or_none, validators=[InputRequired(REQUIRED)])
        visitors = WholeNumberField(_l("Besucherinnen und Besucher"), validators=[InputRequired(REQUIRED), COUNT_RANGE])
        conferences_suggested = WholeNumberField(
            _l("Wie oft wurde eine Fallkonferenz angeregt?"), default=0, validators=[Optional(), COUNT_RANGE]
        )
        note = TextAreaField(_l("Anmerkung (ohne Angaben zu Personen)"), validators=[Optional(), Length(max=1000)])

        def topic_counts(self) -> dict:
            return {t_id: self[f"topic_{t_id}"].data or 0 for t_id, _name in topics}

        def referral_counts(self) -> dict:
            return {kind: self[f"referral_{kind}"].data or 0 for kind in AGENCY_TYPE_LABELS}

    for t_id, name in topics:
        setattr(
            VisitForm,
            f"topic_{t_id}",
            WholeNumberField(
                _l("Gefragt nach: %(topic)s", topic=name), default=0, validators=[Optional(), COUNT_RANGE]
            ),
        )
    for kind, label in AGENCY_TYPE_LABELS.items():
        setattr(
            VisitForm,
            f"referral_{kind}",
            WholeNumberField(
                _l("Weitervermittelt an: %(type)s", type=label), default=0, validators=[Optional(), COUNT_RANGE]
            ),
        )
    return VisitForm(**kwargs)


def _date_or_none(value):
    from datetime import date

    if value in (None, "", "None"):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)
