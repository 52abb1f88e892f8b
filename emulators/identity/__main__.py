"""Run the identity emulator standalone: python -m emulators.identity --port 8001."""

from __future__ import annotations

import argparse

from .google import GoogleDialect
from .microsoft import MicrosoftDialect
from .provider import IdentityProvider
from .server import bind
from .settings import IdentitySettings


def parse_settings(argv: list[str] | None = None) -> IdentitySettings:
    defaults = IdentitySettings()
    parser = argparse.ArgumentParser(
        prog="python -m emulators.identity",
        description="OpenID Connect provider playing Google and Microsoft for development and tests.",
    )
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--public-url", help="base URL to publish instead of http://HOST:PORT")
    for name in ("google_client_id", "google_client_secret", "microsoft_client_id", "microsoft_client_secret"):
        parser.add_argument("--" + name.replace("_", "-"), default=getattr(defaults, name))
    parser.add_argument(
        "--redirect-uri",
        dest="redirect_uris",
        action="append",
        default=[],
        help="a non-loopback redirect URI to accept (repeatable); loopback http URIs are always accepted",
    )
    parser.add_argument("--default-tenant-id", default=defaults.default_tenant_id)
    args = vars(parser.parse_args(argv))
    args["redirect_uris"] = tuple(args["redirect_uris"])
    return IdentitySettings(**args)


def describe(provider: IdentityProvider) -> str:
    settings, base_url = provider.settings, provider.base_url
    google = GoogleDialect(base_url)
    microsoft = MicrosoftDialect(base_url, "common", settings.default_tenant_id)
    return "\n".join(
        [
            f"Identity emulator on {base_url}/",
            f"  Google discovery:    {google.discovery_url}",
            f"    client id/secret:  {settings.google_client_id} / {settings.google_client_secret}",
            f"  Microsoft discovery: {microsoft.discovery_url}",
            f"    client id/secret:  {settings.microsoft_client_id} / {settings.microsoft_client_secret}",
            f"  Test controls:       {base_url}/__emulator__/",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    settings = parse_settings(argv)
    server, provider = bind(settings)
    print(describe(provider), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
