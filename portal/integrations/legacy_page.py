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

DEFAULT_MAX_BYTES = 1_000_000  # the most read from an upload when the app sets no LEGACY_IMPORT_MAX_BYTES


class LegacyImportForm(FlaskForm):
    file = FileField("Legacy settings file (JSON)")
    document = HiddenField()  # the checked file, carried to the confirmation
    check = SubmitField("Check the file")
    confirm = SubmitField("Import")


def legacy_import_page(*, team_id: int | None, done_url: str, breadcrumbs: list, scope_text: str):
    """GET: the upload form. POST "Check the file": what will be created, or each problem. POST "Import": import
    the checked file in one transaction, or refuse it whole."""
    form = LegacyImportForm()
    planned, problem, document = None, "", ""
    if form.validate_on_submit():
        document, problem = _submitted(form)
        if problem or not document:
            problem = problem or "Choose the legacy settings file (a JSON export) first."
        elif form.confirm.data:
            try:
                entries = carryover.carry_over(document.encode("utf-8"), team_id)
            except LegacyImportError as refusal:
                problem = str(refusal)
            else:
                names = ", ".join(entry.calendar.name for entry in entries)
                flash(
                    f"Imported {len(entries)} Salesforce integration{'s' if len(entries) != 1 else ''}: {names}.",
                    "success",
                )
                return redirect(done_url)
        else:
            try:
                planned = carryover.plan_import(document.encode("utf-8"), team_id)
            except LegacyImportError as refusal:
                problem = str(refusal)
    elif form.is_submitted():
        problem = "The form expired; choose the file again."
    page = render_template(
        "integrations/legacy_import.html",
        form=form,
        planned=planned,
        problem=problem,
        document=document,
        carried_settings=carryover.CARRIED_SETTINGS,
        scope_text=scope_text,
        done_url=done_url,
        breadcrumbs=breadcrumbs,
    )
    return page, 422 if problem else 200


def _submitted(form: LegacyImportForm) -> tuple[str, str]:
    """The file's text and why it cannot be read ("" when it can): the upload on "Check the file", the checked
    text on "Import" (checked again there)."""
    if form.confirm.data:
        return form.document.data or "", ""
    upload = form.file.data
    if upload is None:
        return "", "Choose the legacy settings file (a JSON export) first."
    limit = current_app.config.get("LEGACY_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)
    data = upload.read(limit + 1)  # one byte past the limit is enough to refuse a larger file
    if len(data) > limit:
        return "", f"The file is larger than {limit:,} bytes, the most accepted; split it into smaller files."
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        return "", "The file is not UTF-8 text; export it again as UTF-8 JSON."
