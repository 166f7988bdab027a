"""Form pieces shared by every domain: the anonymisation guard, stale-edit detection, plain text."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField
from wtforms.validators import Optional, ValidationError

from app import pii


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
