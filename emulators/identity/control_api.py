"""The emulator's test controls under /__emulator__/: reset, and faults for the next id_token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from .dialect import Dialect
from .faults import Fault
from .google import GoogleDialect
from .microsoft import MicrosoftDialect
from .provider import PROVIDER_NAMES, IdentityProvider

bp = Blueprint("emulator_control", __name__, url_prefix="/__emulator__")


def provider() -> IdentityProvider:
    return current_app.extensions["identity_provider"]


def dialects() -> dict[str, Dialect]:
    state = provider()
    return {
        "google": GoogleDialect(state.base_url),
        "microsoft": MicrosoftDialect(state.base_url, "common", state.settings.default_tenant_id),
    }


@bp.get("/")
def overview() -> Response:
    state = provider()
    summary: dict[str, Any] = {}
    for name, dialect in dialects().items():
        summary[name] = {
            "discovery_url": dialect.discovery_url,
            "issuer": dialect.issuer,
            "client_id": state.client(name).client_id,
            "faults": sorted(fault.value for fault in dialect.faults),
        }
    summary["pending_faults"] = state.pending_faults()
    return jsonify(summary)


@bp.post("/reset")
def reset() -> Response:
    provider().reset()
    return jsonify({"reset": True})


@bp.get("/faults")
def pending_faults() -> Response:
    return jsonify(provider().pending_faults())


@bp.post("/faults")
def queue_fault() -> tuple[Response, int]:
    """Body {"provider": "google"|"microsoft", "fault": <name>}: the next id_token that provider issues gets it."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return control_error('Send a JSON object like {"provider": "google", "fault": "expired"}.')
    name, fault_name = body.get("provider"), body.get("fault")
    if name not in PROVIDER_NAMES:
        return control_error(f"provider must be one of: {', '.join(PROVIDER_NAMES)}.")
    dialect = dialects()[name]
    allowed = sorted(fault.value for fault in dialect.faults)
    if fault_name not in allowed:
        return control_error(f"fault for {name} must be one of: {', '.join(allowed)}.")
    provider().queue_fault(name, Fault(fault_name))
    return jsonify(provider().pending_faults()), 201


def control_error(description: str) -> tuple[Response, int]:
    return jsonify({"error": "invalid_request", "error_description": description}), 400
