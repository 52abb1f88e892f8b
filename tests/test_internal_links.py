"""Every link to one of our own pages is built with url_for (or portal.links.public_url for absolute ones), so a
route's path is written once, in its decorator. These tests fail when a hard-coded internal path comes back."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _route_segments(app) -> set[str]:
    """The first path segment of every route the app serves: "teams", "calendars", "book", "static", ..."""
    return {rule.rule.split("/")[1] for rule in app.url_map.iter_rules() if rule.rule.count("/") >= 1} - {""}


def _internal_path(text: str, segments: set[str]) -> bool:
    match = re.match(r"/([A-Za-z_-]+)(?:[/?]|$)", text)
    return match is not None and match.group(1) in segments


def _route_definitions(tree: ast.Module) -> set[int]:
    """ids of the string nodes that define routes: inside decorators, Blueprint(url_prefix=...), and module
    constants used in decorators (connect's PAGE)."""
    inside: set[int] = set()
    decorator_names: set[str] = set()
    for node in ast.walk(tree):
        for decorator in getattr(node, "decorator_list", []):
            inside |= {id(sub) for sub in ast.walk(decorator)}
            decorator_names |= {sub.id for sub in ast.walk(decorator) if isinstance(sub, ast.Name)}
        if isinstance(node, ast.keyword) and node.arg == "url_prefix":
            inside |= {id(sub) for sub in ast.walk(node)}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in decorator_names for target in node.targets
        ):
            inside |= {id(sub) for sub in ast.walk(node)}
    return inside


def hard_coded_paths_in_python(source: str, segments: set[str]) -> list[str]:
    tree = ast.parse(source)
    skip = _route_definitions(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _internal_path(node.value, segments):
            found.append(f"line {node.lineno}: {node.value!r}")
        if isinstance(node, ast.JoinedStr) and node.values:  # an f-string building a path: f"/teams/{id}/..."
            skip |= {id(part) for part in node.values}  # judged as a whole, not piece by piece
            head = node.values[0]
            if isinstance(head, ast.Constant) and _internal_path(str(head.value), segments):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def hard_coded_paths_in_template(text: str, segments: set[str]) -> list[str]:
    """A quoted value starting with one of our paths: href="/teams/{{ team.id }}", action='/logout', ..."""
    return [
        f"line {text.count(chr(10), 0, match.start()) + 1}: {match.group(0)}"
        for match in re.finditer(r"""["'](/[^"'\s]*)""", text)
        if _internal_path(match.group(1), segments)
    ]


def test_the_checks_recognise_hard_coded_paths(app):
    """The checks below find the shapes that used to be in the code (so they can fail)."""
    segments = _route_segments(app)
    assert {"teams", "calendars", "book", "login"} <= segments
    python = 'PAGE = "/teams/<int:team_id>"\n@bp.get(PAGE)\ndef page():\n    return f"/teams/{team.id}/calendars"\n'
    assert hard_coded_paths_in_python(python, segments) == ["line 4: f'/teams/{team.id}/calendars'"]
    assert hard_coded_paths_in_python('link = "/book/acme?tz=UTC"', segments)
    assert not hard_coded_paths_in_python('path = "/services/data/v62.0/composite"', segments)
    template = '<a href="{{ url_for(\'teams.dashboard\') }}">x</a>\n<a href="/teams/{{ team.id }}/calendars">y</a>'
    assert hard_coded_paths_in_template(template, segments) == ['line 2: "/teams/{{']


def test_no_hard_coded_internal_paths_in_python(app):
    segments = _route_segments(app)
    found = {
        str(path.relative_to(ROOT)): hits
        for folder in ("portal", "jobs")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (hits := hard_coded_paths_in_python(path.read_text(), segments))
    }
    assert found == {}, "use url_for / portal.links.public_url instead"


def test_no_hard_coded_internal_paths_in_templates_or_scripts(app):
    segments = _route_segments(app)
    found = {
        str(path.relative_to(ROOT)): hits
        for path in sorted([*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.js")])
        if (hits := hard_coded_paths_in_template(path.read_text(), segments))
    }
    assert found == {}, "use url_for in templates; pass URLs to scripts in data- attributes"
