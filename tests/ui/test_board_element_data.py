"""The board element's Python side: what it sends, what it accepts back, what it ships."""

from __future__ import annotations

import re
from pathlib import Path

import chess
from streamlit.testing.v1 import AppTest

from chessapp.ui.board_element import (
    REPORT_DEBOUNCE_MS,
    board_data,
    element_css,
    element_js,
    reported_path,
)
from chessapp.view.board import tree_payload
from chessapp.view.board_edits import read_pgn

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "chessapp" / "ui" / "board" / "vendor" / "chessground"


def test_board_data_is_what_the_javascript_reads() -> None:
    tree = tree_payload(read_pgn("1. e4 e5 *"))
    data = board_data(tree, cursor=(0, 0), cursor_seq=3, orientation=chess.BLACK,
                      movable=True, autoplay=True, copied_pgn="1. e4 *", copied_seq=2)
    assert data == {
        "tree": tree, "cursor": {"path": "0.0", "seq": 3}, "orientation": "black",
        "orientationSeq": 0, "movable": True, "drawable": True, "autoplay": True,
        "autoplayMs": 1500, "showBest": False, "showBestSeq": 0,
        "copied": {"pgn": "1. e4 *", "seq": 2}, "label": "Board",
        "debounceMs": REPORT_DEBOUNCE_MS,
    }
    assert board_data(tree)["copied"] is None


def test_reported_path_drops_what_is_not_a_path() -> None:
    assert reported_path("0.1.0") == (0, 1, 0)
    assert reported_path("") == ()
    assert reported_path(None) is None
    assert reported_path(["0"]) is None
    assert reported_path("0;alert(1)") is None


def test_the_element_ships_chessground_inline_and_fetches_nothing() -> None:
    js, css = element_js(), element_css()
    assert js.startswith("/* @lichess-org/chessground 10.4.1, GPL-3.0-or-later")
    assert js.count("export default function") == 1
    assert "var ChessgroundLib=" in js
    urls = set(re.findall(r"https?://[^\s'\")]+", js + css))
    assert urls == {"http://www.w3.org/2000/svg", "https://github.com/lichess-org/chessground"}
    assert "import(" not in js and "fetch(" not in js
    assert ".cg-wrap piece.knight.white" in css and "cg-board" in css


def test_the_vendored_copy_names_its_version_and_licence() -> None:
    assert (VENDOR / "VERSION").read_text().startswith("@lichess-org/chessground 10.4.1\n")
    assert 'VERSION="${1:-10.4.1}"' in (ROOT / "script" / "vendor-chessground").read_text()
    assert "GNU GENERAL PUBLIC LICENSE" in (VENDOR / "LICENSE").read_text()


def test_the_demo_page_runs() -> None:
    app = AppTest.from_file(str(ROOT / "tests" / "e2e" / "board_demo_page.py"),
                            default_timeout=30).run()
    assert not app.exception
    assert [t.value for t in app.text][:2] == ["path:", "events:"]
