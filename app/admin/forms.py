from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
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
from app.forms import REQUIRED, ChoiceField, id_or_none, no_control_characters

ROLE_CHOICES = list(ROLE_LABELS.items())
AGENCY_TYPE_CHOICES = list(AGENCY_TYPE_LABELS.items())
LOCATION_KIND_CHOICES = list(LOCATION_KIND_LABELS.items())
EMAIL_INVALID = _l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")
HTTPS_ONLY = _l("Bitte geben Sie eine vollständige Adresse ein, die mit https:// beginnt.")


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120), no_control_characters])
    email = EmailField(_l("E-Mail-Adresse"), validators=[DataRequired(REQUIRED), Length(max=254), no_control_characters, Email(EMAIL_INVALID)])
    role = ChoiceField(_l("Rolle"), choices=ROLE_CHOICES)
    team_id = ChoiceField(_l("Team"), coerce=id_or_none, validators=[Optional()])
    agency_id = ChoiceField(_l("Partnereinrichtung"), coerce=id_or_none, validators=[Optional()])


class TeamForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120), no_control_characters])
    active = BooleanField(_l("Aktiv"), default=True)


class DistrictForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=80), no_control_characters])
    active = BooleanField(_l("Aktiv"), default=True)


class AgencyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=160), no_control_characters])
    type = ChoiceField(_l("Art der Einrichtung"), choices=AGENCY_TYPE_CHOICES)
    district_id = ChoiceField(_l("Stadtteil"), coerce=id_or_none, validators=[Optional()])
    contact_email = EmailField(_l("Kontakt-E-Mail-Adresse"), validators=[DataRequired(REQUIRED), Length(max=254), no_control_characters, Email(EMAIL_INVALID)])
    active = BooleanField(_l("Aktiv"), default=True)


class LocationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=160), no_control_characters])
    kind = ChoiceField(_l("Art des Orts"), choices=LOCATION_KIND_CHOICES)
    district_id = ChoiceField(_l("Stadtteil"), coerce=id_or_none, validators=[Optional()])
    agency_id = ChoiceField(_l("Partnereinrichtung"), coerce=id_or_none, validators=[Optional()])
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
