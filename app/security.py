"""Security defaults on every response, and the guard that every route authorises."""

from flask import current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from app.errors import FilesRefused

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def cookieless(view):
    """Mark a public view that sets no cookie and may be cached (the consultation-hour pages,
    reached from posters' QR codes). It needs no log-in; the cookie session is never written on
    its responses, not even when the visitor brings one (a refreshed or new cookie, ``Vary:
    Cookie``); the page's language comes from its URL; the view sets its own ``Cache-Control``
    with ETag and Last-Modified. Such a page must hold no form with a CSRF token (that would
    need a session) and nothing that depends on who asks."""
    view.public = True
    view.cookieless = True
    return view


def is_cookieless_request() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "cookieless", False))


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, never saved on the answer of a ``cookieless`` view."""

    def save_session(self, app, session, response):
        if is_cookieless_request():
            return
        super().save_session(app, session, response)


def init_app(app):
    app.session_interface = SessionInterface()

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
        if is_cookieless_request():
            # Public pages say themselves how long they may be kept (a 304 or an error: not at all).
            h.setdefault("Cache-Control", "no-store")
        elif request.endpoint != "static":
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
