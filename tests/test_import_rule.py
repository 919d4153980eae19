"""Style habit 9: Streamlit is imported only by chessapp/ui/ and chessapp/app.py.

Everything else in chessapp/ must run (and be tested) without a browser, so a
Streamlit import anywhere else is a design error this test names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chessapp"


def streamlit_imports(source: str) -> list[int]:
    """Line numbers of every ``import streamlit...`` / ``from streamlit... import``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
            lines.append(node.lineno)
    return lines


def allowed(path: Path) -> bool:
    return path == PACKAGE / "app.py" or (PACKAGE / "ui") in path.parents


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("import streamlit as st\n", [1], id="import"),
    pytest.param("import os\nfrom streamlit.testing.v1 import AppTest\n", [2], id="from submodule"),
    pytest.param("def f():\n    import streamlit\n", [2], id="inside a function"),
    pytest.param("import streamlit_extras\nimport chess\n", [], id="another package"),
    pytest.param("from . import streamlit\n", [], id="relative import of a sibling"),
])
def test_detector(source: str, expected: list[int]) -> None:
    assert streamlit_imports(source) == expected


def test_streamlit_only_in_ui_and_app() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "replay.py" in modules  # the walk really sees the package
    offenders = [f"{p.relative_to(PACKAGE.parent)}:{line}"
                 for p in modules if not allowed(p)
                 for line in streamlit_imports(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_ui_really_imports_streamlit() -> None:
    """The rule is not vacuous: the allowed places do import it."""
    assert streamlit_imports((PACKAGE / "app.py").read_text(encoding="utf-8"))
    assert streamlit_imports((PACKAGE / "ui" / "widgets.py").read_text(encoding="utf-8"))
