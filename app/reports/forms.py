"""Forms of the reports."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import Optional

from app.forms import ChoiceField

QUARTERS = [("", _l("ganzes Jahr"))] + [(str(q), _l("%(q)s. Quartal", q=q)) for q in range(1, 5)]


class PeriodForm(FlaskForm):
    """The report's period, sent by GET: a year and a quarter (or the whole year)."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    jahr = ChoiceField(_l("Jahr"), coerce=int)
    quartal = ChoiceField(_l("Quartal"), choices=QUARTERS, validators=[Optional()])

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.jahr.choices = [(y, str(y)) for y in years]
