"""Login with Google or Microsoft (OpenID Connect, authorization code flow), logout and the space switcher.

A refused login (a token that fails validation, a cancelled consent, an unreachable provider) comes back to
the login page with a message and no session; it never ends in an error page.
"""

from __future__ import annotations

import logging

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

from ..access import team_access
from ..links import public_url
from ..models import MAX_DATABASE_ID
from ..ratelimit import rate_limited
from ..security import safe_next
from . import accounts, bp
from .accounts import LoginRefused, sign_in
from .forms import FOLLOW_BROWSER, LanguageForm
from .providers import PROVIDERS, Provider, client_for

log = logging.getLogger("portal.auth")

NEXT_KEY = "login_next"
# What a provider round trip can fail with: an OAuth error, a token failing validation, the network.
LOGIN_FAILURES = (OAuthError, JoseError, requests.RequestException, ValueError)
# Why a token was refused, by the claim that failed, in words a person can act on.
CLAIM_PROBLEMS = {
    "aud": _l(
        "Login with %(provider)s was refused: the sign-in token was issued to another application. Please try again."
    ),
    "nonce": _l(
        "Login with %(provider)s was refused: the sign-in token does not belong to this login attempt. Please try again."
    ),
    "sub": _l("Login with %(provider)s was refused: the sign-in token does not name an account. Please try again."),
    "azp": _l(
        "Login with %(provider)s was refused: the sign-in token was issued to another application. Please try again."
    ),
    "exp": _l("Login with %(provider)s was refused: the sign-in token has expired. Please try again."),
    "iat": _l("Login with %(provider)s was refused: the sign-in token has an impossible issue time. Please try again."),
    "nbf": _l("Login with %(provider)s was refused: the sign-in token is not valid yet. Please try again."),
    "at_hash": _l(
        "Login with %(provider)s was refused: the sign-in token does not match its access token. Please try again."
    ),
}


@bp.get("/login")
def login():
    target = safe_next(request.args.get("next"), default="")
    if current_user.is_authenticated:
        return redirect(target or url_for("teams.dashboard"))
    return render_template("auth/login.html", next_target=target)


@bp.post("/login/<provider>")
@rate_limited("login", "RATE_LIMIT_LOGIN")
def start(provider: str):
    spec, client = _provider_or_404(provider)
    session[NEXT_KEY] = safe_next(request.form.get("next"), default="")
    try:
        return client.authorize_redirect(public_url("auth.callback", provider=provider))
    except (requests.RequestException, ValueError):
        log.warning("login provider %s unreachable", provider, exc_info=True)
        return _refused(_("%(provider)s could not be reached. Please try again in a moment.", provider=spec.label))


@bp.get("/login/<provider>/callback")
@rate_limited("login", "RATE_LIMIT_LOGIN", methods=("GET",))
def callback(provider: str):
    spec, client = _provider_or_404(provider)
    try:
        issuer = client.load_server_metadata()["issuer"]
        token = client.authorize_access_token(claims_options=spec.claims_options(client.client_id, issuer))
    except LOGIN_FAILURES as error:
        return _refused(_refusal_message(spec, error))
    claims = token.get("userinfo")
    if not claims:
        return _refused(_("%(provider)s did not send an ID token, so we cannot tell who you are.", provider=spec.label))
    try:
        signed_in = sign_in(spec.read(claims))
    except LoginRefused as refusal:
        return _refused(str(refusal))
    target = session.get(NEXT_KEY, "")
    session.clear()  # a fresh session for the signed-in user: nothing from before login carries over
    login_user(signed_in.user)
    for team in signed_in.joined:
        flash(_("You have joined %(team)s.", team=team.name), "success")
    return redirect(safe_next(target, default=url_for("teams.dashboard")))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)  # a copy of this session's cookie must not outlive the logout
    logout_user()
    session.clear()
    flash(_("You are logged out."), "success")
    return redirect(url_for("home.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The person's own settings: the language they read the portal and their e-mails in."""
    form = LanguageForm(language=current_user.locale or FOLLOW_BROWSER)
    if form.validate_on_submit():
        accounts.set_language(current_user, form.language.data)
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@bp.post("/space")
@login_required
def switch_space():
    team_id = request.form.get("team_id", type=int)
    if team_id is None or not 0 < team_id <= MAX_DATABASE_ID:
        abort(400, description=_("Choose a space to switch to."))
    access = team_access(team_id)
    accounts.switch_space(current_user, access.team)
    return redirect(url_for("teams.dashboard"))


def _provider_or_404(name: str):
    client = client_for(name)
    if client is None:
        abort(404)
    return PROVIDERS[name], client


def _refused(message: str):
    """No session survives a refused login: drop whatever the attempt left behind."""
    logout_user()
    session.clear()
    flash(message, "error")
    return redirect(url_for("auth.login"))


def _refusal_message(spec: Provider, error: Exception) -> str:
    label = spec.label
    if isinstance(error, MismatchingStateError):
        return _("That login attempt expired or was started in another window. Please try again.")
    if isinstance(error, OAuthError):
        if error.error == "access_denied":
            return _("You cancelled the login at %(provider)s.", provider=label)
        log.warning("%s refused the login: %s %s", label, error.error, error.description)
        return _(
            "%(provider)s did not complete the login (%(error)s). Please try again.", provider=label, error=error.error
        )
    if isinstance(error, requests.RequestException):
        log.warning("login provider %s unreachable", spec.name, exc_info=True)
        return _("%(provider)s could not be reached. Please try again in a moment.", provider=label)
    log.warning("%s id_token refused: %r", label, error)
    return str(_token_problem(spec, error)) % {"provider": label, "claim": getattr(error, "claim", "")}


def _token_problem(spec: Provider, error: Exception) -> str:
    """Why the sign-in token was refused, as a whole sentence with %(provider)s (and %(claim)s) to fill in."""
    if isinstance(error, ClaimError) and error.claim == "iss":
        return spec.issuer_problem
    if isinstance(error, BadSignatureError):
        return _(
            "Login with %(provider)s was refused: the sign-in token is not signed by a key the provider publishes. "
            "Please try again."
        )
    if isinstance(error, ExpiredTokenError):
        return CLAIM_PROBLEMS["exp"]
    if isinstance(error, ClaimError):
        return CLAIM_PROBLEMS.get(
            error.claim,
            _(
                "Login with %(provider)s was refused: the sign-in token has an invalid '%(claim)s' claim. Please try again."
            ),
        )
    return _("Login with %(provider)s was refused: the sign-in token could not be verified. Please try again.")
