"""Team lead's overview (dashboard and statistics of the own team)."""

from flask import Blueprint, render_template
from flask_login import current_user

from app import audit, db
from app.clock import berlin_today, utcnow
from app.permissions import authorize
from app.reports import services

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
