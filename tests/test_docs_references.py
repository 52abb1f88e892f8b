"""Every "design §N" cited in the code names a section that docs/design.md has, so no reference dangles."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DESIGN = REPO / "docs" / "design.md"
CITING_FOLDERS = ("portal", "jobs", "scripts", "emulators", "tests")
# "design §5" and "design §5, §8" (one citation naming several sections).
CITATION = re.compile(r"design (§\d+(?:\s*(?:,|and)\s*§\d+)*)")
SECTION_NUMBER = re.compile(r"§(\d+)")


def citations() -> list[tuple[str, int]]:
    """(file:line, section) for every section cited in the code and the tests."""
    found = []
    for folder in CITING_FOLDERS:
        for path in sorted((REPO / folder).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # not a text file
            for number, line in enumerate(text.splitlines(), start=1):
                for citation in CITATION.finditer(line):
                    for section in SECTION_NUMBER.findall(citation.group(1)):
                        found.append((f"{path.relative_to(REPO)}:{number}", int(section)))
    return found


def design_sections() -> set[int]:
    return {int(n) for n in re.findall(r"^## (\d+)\. ", DESIGN.read_text(encoding="utf-8"), flags=re.MULTILINE)}


def test_the_code_cites_the_design_document():
    assert len(citations()) >= 10, "the citation pattern no longer finds the code's design references"


@pytest.mark.parametrize("where, section", citations())
def test_every_cited_design_section_exists(where, section):
    assert section in design_sections(), f'{where} cites design §{section}, but docs/design.md has no "## {section}."'


def test_the_citation_pattern_reads_several_sections_in_one_citation():
    line = "The sync planner (design §5, §8): pure functions"
    assert [SECTION_NUMBER.findall(m.group(1)) for m in CITATION.finditer(line)] == [["5", "8"]]
