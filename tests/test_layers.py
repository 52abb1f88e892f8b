"""The import contracts in pyproject.toml hold, and they bite: a forbidden import added to a copy of the code
breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_import_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("portal/planner/plan.py", "import flask", "The planner is pure"),
        ("portal/planner/values.py", "from portal.models import Booking", "The planner is pure"),
        ("portal/sync/service.py", "from portal.calendars import booking", "Layers"),
        ("portal/salesforce/client.py", "from portal.sync import schedule", "Layers"),
        ("portal/models/sync.py", "from portal.sync_errors import queries", "Models are the bottom"),
        ("portal/sync/schedule.py", "import requests", "HTTP to Salesforce only"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, contract):
    shutil.copytree(ROOT / "portal", tmp_path / "portal", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # added by the test\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken = [text for text in result.stdout.splitlines() if text.endswith("BROKEN")]
    assert any(contract in text for text in broken) or contract in result.stdout.split("Broken contracts")[-1]


PAGES_AND_ENTRY_POINTS = sorted(
    [*ROOT.glob("portal/**/views.py"), *ROOT.glob("portal/**/forms.py"), ROOT / "portal/calendars/public.py"]
    + [ROOT / "portal/home.py", ROOT / "portal/health.py", ROOT / "portal/cli.py", *ROOT.glob("jobs/*.py")]
)


@pytest.mark.parametrize("path", PAGES_AND_ENTRY_POINTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_only_services_commit(path):
    """The transaction rule (docs/architecture.md): a service function is one unit of work and commits;
    pages, forms, CLI commands and jobs call services and never commit."""
    assert ".commit(" not in path.read_text()
