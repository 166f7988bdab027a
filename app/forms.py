"""Form pieces shared by every domain: plain-text input, the anonymisation guard, stale-edit detection."""
import unicodedata

from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, StringField
from wtforms.validators import Optional, ValidationError

from app import pii

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
        raise ValidationError(_l("Der Text enthält Steuerzeichen, die die Schreibrichtung umkehren. "
                                 "Bitte entfernen Sie sie."))


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
# The anonymisation guard


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
    """A form whose free-text fields pass the anonymisation guard (DESIGN.md section 4).

    List the guarded fields in ``guarded_fields``. A finding is a field error naming
    what was found; ticking ``confirm_not_personal`` saves anyway, and the route hands
    ``overridden_kinds`` to the service, which writes them (never the text) to the audit trail.
    The names of the tool's own users are not findings: they are the professionals.
    """

    guarded_fields: tuple[str, ...] = ()
    confirm_not_personal = BooleanField(_l("Kein Bezug zur Person – trotzdem speichern"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.overridden_kinds: list[str] = []
        self.guard_findings = False
        known = None
        for name in self.guarded_fields:
            field = self[name]
            # A field that failed its own checks (too long, control characters, missing) is
            # refused anyway; running the guard on it would only cost time (issue 10, finding 1).
            if field.errors or not isinstance(field.data, str) or not field.data:
                continue
            if known is None:
                known = directory_names()
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
