"""Login with Google or Microsoft (OpenID Connect, authorization code flow), logout and the space switcher.

A refused login (a token that fails validation, a cancelled consent, an unreachable provider) comes back to
the login page with a message and no session; it never ends in an error page.
"""

from __future__ import annotations

import logging

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

from ..access import team_access
from ..links import public_url
from ..models import MAX_DATABASE_ID
from ..ratelimit import rate_limited
from ..security import safe_next
from . import accounts, bp
from .accounts import LoginRefused, sign_in
from .providers import PROVIDERS, Provider, client_for

log = logging.getLogger("portal.auth")

NEXT_KEY = "login_next"
# What a provider round trip can fail with: an OAuth error, a token failing validation, the network.
LOGIN_FAILURES = (OAuthError, JoseError, requests.RequestException, ValueError)
# Why a token was refused, by the claim that failed, in words a person can act on.
CLAIM_PROBLEMS = {
    "aud": "was issued to another application",
    "nonce": "does not belong to this login attempt",
    "sub": "does not name an account",
    "azp": "was issued to another application",
    "exp": "has expired",
    "iat": "has an impossible issue time",
    "nbf": "is not valid yet",
    "at_hash": "does not match its access token",
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
        return _refused(f"{spec.label} could not be reached. Please try again in a moment.")


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
        return _refused(f"{spec.label} did not send an ID token, so we cannot tell who you are.")
    try:
        signed_in = sign_in(spec.read(claims))
    except LoginRefused as refusal:
        return _refused(str(refusal))
    target = session.get(NEXT_KEY, "")
    session.clear()  # a fresh session for the signed-in user: nothing from before login carries over
    login_user(signed_in.user)
    for team in signed_in.joined:
        flash(f"You have joined {team.name}.", "success")
    return redirect(safe_next(target, default=url_for("teams.dashboard")))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)  # a copy of this session's cookie must not outlive the logout
    logout_user()
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("home.index"))


@bp.post("/space")
@login_required
def switch_space():
    team_id = request.form.get("team_id", type=int)
    if team_id is None or not 0 < team_id <= MAX_DATABASE_ID:
        abort(400, description="Choose a space to switch to.")
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
        return "That login attempt expired or was started in another window. Please try again."
    if isinstance(error, OAuthError):
        if error.error == "access_denied":
            return f"You cancelled the login at {label}."
        log.warning("%s refused the login: %s %s", label, error.error, error.description)
        return f"{label} did not complete the login ({error.error}). Please try again."
    if isinstance(error, requests.RequestException):
        log.warning("login provider %s unreachable", spec.name, exc_info=True)
        return f"{label} could not be reached. Please try again in a moment."
    log.warning("%s id_token refused: %r", label, error)
    return f"Login with {label} was refused: the sign-in token {_token_problem(spec, error)}. Please try again."


def _token_problem(spec: Provider, error: Exception) -> str:
    if isinstance(error, ClaimError) and error.claim == "iss":
        return spec.issuer_problem
    if isinstance(error, BadSignatureError):
        return "is not signed by a key the provider publishes"
    if isinstance(error, ExpiredTokenError):
        return "has expired"
    if isinstance(error, ClaimError):
        return CLAIM_PROBLEMS.get(error.claim, f"has an invalid '{error.claim}' claim")
    return "could not be verified"
