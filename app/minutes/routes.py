"""Minutes pages: draft, comments, finalisation, correction, PDF download and batch export."""

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app import db, links
from app.agencies.models import Agency, District
from app.cases.models import Case
from app.clock import berlin_today
from app.conferences.models import Conference
from app.conferences.services import lifecycle
from app.forms import StaleEdit
from app.minutes import document, services
from app.minutes import export as batch
from app.minutes.forms import (
    DECISION_ROWS_ADDED,
    CommentForm,
    CorrectionForm,
    ExportForm,
    FinaliseForm,
    MinutesForm,
    ShareForm,
    decision_rows,
    fill_decisions,
    minutes_data,
)
from app.minutes.models import Minutes, MinutesStatus
from app.permissions import agency_reader, authorize, can, reader_of, visible_content, withheld_content

bp = Blueprint("minutes", __name__)

MORE_ROWS = "weitere_zeilen"
STALE = _l(
    "Das Protokoll wurde zwischenzeitlich geändert. Ihre Eingaben sind unten erhalten; bitte prüfen Sie "
    "den aktuellen Stand und speichern Sie erneut."
)


def _minutes_and_conference(minutes_id):
    """Load minutes and make sure the user may see their conference at all (else 404)."""
    minutes = db.get_or_404(Minutes, minutes_id)
    conference = db.get_or_404(Conference, minutes.conference_id)
    authorize("conference.view", conference)
    return minutes, conference


def _page_url(conference):
    return url_for("minutes.page", conference_id=conference.id)


def _link(conference):
    return links.external_url("minutes.page", conference_id=conference.id)


def _render_page(
    conference,
    status=200,
    *,
    form=None,
    share_form=None,
    comment_form=None,
    finalise_form=None,
    error=None,
    preview_id=None,
):
    """The minutes page. Whatever it shows of the conference passes the policy's
    ``visible_content`` for the reader: everything for the Jobcenter, the agency's view for a
    partner and for the staff's preview of an agency (``preview_id``)."""
    versions = services.versions(db.session, conference)
    current = versions[0] if versions else None
    draft = current if current is not None and current.status == MinutesStatus.DRAFT else None
    final = next((v for v in versions if v.status == MinutesStatus.FINAL), None)
    reader = reader_of(current_user, conference)
    ctx = dict(
        conference=conference,
        case=db.session.get(Case, conference.case_id),
        versions=versions,
        current=current,
        final=final,
        draft=None,
        staff=reader.is_jobcenter,
        error=error,
        labels=document.labels(),
        names=services.finaliser_names(db.session, versions),
        back_url=url_for("conferences.view", conference_id=conference.id),
        form=None,
        share_form=None,
        comment_form=comment_form,
        finalise_form=None,
        editable=False,
        may_finalise=False,
        may_correct=False,
        v=None,
        withheld=[],
        preview=None,
        participants_all=[],
        today=berlin_today(),
    )
    if reader.is_jobcenter:
        # The live record while the minutes are open, the frozen one once they are final.
        content = document.assemble(db.session, conference) if current is None or draft is not None else current.content
        shown = draft if draft is not None else final
        editable = (
            can(current_user, "minutes.edit", draft)
            if draft is not None
            else current is None and can(current_user, "minutes.create", conference)
        )
        if form is None and editable:
            form = MinutesForm(obj=draft)
            fill_decisions(form, draft.decisions if draft is not None else [])
        ctx.update(
            draft=draft,
            editable=editable,
            form=form,
            may_finalise=draft is not None and can(current_user, "minutes.finalise", draft),
            may_correct=final is not None and can(current_user, "minutes.correct", final),
            share_form=share_form or (ShareForm() if draft is not None and editable else None),
            finalise_form=finalise_form or (FinaliseForm(obj=draft) if draft is not None else None),
            v=visible_content(
                reader,
                content,
                shown if draft is None else None,
                services.comments(db.session, draft) if draft is not None else (),
            ),
            withheld=_withheld_per_agency(conference, content, shown),
            participants_all=[p for p in content.get("participants", []) if p.get("agency_id")],
        )
        if preview_id:  # 0: the Jobcenter's own view
            agency, preview_reader = _preview_reader(conference, preview_id)
            if agency is not None:
                ctx.update(
                    preview=agency, v=visible_content(preview_reader, content, shown) if preview_reader else None
                )
    else:
        commenting = draft is not None and can(current_user, "minutes.comment", draft)
        if commenting:
            ctx.update(
                draft=draft,
                comment_form=comment_form or CommentForm(),
                v=visible_content(
                    reader, document.assemble(db.session, conference), draft, services.comments(db.session, draft)
                ),
            )
    ctx["lc"] = lifecycle.lifecycle(db.session, conference, current_user) if reader is not None else None
    return render_template("minutes/page.html", **ctx), status


