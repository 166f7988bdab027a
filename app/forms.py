"""Form pieces shared by every domain: the anonymisation guard, stale-edit detection, plain
text, and the fields every domain uses (German dates and times, choices, ids)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TimeField,
)
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import pii, topics
from app.cases.models import DATA_CATEGORIES

REQUIRED = _l("Bitte füllen Sie dieses Feld aus.")
CHOICE_INVALID = _l("Bitte wählen Sie einen der angebotenen Einträge.")
DATE_INVALID = _l("Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ).")
TIME_INVALID = _l("Bitte geben Sie eine gültige Uhrzeit ein (SS:MM).")
WHOLE_NUMBER_INVALID = _l("Bitte geben Sie eine ganze Zahl ein.")


class GuardedForm(FlaskForm):
    """A form whose free-text fields pass the anonymisation guard and, where the text belongs
    to an item with data categories, the topic hint (DESIGN.md section 4).

    List the guarded fields in ``guarded_fields``; ``tagged`` pairs texts with the data
    categories of their item. A finding is a field error naming what was found; ticking
    ``confirm_not_personal`` (or ``confirm_categories``) saves anyway, and the route hands
    ``overridden_kinds`` to the service, which writes them (never the text) to the audit
    trail: the guard's kinds as they are, the topic hint's as "topic:<category>".
    """

    guarded_fields: tuple[str, ...] = ()

    def guarded(self) -> list:
        """The fields the guard reads: ``guarded_fields`` by name; a form with rows adds theirs."""
        return [self[name] for name in self.guarded_fields]

    def tagged(self) -> list[tuple[list, object]]:
        """(text fields, categories field) of each item the form edits; none by default. The
        categories may also be the item's fixed list: the hint is then shown at the last text."""
        return []

    confirm_not_personal = BooleanField(_l("Kein Bezug zur Person – trotzdem speichern"))
    confirm_categories = BooleanField(_l("Die Datenkategorien stimmen – trotzdem speichern"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.overridden_kinds: list[str] = []
        self.guard_findings = False
        for field in self.guarded():
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
        ok = self._check_topics() and ok
        self.overridden_kinds = sorted(set(self.overridden_kinds))
        if self.guard_findings or self.topic_findings:
            _refresh_row_errors(self)
        return ok

    def _check_topics(self) -> bool:
        """Text that speaks of a category its item is not tagged with would reach agencies whose
        consent does not cover it. An item without categories is for the Jobcenter only: no hint."""
        ok, self.topic_findings = True, False
        for texts, categories in self.tagged():
            chosen = categories.data or [] if hasattr(categories, "data") else list(categories)
            if not chosen:
                continue
            # A text is a field, or fixed text of the item (the title of an agenda item being recorded).
            text = "\n".join((getattr(field, "data", field) or "") for field in texts)
            missing = topics.missing_categories(text, chosen)
            if not missing:
                continue
            self.topic_findings = True
            if self.confirm_categories.data:
                self.overridden_kinds.extend(f"topic:{code}" for code in missing)
            else:
                target = categories if hasattr(categories, "data") else texts[-1]
                target.errors = list(target.errors) + topics.describe(text, missing)
                ok = False
        return ok


def _refresh_row_errors(form) -> None:
    """A list of rows gathers its rows' errors when it validates; the guard runs after that,
    so the lists gather again (the summary at the top of the page reads them)."""
    for field in form:
        if isinstance(field, FieldList):
            rows = [entry.errors for entry in field.entries]
            field.errors = (rows if any(rows) else []) + [e for e in field.errors if not isinstance(e, dict)]


class RowForm(FlaskForm):
    """One row of a list of rows (agenda items, decisions): the page's form carries the CSRF
    token; the row has the same German messages."""

    class Meta:
        csrf = False


class VersionedForm(FlaskForm):
    """Carries the version the user started editing; the service refuses a stale save (409)."""

    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class StaleEdit(Exception):
    """Someone saved the object after this form was loaded."""


def check_version(obj, submitted) -> None:
    """Refuse a save from a form loaded before the last save, or one that does not say which
    version it edits (it cannot prove it is not stale)."""
    if submitted is None or submitted != obj.version:
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

    def pre_validate(self, form):
        offered = _offered(self)
        unknown = [value for value in self.data or () if value not in offered]
        if unknown:
            raise ValidationError(_l("Bitte wählen Sie einen der angebotenen Einträge. „%(value)s“ gehört nicht dazu.",
                                     value=unknown[0]))


class GermanDateField(DateField):
    """ISO from a date picker, or typed the German way (TT.MM.JJJJ)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%d", "%d.%m.%Y"], **kwargs)

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


def category_field(label=None):
    """The one picker of data categories, for notes and every other item that can reach a
    partner (DESIGN.md section 4): none chosen means for the Jobcenter only."""
    return MultiCheckboxField(label or _l("Datenkategorien"), choices=list(DATA_CATEGORIES.items()))
