"""Staff pages of the consultation hours: the team's hours, publishing, exceptions, figures, and
which caseworkers may publish. Every route: load, authorise, validate, one service, commit,
redirect or render."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import db
from app.accounts.models import User
from app.agencies.models import AGENCY_TYPE_LABELS, Location
from app.clock import berlin_today
from app.consultations import services
from app.consultations.forms import ActionForm, ExceptionForm, HourForm, visit_form
from app.consultations.models import (
    CONSULTATION_STATUS,
    EXCEPTION_KIND,
    LANGUAGES,
    ConsultationException,
    ConsultationHour,
    ConsultationVisit,
)
from app.consultations.services import ConsultationError
from app.forms import StaleEdit
from app.permissions import ReachedHour, authorize, can, is_team_lead

bp = Blueprint("consultations", __name__, url_prefix="/team/sprechstunden")

STALE = _l(
    "Jemand anderes hat diesen Eintrag gespeichert, nachdem Sie das Formular geöffnet haben. Ihre "
    "Änderungen sind nicht gespeichert; Ihre Eingaben stehen noch im Formular."
)


@bp.context_processor
def _policy_in_templates():
    return {"may": lambda action, obj=None: can(current_user, action, obj)}


def _hour(hour_id) -> ConsultationHour:
    authorize("consultation.list")  # only staff learn whether an id exists
    hour = db.session.get(ConsultationHour, hour_id)
    if hour is None:
        abort(404)
    authorize("consultation.view", hour)  # another team's: 404, audited
    return hour


def _part(model, obj_id, hour):
    obj = db.session.get(model, obj_id)
    if obj is None:
        abort(404)
    authorize("consultation.part", ReachedHour(hour, obj))
    return obj


def labels() -> dict:
    return {
        "status_labels": CONSULTATION_STATUS,
        "exception_labels": EXCEPTION_KIND,
        "language_labels": LANGUAGES,
        "agency_types": AGENCY_TYPE_LABELS,
    }


@bp.route("")
def index():
    authorize("consultation.list")
    rows = services.team_hours(db.session, current_user.team_id)
    # Team leads decide which caseworkers of their team may publish.
    caseworkers = services.team_caseworkers(db.session, current_user.team_id) if is_team_lead(current_user) else []
    return render_template(
        "consultations/index.html",
        rows=rows,
        caseworkers=caseworkers,
        may_publish=can(current_user, "consultation.publish"),
        describe=services.describe,
        action_form=ActionForm(),
        **labels(),
    )


def _fill(form, hour=None):
    form.location_id.choices = [("", _("– bitte wählen –"))] + services.location_choices(
        db.session, hour.location_id if hour else None
    )
    form.topic_ids.choices = services.topic_choices(db.session, hour.topic_ids if hour else ())


def _load(form, hour):
    for name in services.HOUR_FIELDS:
        form[name].data = getattr(hour, name)
    form.recurrence.data, form.weekday.data, form.week_of_month.data = services.rrule_choice(hour.rrule)
    form.week_of_month.data = form.week_of_month.data or 1
    form.version.data = hour.version


def _save(form, hour=None):
    """Validate and save; returns (response or None, status)."""
    if not form.is_submitted():
        return None, 200
    if not form.validate():
        return None, 400
    try:
        saved = services.save_hour(
            db.session,
            current_user,
            form.hour_data(),
            hour,
            version=form.version.data,
            overridden_kinds=form.overridden_kinds,
        )
    except ConsultationError as err:
        db.session.rollback()
        form[err.field].errors.append(err.message)
        return None, 400
    except StaleEdit:
        db.session.rollback()
        form.form_errors.append(str(STALE))
        return None, 409
    db.session.commit()
    flash(_("Die Sprechstunde ist gespeichert."), "success")
    return redirect(url_for("consultations.view", hour_id=saved.id)), 302


@bp.route("/neu", methods=["GET", "POST"])
def new():
    authorize("consultation.publish")
    form = HourForm()
    _fill(form)
    done, status = _save(form)
    if done:
        return done
    return render_template("consultations/form.html", form=form, hour=None), status


@bp.route("/<int:hour_id>/bearbeiten", methods=["GET", "POST"])
def edit(hour_id):
    hour = _hour(hour_id)
    authorize("consultation.edit", hour)
    form = HourForm()
    _fill(form, hour)
    if not form.is_submitted():
        _load(form, hour)
    done, status = _save(form, hour)
    if done:
        return done
    return render_template("consultations/form.html", form=form, hour=hour), status


@bp.route("/<int:hour_id>")
def view(hour_id):
    hour = _hour(hour_id)
    today = berlin_today()
    from datetime import timedelta

    exceptions = services.exceptions_of(db.session, [hour.id])[hour.id]
    dates = services.occurrences(hour, today, today + timedelta(weeks=services.PUBLIC_WEEKS), exceptions)
    return render_template(
        "consultations/view.html",
        hour=hour,
        location=db.session.get(Location, hour.location_id),
        dates=dates,
        exceptions=exceptions,
        visits=services.visits_of(db.session, hour),
        topics=services.topics_by_id(db.session),
        describe=services.describe,
        action_form=ActionForm(),
        **labels(),
    )


@bp.route("/<int:hour_id>/ausnahmen/neu", methods=["GET", "POST"])
def exception_new(hour_id):
    hour = _hour(hour_id)
    authorize("consultation.edit", hour)
    form = ExceptionForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            services.add_exception(
                db.session,
                hour,
                current_user,
                {name: form[name].data for name in ("day", "kind", "moved_on", "moved_start", "moved_end", "note")},
                overridden_kinds=form.overridden_kinds,
            )
        except ConsultationError as err:
            db.session.rollback()
            form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Der Termin ist geändert; die öffentliche Seite und die Kalender zeigen es."), "success")
            return redirect(url_for("consultations.view", hour_id=hour.id))
    return render_template("consultations/exception_form.html", form=form, hour=hour), status


@bp.route("/<int:hour_id>/ausnahmen/<int:exception_id>/aufheben", methods=["POST"])
def exception_remove(hour_id, exception_id):
    hour = _hour(hour_id)
    authorize("consultation.edit", hour)
    exception = _part(ConsultationException, exception_id, hour)
    services.remove_exception(db.session, hour, exception, current_user)
    db.session.commit()
    flash(_("Der Termin findet wieder wie in der Reihe statt."), "success")
    return redirect(url_for("consultations.view", hour_id=hour.id))


def _visit_form(hour, visit=None):
    topics = [
        (t_id, name) for t_id, name in services.topic_choices(db.session, hour.topic_ids) if t_id in hour.topic_ids
    ]
    form = visit_form(topics)
    held = services.held_dates(db.session, hour)
    if visit is not None and visit.day not in held:
        held.append(visit.day)
    from app.filters import date_de

    form.day.choices = [("", _("– bitte wählen –"))] + [(d.isoformat(), date_de(d)) for d in sorted(held, reverse=True)]
    if visit is not None and not form.is_submitted():
        form.day.data, form.visitors.data = visit.day.isoformat(), visit.visitors
        form.conferences_suggested.data, form.note.data, form.version.data = (
            visit.conferences_suggested,
            visit.note,
            visit.version,
        )
        for t_id, _name in topics:
            form[f"topic_{t_id}"].data = visit.topics.get(str(t_id), 0)
        for kind in AGENCY_TYPE_LABELS:
            form[f"referral_{kind}"].data = visit.referrals.get(kind, 0)
    return form, topics


def _record(hour, form, visit=None):
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            services.record_visit(
                db.session,
                hour,
                current_user,
                {
                    "day": form.day.data,
                    "visitors": form.visitors.data,
                    "conferences_suggested": form.conferences_suggested.data or 0,
                    "topics": form.topic_counts(),
                    "referrals": form.referral_counts(),
                    "note": form.note.data,
                },
                visit,
                version=form.version.data,
                overridden_kinds=form.overridden_kinds,
            )
        except ConsultationError as err:
            db.session.rollback()
            form[err.field].errors.append(err.message)
        except StaleEdit:
            db.session.rollback()
            form.form_errors.append(str(STALE))
            status = 409
        else:
            db.session.commit()
            flash(_("Die Zahlen sind gespeichert."), "success")
            return redirect(url_for("consultations.view", hour_id=hour.id, _anchor="zahlen")), 302
    return None, status


@bp.route("/<int:hour_id>/zahlen/neu", methods=["GET", "POST"])
def visit_new(hour_id):
    hour = _hour(hour_id)
    authorize("consultation.record", hour)
    form, topics = _visit_form(hour)
    done, status = _record(hour, form)
    if done:
        return done
    return render_template(
        "consultations/visit_form.html", form=form, hour=hour, topics=topics, visit=None, **labels()
    ), status


@bp.route("/<int:hour_id>/zahlen/<int:visit_id>", methods=["GET", "POST"])
def visit_edit(hour_id, visit_id):
    hour = _hour(hour_id)
    authorize("consultation.record", hour)
    visit = _part(ConsultationVisit, visit_id, hour)
    form, topics = _visit_form(hour, visit)
    done, status = _record(hour, form, visit)
    if done:
        return done
    return render_template(
        "consultations/visit_form.html", form=form, hour=hour, topics=topics, visit=visit, **labels()
    ), status


@bp.route("/veroeffentlichen/<int:user_id>/<any(erlauben, entziehen):change>", methods=["POST"])
def publisher(user_id, change):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    authorize("consultation.publishers", user)
    services.set_publisher(db.session, current_user, user, change == "erlauben")
    db.session.commit()
    flash(
        _("%(name)s darf jetzt Sprechstunden veröffentlichen.", name=user.name)
        if change == "erlauben"
        else _("%(name)s darf keine Sprechstunden mehr veröffentlichen.", name=user.name),
        "success",
    )
    return redirect(url_for("consultations.index", _anchor="veroeffentlichen"))
