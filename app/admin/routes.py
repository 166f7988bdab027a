"""Administration pages. Admins manage people and the directory, never case content."""

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from app import db, links
from app.accounts import services as accounts
from app.accounts.models import ROLE_LABELS, Team, User
from app.admin import services
from app.admin.forms import AgencyForm, ConsultationTopicForm, DistrictForm, LocationForm, TeamForm, UserForm
from app.agencies.models import (
    AGENCY_TYPE_LABELS,
    LOCATION_KIND_LABELS,
    Agency,
    District,
    Location,
)
from app.consultations.models import ConsultationTopic
from app.permissions import authorize, can

bp = Blueprint("admin", __name__, url_prefix="/verwaltung")


@bp.before_request
def admins_only():
    # Refuse before any object is loaded, so others cannot tell which ids exist (404 vs
    # 403). Admins pass without being marked authorised: each view still authorises.
    if not can(current_user, "admin.manage"):
        authorize("admin.manage")  # records the refusal and aborts


@dataclass(frozen=True)
class Entry:
    model: type
    form: type
    singular: str
    plural: str
    columns: tuple  # (attribute, heading)


DIRECTORY = {
    "teams": Entry(Team, TeamForm, _l("Team"), _l("Teams"), (("name", _l("Name")), ("active", _l("Aktiv")))),
    "einrichtungen": Entry(
        Agency,
        AgencyForm,
        _l("Partnereinrichtung"),
        _l("Partnereinrichtungen"),
        (
            ("name", _l("Name")),
            ("type", _l("Art")),
            ("district_id", _l("Stadtteil")),
            ("contact_email", _l("Kontakt")),
            ("active", _l("Aktiv")),
        ),
    ),
    "orte": Entry(
        Location,
        LocationForm,
        _l("Ort"),
        _l("Orte"),
        (("name", _l("Name")), ("kind", _l("Art")), ("district_id", _l("Stadtteil")), ("active", _l("Aktiv"))),
    ),
    "stadtteile": Entry(
        District, DistrictForm, _l("Stadtteil"), _l("Stadtteile"), (("name", _l("Name")), ("active", _l("Aktiv")))
    ),
    # The topics of the public consultation hours (BuT, Bürgergeld, ...).
    "sprechstunden-themen": Entry(
        ConsultationTopic,
        ConsultationTopicForm,
        _l("Thema der Sprechstunden"),
        _l("Themen der Sprechstunden"),
        (("name", _l("Name")), ("name_en", _l("Englisch")), ("active", _l("Aktiv"))),
    ),
}
LABELS = {"type": AGENCY_TYPE_LABELS, "kind": LOCATION_KIND_LABELS, "role": ROLE_LABELS}


def _choices(model, blank):
    rows = db.session.execute(select(model.id, model.name).order_by(model.name)).all()
    return [("", blank)] + [(str(i), n) for i, n in rows]


def _fill_choices(form):
    if hasattr(form, "team_id"):
        form.team_id.choices = _choices(Team, _("– kein Team –"))
    if hasattr(form, "agency_id"):
        form.agency_id.choices = _choices(Agency, _("– keine Einrichtung –"))
    if hasattr(form, "district_id"):
        form.district_id.choices = _choices(District, _("– kein Stadtteil –"))


@bp.route("/")
def index():
    authorize("admin.manage")
    counts = {
        "users": db.session.execute(select(func.count()).select_from(User)).scalar(),
        **{
            kind: db.session.execute(select(func.count()).select_from(e.model)).scalar()
            for kind, e in DIRECTORY.items()
        },
    }
    return render_template("admin/index.html", counts=counts, directory=DIRECTORY)


# --- accounts ---------------------------------------------------------------------------


@bp.route("/benutzer")
def users():
    authorize("admin.manage")
    page = db.requested_page()
    size = current_app.config["PAGE_SIZE"]
    rows = db.session.execute(
        select(User, Team.name, Agency.name)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .order_by(User.name)
        .offset((page - 1) * size)
        .limit(size + 1)
    ).all()
    return render_template(
        "admin/users.html", rows=rows[:size], page=page, has_next=len(rows) > size, role_labels=LABELS["role"]
    )


def _saved_message(saved, created: bool):
    if saved.change is None:
        return (
            _("Das Konto wurde angelegt und eine Einladung per E-Mail verschickt.")
            if created
            else _("Das Konto wurde gespeichert.")
        )
    text = (
        _(
            "Das Konto wurde angelegt. Es wird wirksam, sobald eine Teamleitung des Teams es bestätigt; "
            "dann erhält die Person ihre Einladung per E-Mail."
        )
        if created
        else _(
            "Gespeichert. Die Änderung von Rolle, Team oder E-Mail-Adresse wird erst wirksam, wenn eine "
            "Teamleitung des Teams sie bestätigt; bis dahin gelten die bisherigen Angaben."
        )
    )
    if saved.asked == 0:
        text += " " + _(
            "Das Team hat noch keine Teamleitung, die bestätigen kann: Bitten Sie den Betrieb, die "
            "Änderung auf dem Server zu bestätigen (flask confirm-account-change %(id)s).",
            id=saved.change.id,
        )
    return text


