"""Team lead's overview (dashboard and statistics of the own team), and the § 18 network report."""

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app import audit, db
from app.clock import berlin_today, de_datetime, utcnow
from app.permissions import authorize
from app.reports import document, network, services
from app.reports.forms import PeriodForm
from app.reports.suppression import TOTAL

bp = Blueprint("reports", __name__)


@bp.route("/team")
def overview():
    authorize("team.overview")
    data = services.team_overview(db.session, current_user.team_id, now=utcnow(), today=berlin_today())
    audit.record("team.overview_viewed", actor=current_user, object_type="team", object_id=current_user.team_id)
    db.session.commit()
    return render_template(
        "reports/overview.html", o=data, count_limit=services.COUNT_LIMIT, case_count_limit=services.CASE_COUNT_LIMIT
    )


# --- the network report (§ 18 SGB II) --------------------------------------------------------------

YEARS_BACK = 10


def _period_form(today):
    years = list(range(today.year, today.year - YEARS_BACK, -1))
    form = PeriodForm(request.args, years=years)
    if not request.args:
        default = network.Period.current_quarter(today)
        form.jahr.data, form.quartal.data = default.year, str(default.quarter)
    return form


def _page(form, report=None, status=200):
    return render_template(
        "reports/network.html",
        form=form,
        r=report,
        charts=document.charts(report) if report else {},
        definitions=document.DEFINITIONS,
        rule=document.suppression_rule(current_app.config["REPORT_MIN_CELL"]),
        shown=document.shown,
        TOTAL=TOTAL,
        args={k: v for k, v in request.args.items() if k in ("jahr", "quartal")},
    ), status


def _report(form, today, output):
    period = network.Period(form.jahr.data, int(form.quartal.data) if form.quartal.data else None)
    return network.produce(
        db.session,
        current_user,
        period=period,
        today=today,
        threshold=current_app.config["REPORT_MIN_CELL"],
        output=output,
    )


@bp.route("/netzwerkbericht")
def network_report():
    authorize("report.network")
    today = berlin_today()
    form = _period_form(today)
    if request.args and not form.validate():
        return _page(form, status=400)
    report = _report(form, today, "page")
    db.session.commit()
    return _page(form, report)


@bp.route("/netzwerkbericht/<any(csv, pdf):output>")
def network_export(output):
    authorize("report.network")
    today = berlin_today()
    form = _period_form(today)
    if not form.validate():
        return _page(form, status=400)
    report = _report(form, today, output)
    name = f"Netzwerkbericht_{report.period.slug}"
    if output == "csv":
        content, mimetype = document.report_csv(report), "text/csv; charset=utf-8"
    else:
        try:
            content = document.report_pdf(
                report, organisation=current_app.config["ORGANISATION_NAME"], generated=de_datetime(utcnow())
            )
        except document.ReportError:
            db.session.rollback()
            form.jahr.errors.append(_("Das PDF konnte nicht erstellt werden. Bitte versuchen Sie es erneut."))
            return _page(form, status=400)
        mimetype = "application/pdf"
    db.session.commit()
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}.{output}"'},
    )
