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
    assert PACKAGE / "view" / "replay.py" in modules  # the walk really sees subpackages
    offenders = [f"{p.relative_to(PACKAGE.parent)}:{line}"
                 for p in modules if not allowed(p)
                 for line in streamlit_imports(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_ui_really_imports_streamlit() -> None:
    """The rule is not vacuous: the allowed places do import it."""
    assert streamlit_imports((PACKAGE / "app.py").read_text(encoding="utf-8"))
    assert streamlit_imports((PACKAGE / "ui" / "widgets.py").read_text(encoding="utf-8"))


# --- Layers: nothing imports upwards (docs/architecture.md) -----------------------------------

#: Each layer may import the ones below it, never one above.
LAYERS = ("core", "view", "ui")


def layer_of_module(module: str) -> str:
    if module == "chessapp.app" or module.startswith("chessapp.ui"):
        return "ui"
    if module.startswith("chessapp.view"):
        return "view"
    return "core"


def chessapp_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import of a ``chessapp`` module, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("chessapp")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "chessapp":  # from chessapp import view
                found += [(node.lineno, f"chessapp.{a.name}") for a in node.names]
            elif node.module.startswith("chessapp."):
                found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize(("module", "layer"), [
    pytest.param("chessapp.tree", "core", id="core"),
    pytest.param("chessapp.story.claims", "core", id="core subpackage"),
    pytest.param("chessapp.view.analysis", "view", id="view"),
    pytest.param("chessapp.ui.widgets", "ui", id="ui"),
    pytest.param("chessapp.app", "ui", id="the entry point"),
])
def test_layer_of_module(module: str, layer: str) -> None:
    assert layer_of_module(module) == layer


def test_detector_sees_every_form_of_import() -> None:
    source = ("import chessapp.view.cafe\nfrom chessapp import ui\n"
              "def f():\n    from chessapp.ui.state import X\nimport chess\n")
    assert chessapp_imports(source) == [(1, "chessapp.view.cafe"), (2, "chessapp.ui"),
                                        (4, "chessapp.ui.state")]


def test_no_module_imports_a_layer_above_its_own() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(p for p in rel.parts if p != "__init__")
        own = LAYERS.index(layer_of_module(module))
        for line, imported in chessapp_imports(path.read_text(encoding="utf-8")):
            if LAYERS.index(layer_of_module(imported)) > own:
                offenders.append(f"{rel}:{line} imports {imported}")
    assert offenders == []


def test_no_any_in_the_page_state() -> None:
    """What crosses the UI seam is typed: the state accessors never hand out ``Any``."""
    source = (PACKAGE / "ui" / "state.py").read_text(encoding="utf-8")
    assert "Any" not in {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
