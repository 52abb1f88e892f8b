"""The legacy import page, shared by the team's Salesforce page (owners and admins) and the support console
(staff): upload the export and check it, see what will be created, confirm. The caller has loaded and authorized;
this validates, calls the carry-over service once, flashes and redirects."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SubmitField

from . import carryover
from .legacy import LegacyImportError


class LegacyImportForm(FlaskForm):
    file = FileField("Legacy settings file (JSON)")
    document = HiddenField()  # the checked file, carried to the confirmation
    check = SubmitField("Check the file")
    confirm = SubmitField("Import")


def legacy_import_page(*, team_id: int | None, done_url: str, breadcrumbs: list, scope_text: str):
    """GET: the upload form. POST "Check the file": what will be created, or each problem. POST "Import": import
    the checked file (checked again) in one transaction, or refuse it whole."""
    form = LegacyImportForm()
    planned, problems, document = None, (), ""
    if not form.validate_on_submit():
        problems = ("The form expired; choose the file again.",) if form.is_submitted() else ()
    elif form.confirm.data:
        try:
            entries = carryover.carry_over((form.document.data or "").encode("utf-8"), team_id)
        except LegacyImportError as refusal:
            problems = refusal.problems
        else:
            names = ", ".join(entry.calendar.name for entry in entries)
            flash(
                f"Imported {len(entries)} Salesforce integration{'s' if len(entries) != 1 else ''}: {names}.", "success"
            )
            return redirect(done_url)
    elif form.file.data is None:
        problems = ("Choose the legacy settings file (a JSON export) first.",)
    else:
        # One byte past the limit is enough for the checks to refuse a larger file without reading all of it.
        data = form.file.data.read(current_app.config["LEGACY_IMPORT_MAX_BYTES"] + 1)
        try:
            planned = carryover.plan_import(data, team_id)
        except LegacyImportError as refusal:
            problems = refusal.problems
        else:
            document = data.decode("utf-8")  # the checks accepted it, so it is UTF-8
    page = render_template(
        "integrations/legacy_import.html",
        form=form,
        planned=planned,
        problems=problems,
        document=document,
        carried_settings=carryover.CARRIED_SETTINGS,
        scope_text=scope_text,
        done_url=done_url,
        breadcrumbs=breadcrumbs,
    )
    return page, 422 if problems else 200