def _preview_reader(conference, agency_id):
    agency = db.session.get(Agency, agency_id) if 0 < agency_id < 2**31 else None
    return agency, (agency_reader(conference, agency.id) if agency is not None else None)


def _withheld_per_agency(conference, content, minutes) -> list:
    """For each agency taking part: what it will not see ([] when it sees everything), or None
    when it has no access now (no valid consent)."""
    result = []
    for participant in content.get("participants", []):
        reader = agency_reader(conference, participant["agency_id"]) if participant.get("agency_id") else None
        result.append((participant.get("agency"), withheld_content(reader, content, minutes) if reader else None))
    return result


@bp.route("/konferenzen/<int:conference_id>/protokoll")
def page(conference_id):
    conference = db.get_or_404(Conference, conference_id)
    authorize("conference.view", conference)
    preview_id = request.args.get(PREVIEW, type=int)
    if preview_id is not None:
        authorize("conference.preview", conference)
    services.record_view(db.session, conference, current_user)
    db.session.commit()
    return _render_page(conference, preview_id=preview_id)


PREVIEW = "ansicht"


@bp.route("/konferenzen/<int:conference_id>/protokoll", methods=["POST"])
def save(conference_id):
    conference = db.get_or_404(Conference, conference_id)
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
    if MORE_ROWS in request.form:
        fill_decisions(form, decision_rows(form), blank=DECISION_ROWS_ADDED)
        return _render_page(conference, 200, form=form)
    if not form.validate_on_submit():
        return _render_page(conference, 400, form=form)
    try:
        # "Speichern und abschließen" saves the draft and leads to the confirmation page.
        saved = services.save_draft(
            db.session, conference, current, current_user, minutes_data(form), overridden_kinds=form.overridden_kinds
        )
    except StaleEdit:
        db.session.rollback()
        # The input stays; the version moves on, so saving again is a conscious overwrite
        # (the hidden field renders what was sent, so the new version goes into raw_data too).
        versions = services.versions(db.session, conference)
        newest = versions[0].version if versions else None
        form.version.data, form.version.raw_data = newest, [str(newest)] if newest is not None else []
        return _render_page(conference, 409, form=form, error=str(STALE))
    except document.MinutesError as err:
        db.session.rollback()
        return _render_page(conference, 400, form=form, error=str(err.message))
    db.session.commit()
    flash(_("Der Entwurf wurde gespeichert."), "success")
    if finalise:
        return redirect(url_for("minutes.finalise", minutes_id=saved.id))
    return redirect(_page_url(conference))


@bp.route("/protokolle/<int:minutes_id>/abschliessen", methods=["GET", "POST"])
@db.reads_first
def finalise(minutes_id):
    """Finalising is irreversible, so it has a page of its own: GET shows what the organiser is
    about to confirm (the comment period, comments not yet worked in, what each agency will
    receive), POST confirms, with the version of the draft that was shown. A comment period that
    is still running is warned of there, not refused: the organiser may have every answer already
    or a deadline to meet, and a late remark can still go into a corrected version."""
    minutes, conference = _minutes_and_conference(minutes_id)
    authorize("minutes.finalise", minutes)
    form = FinaliseForm()
    status, error = 200, None
    if not form.is_submitted():
        form.version.data = minutes.version
    elif not form.validate_on_submit():
        status = 400
    else:
        try:
            # The PDF is rendered from what was read, before the write lock is taken (services.prepare).
            prepared = services.prepare(db.session, conference, current_user, services.texts_of(minutes), draft=minutes)
            db.session.rollback()
            services.finalise(db.session, minutes, current_user, form.version.data, prepared)
        except StaleEdit:
            db.session.rollback()
            db.session.refresh(minutes)
            if minutes.status != MinutesStatus.DRAFT:
                return _render_page(conference, 409, error=str(STALE))
            form.version.data, form.version.raw_data = minutes.version, [str(minutes.version)]
            status, error = 409, str(STALE)
        except document.MinutesError as err:
            db.session.rollback()
            return _render_page(conference, 400, error=str(err.message))
        else:
            db.session.commit()
            flash(_("Das Protokoll ist abgeschlossen und als PDF/A gespeichert."), "success")
            return redirect(_page_url(conference))
    overview = services.finalise_overview(db.session, conference, minutes)
    return render_template(
        "minutes/finalise.html",
        form=form,
        minutes=minutes,
        conference=conference,
        case=db.session.get(Case, conference.case_id),
        overview=overview,
        error=error,
        labels=document.labels(),
        lc=lifecycle.lifecycle(db.session, conference, current_user),
    ), status


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
    services.add_comment(
        db.session,
        minutes,
        current_user,
        form.body.data,
        overridden_kinds=form.overridden_kinds,
        link=_link(conference),
    )
    db.session.commit()
    flash(_("Ihre Anmerkung wurde an die Moderation übermittelt."), "success")
    return redirect(_page_url(conference))


