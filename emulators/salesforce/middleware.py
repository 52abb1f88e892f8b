"""WSGI layer in front of every listener: request log, latency and transport-level faults.

Control API requests pass straight through so tests can always observe and repair the emulator.
"""

import io
import json
import socket
import time

from emulators.salesforce import faults
from emulators.salesforce.org import Org

CONTROL_PREFIX = "/__emulator__"


class EmulatorMiddleware:
    def __init__(self, app, org: Org, listener: str) -> None:
        self.app = app
        self.org = org
        self.listener = listener

    def __call__(self, environ: dict, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self.app(environ, start_response)
        body = _read_body(environ)
        entry = self.org.start_log_entry(
            environ["REQUEST_METHOD"],
            path,
            environ.get("QUERY_STRING", ""),
            self.listener,
            environ.get("HTTP_HOST", ""),
            body.decode("utf-8", errors="replace"),
        )
        answer_at = time.monotonic() + self.org.settings["latency_ms"] / 1000
        with self.org.lock:
            fault = faults.take(
                self.org.faults,
                faults.TRANSPORT_FAULTS,
                environ["REQUEST_METHOD"],
                [path, *_subrequest_urls(path, body)],
                self.org.random,
            )
        entry.fault = fault
        if fault == faults.DROP_CONNECTION:
            _wait_until(answer_at)
            _drop(environ)
        if fault == faults.SERVICE_UNAVAILABLE:
            _wait_until(answer_at)
            return _respond(
                start_response, entry, 503, "text/html;charset=UTF-8", faults.SERVICE_UNAVAILABLE_PAGE.encode()
            )
        if fault == faults.UNKNOWN_EXCEPTION:
            _wait_until(answer_at)
            payload = json.dumps(faults.UNKNOWN_EXCEPTION_BODY).encode()
            return _respond(start_response, entry, 500, "application/json;charset=UTF-8", payload)
        return self._serve(environ, start_response, entry, answer_at, drop_after=fault == faults.DROP_AFTER_COMMIT)

    def _serve(self, environ: dict, start_response, entry, answer_at: float, drop_after: bool):
        captured: dict = {}

        def capture(status: str, headers: list, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            if not drop_after:
                return start_response(status, headers, exc_info)
            return lambda data: None

        chunks = list(self.app(environ, capture))  # run to completion: the work is committed here
        _wait_until(answer_at)  # the response leaves after its latency, its processing included (as an org's would)
        entry.status = int(captured["status"].split()[0])
        entry.api_call = bool(environ.get("emulator.api_call"))
        if drop_after:
            _drop(environ)
        return chunks


def _wait_until(moment: float) -> None:
    """The configured latency is the time from the request's arrival to its answer; processing that took longer
    is not cut short."""
    remaining = moment - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


def _subrequest_urls(path: str, body: bytes) -> list[str]:
    """A Composite request's subrequest URLs, so a fault rule can aim at the write rather than the read."""
    if not path.rstrip("/").endswith("/composite"):
        return []
    try:
        subrequests = json.loads(body or b"{}").get("compositeRequest") or []
        return [str(sub.get("url", "")) for sub in subrequests if isinstance(sub, dict)]
    except (ValueError, AttributeError):
        return []


def _read_body(environ: dict) -> bytes:
    """Read the body once and put it back, so the log and the app both see it."""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        body = environ["wsgi.input"].read(int(length))
    else:  # chunked: the server marks the stream as terminated so it can be read to the end
        body = environ["wsgi.input"].read() if environ.get("wsgi.input_terminated") else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _respond(start_response, entry, status: int, content_type: str, payload: bytes):
    entry.status = status
    reason = {500: "Server Error", 503: "Service Unavailable"}[status]
    start_response(f"{status} {reason}", [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
    return [payload]


def _drop(environ: dict) -> None:
    """End the client's connection without an HTTP response, as a failing proxy or network would."""
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        # shutdown() rather than close(): the handler's file objects keep the descriptor open otherwise.
        connection.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("connection dropped by fault injection")
