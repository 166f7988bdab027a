"""Start page per role and the health check."""
from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from app import db
from app.permissions import authenticated_only, is_admin, public

bp = Blueprint("main", __name__)


@bp.route("/")
@authenticated_only
def index():
    if is_admin(current_user):
        return redirect(url_for("admin.index"))
    return render_template("main/index.html")


@bp.route("/healthz")
@public
def healthz():
    # No session, no write: a load balancer calls this every few seconds.
    with db.engine().connect() as conn:
        conn.execute(text("SELECT 1"))
    return jsonify(status="ok")
