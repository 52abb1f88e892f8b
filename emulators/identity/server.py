"""Serve the emulator on a threaded Werkzeug server, in the foreground or in a background thread."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_app
from .google import GoogleDialect
from .microsoft import MicrosoftDialect
from .provider import IdentityProvider
from .settings import IdentitySettings


class QuietRequestHandler(WSGIRequestHandler):
    """Leaves out the per-request access log (errors are still logged): tests read their own results."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def bind(
    settings: IdentitySettings, request_handler: type[WSGIRequestHandler] | None = None
) -> tuple[BaseWSGIServer, IdentityProvider]:
    """Bind the port first: with port 0 the URLs (and so the issuers) are known only afterwards."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.create_server((settings.host, settings.port), family=family) as listener:
        port = listener.getsockname()[1]
        bound = replace(settings, port=port)
        provider = IdentityProvider(bound, bound.base_url(port))
        # The server duplicates the listening descriptor, so closing ours afterwards is right.
        server = make_server(
            settings.host,
            port,
            create_app(provider),
            threaded=True,
            request_handler=request_handler,
            fd=listener.fileno(),
        )
    return server, provider


class RunningIdentity:
    """An emulator serving in a background thread; use as a context manager or call stop()."""

    def __init__(self, server: BaseWSGIServer, provider: IdentityProvider) -> None:
        self.provider = provider
        self.url = provider.base_url
        self.google_discovery_url = GoogleDialect(self.url).discovery_url
        tenant = provider.settings.default_tenant_id
        self.microsoft_discovery_url = MicrosoftDialect(self.url, "common", tenant).discovery_url
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="identity-emulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RunningIdentity:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
