"""Friendly error pages: no stack trace ever reaches a browser."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("portal.errors")


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _csrf_error(error: CSRFError):
    message = _("The form expired or was sent from another site. Go back, reload the page and try again.")
    return render_template("errors/error.html", code=400, title=_("Form expired"), message=message), 400


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    titles = {
        400: _("Not accepted"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Not allowed"),
        429: _("Too many requests"),
    }
    title = titles.get(error.code, error.name)
    return render_template("errors/error.html", code=error.code, title=title, message=error.description), error.code


def _unexpected_error(error: Exception):
    log.exception("unhandled error")
    message = _("Something went wrong on our side. It has been logged; please try again in a moment.")
    try:
        return render_template("errors/error.html", code=500, title=_("Server error"), message=message), 500
    except Exception:  # the page itself failed (e.g. the database is down): still no stack trace
        log.exception("error page failed")
        return PLAIN_500, 500, {"Content-Type": "text/html; charset=utf-8"}


PLAIN_500 = "<!doctype html><title>Server error</title><h1>Server error</h1><p>Please try again in a moment.</p>"
