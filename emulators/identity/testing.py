"""Start the identity emulator in-process for tests and scripts."""

from __future__ import annotations

from typing import Any

from .server import QuietRequestHandler, RunningIdentity, bind
from .settings import IdentitySettings

__all__ = ["RunningIdentity", "start_identity"]


def start_identity(port: int = 0, **settings: Any) -> RunningIdentity:
    """Serve on 127.0.0.1:port (0: any free port) in a background thread; settings as IdentitySettings."""
    if "redirect_uris" in settings:
        settings["redirect_uris"] = tuple(settings["redirect_uris"])
    server, provider = bind(IdentitySettings(port=port, **settings), QuietRequestHandler)
    return RunningIdentity(server, provider)
