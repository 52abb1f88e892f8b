"""Security headers (design §9), https-only cookies and HSTS when served over https, and the safe handling of
`next` redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)


HSTS = "max-age=31536000; includeSubDomains"  # a year: browsers then never try plain http for the portal
NO_STORE = "no-store"  # pages carry names, e-mails and CSRF tokens: no browser or proxy may keep a copy


def init_app(app: Flask) -> None:
    if served_over_https(app):
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    app.session_interface = HttpsAwareSessionInterface()
    app.after_request(add_security_headers)


def served_over_https(app: Flask) -> bool:
    return app.config.get("PUBLIC_BASE_URL", "").startswith("https://")


def over_https() -> bool:
    """This request came over https: directly, or through a TLS proxy that ProxyFix (PROXY_FIX_HOPS) trusts."""
    return has_request_context() and request.is_secure


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over https, even if nobody configured it so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or over_https()


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if over_https() or served_over_https(current_app):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":  # stylesheets and scripts may be cached; every page may hold personal data
        response.headers.setdefault("Cache-Control", NO_STORE)
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Only our own absolute paths may be redirect targets; anything else (//evil, http://…, \\) is refused."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
