"""Minutes pages: draft, comments, finalisation, correction, PDF download and batch export."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app import db
from app.agencies.models import Agency, District
from app.cases.models import Case
from app.clock import berlin_today
from app.conferences.models import Conference
from app.forms import StaleEdit
from app.minutes import document, services
from app.minutes import export as batch
from app.minutes.forms import CommentForm, CorrectionForm, ExportForm, FinaliseForm, MinutesForm, ShareForm
from app.minutes.models import Minutes, MinutesStatus
from app.permissions import authorize, can, is_staff, partner_consent

bp = Blueprint("minutes", __name__)

STALE = _l("Das Protokoll wurde zwischenzeitlich geändert. Ihre Eingaben sind unten erhalten; bitte prüfen Sie "
           "den aktuellen Stand und speichern Sie erneut.")


def _get(model, obj_id):
    obj = db.session.get(model, obj_id)
    if obj is None:
        abort(404)
    return obj


def _minutes_and_conference(minutes_id):
    """Load minutes and make sure the user may see their conference at all (else 404)."""
    minutes = _get(Minutes, minutes_id)
    conference = _get(Conference, minutes.conference_id)
    authorize("conference.view", conference)
    return minutes, conference


def _page_url(conference):
    return url_for("minutes.page", conference_id=conference.id)


def _link(conference):
    return current_app.config["BASE_URL"].rstrip("/") + _page_url(conference)


def _render_page(conference, status=200, *, form=None, share_form=None, comment_form=None, finalise_form=None,
                 error=None):
    versions = services.versions(db.session, conference)
    current = versions[0] if versions else None
    case = db.session.get(Case, conference.case_id)
    staff = is_staff(current_user)
    final = next((v for v in versions if v.status == MinutesStatus.FINAL), None)
    ctx = dict(conference=conference, case=case, versions=versions, current=current, final=final, staff=staff,
               error=error, labels=document.labels(), names=services.finaliser_names(db.session, versions),
               back_url=url_for("conferences.view", conference_id=conference.id)
               if "conferences.view" in current_app.view_functions else None)
    if staff:
        draft = current if current is not None and current.status == MinutesStatus.DRAFT else None
        editable = (can(current_user, "minutes.edit", draft) if draft is not None
                    else current is None and can(current_user, "minutes.create", conference))
        ctx.update(
            draft=draft, editable=editable,
            may_finalise=draft is not None and can(current_user, "minutes.finalise", draft),
            may_correct=final is not None and can(current_user, "minutes.correct", final),
            content=(document.assemble(db.session, conference) if current is None or draft is not None
                     else current.content),
            scope=None,
            comments=services.comments(db.session, draft) if draft is not None else [],
            form=form or (MinutesForm(obj=draft) if editable else None),
            share_form=share_form or (ShareForm() if draft is not None and editable else None),
            finalise_form=finalise_form or (FinaliseForm(obj=draft) if draft is not None else None),
        )
    else:
        consent = partner_consent(current_user, conference)
        draft = current if current is not None and current.status == MinutesStatus.DRAFT else None
        commenting = draft is not None and can(current_user, "minutes.comment", draft)
        ctx.update(
            draft=draft if commenting else None, editable=False, may_finalise=False, may_correct=False,
            content=document.assemble(db.session, conference) if commenting else None,
            scope=consent.scope if consent else [],
            comments=[row for row in services.comments(db.session, draft)
                      if row[0].agency_id == current_user.agency_id] if commenting else [],
            comment_form=comment_form or (CommentForm() if commenting else None),
        )
    ctx.setdefault("comment_form", comment_form)
    ctx["notes"] = document.notes_for(ctx["content"], ctx["scope"]) if ctx["content"] else []
    return render_template("minutes/page.html", **ctx), status


@bp.route("/konferenzen/<int:conference_id>/protokoll")
def page(conference_id):
    conference = _get(Conference, conference_id)
    authorize("conference.view", conference)
    services.record_view(db.session, conference, current_user)
    db.session.commit()
    return _render_page(conference)


@bp.route("/konferenzen/<int:conference_id>/protokoll", methods=["POST"])
def save(conference_id):
    conference = _get(Conference, conference_id)
    authorize("conference.view", conference)
    versions = services.versions(db.session, conference)
    current = versions[0] if versions else None
    if current is None:
        authorize("minutes.create", conference)
    else:
        authorize("minutes.edit", current)
    finalise = "finalise" in request.form
    if finalise and current is not None:
        # Without a draft yet, minutes.create admitted the organiser, who may finalise it too.
        authorize("minutes.finalise", current)
    form = MinutesForm()
    if not form.validate_on_submit():
        return _render_page(conference, 400, form=form)
    try:
        services.save_draft(db.session, conference, current, current_user, form.data,
                            overridden_kinds=form.overridden_kinds, finalise=finalise)
    except StaleEdit:
        db.session.rollback()
        # The input stays; the version moves on, so saving again is a conscious overwrite.
        versions = services.versions(db.session, conference)
        form.version.data = versions[0].version if versions else None
        return _render_page(conference, 409, form=form, error=str(STALE))
    except document.MinutesError as err:
        db.session.rollback()
        return _render_page(conference, 400, form=form, error=str(err.message))
    db.session.commit()
    flash(_("Das Protokoll ist abgeschlossen und als PDF/A gespeichert.") if finalise
          else _("Der Entwurf wurde gespeichert."), "success")
    return redirect(_page_url(conference))


@bp.route("/protokolle/<int:minutes_id>/abschliessen", methods=["POST"])
def finalise(minutes_id):
    minutes, conference = _minutes_and_conference(minutes_id)
    authorize("minutes.finalise", minutes)
    form = FinaliseForm()
    if not form.validate_on_submit():
        return _render_page(conference, 400, finalise_form=form)
    try:
        services.finalise(db.session, minutes, current_user, form.version.data)
    except StaleEdit:
        db.session.rollback()
        return _render_page(conference, 409, error=str(STALE))
    except document.MinutesError as err:
        db.session.rollback()
        return _render_page(conference, 400, error=str(err.message))
    db.session.commit()
    flash(_("Das Protokoll ist abgeschlossen und als PDF/A gespeichert."), "success")
    return redirect(_page_url(conference))


@bp.route("/protokolle/<int:minutes_id>/teilen", methods=["POST"])
def share(minutes_id):
    minutes, conference = _minutes_and_conference(minutes_id)
    authorize("minutes.edit", minutes)
    form = ShareForm()
    if not form.validate_on_submit():
        return _render_page(conference, 400, share_form=form)
    try:
        services.share_draft(db.session, minutes, current_user, form.days.data, _link(conference))
    except StaleEdit:
        db.session.rollback()
        return _render_page(conference, 409, share_form=form, error=str(STALE))
    db.session.commit()
    flash(_("Der Entwurf wurde den eingeladenen Einrichtungen zur Anmerkung freigegeben."), "success")
    return redirect(_page_url(conference))


@bp.route("/protokolle/<int:minutes_id>/anmerkungen", methods=["POST"])
def comment(minutes_id):
    minutes, conference = _minutes_and_conference(minutes_id)
    authorize("minutes.comment", minutes)
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_page(conference, 400, comment_form=form)
    services.add_comment(db.session, minutes, current_user, form.body.data,
                         overridden_kinds=form.overridden_kinds, link=_link(conference))
    db.session.commit()
    flash(_("Ihre Anmerkung wurde an die Moderation übermittelt."), "success")
    return redirect(_page_url(conference))


@bp.route("/protokolle/<int:minutes_id>/korrektur", methods=["GET", "POST"])
def correct(minutes_id):
    minutes, conference = _minutes_and_conference(minutes_id)
    authorize("minutes.correct", minutes)
    form = CorrectionForm(obj=minutes)
    case = db.session.get(Case, conference.case_id)
    status = 200
    error = None
    if form.validate_on_submit():
        try:
            new = services.correct(db.session, minutes, current_user, form.data, form.overridden_kinds)
        except StaleEdit:
            db.session.rollback()
            db.session.refresh(minutes)
            form.version.data = minutes.version
            status, error = 409, str(STALE)
        except document.MinutesError as err:
            db.session.rollback()
            status, error = 400, str(err.message)
            if err.field:
                form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Version %(n)s wurde abgeschlossen; sie ersetzt Version %(old)s.",
                    n=new.version_number, old=minutes.version_number), "success")
            return redirect(_page_url(conference))
    elif form.is_submitted():
        status = 400
    return render_template("minutes/correct.html", form=form, minutes=minutes, conference=conference,
                           case=case, error=error), status


@bp.route("/protokolle/<int:minutes_id>/pdf")
def download(minutes_id):
    minutes = _get(Minutes, minutes_id)
    authorize("minutes.download", minutes)
    try:
        stored = services.download(db.session, minutes, current_user)
    except document.MinutesError as err:
        db.session.rollback()
        conference = db.session.get(Conference, minutes.conference_id)
        return _render_page(conference, 400, error=str(err.message))
    db.session.commit()
    return Response(stored.content, mimetype="application/pdf", headers={
        # The name holds only letters, digits, "-", "_" and "." (document.filename).
        "Content-Disposition": f'attachment; filename="{stored.filename}"',
    })


# --- batch export -------------------------------------------------------------------------


def _export_choices(form):
    form.district_id.choices = [(None, _("– alle Stadtteile –"))] + [
        (i, n) for i, n in db.session.execute(select(District.id, District.name).order_by(District.name))]
    form.agency_id.choices = [(None, _("– alle Einrichtungen –"))] + [
        (i, n) for i, n in db.session.execute(select(Agency.id, Agency.name).order_by(Agency.name))]


@bp.route("/protokolle/export")
def export_form():
    authorize("minutes.export")
    today = berlin_today()
    form = ExportForm(date_from=today.replace(day=1), date_to=today)
    _export_choices(form)
    return render_template("minutes/export.html", form=form)


@bp.route("/protokolle/export", methods=["POST"])
def export():
    authorize("minutes.export")
    form = ExportForm()
    _export_choices(form)
    if not form.validate_on_submit():
        return render_template("minutes/export.html", form=form), 400
    try:
        result = batch.export(db.session, current_user, form.date_from.data, form.date_to.data,
                              form.district_id.data, form.agency_id.data)
    except document.MinutesError as err:
        db.session.rollback()
        form[err.field].errors.append(err.message)
        return render_template("minutes/export.html", form=form), 400
    db.session.commit()
    # The request's session is done; the stream reads in its own short transactions.
    chunks = result.chunks(current_app.extensions["db_sessionmaker"])
    return Response(chunks, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{result.filename}"',
    })
