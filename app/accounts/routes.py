"""Log-in with two factors, log-out, own password, reset and invitation links."""

import time
from urllib.parse import urlsplit

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from app import audit, db, links, mail
from app.accounts import services
from app.accounts.forms import (
    ChangePasswordForm,
    CodeForm,
    EnrolForm,
    LanguageForm,
    LoginForm,
    ResetRequestForm,
    SetPasswordForm,
)
from app.accounts.models import AccountChange, AccountChangeKind, User
from app.permissions import authenticated_only, authorize, public

bp = Blueprint("accounts", __name__)

PENDING_SECONDS = 300


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    # Browsers read "\" as "/" and drop tabs and newlines, so "/\evil.example" would
    # leave the site: only plain printable paths are followed.
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _locked(email: str) -> bool:
    cfg = current_app.config
    return services.is_locked(
        db.session,
        email,
        _client_ip(),
        max_failures=cfg["LOGIN_MAX_FAILURES"],
        max_per_address=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window=cfg["LOGIN_FAILURE_WINDOW"],
    )


# Lazy, so that the message catalogue extraction finds it.
LOCKED_MESSAGE = _l(
    "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten und versuchen Sie es dann erneut."
)
RESET_LIMIT_MESSAGE = _l(
    "Von Ihrem Netzwerk kamen zu viele Anfragen für ein neues Passwort. Bitte versuchen Sie es "
    "in einer Stunde erneut, oder wenden Sie sich an die Administration."
)


@bp.route("/anmelden", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), (400 if form.is_submitted() else 200)
    email = form.email.data.strip().lower()
    if _locked(email):
        audit.record("login.locked")
        db.session.commit()
        flash(str(LOCKED_MESSAGE), "error")
        return render_template("accounts/login.html", form=form), 429
    user = db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()
    if not services.check_password(user, form.password.data) or not user.active or not user.confirmed:
        reason = (
            "inactive"
            if user is not None and not user.active
            else "unconfirmed"
            if user is not None and not user.confirmed
            else "password"
        )
        services.record_failure(
            db.session, email, _client_ip(), user, reason=reason, window=current_app.config["LOGIN_FAILURE_WINDOW"]
        )
        db.session.commit()
        flash(_("E-Mail-Adresse oder Passwort ist falsch."), "error")
        return render_template("accounts/login.html", form=form), 401
    nxt = _safe_next(request.args.get("next"))
    # A new cookie session from here on: nothing from before the log-in carries over.
    _fresh_cookie_session()
    if user.totp_secret or current_app.config["REQUIRE_TWO_FACTOR"]:
        session["pending_user"] = user.id
        session["pending_at"] = time.time()
        session["pending_next"] = nxt
        audit.record("login.password_ok", user, actor=user)
        db.session.commit()
        return redirect(url_for("accounts.two_factor" if user.totp_secret else "accounts.enrol"))
    return _complete_login(user, nxt)