@bp.route("/protokolle/<int:minutes_id>/korrektur", methods=["GET", "POST"])
@db.reads_first
def correct(minutes_id):
    minutes, conference = _minutes_and_conference(minutes_id)
    authorize("minutes.correct", minutes)
    form = CorrectionForm(obj=minutes)
    if not form.is_submitted():
        fill_decisions(form, minutes.decisions)
    case = db.session.get(Case, conference.case_id)
    status = 200
    error = None
    if MORE_ROWS in request.form:
        fill_decisions(form, decision_rows(form), blank=DECISION_ROWS_ADDED)
    elif form.validate_on_submit():
        try:
            data = {**minutes_data(form), "reason": form.reason.data}
            prepared = services.prepare(db.session, conference, current_user, data, replaces=minutes)
            db.session.rollback()
            new = services.correct(db.session, minutes, current_user, data, form.overridden_kinds, prepared)
        except StaleEdit:
            db.session.rollback()
            db.session.refresh(minutes)
            form.version.data, form.version.raw_data = minutes.version, [str(minutes.version)]
            status, error = 409, str(STALE)
        except document.MinutesError as err:
            db.session.rollback()
            status, error = 400, str(err.message)
            if err.field:
                form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(
                _(
                    "Version %(n)s wurde abgeschlossen; sie ersetzt Version %(old)s.",
                    n=new.version_number,
                    old=minutes.version_number,
                ),
                "success",
            )
            return redirect(_page_url(conference))
    elif form.is_submitted():
        status = 400
    return render_template(
        "minutes/correct.html", form=form, minutes=minutes, conference=conference, case=case, error=error
    ), status


@bp.route("/protokolle/<int:minutes_id>/pdf")
def download(minutes_id):
    minutes = db.get_or_404(Minutes, minutes_id)
    authorize("minutes.download", minutes)
    conference = db.session.get(Conference, minutes.conference_id)
    try:
        stored = services.download(db.session, minutes, current_user, reader_of(current_user, conference))
    except document.MinutesError as err:
        db.session.rollback()
        return _render_page(conference, 400, error=str(err.message))
    db.session.commit()
    return Response(
        stored.content,
        mimetype="application/pdf",
        headers={
            # The name holds only letters, digits, "-", "_" and "." (document.filename).
            "Content-Disposition": f'attachment; filename="{stored.filename}"',
        },
    )


# --- batch export -------------------------------------------------------------------------


def _export_choices(form):
    form.district_id.choices = [(None, _("– alle Stadtteile –"))] + [
        (i, n) for i, n in db.session.execute(select(District.id, District.name).order_by(District.name))
    ]
    form.agency_id.choices = [(None, _("– alle Einrichtungen –"))] + [
        (i, n) for i, n in db.session.execute(select(Agency.id, Agency.name).order_by(Agency.name))
    ]


@bp.route("/protokolle/export")
def export_form():
    authorize("minutes.export")
    first, last = batch.last_month(berlin_today())
    form = ExportForm(date_from=first, date_to=last)
    _export_choices(form)
    return render_template("minutes/export.html", form=form, default_period=(first, last))


@bp.route("/protokolle/export", methods=["POST"])
def export():
    authorize("minutes.export")
    form = ExportForm()
    _export_choices(form)
    if not form.validate_on_submit():
        return render_template("minutes/export.html", form=form), 400
    try:
        result = batch.export(
            db.session, current_user, form.date_from.data, form.date_to.data, form.district_id.data, form.agency_id.data
        )
    except document.MinutesError as err:
        db.session.rollback()
        form[err.field].errors.append(err.message)
        return render_template("minutes/export.html", form=form), 400
    if not result.rows:
        # An empty ZIP helps nobody: the page says so and keeps the input.
        return render_template("minutes/export.html", form=form, nothing_found=True)
    db.session.commit()
    # The request's session is done; the stream reads in its own short transactions.
    chunks = result.chunks(current_app.extensions["db_sessionmaker"])
    return Response(
        chunks,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{result.filename}"',
        },
    )