@bp.route("/benutzer/neu", methods=["GET", "POST"])
@bp.route("/benutzer/<int:user_id>", methods=["GET", "POST"])
def user_form(user_id=None):
    user = db.get_or_404(User, user_id) if user_id else None
    authorize("admin.manage", user)
    pending = accounts.pending_change(db.session, user) if user else None
    # While a change waits for its confirmation, the form shows it: saving it again keeps it.
    form = (
        UserForm(
            name=user.name, email=pending.email, role=pending.role, team_id=pending.team_id, agency_id=pending.agency_id
        )
        if pending
        else UserForm(obj=user)
    )
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            saved = services.save_user(
                db.session,
                current_user,
                form.data,
                user,
                invite_lifetime=current_app.config["ACCOUNT_TOKEN_LIFETIME"],
                base_url=links.base_url(),
            )
        except services.AdminError as err:
            db.session.rollback()
            form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(_saved_message(saved, created=user_id is None), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    team_names = dict(db.session.execute(select(Team.id, Team.name)).all())
    return render_template(
        "admin/user_form.html", form=form, user=user, pending=pending, team_names=team_names, role_labels=LABELS["role"]
    ), status


@bp.route("/benutzer/<int:user_id>/<any(deaktivieren, aktivieren):change>", methods=["POST"])
def user_active(user_id, change):
    user = db.get_or_404(User, user_id)
    authorize("admin.manage", user)
    try:
        services.set_active(db.session, current_user, user, change == "aktivieren")
    except services.AdminError as err:
        flash(str(err.message), "error")
        return redirect(url_for("admin.user_form", user_id=user.id)), 303
    db.session.commit()
    flash(
        _("Das Konto ist wieder aktiv.")
        if change == "aktivieren"
        else _("Das Konto wurde deaktiviert; alle Sitzungen sind beendet."),
        "success",
    )
    return redirect(url_for("admin.user_form", user_id=user.id))


@bp.route("/benutzer/<int:user_id>/einladung", methods=["POST"])
def user_invite(user_id):
    user = db.get_or_404(User, user_id)
    authorize("admin.manage", user)
    try:
        services.resend_invitation(
            db.session,
            current_user,
            user,
            lifetime=current_app.config["ACCOUNT_TOKEN_LIFETIME"],
            base_url=links.base_url(),
        )
    except services.AdminError as err:
        db.session.rollback()
        flash(str(err.message), "error")
        return redirect(url_for("admin.user_form", user_id=user.id)), 303
    db.session.commit()
    flash(_("Eine neue Einladung wurde per E-Mail verschickt."), "success")
    return redirect(url_for("admin.user_form", user_id=user.id))


@bp.route("/benutzer/<int:user_id>/zwei-faktor-zuruecksetzen", methods=["POST"])
def user_reset_2fa(user_id):
    user = db.get_or_404(User, user_id)
    authorize("admin.manage", user)
    accounts.reset_two_factor(db.session, user, actor=current_user)
    db.session.commit()
    flash(
        _("Die Zwei-Faktor-Anmeldung wurde zurückgesetzt. Bei der nächsten Anmeldung wird sie neu eingerichtet."),
        "success",
    )
    return redirect(url_for("admin.user_form", user_id=user.id))


# --- directory ----------------------------------------------------------------------------


def _entry(kind) -> Entry:
    entry = DIRECTORY.get(kind)
    if entry is None:
        abort(404)
    return entry


@bp.route("/<kind>")
def directory(kind):
    entry = _entry(kind)
    authorize("admin.manage")
    items = db.session.execute(select(entry.model).order_by(entry.model.name)).scalars().all()
    districts = dict(db.session.execute(select(District.id, District.name)).all())
    return render_template(
        "admin/directory.html", kind=kind, entry=entry, items=items, districts=districts, labels=LABELS
    )


@bp.route("/<kind>/neu", methods=["GET", "POST"])
@bp.route("/<kind>/<int:obj_id>", methods=["GET", "POST"])
def directory_form(kind, obj_id=None):
    entry = _entry(kind)
    obj = db.get_or_404(entry.model, obj_id) if obj_id else None
    authorize("admin.manage", obj)
    form = entry.form(obj=obj)
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            services.save_entry(db.session, current_user, entry.model, form.entry_data(), obj)
        except services.AdminError as err:
            form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Gespeichert."), "success")
            return redirect(url_for("admin.directory", kind=kind))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/directory_form.html", kind=kind, entry=entry, form=form, obj=obj), status
