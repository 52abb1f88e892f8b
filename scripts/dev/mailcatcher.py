"""The demo's mail server: an SMTP server on localhost (aiosmtpd) that delivers nothing and keeps every message
it receives as a .eml file in a folder, where the portal's demo inbox page (/demo/mail) lists them.

`python -m scripts.dev.mailcatcher --port 1025 --dir instance/mail` (the demo launcher starts it).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class MailboxHandler:
    """Writes each message whole, under a name that sorts by arrival; a reader never sees half a file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server, session, envelope) -> str:
        name = f"{time.time_ns()}-{os.getpid()}.eml"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(self.directory / name)
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)

    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    controller = Controller(MailboxHandler(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail catcher on {args.host}:{args.port}, keeping messages in {args.dir}", flush=True)
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
