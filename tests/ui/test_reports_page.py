"""The Reports page runs (AppTest) and asks for a file before it shows anything."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "chessapp" / "ui" / "reports.py"


def test_reports_page_without_a_file_asks_for_one() -> None:
    app = AppTest.from_file(str(PAGE)).run(timeout=60)
    assert not app.exception
    assert [t.value for t in app.title] == ["Reports"]
    assert "No report loaded yet." in [i.value for i in app.info]
