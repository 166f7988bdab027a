"""Forms for cases and the consent register. Choices from the database are filled in by the route."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from app.cases.models import AGE_BANDS, CLOSE_REASONS, DATA_CATEGORIES, HOUSEHOLD_TYPES, OBSTACLES
from app.cases.services import SORT_LABELS
from app.clock import berlin_today
from app.forms import (
    REQUIRED,
    ChoiceField,
    GermanDateField,
    GuardedForm,
    MultiCheckboxField,
    TextForm,
    VersionedForm,
    id_or_none,
    no_control_characters,
)

TEXT_MAX = 4000
NOTE_MAX = 2000
CHOOSE = _l("– bitte wählen –")
DATE_HINT = _l("Format TT.MM.JJJJ, zum Beispiel 31.10.2027.")


def _choices(mapping):
    return [("", CHOOSE)] + list(mapping.items())


class CaseForm(GuardedForm, VersionedForm):
    guarded_fields = ("summary", "goals")

    district_id = ChoiceField(_l("Stadtteil"), coerce=id_or_none, validators=[InputRequired(REQUIRED)])
    age_band = ChoiceField(_l("Altersgruppe"), choices=_choices(AGE_BANDS), validators=[DataRequired(REQUIRED)])
    household_type = ChoiceField(_l("Haushalt"), choices=_choices(HOUSEHOLD_TYPES), validators=[DataRequired(REQUIRED)])
    obstacles = MultiCheckboxField(_l("Vermittlungshemmnisse"), choices=list(OBSTACLES.items()))
    summary = TextAreaField(
        _l("Situation"), validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX), no_control_characters]
    )
    goals = TextAreaField(_l("Ziele"), validators=[Optional(), Length(max=TEXT_MAX), no_control_characters])
    internal_reference = StringField(
        _l("Interne Kennung (Nummer im Fachverfahren)"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(
                r"^[A-Za-z0-9 ./-]*$",
                message=_l(
                    "Bitte nur Buchstaben, Ziffern, Leerzeichen, Punkt, Schrägstrich und Bindestrich verwenden."
                ),
            ),
        ],
    )


class ReassignForm(TextForm):
    caseworker_id = ChoiceField(_l("Zuständige Fachkraft"), coerce=id_or_none, validators=[InputRequired(REQUIRED)])


class CloseForm(TextForm):
    reason = ChoiceField(
        _l("Grund für den Abschluss"), choices=_choices(CLOSE_REASONS), validators=[DataRequired(REQUIRED)]
    )


class ConsentForm(GuardedForm):
    """A consent as recorded; ``ChangeConsentForm`` drops the agency, which a change keeps."""

    guarded_fields = ("proof_reference", "note")

    agency_id = ChoiceField(_l("Partnereinrichtung"), coerce=id_or_none, validators=[InputRequired(REQUIRED)])
    # Signed within the last ten years (not in the future: below); valid for at most ten years ahead.
    signed_on = GermanDateField(_l("Unterschrieben am"), validators=[InputRequired(REQUIRED)])
    valid_until = GermanDateField(_l("Gültig bis einschließlich"), validators=[InputRequired(REQUIRED)])
    scope = MultiCheckboxField(
        _l("Umfang: welche Angaben weitergegeben werden dürfen"),
        choices=list(DATA_CATEGORIES.items()),
        validators=[DataRequired(_l("Bitte wählen Sie mindestens einen Bereich aus."))],
    )
    proof_reference = StringField(
        _l("Ablageort der unterschriebenen Erklärung"),
        validators=[DataRequired(REQUIRED), Length(max=200), no_control_characters],
    )
    note = TextAreaField(_l("Bemerkung"), validators=[Optional(), Length(max=NOTE_MAX), no_control_characters])

    def validate_signed_on(self, field):
        if field.data and field.data > berlin_today():
            raise ValidationError(_l("Das Datum der Unterschrift darf nicht in der Zukunft liegen."))

    def validate_valid_until(self, field):
        if not field.data:
            return
        if self.signed_on.data and field.data < self.signed_on.data:
            raise ValidationError(_l("Das Ende der Gültigkeit liegt vor dem Datum der Unterschrift."))
        if field.data < berlin_today():
            raise ValidationError(_l("Das Ende der Gültigkeit liegt in der Vergangenheit."))


class ChangeConsentForm(ConsentForm):
    agency_id = None  # type: ignore[assignment]  # WTForms: a subclass drops a field so


class WithdrawConsentForm(GuardedForm):
    guarded_fields = ("note",)

    withdrawn_on = GermanDateField(_l("Widerrufen am"), validators=[InputRequired(REQUIRED)])
    note = TextAreaField(_l("Bemerkung"), validators=[Optional(), Length(max=NOTE_MAX), no_control_characters])

    def __init__(self, *args, signed_on=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent_signed_on = signed_on

    def validate_withdrawn_on(self, field):
        if not field.data:
            return
        # A withdrawal takes effect at once: a future date would keep access open until then.
        if field.data > berlin_today():
            raise ValidationError(_l("Ein Widerruf gilt sofort; das Datum darf nicht in der Zukunft liegen."))
        if self.consent_signed_on and field.data < self.consent_signed_on:
            raise ValidationError(_l("Der Widerruf kann nicht vor der Unterschrift liegen."))


STATUS_FILTER = [("offen", _l("offen")), ("abgeschlossen", _l("abgeschlossen")), ("alle", _l("alle"))]


class FilterForm(FlaskForm):
    """The case list's filters, sent by GET."""

    class Meta:
        csrf = False  # a GET search form changes nothing

    status = ChoiceField(_l("Status"), choices=STATUS_FILTER, default="offen", validators=[Optional()])
    stadtteil = ChoiceField(_l("Stadtteil"), coerce=id_or_none, validators=[Optional()])
    hemmnis = ChoiceField(
        _l("Vermittlungshemmnis"), choices=[("", _l("alle"))] + list(OBSTACLES.items()), validators=[Optional()]
    )
    fachkraft = ChoiceField(_l("Fachkraft"), coerce=id_or_none, validators=[Optional()])
    suche = StringField(_l("Pseudonym"), validators=[Optional(), Length(max=20)])
    sortierung = ChoiceField(
        _l("Sortierung"), choices=list(SORT_LABELS.items()), default="neueste", validators=[Optional()]
    )
