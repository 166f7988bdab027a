"""Forms of the minutes pages. Every free-text field passes the anonymisation guard."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.accounts.forms import REQUIRED
from app.admin.forms import optional_id
from app.conferences.minutes import MAX_COMMENT_DAYS
from app.forms import GuardedForm, VersionedForm, no_control_characters

MAX_TEXT = 20000
DATE_INVALID = _l("Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ).")


class _Date(DateField):
    """A date typed as TT.MM.JJJJ or sent by a date picker (JJJJ-MM-TT), with a German message."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%d", "%d.%m.%Y"], **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(DATE_INVALID)) from exc


class _Select(SelectField):
    """An optional choice of an id; anything not offered is refused with a German message."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, coerce=_id, validators=[Optional()], validate_choice=False, **kwargs)

    def pre_validate(self, form):
        if self.data is not None and self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("Bitte wählen Sie einen der angebotenen Einträge."))


def _id(value):
    try:
        return optional_id(value)
    except (TypeError, ValueError):
        return -1  # not a number: refused by pre_validate, the input is shown again


class MinutesForm(GuardedForm, VersionedForm):
    guarded_fields = ("summary", "decisions", "next_date_note")
    summary = TextAreaField(_l("Zusammenfassung"),
                            validators=[Optional(), Length(max=MAX_TEXT), no_control_characters])
    decisions = TextAreaField(_l("Beschlüsse"),
                              validators=[Optional(), Length(max=MAX_TEXT), no_control_characters])
    next_date_note = StringField(_l("Hinweis zum nächsten Termin"),
                                 validators=[Optional(), Length(max=300), no_control_characters])


class CorrectionForm(MinutesForm):
    guarded_fields = ("summary", "decisions", "next_date_note", "reason")
    reason = TextAreaField(_l("Grund der Korrektur"),
                           validators=[DataRequired(REQUIRED), Length(max=2000), no_control_characters])


class FinaliseForm(VersionedForm):
    pass


class _Whole(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Bitte geben Sie eine ganze Zahl ein."))) from exc


class ShareForm(FlaskForm):
    days = _Whole(_l("Frist für Anmerkungen in Tagen"), default=7,
                  validators=[InputRequired(REQUIRED),
                              NumberRange(1, MAX_COMMENT_DAYS,
                                          _l("Bitte wählen Sie eine Frist zwischen 1 und %(max)s Tagen."))])


class CommentForm(GuardedForm):
    guarded_fields = ("body",)
    body = TextAreaField(_l("Ihre Anmerkung"),
                         validators=[DataRequired(REQUIRED), Length(max=5000), no_control_characters])


class ExportForm(FlaskForm):
    date_from = _Date(_l("Von"), validators=[InputRequired(REQUIRED)])
    date_to = _Date(_l("Bis"), validators=[InputRequired(REQUIRED)])
    district_id = _Select(_l("Stadtteil"))
    agency_id = _Select(_l("Partnereinrichtung"))
