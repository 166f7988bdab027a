"""Staff pages for the team's anonymised cases and their consent register."""

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app import db, retention
from app.agencies.models import Agency, District
from app.cases import disclosure, services
from app.cases.forms import (
    CHOOSE,
    DATE_HINT,
    CaseForm,
    ChangeConsentForm,
    CloseForm,
    ConsentForm,
    FilterForm,
    ReassignForm,
    WithdrawConsentForm,
)
from app.cases.models import (
    AGE_BANDS,
    CLOSE_REASONS,
    DATA_CATEGORIES,
    HOUSEHOLD_TYPES,
    OBSTACLES,
    Case,
    CaseStatus,
    Consent,
)
from app.clock import berlin_today, de_datetime, utcnow
from app.conferences.models import CONFERENCE_STATUS, MEASURE_STATUS, NOTE_VISIBILITY
from app.forms import StaleEdit
from app.permissions import authorize, can, same_team

bp = Blueprint("cases", __name__)

STALE_MESSAGE = _l(
    "Der Fall wurde zwischenzeitlich von jemand anderem geändert. Ihre Eingaben sind unten "
    "erhalten; bitte prüfen und erneut speichern."
)
CONSENT_CHANGED_MESSAGE = _l(
    "Diese Einwilligung wurde inzwischen geändert oder widerrufen und kann hier nicht "
    "mehr bearbeitet werden. Bitte prüfen Sie den aktuellen Stand auf der Fallseite."
)
CLOSED_MESSAGE = _l(
    "Dieser Fall ist abgeschlossen und kann nicht bearbeitet werden. Öffnen Sie ihn wieder, um Änderungen vorzunehmen."
)
LABELS = dict(
    age_bands=AGE_BANDS,
    household_types=HOUSEHOLD_TYPES,
    obstacles=OBSTACLES,
    close_reasons=CLOSE_REASONS,
    categories=DATA_CATEGORIES,
    conference_status=CONFERENCE_STATUS,
    measure_status=MEASURE_STATUS,
    note_visibility=NOTE_VISIBILITY,
)


def _load_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    authorize("case.view", case)  # other teams' and unknown cases alike: 404
    return case


def _load_consent(case: Case, consent_id: int) -> Consent:
    consent = db.session.get(Consent, consent_id)
    if consent is not None and consent.case_id != case.id:
        consent = None  # a consent of another case, reached through this one: not found
    authorize("consent.view", consent)
    return consent


def _conflict(case: Case, message, status=409):
    return render_template("cases/conflict.html", case=case, message=message), status


def _district_choices(current_id=None):
    rows = db.session.execute(
        select(District.id, District.name)
        .where((District.active.is_(True)) | (District.id == current_id))
        .order_by(District.name)
    ).all()
    return [("", CHOOSE)] + [(str(i), n) for i, n in rows]


def _form_status(form) -> int:
    return 400 if form.is_submitted() else 200


# --- the list ---------------------------------------------------------------------------


@bp.route("/faelle", methods=["GET", "POST"])
def index():
    """The team's cases. Filters come as a query string (links, the team overview) or from
    the filter form, which posts: its search term may be an internal reference, which must
    not stand in a URL, where access logs and browser histories would keep it. Only a posted
    term is matched against references; a posted search changes nothing and is answered at
    once (no redirect, so the term is kept nowhere)."""
    authorize("case.list")
    posted = request.method == "POST"
    # A query string's page number is read by db.requested_page (clamped, never refused);
    # only a posted search's page is a field of the form.
    query = MultiDict([(k, v) for k, v in request.args.items(multi=True) if k != "seite"])
    form = FilterForm(request.form if posted else query)
    form.stadtteil.choices = [("", _("alle"))] + _district_choices()[1:]
    form.fachkraft.choices = [("", _("alle"))] + [
        (str(u.id), u.name) for u in services.team_staff(db.session, current_user.team_id)
    ]
    page = db.requested_page() if not posted else form.seite.data or 1
    size = current_app.config["PAGE_SIZE"]
    if (posted or query) and not form.validate():
        return render_template("cases/index.html", form=form, result=None, labels=LABELS, args={}, posted=posted), 400
    f = services.CaseFilter(
        status={"offen": CaseStatus.OPEN, "abgeschlossen": CaseStatus.CLOSED}.get(form.status.data or "offen", ""),
        district_id=form.stadtteil.data,
        obstacle=form.hemmnis.data or None,
        caseworker_id=form.fachkraft.data,
        search=form.suche.data or "",
        by_reference=posted,
        closed_since=services.closed_since(form.abgeschlossen.data),
        sort=form.sortierung.data or "neueste",
    )
    result = services.case_list(db.session, current_user.team_id, f, page, size)
    # Query-string pages link on with their filters; posted ones page with a form (below).
    args = {k: v for k, v in request.args.items() if k != "seite" and v} if not posted else {}
    return render_template(
        "cases/index.html",
        form=form,
        result=result,
        count_limit=services.COUNT_LIMIT,
        obstacle_names={k: str(v) for k, v in OBSTACLES.items()},
        labels=LABELS,
        args=args,
        posted=posted,
    )


