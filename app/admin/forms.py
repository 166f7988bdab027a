from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField, URLField
from wtforms.validators import URL, DataRequired, Email, Length, Optional, ValidationError

from app.accounts.forms import REQUIRED
from app.forms import TextForm, no_control_characters

ROLE_CHOICES = [
    ("caseworker", _l("Fallmanagement")),
    ("team_lead", _l("Teamleitung")),
    ("partner", _l("Partnereinrichtung")),
    ("admin", _l("Administration")),
]
AGENCY_TYPE_CHOICES = [
    ("education", _l("Bildungsträger")),
    ("health", _l("Gesundheitsförderung")),
    ("counselling", _l("Beratungsstelle")),
    ("youth", _l("Jugendhilfe")),
    ("neighbourhood_office", _l("Stadtteilbüro")),
    ("other", _l("Sonstige")),
]
LOCATION_KIND_CHOICES = [
    ("jobcenter_room", _l("Raum im Jobcenter")),
    ("neighbourhood_office", _l("Stadtteilbüro")),
    ("partner_premises", _l("Räume einer Partnereinrichtung")),
    ("online", _l("Online (Videokonferenz)")),
]
EMAIL_INVALID = _l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")
HTTPS_ONLY = _l("Bitte geben Sie eine vollständige Adresse ein, die mit https:// beginnt.")


def optional_id(value):
    """Select values: '' means none; anything else must be an integer id."""
    if value in (None, "", "None"):
        return None
    return int(value)


class UserForm(TextForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120), no_control_characters])
    email = EmailField(_l("E-Mail-Adresse"), validators=[DataRequired(REQUIRED), Length(max=254), no_control_characters, Email(EMAIL_INVALID)])
    role = SelectField(_l("Rolle"), choices=ROLE_CHOICES)
    team_id = SelectField(_l("Team"), coerce=optional_id, validators=[Optional()])
    agency_id = SelectField(_l("Partnereinrichtung"), coerce=optional_id, validators=[Optional()])


class TeamForm(TextForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120), no_control_characters])
    active = BooleanField(_l("Aktiv"), default=True)


class DistrictForm(TextForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=80), no_control_characters])
    active = BooleanField(_l("Aktiv"), default=True)


class AgencyForm(TextForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=160), no_control_characters])
    type = SelectField(_l("Art der Einrichtung"), choices=AGENCY_TYPE_CHOICES)
    district_id = SelectField(_l("Stadtteil"), coerce=optional_id, validators=[Optional()])
    contact_email = EmailField(_l("Kontakt-E-Mail-Adresse"), validators=[DataRequired(REQUIRED), Length(max=254), no_control_characters, Email(EMAIL_INVALID)])
    active = BooleanField(_l("Aktiv"), default=True)


class LocationForm(TextForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=160), no_control_characters])
    kind = SelectField(_l("Art des Orts"), choices=LOCATION_KIND_CHOICES)
    district_id = SelectField(_l("Stadtteil"), coerce=optional_id, validators=[Optional()])
    agency_id = SelectField(_l("Partnereinrichtung"), coerce=optional_id, validators=[Optional()])
    address = StringField(_l("Raum oder Anschrift des Orts"), validators=[Optional(), Length(max=300), no_control_characters])
    video_url = URLField(_l("Link zur Videokonferenz"), validators=[
        Optional(), Length(max=500), no_control_characters, URL(message=HTTPS_ONLY)])
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
