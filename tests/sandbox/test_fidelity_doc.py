"""docs/sandbox-fidelity.md is kept honest: every row has a known status, every row that is not
"missing" names tests, and every named test exists (a test function, or a method of a test
class, in the named file)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "sandbox-fidelity.md"
STATUSES = {"faithful", "approximated", "missing"}


def rows(doc: Path):
    """(line number, cells) of every table row of ``doc``, headers and rules excluded."""
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells and cells[0] == "area":
            continue
        yield number, cells


def defined_tests(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    names.add(f"{node.name}::{item.name}")
    return names


def problems_of(doc: Path):
    problems = []
    found = list(rows(doc))
    if len(found) < 30:
        problems.append(f"only {len(found)} rows: the table lost its rows")
    for number, cells in found:
        if len(cells) != 5:
            problems.append(f"line {number}: {len(cells)} cells, expected 5 (area, behaviour, status, how, tests)")
            continue
        _, behaviour, status, how, tests = cells
        if status not in STATUSES:
            problems.append(f"line {number}: status {status!r} is not one of {sorted(STATUSES)}")
        if status == "approximated" and not how:
            problems.append(f"line {number}: an approximated behaviour says how")
        named = [t.strip() for t in tests.split(",") if t.strip()]
        if status != "missing" and not named:
            problems.append(f"line {number}: {behaviour[:60]!r} names no test")
        for test in named:
            file, _, name = test.partition("::")
            path = ROOT / file
            if not name or not path.is_file():
                problems.append(f"line {number}: {test!r}: no such test file")
            elif name not in defined_tests(path):
                problems.append(f"line {number}: {test!r}: no such test in {file}")
    return problems


def test_every_row_has_a_status_and_existing_tests():
    problems = problems_of(DOC)
    assert not problems, "docs/sandbox-fidelity.md:\n" + "\n".join(problems)


def test_the_checker_catches_what_it_should(tmp_path):
    """The check above can fail: a missing test, a row without tests, an unknown status."""
    doc = tmp_path / "fidelity.md"
    good = "tests/sandbox/test_fidelity_doc.py::test_every_row_has_a_status_and_existing_tests"
    doc.write_text("| area | behaviour | status | how | tests |\n|---|---|---|---|---|\n"
                   + f"| a | ok | faithful | | {good} |\n" * 30
                   + "| a | gone | faithful | | tests/sandbox/test_fidelity_doc.py::test_nope |\n"
                   + "| a | untested | approximated | somehow | |\n"
                   + f"| a | odd | roughly | | {good} |\n"
                   + "| a | absent | missing | | |\n", encoding="utf-8")
    problems = "\n".join(problems_of(doc))
    assert "test_nope" in problems and "'untested' names no test" in problems and "'roughly'" in problems
    assert "absent" not in problems