# --- open, view, edit -------------------------------------------------------------------


@bp.route("/faelle/neu", methods=["GET", "POST"])
def create():
    authorize("case.create")
    form = CaseForm()
    form.district_id.choices = _district_choices()
    if form.validate_on_submit():
        try:
            case = services.open_case(db.session, current_user, form.data, form.overridden_kinds)
        except services.CaseError as err:
            form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Der Fall %(pseudonym)s wurde angelegt.", pseudonym=case.pseudonym), "success")
            return redirect(url_for("cases.view", case_id=case.id))
    return render_template("cases/form.html", form=form, case=None), _form_status(form)


@bp.route("/faelle/<int:case_id>")
def view(case_id):
    facts = services.case_facts(db.session, case_id)
    case = facts.case if facts else None
    authorize("case.view", case)  # other teams' and unknown cases alike: 404
    # Everything is read in the transaction that records the view: one commit, then render.
    consents, history = services.consent_overview(db.session, case)
    timeline = services.timeline(db.session, case)
    services.record_view(db.session, case, current_user)
    db.session.commit()
    policy = retention.Policy.from_config(current_app.config)
    return render_template(
        "cases/view.html",
        case=case,
        district=facts.district,
        caseworker=facts.caseworker,
        obstacles=facts.obstacles,
        consents=consents,
        history=history,
        timeline=timeline,
        labels=LABELS,
        may_edit=can(current_user, "case.edit", case),
        may_reopen=can(current_user, "case.reopen", case),
        may_manage_consents=can(current_user, "consent.manage", case),
        may_schedule=can(current_user, "conference.create", case),
        may_report=can(current_user, "case.access_report", case),
        retention_policy=policy,
        deletion_day=retention.deletion_day(case, policy),
        minutes_deletion_day=retention.minutes_deletion_day(case, policy),
        # case.view already limits this page to the owning team; asked again so the rule is visible here.
        show_internal_reference=same_team(current_user, case),
    )


@bp.route("/faelle/<int:case_id>/bearbeiten", methods=["GET", "POST"])
def edit(case_id):
    case = _load_case(case_id)
    if case.status == CaseStatus.CLOSED:
        return _conflict(case, CLOSED_MESSAGE)
    authorize("case.edit", case)
    form = CaseForm(obj=case)
    form.district_id.choices = _district_choices(case.district_id)
    if not form.is_submitted():
        form.obstacles.data = services.obstacles_of(db.session, case)
        form.version.data = case.version
        services.record_view(db.session, case, current_user, page="edit")
        db.session.commit()
    elif form.validate():
        try:
            services.update_case(db.session, case, current_user, form.data, form.version.data, form.overridden_kinds)
        except StaleEdit:
            # Show the user's input against the current version: saving again is a choice.
            form.version.data, form.version.raw_data = case.version, None
            return render_template("cases/form.html", form=form, case=case, stale=STALE_MESSAGE), 409
        except services.CaseError as err:
            form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Die Änderungen wurden gespeichert."), "success")
            return redirect(url_for("cases.view", case_id=case.id))
    return render_template("cases/form.html", form=form, case=case), _form_status(form)


