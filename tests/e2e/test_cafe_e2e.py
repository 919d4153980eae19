"""The café page in real Chromium against ``streamlit run``.

The server reads a games folder of the test's own (the Opera game with fixed
evals and a small story track, as in tests/ui), so these tests pin the browser
behaviour, not the shipped story: keyboard and buttons move the board and ``?ply=``, Back and
Forward land on the right move, a click on the eval graph jumps, and the
downloaded PGN passes pgn-extract.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import chess
import chess.pgn
import pytest

from chessapp.analysis import build_game_analysis
from chessapp.games import read_game
from chessapp.view.cafe import GAMES_DIR_ENV
from tests.e2e.conftest import (
    Server,
    start_server,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
OPERA = ROOT / "games" / "samples" / "opera-1858.pgn"
LAST = 33
BOARD = "img[alt^='Board after'], img[alt='Start position']"
PGN_EXTRACT = "/usr/games/pgn-extract"


@pytest.fixture(scope="module")
def opera() -> chess.pgn.Game:
    return read_game(OPERA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cafe_server(tmp_path_factory: pytest.TempPathFactory,
                opera: chess.pgn.Game) -> Iterator[Server]:
    from tests.ui.conftest import OPERA_STORY, fixed_evals

    folder = tmp_path_factory.mktemp("games")
    (folder / "cafe-1913.pgn").write_text(OPERA.read_text(encoding="utf-8"), encoding="utf-8")
    report = build_game_analysis(opera, fixed_evals(opera)).to_json()
    (folder / "cafe-1913.analysis.json").write_text(json.dumps(report), encoding="utf-8")
    (folder / "cafe-1913.story.toml").write_text(OPERA_STORY.read_text(encoding="utf-8"),
                                                 encoding="utf-8")
    env = {GAMES_DIR_ENV: str(folder),
           "CHESSAPP_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    server = start_server(tmp_path_factory.mktemp("log"), env)
    try:
        yield server
    finally:
        server.stop()


def placement(game: chess.pgn.Game, ply: int) -> str:
    board = game.board()
    for move in list(game.mainline_moves())[:ply]:
        board.push(move)
    return str(board)


def board_src(page: Any) -> str:
    return str(page.locator(BOARD).first.get_attribute("src"))


def drawn_position(src: str) -> str:
    svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
    match = re.search(r"<pre>(.*?)</pre>", svg, re.S)
    assert match is not None
    return match.group(1)


def url_ply(page: Any) -> str | None:
    values = parse_qs(urlparse(page.url).query).get("ply")
    return values[0] if values else None


def wait_for_board_change(page: Any, before: str) -> str:
    page.wait_for_function(
        "([sel, before]) => { const img = document.querySelector(sel);"
        " return img !== null && img.getAttribute('src') !== before; }",
        arg=[BOARD, before])
    return board_src(page)


def wait_for_ply(page: Any, game: chess.pgn.Game, ply: int) -> None:
    """Wait until both the URL and the drawn board show ``ply``."""
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('ply') === '{ply}'")
    expected = placement(game, ply)
    for _ in range(100):
        if drawn_position(board_src(page)) == expected:
            return
        page.wait_for_timeout(100)
    assert drawn_position(board_src(page)) == expected


def nav_button(page: Any, name: str) -> Any:
    """A navigation button by its Streamlit key (the buttons are icon-only)."""
    return page.locator(f".st-key-cafe-nav-{name} button").first


def open_cafe(page: Any, server: Server, query: str = "") -> None:
    page.goto(server.url + "/" + query)
    page.locator(BOARD).first.wait_for()
    # The download button is the page's last element: once it is there, the
    # first run is complete and the buttons' keyboard shortcuts are bound.
    page.locator(".st-key-cafe-export-download button").first.wait_for()
    wait_until_idle(page)
    page.locator("h1").first.click()  # focus the page, not an input


def test_deep_link_opens_at_the_ply(page: Any, cafe_server: Server,
                                    opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=12")
    assert drawn_position(board_src(page)) == placement(opera, 12)


@pytest.mark.parametrize(("key", "start", "expected"), [
    pytest.param("ArrowRight", 5, 6, id="right"),
    pytest.param("ArrowLeft", 5, 4, id="left"),
    pytest.param("Home", 5, 0, id="home"),
    pytest.param("End", 5, LAST, id="end"),
])
def test_keyboard_moves_the_board_and_the_url(page: Any, cafe_server: Server,
                                              opera: chess.pgn.Game, key: str, start: int,
                                              expected: int) -> None:
    open_cafe(page, cafe_server, f"?ply={start}")
    before = board_src(page)
    page.keyboard.press(key)
    after = wait_for_board_change(page, before)
    wait_for_ply(page, opera, expected)
    assert drawn_position(after) == placement(opera, expected)


def test_buttons_move_the_board_and_the_url(page: Any, cafe_server: Server,
                                            opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server)
    for expected in (1, 2, 3):
        nav_button(page, "next").click()
        wait_for_ply(page, opera, expected)
    nav_button(page, "prev").click()
    wait_for_ply(page, opera, 2)
    nav_button(page, "last").click()
    wait_for_ply(page, opera, LAST)
    nav_button(page, "first").click()
    wait_for_ply(page, opera, 0)


def test_back_and_forward_land_on_the_right_move(page: Any, cafe_server: Server,
                                                 opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=0")
    for expected in (1, 2, 3):
        page.keyboard.press("ArrowRight")
        wait_for_ply(page, opera, expected)
        # A key pressed while the previous step's rerun is still in flight can be
        # merged into it (a known Streamlit limit, see BENCHMARKS.md): step at
        # the pace of a person, one finished step at a time.
        wait_until_idle(page)
    page.go_back()
    wait_for_ply(page, opera, 2)
    page.go_back()
    wait_for_ply(page, opera, 1)
    page.go_forward()
    wait_for_ply(page, opera, 2)


def test_clicking_the_eval_graph_jumps_to_the_move(page: Any, cafe_server: Server,
                                                   opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=0")
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.scroll_into_view_if_needed()
    chart.locator("canvas, svg").first.wait_for()
    box = chart.bounding_box()
    assert box is not None
    # Click well inside the plot, three quarters of the way along: nearest ply ~ 3/4 of 33.
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.45)
    page.wait_for_function("() => new URLSearchParams(location.search).get('ply') !== '0'")
    ply = int(url_ply(page) or "0")
    assert 20 <= ply <= 28
    wait_for_ply(page, opera, ply)


def test_downloaded_pgn_passes_pgn_extract(page: Any, cafe_server: Server,
                                           opera: chess.pgn.Game, tmp_path: Path) -> None:
    open_cafe(page, cafe_server)
    button = page.locator(".st-key-cafe-export-download button").first
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".pgn")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    checked = subprocess.run([PGN_EXTRACT, "-r", str(path)], capture_output=True, text=True,
                             timeout=60, check=False)
    report = checked.stdout + checked.stderr
    assert checked.returncode == 0, report
    assert "1 game matched out of 1." in report, report
    assert "Line number" not in report and "Failed" not in report, report
    text = path.read_text(encoding="utf-8")
    game = chess.pgn.read_game(io.StringIO(text))
    assert game is not None and not game.errors
    assert [m.uci() for m in game.mainline_moves()] == [m.uci() for m in opera.mainline_moves()]
    assert "[%eval" in text


def test_clicking_a_beat_in_the_metaphor_picture_jumps_there(page: Any, cafe_server: Server,
                                                             opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=0")
    chart = page.locator(".st-key-cafe-metaphor").first
    chart.scroll_into_view_if_needed()
    # Vega draws SVG and labels each mark for screen readers with its tooltip fields.
    point = chart.locator("svg.marks path[aria-label*='Move: 17. Rd8#']").first
    point.wait_for()
    box = point.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_ply(page, opera, 33)


def test_autoplay_steps_through_the_game_and_pauses(page: Any, cafe_server: Server,
                                                    opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=0")
    page.locator(".st-key-cafe-play_button button").first.click()
    # Paced by the narration: ply 0 has the opening's narration (~4 s), the next ones 1.5 s.
    wait_for_ply(page, opera, 1)
    wait_for_ply(page, opera, 2)
    page.locator(".st-key-cafe-play_button button").first.click()  # pause
    page.locator(".st-key-cafe-play_button button", has_text="Play").first.wait_for()
    paused_at = int(url_ply(page) or "0")
    page.wait_for_timeout(4000)  # longer than any pause on these plies: nothing moves
    assert int(url_ply(page) or "0") == paused_at
    assert drawn_position(board_src(page)) == placement(opera, paused_at)


@pytest.mark.engine
def test_reanalyse_with_stockfish_keeps_navigation_working(page: Any, cafe_server: Server,
                                                           opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=3")
    page.get_by_text("Engine", exact=True).first.click()  # open the expander
    nodes = page.locator(".st-key-cafe-reanalyse_nodes input").first
    nodes.fill("3000")
    nodes.press("Enter")
    wait_until_idle(page)
    page.locator(".st-key-cafe-reanalyse button").first.click()
    page.get_by_text("Stockfish:").first.wait_for()  # the progress bar's label
    page.locator("h1").first.click()
    page.keyboard.press("ArrowRight")  # navigation is not blocked by the running analysis
    wait_for_ply(page, opera, 4)
    page.get_by_text("Evals from your re-analysis").first.wait_for(timeout=120_000)
    assert page.get_by_text("nodes=3000 per position").first.is_visible()
    wait_for_ply(page, opera, 4)  # the page reran with the new evals, on the same move
