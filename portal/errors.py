"""Friendly error pages: no stack trace ever reaches a browser."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("portal.errors")


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _csrf_error(error: CSRFError):
    message = "The form expired or was sent from another site. Go back, reload the page and try again."
    return render_template("errors/error.html", code=400, title="Form expired", message=message), 400


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    title, default_message = PAGES.get(error.code, (error.name, error.description))
    # A view that aborts with its own description says something specific; Werkzeug's default texts do not.
    message = default_message if error.description == type(error).description else error.description
    return render_template("errors/error.html", code=error.code, title=title, message=message), error.code


# Each error page's title and message in the product's words, when the view gave no message of its own.
PAGES = {
    400: ("Not accepted", "Something in the request could not be used. Go back, check what you entered and try again."),
    403: (
        "Not allowed",
        "Your role in this team does not let you do this. An owner or admin of the team can do it, or change your "
        "role.",
    ),
    404: (
        "Not found",
        "This page does not exist, or it belongs to a team you are not a member of. Check the address, or switch "
        "to the right team.",
    ),
    405: ("Not allowed", "This page cannot be used that way. Go back and use the page's buttons."),
    413: ("Too large", "What you sent is too large. Send less at a time."),
    429: ("Too many requests", "Too many tries in a short time. Wait a minute and try again."),
    503: ("Not available", "This part of the portal is not available right now. Try again in a moment."),
}


def _unexpected_error(error: Exception):
    log.exception("unhandled error")
    message = "Something went wrong on our side. We have been told; please try again in a moment."
    try:
        return render_template("errors/error.html", code=500, title="Something went wrong", message=message), 500
    except Exception:  # the page itself failed (e.g. the database is down): still no stack trace
        log.exception("error page failed")
        return PLAIN_500, 500, {"Content-Type": "text/html; charset=utf-8"}


PLAIN_500 = (
    "<!doctype html><title>Something went wrong</title><h1>Something went wrong</h1>"
    "<p>Something went wrong on our side. Please try again in a moment.</p>"
)
