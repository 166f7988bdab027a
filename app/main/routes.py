"""Start page per role and the health check."""

from datetime import date

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user

from app import db, health, public_pages
from app.accounts import services as accounts
from app.accounts.models import ACCOUNT_CHANGE_KIND_LABELS, ROLE_LABELS
from app.conferences.models import INVITATION_STATUS, MEASURE_STATUS, RESPONSIBLE_KINDS
from app.conferences.services import polls, queries
from app.permissions import authenticated_only, can, is_admin, is_controlling, is_partner, is_staff, public

bp = Blueprint("main", __name__)

# One page parameter per list, so each list pages on its own.
STAFF_LISTS = ("minutes", "comments", "failed_mail", "upcoming", "unanswered", "measures", "without_follow_up")
PARTNER_LISTS = ("upcoming", "awaiting", "measures")


def _pages(names) -> dict:
    return {name: db.requested_page(f"seite_{name}") for name in names}


@bp.route("/")
@authenticated_only
def index():
    if is_admin(current_user):
        return redirect(url_for("admin.index"))
    if is_controlling(current_user):
        # The Steuerung has no case pages: its start is the aggregated report.
        return redirect(url_for("reports.network_report"))
    size = current_app.config["PAGE_SIZE"]
    labels = {
        "invitation_status": INVITATION_STATUS,
        "measure_status": MEASURE_STATUS,
        "responsible_kinds": RESPONSIBLE_KINDS,
    }
    if is_staff(current_user):
        lists = queries.staff_start(db.session, current_user, _pages(STAFF_LISTS), size)
        # Four eyes: the admin's account changes a team lead of this team is to confirm.
        changes = (
            [
                (*row, can(current_user, "account_change.decide", row[0]))
                for row in accounts.changes_to_confirm(db.session, current_user.team_id)
            ]
            if can(current_user, "account_change.list")
            else []
        )
        return render_template(
            "main/index.html",
            role="staff",
            account_changes=changes,
            change_kinds=ACCOUNT_CHANGE_KIND_LABELS,
            role_labels=ROLE_LABELS,
            **lists,
            **labels,
        )
    if is_partner(current_user):
        lists = queries.partner_start(db.session, current_user, _pages(PARTNER_LISTS), size)
        date_polls = polls.partner_open_polls(db.session, current_user)
        return render_template("main/index.html", role="partner", date_polls=date_polls, **lists, **labels)
    return render_template("main/index.html", role=None)


# --- public pages of the footer (no log-in) ------------------------------------------------------


def _public_page(slug):
    template, title = public_pages.PAGES[slug]
    config = current_app.config
    try:
        stated = date.fromisoformat(str(config.get("ACCESSIBILITY_STATEMENT_DATE") or ""))
    except ValueError:
        stated = None
    return render_template(
        template,
        title=title,
        own_text=public_pages.replacement(config, slug, get_locale().language),
        statement_date=stated,
    )


@bp.route("/barrierefreiheit")
@public
def accessibility():
    return _public_page("barrierefreiheit")


@bp.route("/datenschutz")
@public
def privacy():
    return _public_page("datenschutz")


@bp.route("/impressum")
@public
def imprint():
    return _public_page("impressum")


@bp.route("/leichte-sprache")
@public
def easy_read():
    return _public_page("leichte-sprache")


@bp.route("/healthz")
@public
def healthz():
    # No session, no audit entry, no cookie: a load balancer calls this every few seconds.
    # It checks that this worker can write (database, outbox and instance folders) without
    # keeping anything or waiting for SQLite's write lock (app/health.py); a fault is
    # "unavailable" (503) with a reason code, not a 500 page.
    reason = health.check(current_app._get_current_object())
    if reason:
        return jsonify(status="error", reason=reason), 503
    return jsonify(status="ok")
