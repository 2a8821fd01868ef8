"""The house rules that keep every domain on one plan, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import ticaret

SRC = Path(ticaret.__file__).parent
STATEMENTS = {"select", "insert", "update", "delete"}


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (path.relative_to(SRC).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(SRC.rglob("*.py"))
    ]


def _may_build_sql(module: str) -> bool:
    first = module.split("/")[0]
    return first in {"core", "models"} or "repository" in module


def test_sql_statements_live_in_repositories() -> None:
    offenders = set()
    for module, tree in _modules():
        if _may_build_sql(module):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("sqlalchemy")
                and STATEMENTS & {alias.name for alias in node.names}
            ):
                offenders.add(module)
    assert offenders == set(), sorted(offenders)


def test_error_codes_are_fixed_on_error_classes() -> None:
    offenders = []
    for module, tree in _modules():
        if module.startswith("core/"):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call)
                and any(keyword.arg == "code" for keyword in node.exc.keywords)
            ):
                offenders.append(f"{module}:{node.lineno}")
    assert offenders == [], offenders


def test_jobs_are_queued_through_their_declaration() -> None:
    # `Job.enqueue` / `after_commit` type-check the arguments; a bare name would not.
    offenders = []
    for module, tree in _modules():
        if module == "core/jobs.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "enqueue_job":
                offenders.append(f"{module}:{node.lineno}")
    assert offenders == [], offenders
