"""Forms of the minutes pages. Every free-text field passes the anonymisation guard."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms import (
    REQUIRED,
    ChoiceField,
    GermanDateField,
    GuardedForm,
    RowForm,
    VersionedForm,
    WholeNumberField,
    category_field,
    id_or_none,
    no_control_characters,
)
from app.minutes.services import MAX_COMMENT_DAYS

MAX_TEXT = 20000


def _optional_choice(label):
    """An optional choice of an id; anything not offered is refused with a German message."""
    return ChoiceField(label, coerce=id_or_none, validators=[Optional()])


MAX_DECISIONS = 30
MAX_DECISION = 2000
DECISION_ROWS_ADDED = 3  # rows a "more rows" button adds (without JavaScript: a round trip)


class DecisionForm(RowForm):
    """One decision and the data categories it reveals (who may read it)."""

    text = TextAreaField(_l("Beschluss"), validators=[Optional(), Length(max=MAX_DECISION), no_control_characters])
    categories = category_field()


class MinutesForm(GuardedForm, VersionedForm):
    guarded_fields: tuple[str, ...] = ("summary", "next_date_note")
    summary = TextAreaField(_l("Zusammenfassung"), validators=[Optional(), Length(max=MAX_TEXT), no_control_characters])
    summary_categories = category_field(_l("Datenkategorien der Zusammenfassung"))
    decisions = FieldList(FormField(DecisionForm), label=_l("Beschlüsse"), max_entries=MAX_DECISIONS + 10)
    next_date_note = StringField(
        _l("Hinweis zum nächsten Termin"), validators=[Optional(), Length(max=300), no_control_characters]
    )

    def guarded(self):
        return super().guarded() + [row.form.text for row in self.decisions]

    def tagged(self):
        return [([self.summary], self.summary_categories)] + [
            ([row.form.text], row.form.categories) for row in self.decisions
        ]

    def validate_decisions(self, field):
        if len(decision_rows(self)) > MAX_DECISIONS:
            raise ValidationError(_l("Höchstens %(n)s Beschlüsse.", n=MAX_DECISIONS))


def decision_rows(form) -> list[dict]:
    """The filled decision rows, in order: {"text", "categories"}; empty rows are dropped."""
    return [
        {"text": (row.form.text.data or "").strip(), "categories": sorted(set(row.form.categories.data or ()))}
        for row in form.decisions
        if (row.form.text.data or "").strip()
    ]


def fill_decisions(form, decisions, blank: int = 2) -> None:
    """Put ``decisions`` into the form, plus ``blank`` empty rows."""
    while len(form.decisions.entries):
        form.decisions.pop_entry()
    for decision in decisions:
        form.decisions.append_entry(
            {"text": decision.get("text", ""), "categories": list(decision.get("categories", ()))}
        )
    for _ in range(blank):
        form.decisions.append_entry()


def minutes_data(form) -> dict:
    """What a minutes form asks the services to save."""
    return {
        "summary": form.summary.data,
        "summary_categories": form.summary_categories.data or [],
        "decisions": decision_rows(form),
        "next_date_note": form.next_date_note.data,
        "version": form.version.data,
    }


class CorrectionForm(MinutesForm):
    guarded_fields = ("summary", "next_date_note", "reason")
    reason = TextAreaField(
        _l("Grund der Korrektur"), validators=[DataRequired(REQUIRED), Length(max=2000), no_control_characters]
    )


class FinaliseForm(VersionedForm):
    pass


class ShareForm(FlaskForm):
    days = WholeNumberField(
        _l("Frist für Anmerkungen in Tagen"),
        default=7,
        validators=[
            InputRequired(REQUIRED),
            NumberRange(1, MAX_COMMENT_DAYS, _l("Bitte wählen Sie eine Frist zwischen 1 und %(max)s Tagen.")),
        ],
    )


class CommentForm(GuardedForm):
    guarded_fields = ("body",)
    body = TextAreaField(
        _l("Ihre Anmerkung"), validators=[DataRequired(REQUIRED), Length(max=5000), no_control_characters]
    )


class ExportForm(FlaskForm):
    # Minutes of the last ten years; a period reaching a year ahead is allowed (and empty).
    date_from = GermanDateField(_l("Von"), validators=[InputRequired(REQUIRED)], years_back=10, years_ahead=1)
    date_to = GermanDateField(_l("Bis"), validators=[InputRequired(REQUIRED)], years_back=10, years_ahead=1)
    district_id = _optional_choice(_l("Stadtteil"))
    agency_id = _optional_choice(_l("Partnereinrichtung"))