@bp.route("/faelle/<int:case_id>/zustaendigkeit", methods=["GET", "POST"])
def reassign(case_id):
    case = _load_case(case_id)
    if case.status == CaseStatus.CLOSED:
        return _conflict(case, CLOSED_MESSAGE)
    authorize("case.edit", case)
    form = ReassignForm(data={"caseworker_id": case.caseworker_id} if request.method == "GET" else None)
    form.caseworker_id.choices = [("", CHOOSE)] + [
        (str(u.id), u.name) for u in services.team_staff(db.session, case.team_id, include_id=case.caseworker_id)
    ]
    if form.validate_on_submit():
        try:
            services.reassign_case(db.session, case, current_user, form.caseworker_id.data)
        except services.CaseError as err:
            form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Die Zuständigkeit wurde geändert."), "success")
            return redirect(url_for("cases.view", case_id=case.id))
    return render_template(
        "cases/action_form.html",
        form=form,
        case=case,
        fields=["caseworker_id"],
        title=_("Zuständigkeit ändern"),
        submit_label=_("Zuständigkeit ändern"),
    ), _form_status(form)


@bp.route("/faelle/<int:case_id>/schliessen", methods=["GET", "POST"])
def close(case_id):
    case = _load_case(case_id)
    if case.status == CaseStatus.CLOSED:
        return _conflict(case, _l("Dieser Fall ist bereits abgeschlossen."))
    authorize("case.edit", case)
    form = CloseForm()
    if form.validate_on_submit():
        services.close_case(db.session, case, current_user, form.reason.data)
        db.session.commit()
        flash(_("Der Fall wurde abgeschlossen."), "success")
        return redirect(url_for("cases.view", case_id=case.id))
    return render_template(
        "cases/action_form.html",
        form=form,
        case=case,
        fields=["reason"],
        title=_("Fall abschließen"),
        submit_label=_("Fall abschließen"),
        intro=_("Ein abgeschlossener Fall kann nur noch gelesen werden, bis er wieder geöffnet wird."),
    ), _form_status(form)


@bp.route("/faelle/<int:case_id>/wiedereroeffnen", methods=["POST"])
def reopen(case_id):
    case = _load_case(case_id)
    if case.status == CaseStatus.OPEN:
        return _conflict(case, _l("Dieser Fall ist bereits offen."))
    authorize("case.reopen", case)  # the CSRF token is checked for every POST by CSRFProtect
    services.reopen_case(db.session, case, current_user)
    db.session.commit()
    flash(_("Der Fall ist wieder offen."), "success")
    return redirect(url_for("cases.view", case_id=case.id))


# --- the consent register -----------------------------------------------------------------


def _consent_form_page(form, case, consent=None, status=None):
    return render_template(
        "cases/consent_form.html", form=form, case=case, consent=consent, date_hint=DATE_HINT, labels=LABELS
    ), status or _form_status(form)


@bp.route("/faelle/<int:case_id>/einwilligungen/neu", methods=["GET", "POST"])
def consent_new(case_id):
    case = _load_case(case_id)
    if case.status == CaseStatus.CLOSED:
        return _conflict(case, CLOSED_MESSAGE)
    authorize("consent.manage", case)
    form = ConsentForm()
    form.agency_id.choices = [("", CHOOSE)] + [
        (str(i), n)
        for i, n in db.session.execute(
            select(Agency.id, Agency.name).where(Agency.active.is_(True)).order_by(Agency.name)
        ).all()
    ]
    if not form.is_submitted():
        today = berlin_today()
        form.signed_on.data = today
        form.valid_until.data = today + timedelta(days=current_app.config["CONSENT_DEFAULT_VALIDITY_DAYS"])
    elif form.validate():
        try:
            services.record_consent(db.session, case, current_user, form.data, form.overridden_kinds)
        except services.CaseError as err:
            form[err.field].errors.append(err.message)
        except services.ConsentChanged:
            form.form_errors.append(CONSENT_CHANGED_MESSAGE)
            return _consent_form_page(form, case, status=409)
        else:
            db.session.commit()
            flash(_("Die Einwilligung wurde erfasst."), "success")
            return redirect(url_for("cases.view", case_id=case.id, _anchor="einwilligungen"))
    return _consent_form_page(form, case)


def _changeable(consent: Consent) -> bool:
    return consent.superseded_at is None and consent.withdrawn_on is None


