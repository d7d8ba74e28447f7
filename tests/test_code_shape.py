"""The code stays small enough to read: no module over about 400 lines, no view over about 25 (STYLE.md)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["organiser_portal", "guests", "orders", "tickets", "notifications", "demo", "bench", "scripts"]
MODULE_LINES = 400
VIEW_LINES = 25
# The modules whose public functions answer requests.
VIEW_MODULES = {"views.py", "refund_views.py", "api.py", "webhooks.py"}


def _modules() -> list[Path]:
    return sorted(
        path for package in PACKAGES for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts
    )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_at_most_about_400_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it where it has two subjects"


def _views() -> list[tuple[str, int]]:
    found = []
    for path in _modules():
        if path.name not in VIEW_MODULES:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                found.append(
                    (f"{path.relative_to(ROOT)}:{node.name}", (node.end_lineno or node.lineno) - node.lineno + 1)
                )
    return found


@pytest.mark.parametrize(("view", "lines"), _views(), ids=[v for v, _ in _views()])
def test_view_is_at_most_about_25_lines(view, lines):
    assert lines <= VIEW_LINES, f"{view} has {lines} lines: move the work into a form, selector or service"
