"""Start a benchmark from its executable wrapper (bench/<name>): re-run under the project's .venv when needed,
then call bench.<name>.main(). Standard library only, because it runs before the virtualenv is active."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(name: str) -> None:
    venv_python = ROOT / ".venv" / "bin" / "python"
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        if not venv_python.exists():
            sys.exit("No .venv here: run scripts/setup --dev first (see README.md).")
        os.execv(str(venv_python), [str(venv_python), sys.argv[0], *sys.argv[1:]])
    importlib.import_module(f"bench.{name}").main()
