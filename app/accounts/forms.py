from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
    ValidationError,
)

from app.forms import REQUIRED


class LoginForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Passwort"), validators=[DataRequired(REQUIRED), Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField(
        _l("Sechsstelliger Code aus der Authenticator-App oder Wiederherstellungscode"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Sechsstelliger Code aus der Authenticator-App"), validators=[DataRequired(REQUIRED), Length(max=10)]
    )


def _strong_password(_form, field):
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(_l("Das Passwort muss mindestens %(n)s Zeichen lang sein.", n=minimum))


class NewPasswordMixin:
    new_password = PasswordField(
        _l("Neues Passwort"), validators=[DataRequired(REQUIRED), Length(max=200), _strong_password]
    )
    confirm = PasswordField(
        _l("Neues Passwort wiederholen"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("new_password", _l("Die beiden Passwörter stimmen nicht überein.")),
        ],
    )


class SetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Aktuelles Passwort"), validators=[DataRequired(REQUIRED), Length(max=200)])


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=254),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")),
        ],
    )


class LanguageForm(FlaskForm):
    lang = SelectField(_l("Sprache"), choices=[("de", "Deutsch"), ("en", "English")])
    next = StringField(validators=[Optional(), Length(max=500)])
