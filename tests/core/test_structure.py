"""The structure's promises, checked on the source: one privacy choke point, one owner of the connection, one spelling of each verdict."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.support import REPO

PACKAGE = REPO / "src" / "repsight"


def modules() -> Iterator[tuple[str, ast.Module]]:
    """Yield each module of the package (its path from the package) with its syntax tree."""
    for path in sorted(PACKAGE.rglob("*.py")):
        yield str(path.relative_to(PACKAGE)), ast.parse(path.read_text(encoding="utf-8"))


def names_in(node: ast.AST) -> set[str]:
    """Return the names, attribute names and string keys an expression mentions."""
    found = set()
    for part in ast.walk(node):
        if isinstance(part, ast.Name):
            found.add(part.id)
        elif isinstance(part, ast.Attribute):
            found.add(part.attr)
        elif isinstance(part, ast.Constant) and isinstance(part.value, str):
            found.add(part.value)  # a key, as in thresholds["min_group_size"]
    return found


def test_only_privacy_compares_a_group_with_the_minimum_group_size() -> None:
    offenders = []
    for name, tree in modules():
        if name == "privacy.py":
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            # A count compared with a minimum; two minimums compared (a setting against another) are no group.
            minimums = [
                any("min_group" in n.lower() or "minimum" in n.lower() for n in names_in(side))
                for side in (node.left, *node.comparators)
            ]
            if any(minimums) and not all(minimums):
                offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


def test_only_the_store_uses_its_connection_and_no_module_writes_sql() -> None:
    sql = re.compile(
        r"\b(SELECT\b.*\bFROM|INSERT INTO|DELETE FROM|UPDATE \w+ SET|CREATE (TABLE|VIEW)|DROP (TABLE|VIEW)|COPY \(|SET \w+ =)"
    )
    reaching, writing = [], []
    for name, tree in modules():
        if name in ("store.py", "web/accounts.py"):  # the workspace store, and the dashboard's own accounts file (SQLite)
            continue
        for node in ast.walk(tree):
            is_store = isinstance(node, ast.Attribute) and node.attr == "backend"
            if is_store and isinstance(node.value, ast.Name) and node.value.id == "store":
                reaching.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Constant | ast.JoinedStr) and sql.search(text_of(node)):
                writing.append(f"{name}:{node.lineno}")
    # The DuckDB engine runs the metric expressions on the store's own connection, and says so.
    assert reaching == ["metrics/engine.py:" + str(_line_of(PACKAGE / "metrics" / "engine.py", "_Compute(store.backend"))]
    assert writing == []


def text_of(node: ast.Constant | ast.JoinedStr) -> str:
    """Return a string literal's text; an f-string's parts joined, each placeholder as "?"."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else ""
    return "".join(text_of(part) if isinstance(part, ast.Constant) else "?" for part in node.values)


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_each_verdict_is_spelled_once() -> None:
    verdicts = {"consistent", "segment-specific", "untested"}
    spelled = [
        f"{name}:{node.lineno}"
        for name, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in verdicts
    ]
    assert {place.split(":")[0] for place in spelled} == {"study/document.py"}


def test_no_route_checks_a_role_by_hand() -> None:
    for path in sorted((PACKAGE / "web").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"if not [\w.]*\.has\(", text), path