def _fresh_cookie_session() -> None:
    """Empty the cookie session, keeping only the language chosen."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _complete_login(user: User, nxt: str | None):
    _fresh_cookie_session()
    # Only now, not after the password alone: wrong codes must keep counting.
    services.clear_failures(db.session, user.email)
    services.start_session(db.session, user)
    audit.record("login.succeeded", user, actor=user)
    db.session.commit()
    login_user(user)
    return redirect(nxt or url_for("main.index"))


def _pending_user() -> User:
    uid, at = session.get("pending_user"), session.get("pending_at", 0)
    if uid is None or time.time() - at > PENDING_SECONDS:
        session.pop("pending_user", None)
        abort(redirect(url_for("accounts.login")))
    user = db.session.get(User, uid)
    if user is None or not user.active or not user.confirmed:
        session.clear()
        abort(redirect(url_for("accounts.login")))
    return user


@bp.route("/anmelden/zwei-faktor", methods=["GET", "POST"])
@public
def two_factor():
    user = _pending_user()
    if not user.totp_secret:
        return redirect(url_for("accounts.enrol"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("accounts/two_factor.html", form=form), (400 if form.is_submitted() else 200)
    if _locked(user.email):
        audit.record("login.locked", user)
        db.session.commit()
        flash(str(LOCKED_MESSAGE), "error")
        return render_template("accounts/two_factor.html", form=form), 429
    code = form.code.data
    if services.verify_totp(user, code) or services.use_recovery_code(db.session, user, code):
        return _complete_login(user, session.get("pending_next"))
    services.record_failure(
        db.session,
        user.email,
        _client_ip(),
        user,
        reason="second_factor",
        window=current_app.config["LOGIN_FAILURE_WINDOW"],
    )
    db.session.commit()
    form.code.errors.append(_("Der Code ist falsch oder wurde bereits verwendet."))
    return render_template("accounts/two_factor.html", form=form), 401


@bp.route("/anmelden/zwei-faktor/einrichten", methods=["GET", "POST"])
@public
def enrol():
    user = _pending_user()
    if user.totp_secret:
        return redirect(url_for("accounts.two_factor"))
    secret = session.get("enrol_secret") or services.new_totp_secret()
    session["enrol_secret"] = secret
    uri = services.totp_uri(user, secret, current_app.config["TOTP_ISSUER"])
    form = EnrolForm()
    if form.validate_on_submit():
        if services.verify_totp(user, form.code.data, secret=secret):
            codes = services.enable_two_factor(db.session, user, secret)
            session.pop("enrol_secret", None)
            nxt = session.get("pending_next")
            response = _complete_login(user, nxt)
            # Shown once, on the page that completes the log-in; stored only as hashes.
            return render_template("accounts/recovery_codes.html", codes=codes, next_url=response.location), 200
        form.code.errors.append(
            _("Der Code stimmt nicht. Prüfen Sie die Uhrzeit Ihres Geräts und versuchen Sie es erneut.")
        )
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/enrol.html", form=form, qr=qr, secret=secret, uri=uri), status


@bp.route("/abmelden", methods=["POST"])
@public
def logout():
    if current_user.is_authenticated:
        services.end_session(db.session, current_user.get_id())
        audit.record("logout", current_user, actor=current_user)
        db.session.commit()
        logout_user()
    _fresh_cookie_session()
    flash(_("Sie wurden abgemeldet."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/konto", methods=["GET", "POST"])
@authenticated_only
def account():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("accounts/account.html", form=form), (400 if form.is_submitted() else 200)
    if not services.check_password(current_user, form.current_password.data):
        form.current_password.errors.append(_("Das aktuelle Passwort ist falsch."))
        return render_template("accounts/account.html", form=form), 400
    user = current_user._get_current_object()
    services.set_password(db.session, user, form.new_password.data)
    db.session.commit()
    # Every session ended with the change: log in this one afresh. The message goes
    # into the emptied cookie session, or it would be lost.
    logout_user()
    _fresh_cookie_session()
    flash(_("Ihr Passwort wurde geändert. Bitte melden Sie sich neu an."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
@public
def reset_request():
    form = ResetRequestForm()
    if not form.validate_on_submit():
        return render_template("accounts/reset_request.html", form=form), (400 if form.is_submitted() else 200)
    cfg = current_app.config
    # The e-mail leaves after the answer: its timing does not tell whether the address has an account.
    mail.after_response()
    try:
        services.request_password_reset(
            db.session,
            form.email.data,
            _client_ip(),
            max_per_address=cfg["RESET_MAX_PER_ADDRESS"],
            max_per_account=cfg["RESET_MAX_PER_ACCOUNT"],
            window=cfg["RESET_WINDOW"],
            lifetime=cfg["ACCOUNT_TOKEN_LIFETIME"],
            base_url=links.base_url(),
        )
    except services.ResetThrottled:
        db.session.commit()  # the refusal's audit entry
        flash(str(RESET_LIMIT_MESSAGE), "error")
        return render_template("accounts/reset_request.html", form=form), 429
    db.session.commit()
    # The same answer whether or not the address has an account.
    flash(
        _("Wenn die Adresse zu einem aktiven Konto gehört, erhalten Sie in Kürze eine E-Mail mit einem Link."), "info"
    )
    return redirect(url_for("accounts.login"))


@bp.route("/konto/link/<any(invite, reset):purpose>/<token>", methods=["GET", "POST"])
@public
def redeem(purpose: str, token: str):
    row = services.find_token(db.session, token, purpose)
    if row is None:
        return render_template(
            "errors/error.html",
            code=404,
            title=_("Link ungültig"),
            message=_(
                "Dieser Link ist abgelaufen oder wurde bereits verwendet. Fordern Sie bei Bedarf einen neuen an."
            ),
        ), 404
    form = SetPasswordForm()
    if not form.validate_on_submit():
        return render_template("accounts/set_password.html", form=form, purpose=purpose), (
            400 if form.is_submitted() else 200
        )
    services.redeem_token(db.session, row, form.new_password.data)
    db.session.commit()
    flash(_("Ihr Passwort ist gesetzt. Sie können sich jetzt anmelden."), "success")
    return redirect(url_for("accounts.login"))


# --- four eyes: a team lead decides on an admin's change of a staff account -------------------


@bp.route("/kontoaenderungen/<int:change_id>/<any(bestaetigen, ablehnen):decision>", methods=["POST"])
def decide_change(change_id: int, decision: str):
    change = db.session.get(AccountChange, change_id)
    if change is None:
        abort(404)
    authorize("account_change.decide", change)
    confirm = decision == "bestaetigen"
    try:
        services.decide_change(
            db.session,
            change,
            actor=current_user,
            confirm=confirm,
            invite_lifetime=current_app.config["ACCOUNT_TOKEN_LIFETIME"],
            base_url=links.base_url(),
        )
    except services.AccountChangeError as err:
        db.session.rollback()
        return render_template(
            "errors/error.html", code=409, title=_("Zwischenzeitlich geändert"), message=str(err.message)
        ), 409
    db.session.commit()
    if not confirm:
        flash(_("Die Änderung ist abgelehnt; das Konto bleibt, wie es war."), "success")
    elif change.kind == AccountChangeKind.CREATE:
        flash(_("Das Konto ist bestätigt; die Person erhält jetzt ihre Einladung per E-Mail."), "success")
    else:
        flash(_("Die Änderung ist bestätigt und gilt ab sofort; die Person meldet sich neu an."), "success")
    return redirect(url_for("main.index", _anchor="kontoaenderungen"))


@bp.route("/sprache", methods=["POST"])
@public
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
    return redirect(_safe_next(form.next.data) or url_for("main.index"))
