"""Security defaults on every response, and the guard that every route authorises."""

from flask import g, request
from flask_login import current_user

from app.errors import FilesRefused

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def init_app(app):
    @app.before_request
    def refuse_files():
        """No route takes files. A file part where a form expects text would reach the fields
        as a file object (a TypeError in a length check): refused here, once, for every route.
        Reading the body applies ``MAX_CONTENT_LENGTH`` and ``MAX_FORM_PARTS`` (413)."""
        if request.files:
            raise FilesRefused()

    @app.after_request
    def headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            # Pages can hold social data: nothing but static assets is cached.
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
        return response

    if app.config.get("TESTING"):

        @app.after_request
        def every_route_authorises(response):
            """In tests, a non-public route that answered without asking the policy fails."""
            view = app.view_functions.get(request.endpoint) if request.endpoint else None
            if (
                view is None
                or request.endpoint == "static"
                or getattr(view, "public", False)
                or response.status_code >= 300
                or not current_user.is_authenticated
            ):
                return response
            if not g.get("authorized"):
                raise AssertionError(f"route {request.endpoint} answered without permissions.authorize()")
            return response