@bp.route("/faelle/<int:case_id>/einwilligungen/<int:consent_id>/aendern", methods=["GET", "POST"])
def consent_change(case_id, consent_id):
    case = _load_case(case_id)
    consent = _load_consent(case, consent_id)
    if case.status == CaseStatus.CLOSED:
        return _conflict(case, CLOSED_MESSAGE)
    authorize("consent.manage", case)
    if not _changeable(consent):
        return _conflict(case, CONSENT_CHANGED_MESSAGE)
    form = ChangeConsentForm(obj=consent)
    if form.validate_on_submit():
        try:
            services.change_consent(db.session, consent, current_user, form.data, form.overridden_kinds)
        except services.ConsentChanged:
            form.form_errors.append(CONSENT_CHANGED_MESSAGE)
            return _consent_form_page(form, case, consent, status=409)
        db.session.commit()
        flash(_("Die Änderung wurde als neue Fassung der Einwilligung gespeichert."), "success")
        return redirect(url_for("cases.view", case_id=case.id, _anchor="einwilligungen"))
    return _consent_form_page(form, case, consent)


@bp.route("/faelle/<int:case_id>/einwilligungen/<int:consent_id>/widerrufen", methods=["GET", "POST"])
def consent_withdraw(case_id, consent_id):
    case = _load_case(case_id)
    consent = _load_consent(case, consent_id)
    if case.status == CaseStatus.CLOSED:
        return _conflict(case, CLOSED_MESSAGE)
    authorize("consent.manage", case)
    if not _changeable(consent):
        return _conflict(case, CONSENT_CHANGED_MESSAGE)
    form = WithdrawConsentForm(signed_on=consent.signed_on)
    if not form.is_submitted():
        form.withdrawn_on.data = berlin_today()
    elif form.validate():
        try:
            cancelled = services.withdraw_consent(
                db.session, consent, current_user, form.withdrawn_on.data, form.note.data, form.overridden_kinds
            )
        except services.ConsentChanged:
            form.form_errors.append(CONSENT_CHANGED_MESSAGE)
            return _withdraw_page(form, case, consent, 409)
        db.session.commit()
        flash(
            _("Der Widerruf wurde erfasst. Die Einrichtung hat ab sofort keinen Zugriff mehr.")
            + (
                " "
                + ngettext(
                    "%(num)d offene Einladung wurde zurückgezogen und die Einrichtung per E-Mail informiert.",
                    "%(num)d offene Einladungen wurden zurückgezogen und die Einrichtung per E-Mail informiert.",
                    len(cancelled),
                )
                if cancelled
                else ""
            ),
            "success",
        )
        return redirect(url_for("cases.view", case_id=case.id, _anchor="einwilligungen"))
    return _withdraw_page(form, case, consent)


def _withdraw_page(form, case, consent, status=None):
    agency = db.session.get(Agency, consent.agency_id)
    return render_template(
        "cases/action_form.html",
        form=form,
        case=case,
        fields=["withdrawn_on", "note"],
        guarded=True,
        hints={"withdrawn_on": DATE_HINT},
        title=_("Einwilligung widerrufen"),
        submit_label=_("Widerruf speichern"),
        intro=_(
            "Widerruf der Einwilligung für %(agency)s. Der Zugriff der Einrichtung endet "
            "sofort; offene Einladungen werden zurückgezogen.",
            agency=agency.name,
        ),
    ), status or _form_status(form)


# --- the access report (Art. 15 GDPR, § 83 SGB X) -----------------------------------------------------


@bp.route("/faelle/<int:case_id>/auskunft")
def access_report(case_id):
    case = db.session.get(Case, case_id)
    authorize("case.access_report", case)
    report = disclosure.access_report(db.session, case, current_user, "page")
    db.session.commit()
    return render_template("cases/access_report.html", case=case, r=report, categories=DATA_CATEGORIES)


@bp.route("/faelle/<int:case_id>/auskunft/<any(pdf, json, csv):output>")
def access_report_download(case_id, output):
    case = db.session.get(Case, case_id)
    authorize("case.access_report", case)
    report = disclosure.access_report(db.session, case, current_user, output)
    name = f"Auskunft_{case.pseudonym}"
    if output == "json":
        content, mimetype = report.json_bytes(), "application/json"
    elif output == "csv":
        content, mimetype = report.disclosures_csv(), "text/csv; charset=utf-8"
    else:
        try:
            content = disclosure.report_pdf(
                report, organisation=current_app.config["ORGANISATION_NAME"], generated=de_datetime(utcnow())
            )
        except disclosure.DisclosureError:
            db.session.rollback()
            flash(_("Das PDF konnte nicht erstellt werden. Bitte versuchen Sie es erneut."), "error")
            return render_template("cases/access_report.html", case=case, r=report, categories=DATA_CATEGORIES), 400
        mimetype = "application/pdf"
    db.session.commit()
    return Response(
        content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}.{output}"'}
    )
