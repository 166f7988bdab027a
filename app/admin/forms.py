from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, StringField, URLField
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    Length,
    Optional,
    ValidationError,
)

from app.accounts.models import ROLE_LABELS
from app.agencies.models import AGENCY_TYPE_LABELS, LOCATION_KIND_LABELS
from app.forms import REQUIRED, ChoiceField, TextForm, category_field, id_or_none, no_control_characters

ROLE_CHOICES = list(ROLE_LABELS.items())
AGENCY_TYPE_CHOICES = list(AGENCY_TYPE_LABELS.items())
LOCATION_KIND_CHOICES = list(LOCATION_KIND_LABELS.items())
EMAIL_INVALID = _l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")
HTTPS_ONLY = _l("Bitte geben Sie eine vollständige Adresse ein, die mit https:// beginnt.")


class DirectoryForm(TextForm):
    """A directory entry's form; ``entry_data`` is what the service saves."""

    def entry_data(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class UserForm(TextForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120), no_control_characters])
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[DataRequired(REQUIRED), Length(max=254), no_control_characters, Email(EMAIL_INVALID)],
    )
    role = ChoiceField(_l("Rolle"), choices=ROLE_CHOICES)
    team_id = ChoiceField(_l("Team"), coerce=id_or_none, validators=[Optional()])
    agency_id = ChoiceField(_l("Partnereinrichtung"), coerce=id_or_none, validators=[Optional()])


class TeamForm(DirectoryForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120), no_control_characters])
    active = BooleanField(_l("Aktiv"), default=True)


class DistrictForm(DirectoryForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=80), no_control_characters])
    active = BooleanField(_l("Aktiv"), default=True)


class AgencyForm(DirectoryForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=160), no_control_characters])
    type = ChoiceField(_l("Art der Einrichtung"), choices=AGENCY_TYPE_CHOICES)
    district_id = ChoiceField(_l("Stadtteil"), coerce=id_or_none, validators=[Optional()])
    contact_email = EmailField(
        _l("Kontakt-E-Mail-Adresse"),
        validators=[DataRequired(REQUIRED), Length(max=254), no_control_characters, Email(EMAIL_INVALID)],
    )
    reveals_default = BooleanField(
        _l("Was die Teilnahme erkennen lässt: Voreinstellung der Art verwenden"), default=True
    )
    reveals = category_field(_l("Sonst: Die Teilnahme dieser Einrichtung lässt erkennen"))
    active = BooleanField(_l("Aktiv"), default=True)

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, obj=obj, **kwargs)
        if not self.is_submitted():
            self.reveals_default.data = obj is None or obj.reveals is None
            self.reveals.data = list(obj.reveals) if obj is not None and obj.reveals is not None else []

    def entry_data(self) -> dict:
        data = super().entry_data()
        # None: the type's default (DESIGN.md section 4); otherwise the agency's own list.
        data["reveals"] = None if data.pop("reveals_default") else sorted(set(data["reveals"] or ()))
        return data


class LocationForm(DirectoryForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=160), no_control_characters])
    kind = ChoiceField(_l("Art des Orts"), choices=LOCATION_KIND_CHOICES)
    district_id = ChoiceField(_l("Stadtteil"), coerce=id_or_none, validators=[Optional()])
    agency_id = ChoiceField(_l("Partnereinrichtung"), coerce=id_or_none, validators=[Optional()])
    address = StringField(
        _l("Raum oder Anschrift des Orts"), validators=[Optional(), Length(max=300), no_control_characters]
    )
    video_url = URLField(
        _l("Link zur Videokonferenz"),
        validators=[Optional(), Length(max=500), no_control_characters, URL(message=HTTPS_ONLY)],
    )
    active = BooleanField(_l("Aktiv"), default=True)

    def validate_video_url(self, field):
        if not field.data.startswith("https://"):
            raise ValidationError(HTTPS_ONLY)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Not a field validator: Optional() ends the field's chain when the link is empty.
        if self.kind.data == "online" and not self.video_url.data:
            self.video_url.errors.append(_l("Für einen Online-Ort ist ein Link zur Videokonferenz nötig."))
            return False
        return ok


class ConsultationTopicForm(DirectoryForm):
    """A topic of the public consultation hours, in German, English and Leichte Sprache."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120), no_control_characters])
    name_en = StringField(
        _l("Name auf Englisch"), validators=[DataRequired(REQUIRED), Length(max=120), no_control_characters]
    )
    name_easy = StringField(
        _l("In Leichter Sprache (optional)"), validators=[Optional(), Length(max=200), no_control_characters]
    )
    active = BooleanField(_l("Aktiv"), default=True)
