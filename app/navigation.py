"""The main navigation and the user's role, given to every page by a context processor.

Both are functions, called only by the page layout: e-mails and PDFs, rendered without a
logged-in user, never evaluate them.
"""

from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import public_pages
from app.accounts.models import ROLE_LABELS
from app.admin.routes import DIRECTORY
from app.permissions import can, is_admin, is_staff


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def nav_items():
    """Main navigation for the current user's role: (url, label)."""
    if is_admin(current_user):
        return [(url_for("admin.users"), _l("Benutzer:innen"))] + [
            (url_for("admin.directory", kind=kind), entry.plural) for kind, entry in DIRECTORY.items()
        ]
    items = [(url_for("main.index"), _l("Start"))]
    if is_staff(current_user):
        items.append((url_for("cases.index"), _l("Fälle")))
        items.append((url_for("conferences.index"), _l("Fallkonferenzen")))
        items.append((url_for("conferences.measures"), _l("Maßnahmen")))
        items.append((url_for("consultations.index"), _l("Sprechstunden")))
    if can(current_user, "partner.area"):
        items.append((url_for("conferences.history"), _l("Fallkonferenzen und Protokolle")))
    if can(current_user, "team.overview"):
        items.append((url_for("reports.overview"), _l("Teamübersicht")))
    if can(current_user, "report.network"):
        items.append((url_for("reports.network_report"), _l("Netzwerkbericht")))
    if can(current_user, "minutes.export"):
        items.append((url_for("minutes.export_form"), _l("Protokolle exportieren")))
    return items


def init_app(app):
    @app.context_processor
    def navigation():
        return {
            "nav_items": nav_items,
            "role_label": role_label,
            "get_locale": get_locale,
            "footer_links": public_pages.FOOTER,
        }
