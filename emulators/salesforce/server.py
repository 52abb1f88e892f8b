"""Builds one Flask app per listener (production, sandbox and My Domain login hosts, the instance
host) over a shared Org, and serves them on 127.0.0.1 with threaded Werkzeug servers.
"""

import re
import threading

from flask import Flask, abort, redirect
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from emulators.salesforce import control_api, oauth, rest
from emulators.salesforce.middleware import EmulatorMiddleware
from emulators.salesforce.org import Org

LISTENERS = ("production", "sandbox", "mydomain", "instance")
RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


class QuietRequestHandler(WSGIRequestHandler):
    """The request log lives in the control API; stderr stays readable."""

    def log_request(self, *args, **kwargs) -> None:
        pass


def create_listener_app(org: Org, listener: str) -> Flask:
    app = Flask(f"salesforce_emulator_{listener}")
    app.config.update(ORG=org, LISTENER=listener, KIND="instance" if listener == "instance" else "login")
    app.json.sort_keys = False
    app.register_blueprint(oauth.blueprint)
    app.register_blueprint(control_api.blueprint)
    if listener == "instance":
        app.register_blueprint(rest.blueprint)
        app.add_url_rule("/<record_id>", "record_link", _record_link)
    app.wsgi_app = EmulatorMiddleware(app.wsgi_app, org, listener)
    return app


def _record_link(record_id: str):
    """instance_url/<id> opens a record in Salesforce's UI; here, its row on the records page."""
    if not RECORD_ID.fullmatch(record_id):
        abort(404)
    return redirect(f"/__emulator__/records#{record_id}")


class Listeners:
    """The four servers of one emulated org; ``ports`` maps listener name to its port."""

    def __init__(self, org: Org, base_port: int = 0, host: str = "127.0.0.1") -> None:
        self.org = org
        self.servers: dict[str, BaseWSGIServer] = {}
        for offset, name in enumerate(LISTENERS):
            port = base_port + offset if base_port else 0
            app = create_listener_app(org, name)
            self.servers[name] = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
            org.urls[name] = f"http://{host}:{self.servers[name].server_port}"
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for name, server in self.servers.items():
            thread = threading.Thread(target=server.serve_forever, name=f"salesforce-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
