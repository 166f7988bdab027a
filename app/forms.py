"""Form pieces shared by every domain: plain-text input, the anonymisation guard and the topic
hint, stale-edit detection, and the fields every domain uses (German dates and times, choices, ids)."""

import unicodedata

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.validators import Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import pii, topics
from app.cases.models import DATA_CATEGORIES
from app.clock import add_years, berlin_today

REQUIRED = _l("Bitte füllen Sie dieses Feld aus.")
CHOICE_INVALID = _l("Bitte wählen Sie einen der angebotenen Einträge.")
DATE_INVALID = _l("Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ).")
TIME_INVALID = _l("Bitte geben Sie eine gültige Uhrzeit ein (SS:MM).")
WHOLE_NUMBER_INVALID = _l("Bitte geben Sie eine ganze Zahl ein.")

# --------------------------------------------------------------------------------------------
# Free-text input: the one place where it is normalised and checked (issue 10, finding 7).

# Invisible characters that only hide what a text says: zero-width space, (non-)joiner and word
# joiner, the byte-order mark, the soft hyphen, and the left-to-right/right-to-left marks (which
# a paste from a word processor brings along; unlike the overrides below they cannot reorder text).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u061c"))
# Embeddings, overrides and isolates reorder how a text is displayed ("Trojan source"): what a
# reader sees is not what is stored, so such input is refused rather than silently changed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def normalise_text(value: str) -> str:
    """NFKC (full-width digits and "＠" become plain ones) without invisible characters.

    Pure, so the guard's corpus evaluation can apply exactly what the forms apply.
    """
    return unicodedata.normalize("NFKC", value.translate(_INVISIBLE))


def _has_control_character(text: str) -> bool:
    # Control characters (a NUL byte above all) cannot be stored in PostgreSQL text and never
    # come from a keyboard; tab and line breaks do.
    return any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in text)


def no_control_characters(_form, field):
    """Refuse control characters and bidirectional controls, each with its own message.

    Every free-text field of a ``TextForm`` gets this validator by itself; listing it on a
    field as well does no harm (it is not added twice).
    """
    if not isinstance(field.data, str):
        return
    if _has_control_character(field.data):
        raise ValidationError(_l("Der Text enthält unzulässige Steuerzeichen."))
    if not _BIDI_CONTROLS.isdisjoint(field.data):
        raise ValidationError(
            _l("Der Text enthält Steuerzeichen, die die Schreibrichtung umkehren. Bitte entfernen Sie sie.")
        )


def _normalise_input(value):
    # Only text: a file part sent where a text field is expected stays as it is for the
    # field's own validators to refuse.
    return normalise_text(value) if isinstance(value, str) else value


def _is_free_text(field_class) -> bool:
    return issubclass(field_class, StringField) and not issubclass(field_class, (PasswordField, HiddenField))


class TextForm(FlaskForm):
    """A form whose text fields are normalised once, before validation and storage.

    Every ``StringField``/``TextAreaField`` (not passwords, not hidden fields) gets the
    ``normalise_text`` filter and the ``no_control_characters`` validator, so no form
    has to remember them.
    """

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if _is_free_text(unbound_field.field_class):
                options["filters"] = [_normalise_input, *unbound_field.kwargs.get("filters", ())]
                args = list(unbound_field.args)
                if len(args) > 1:  # validators given positionally
                    args[1] = _with_text_check(args[1])
                    unbound_field = type(unbound_field)(unbound_field.field_class, *args, **unbound_field.kwargs)
                else:
                    options["validators"] = _with_text_check(unbound_field.kwargs.get("validators"))
            return super().bind_field(form, unbound_field, options)


def _with_text_check(validators) -> list:
    validators = list(validators or ())
    if no_control_characters not in validators:
        validators.append(no_control_characters)
    return validators


# --------------------------------------------------------------------------------------------
# The anonymisation guard and the topic hint


def directory_names() -> pii.KnownPeople:
    """What the directory knows: the tool's own people and its places (see ``pii.KnownPeople``).

    Read from the database once per request and kept in ``g``; the guard itself never
    touches Flask or the database, it is handed this.
    """
    if "pii_known_people" not in g:
        from app.accounts.services import directory_people
        from app.db import get_session

        names, emails, terms = directory_people(get_session())
        g.pii_known_people = pii.KnownPeople(names, emails, terms)
    return g.pii_known_people


class GuardedForm(TextForm):
    """A form whose free-text fields pass the anonymisation guard and, where the text belongs
    to an item with data categories, the topic hint (DESIGN.md section 4).

    List the guarded fields in ``guarded_fields``; ``tagged`` pairs texts with the data
    categories of their item. A finding is a field error naming what was found; ticking
    ``confirm_not_personal`` (or ``confirm_categories``) saves anyway, and the route hands
    ``overridden_kinds`` to the service, which writes them (never the text) to the audit
    trail: the guard's kinds as they are, the topic hint's as "topic:<category>". The names of
    the tool's own users are not findings: they are the professionals.
    """

    guarded_fields: tuple[str, ...] = ()
    # Text for the public (consultation hours): the names of the tool's own people are findings too.
    public_text: bool = False

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
        known = None
        for field in self.guarded():
            # A field that failed its own checks (too long, control characters, missing) is
            # refused anyway; running the guard on it would only cost time (issue 10, finding 1).
            if field.errors or not isinstance(field.data, str) or not field.data:
                continue
            if known is None:
                known = directory_names().for_public() if self.public_text else directory_names()
            text = field.data
            findings = pii.find_personal_data(text, known=known)
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
            refresh_row_errors(self)
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


def refresh_row_errors(form) -> None:
    """A list of rows gathers its rows' errors when it validates; the guard runs after that,
    so the lists gather again (the summary at the top of the page reads them)."""
    for field in form:
        if isinstance(field, FieldList):
            rows = [entry.errors for entry in field.entries]
            field.errors = (rows if any(rows) else []) + [e for e in field.errors if not isinstance(e, dict)]


class RowForm(TextForm):
    """One row of a list of rows (agenda items, decisions): the page's form carries the CSRF
    token; the row has the same German messages and the same normalised text."""

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
            raise ValidationError(
                _l("Bitte wählen Sie einen der angebotenen Einträge. „%(value)s“ gehört nicht dazu.", value=unknown[0])
            )


class GermanDateField(DateField):
    """ISO from a date picker, or typed the German way (TT.MM.JJJJ), within a plausible range.

    Every date field has one: ``years_back`` and ``years_ahead`` of today (Berlin), ten each
    unless the field says otherwise. A date outside is refused with ``range_message`` (or one
    naming the range) before the field's own checks, so no service ever computes with the
    year 1 or 9999.
    """

    def __init__(
        self, label=None, validators=None, *, years_back: int = 10, years_ahead: int = 10, range_message=None, **kwargs
    ):
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
            raise StopValidation(
                str(self.range_message)
                if self.range_message
                else _(
                    "Bitte geben Sie ein Datum zwischen dem %(earliest)s und dem %(latest)s ein.",
                    earliest=earliest.strftime("%d.%m.%Y"),
                    latest=latest.strftime("%d.%m.%Y"),
                )
            )

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
