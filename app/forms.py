"""Form pieces shared by every domain: the anonymisation guard, stale-edit detection, plain
text, and the fields every domain uses (German dates and times, choices, ids)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TimeField,
)
from wtforms.validators import Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import pii
from app.clock import add_years, berlin_today

REQUIRED = _l("Bitte füllen Sie dieses Feld aus.")
CHOICE_INVALID = _l("Bitte wählen Sie einen der angebotenen Einträge.")
DATE_INVALID = _l("Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ).")
TIME_INVALID = _l("Bitte geben Sie eine gültige Uhrzeit ein (SS:MM).")
WHOLE_NUMBER_INVALID = _l("Bitte geben Sie eine ganze Zahl ein.")


class GuardedForm(FlaskForm):
    """A form whose free-text fields pass the anonymisation guard (DESIGN.md section 4).

    List the guarded fields in ``guarded_fields``. A finding is a field error naming
    what was found; ticking ``confirm_not_personal`` saves anyway, and the route hands
    ``overridden_kinds`` to the service, which writes them (never the text) to the audit trail.
    """

    guarded_fields: tuple[str, ...] = ()
    confirm_not_personal = BooleanField(_l("Kein Bezug zur Person – trotzdem speichern"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.overridden_kinds: list[str] = []
        self.guard_findings = False
        for name in self.guarded_fields:
            field = self[name]
            text = field.data or ""
            findings = pii.find_personal_data(text)
            if not findings:
                continue
            self.guard_findings = True
            if self.confirm_not_personal.data:
                self.overridden_kinds.extend(f.kind for f in findings)
            else:
                field.errors = list(field.errors) + pii.describe(findings, text)
                ok = False
        self.overridden_kinds = sorted(set(self.overridden_kinds))
        return ok


class VersionedForm(FlaskForm):
    """Carries the version the user started editing; the service refuses a stale save (409)."""

    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class StaleEdit(Exception):
    """Someone saved the object after this form was loaded."""


def check_version(obj, submitted) -> None:
    if submitted is not None and submitted != obj.version:
        raise StaleEdit()
    obj.version += 1


def no_control_characters(_form, field):
    """Refuse control characters: PostgreSQL cannot store a NUL byte, and none comes from a keyboard."""
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in field.data or ""):
        raise ValidationError(_l("Der Text enthält unzulässige Steuerzeichen."))


# --- fields ------------------------------------------------------------------------------


def id_or_none(value):
    """Select values: an integer id, or None for the empty choice. Anything else raises
    ValueError, which the choice fields below turn into a German form error."""
    if value in (None, "", "None"):
        return None
    return int(value)


def _offered(field) -> set:
    # Compared after coercion, as the submitted value is.
    return {field.coerce(value) for value, *_rest in field.iter_choices()}


class ChoiceField(SelectField):
    """A select whose refusal of a value not offered speaks German."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(CHOICE_INVALID)) from exc

    def pre_validate(self, form):
        if self.validate_choice and self.data not in _offered(self):
            raise ValidationError(CHOICE_INVALID)


class RadioChoiceField(RadioField):
    def pre_validate(self, form):
        if self.data is not None and self.data not in _offered(self):
            raise ValidationError(CHOICE_INVALID)


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (usable without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(CHOICE_INVALID)) from exc
        # A value sent twice (or 5,000 times) is chosen once.
        self.data = list(dict.fromkeys(self.data))

    def pre_validate(self, form):
        offered = _offered(self)
        unknown = [value for value in self.data or () if value not in offered]
        if unknown:
            raise ValidationError(_l("Bitte wählen Sie einen der angebotenen Einträge. „%(value)s“ gehört nicht dazu.",
                                     value=unknown[0]))


class GermanDateField(DateField):
    """ISO from a date picker, or typed the German way (TT.MM.JJJJ), within a plausible range.

    Every date field has one: ``years_back`` and ``years_ahead`` of today (Berlin), ten each
    unless the field says otherwise. A date outside is refused with ``range_message`` (or one
    naming the range) before the field's own checks, so no service ever computes with the
    year 1 or 9999.
    """

    def __init__(self, label=None, validators=None, *, years_back: int = 10, years_ahead: int = 10,
                 range_message=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%d", "%d.%m.%Y"], **kwargs)
        self.years_back, self.years_ahead, self.range_message = years_back, years_ahead, range_message

    def plausible_range(self):
        today = berlin_today()
        return add_years(today, -self.years_back), add_years(today, self.years_ahead)

    def pre_validate(self, form):
        if self.data is None:
            return
        earliest, latest = self.plausible_range()
        if not earliest <= self.data <= latest:
            raise StopValidation(str(self.range_message) if self.range_message else _(
                "Bitte geben Sie ein Datum zwischen dem %(earliest)s und dem %(latest)s ein.",
                earliest=earliest.strftime("%d.%m.%Y"), latest=latest.strftime("%d.%m.%Y")))

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(DATE_INVALID)) from exc


class GermanTimeField(TimeField):
    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%H:%M", "%H:%M:%S", "%H.%M"], **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(TIME_INVALID)) from exc


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(WHOLE_NUMBER_INVALID)) from exc
