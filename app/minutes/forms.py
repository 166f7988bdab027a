"""Forms of the minutes pages. Every free-text field passes the anonymisation guard."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import (
    REQUIRED,
    ChoiceField,
    GermanDateField,
    GuardedForm,
    VersionedForm,
    WholeNumberField,
    id_or_none,
    no_control_characters,
)
from app.minutes.services import MAX_COMMENT_DAYS

MAX_TEXT = 20000


def _optional_choice(label):
    """An optional choice of an id; anything not offered is refused with a German message."""
    return ChoiceField(label, coerce=id_or_none, validators=[Optional()])


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


class ShareForm(FlaskForm):
    days = WholeNumberField(_l("Frist für Anmerkungen in Tagen"), default=7,
                  validators=[InputRequired(REQUIRED),
                              NumberRange(1, MAX_COMMENT_DAYS,
                                          _l("Bitte wählen Sie eine Frist zwischen 1 und %(max)s Tagen."))])


class CommentForm(GuardedForm):
    guarded_fields = ("body",)
    body = TextAreaField(_l("Ihre Anmerkung"),
                         validators=[DataRequired(REQUIRED), Length(max=5000), no_control_characters])


class ExportForm(FlaskForm):
    # Minutes of the last ten years; a period reaching a year ahead is allowed (and empty).
    date_from = GermanDateField(_l("Von"), validators=[InputRequired(REQUIRED)], years_back=10, years_ahead=1)
    date_to = GermanDateField(_l("Bis"), validators=[InputRequired(REQUIRED)], years_back=10, years_ahead=1)
    district_id = _optional_choice(_l("Stadtteil"))
    agency_id = _optional_choice(_l("Partnereinrichtung"))
