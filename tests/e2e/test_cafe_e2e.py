"""The café page in real Chromium against ``streamlit run``.

The server reads a games folder of the test's own (the Opera game with fixed
evals and a small story track, as in tests/ui), so these tests pin the browser
behaviour, not the shipped story. The board is the chessground element: its
root ``.c13b`` carries ``data-fen`` and ``data-ply``, checked against
python-chess; the narration, the move label and ``?ply=`` follow the element's
report. Keys and the element's buttons step, Back and Forward land on the
right move, clicks on the eval graph, the metaphor picture and a beat card
move the board (and bring it into view), autoplay plays and pauses, "Read
aloud" speaks through a stubbed ``speechSynthesis``, and the downloaded PGN
passes pgn-extract.
"""

from __future__ import annotations

import io
import json
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
from chessapp.tree import move_label
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
BOARD = ".c13b"
PGN_EXTRACT = "/usr/games/pgn-extract"

#: A stand-in for the browser's speech engine: it records each utterance and
#: ends one only when the test says so (``window.__endSpeech()``), or after
#: ``window.__speechMs`` when that is set.
SPEECH_STUB = """
(() => {
  const spoken = [];
  let current = null;
  window.__spoken = spoken;
  window.__cancels = 0;
  window.__endSpeech = () => { const u = current; current = null; if (u && u.onend) u.onend({}); };
  class Utterance {
    constructor(text) { this.text = text; this.onend = null; this.onerror = null; }
  }
  window.SpeechSynthesisUtterance = Utterance;
  Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
    speak(u) {
      spoken.push(u.text); current = u;
      if (window.__speechMs) setTimeout(() => { if (current === u) window.__endSpeech(); },
                                        window.__speechMs);
    },
    cancel() { window.__cancels += 1; current = null; },
    get speaking() { return current !== null; },
  }});
})();
"""


def write_folder(folder: Path, game: chess.pgn.Game, *, evals: bool = True) -> Path:
    from tests.ui.conftest import OPERA_STORY, fixed_evals

    (folder / "cafe-1913.pgn").write_text(OPERA.read_text(encoding="utf-8"), encoding="utf-8")
    if evals:
        report = build_game_analysis(game, fixed_evals(game)).to_json()
        (folder / "cafe-1913.analysis.json").write_text(json.dumps(report), encoding="utf-8")
    (folder / "cafe-1913.story.toml").write_text(OPERA_STORY.read_text(encoding="utf-8"),
                                                 encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def opera() -> chess.pgn.Game:
    return read_game(OPERA.read_text(encoding="utf-8"))


def _server(tmp: pytest.TempPathFactory, opera: chess.pgn.Game, *, evals: bool) -> Server:
    folder = write_folder(tmp.mktemp("games"), opera, evals=evals)
    env = {GAMES_DIR_ENV: str(folder), "CHESSAPP_DATA_DIR": str(tmp.mktemp("data"))}
    return start_server(tmp.mktemp("log"), env)


@pytest.fixture(scope="module")
def cafe_server(tmp_path_factory: pytest.TempPathFactory,
                opera: chess.pgn.Game) -> Iterator[Server]:
    server = _server(tmp_path_factory, opera, evals=True)
    try:
        yield server
    finally:
        server.stop()


def board_at(game: chess.pgn.Game, ply: int) -> chess.Board:
    board = game.board()
    for move in list(game.mainline_moves())[:ply]:
        board.push(move)
    return board


def label_at(game: chess.pgn.Game, ply: int) -> str:
    if ply == 0:
        return "Start"
    board = board_at(game, ply - 1)
    return move_label(ply, board.san(list(game.mainline_moves())[ply - 1]))


def attr(page: Any, name: str) -> str:
    return str(page.locator(BOARD).first.get_attribute(f"data-{name}"))


def url_ply(page: Any) -> str | None:
    values = parse_qs(urlparse(page.url).query).get("ply")
    return values[0] if values else None


def wait_for_board(page: Any, game: chess.pgn.Game, ply: int) -> None:
    """Wait until the element shows ``ply``: its data-ply, and python-chess's FEN there."""
    page.wait_for_function(
        f"() => document.querySelector('{BOARD}')?.dataset.ply === '{ply}'")
    assert attr(page, "fen") == board_at(game, ply).fen()


def wait_for_ply(page: Any, game: chess.pgn.Game, ply: int) -> None:
    """Wait until the board, the URL and the page's move label all show ``ply``."""
    wait_for_board(page, game, ply)
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('ply') === '{ply}'")
    label = label_at(game, ply)
    page.wait_for_function(
        "(label) => (document.querySelector('.st-key-cafe-move')?.innerText || '')"
        ".trim().startsWith(label)", arg=label)


def narration(page: Any) -> str:
    return str(page.locator(".st-key-cafe-narration").first.inner_text())


def open_cafe(page: Any, server: Server, query: str = "") -> None:
    page.goto(server.url + "/" + query)
    page.locator(f"{BOARD}[data-fen]").first.wait_for()
    # The download button is the page's last element: once it is there, the
    # first run is complete.
    page.locator(".st-key-cafe-export-download button").first.wait_for()
    wait_until_idle(page)
    page.locator("h1").first.click()  # focus the page, not an input


def in_viewport(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return bool(box["y"] >= 0 and box["y"] + box["height"] <= size["height"])


def test_deep_link_opens_at_the_ply(page: Any, cafe_server: Server,
                                    opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=12")
    wait_for_ply(page, opera, 12)
    assert "The queen goes hunting on b7." in narration(page)
    before = board_at(opera, 11)
    san = before.san(list(opera.mainline_moves())[11])
    assert page.locator(".c13b-current").inner_text() == f"6... {san}"  # beside the board


def test_an_out_of_range_ply_is_corrected_in_the_url(page: Any, cafe_server: Server,
                                                     opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=999")
    wait_for_ply(page, opera, LAST)
    assert url_ply(page) == str(LAST)


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
    wait_for_ply(page, opera, start)
    page.keyboard.press(key)
    wait_for_ply(page, opera, expected)


def test_quick_key_presses_all_count(page: Any, cafe_server: Server,
                                     opera: chess.pgn.Game) -> None:
    """Six → 100 ms apart land on ply 6 (issue 10: they landed on 2), and one step is one
    step: the page binds no key of its own, so no press steps twice."""
    open_cafe(page, cafe_server, "?ply=0")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(100)
    wait_for_ply(page, opera, 6)
    page.wait_for_timeout(1000)  # a late rerun must not move it on (or back)
    wait_for_ply(page, opera, 6)


def test_buttons_move_the_board_and_the_url(page: Any, cafe_server: Server,
                                            opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server)
    for expected in (1, 2, 3):
        page.locator(".c13b-next").click()
        wait_for_ply(page, opera, expected)
    page.locator(".c13b-prev").click()
    wait_for_ply(page, opera, 2)
    page.locator(".c13b-last").click()
    wait_for_ply(page, opera, LAST)
    page.locator(".c13b-first").click()
    wait_for_ply(page, opera, 0)


def test_back_and_forward_land_on_the_right_move(page: Any, cafe_server: Server,
                                                 opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=0")
    for expected in (1, 2, 3):
        page.keyboard.press("ArrowRight")
        wait_for_ply(page, opera, expected)
        wait_until_idle(page)  # one history entry per reported step
    for move, expected in ((page.go_back, 2), (page.go_back, 1), (page.go_forward, 2)):
        move()
        wait_for_ply(page, opera, expected)
        settle(page)
    assert "The players open quietly" in narration(page)


def settle(page: Any) -> None:
    """Wait until the board has told Python where it is and that run is over.

    A Back pressed within the 150 ms in which the board echoes Python's last
    move can race that echo (the echo's rerun may then be dropped or land
    after the next full run); a person's pace leaves time for it.
    """
    page.wait_for_function(
        f"() => {{ const r = document.querySelector('{BOARD}');"
        " return r && r.dataset.reported === r.dataset.path; }")
    wait_until_idle(page)


def test_clicking_the_eval_graph_jumps_to_the_move(page: Any, cafe_server: Server,
                                                   opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=0")
    chart = page.locator("[class*='st-key-cafe-graph']").first
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


def test_clicking_a_beat_in_the_metaphor_picture_shows_it_in_view(
        page: Any, cafe_server: Server, opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=0")
    chart = page.locator(".st-key-cafe-metaphor").first
    chart.scroll_into_view_if_needed()
    assert not in_viewport(page, BOARD)  # the board is far up the page
    # Vega labels each mark for screen readers with its tooltip fields.
    point = chart.locator("svg.marks path[aria-label*='In the game: opening']").first
    point.wait_for()
    box = point.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_ply(page, opera, 8)
    page.wait_for_function(f"() => document.querySelector('{BOARD}').dataset.scrolledSeq")
    assert in_viewport(page, BOARD)


def test_show_on_the_board_brings_the_position_into_view(
        page: Any, cafe_server: Server, opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=0")
    button = page.locator(".st-key-cafe-beat-swing button").first
    button.scroll_into_view_if_needed()
    assert not in_viewport(page, BOARD)
    button.click()
    wait_for_ply(page, opera, 20)
    page.wait_for_function(f"() => document.querySelector('{BOARD}').dataset.scrolledSeq")
    assert in_viewport(page, BOARD)
    assert "The queen goes hunting on b7." in narration(page)


def test_autoplay_steps_through_the_game_and_pauses(page: Any, cafe_server: Server,
                                                    opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=0")
    page.locator(".c13b-play").click()
    wait_for_ply(page, opera, 1)
    wait_for_ply(page, opera, 2)  # paced by the narration: 1.5 s on these plies
    page.locator(".c13b-play").click()  # pause
    page.wait_for_function(f"() => document.querySelector('{BOARD}').dataset.playing === 'false'")
    paused_at = int(attr(page, "ply"))
    page.wait_for_timeout(4000)  # longer than any pause on these plies: nothing moves
    assert int(attr(page, "ply")) == paused_at
    wait_for_ply(page, opera, paused_at)  # and the page has caught up with the board


def test_space_plays_and_pauses(page: Any, cafe_server: Server, opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=3")
    page.keyboard.press(" ")
    wait_for_board(page, opera, 4)
    page.keyboard.press(" ")
    page.wait_for_function(f"() => document.querySelector('{BOARD}').dataset.playing === 'false'")


def turn_on_read_aloud(page: Any) -> None:
    page.locator(".st-key-cafe-read_aloud label").first.click()
    page.wait_for_function(f"() => document.querySelector('{BOARD}').dataset.readAloud === 'true'")
    page.locator("h1").first.click()  # keys go to the page again, not the toggle


def test_read_aloud_speaks_the_narration_and_autoplay_waits_for_it(
        page: Any, cafe_server: Server, opera: chess.pgn.Game) -> None:
    page.add_init_script(SPEECH_STUB)
    open_cafe(page, cafe_server, "?ply=7")
    turn_on_read_aloud(page)
    page.keyboard.press("ArrowRight")  # ply 8: no new passage, nothing to say
    wait_for_board(page, opera, 8)
    page.keyboard.press("ArrowRight")  # ply 9: the "swing" passage starts
    wait_for_board(page, opera, 9)
    assert page.evaluate("() => window.__spoken") == ["The queen goes hunting on b7."]
    page.keyboard.press("ArrowLeft")
    wait_for_board(page, opera, 8)
    page.locator(".c13b-play").click()
    wait_for_board(page, opera, 9)
    assert page.evaluate("() => window.__spoken.length") == 2
    # The timer alone would step on after 2.8 s; reading aloud, the board waits for the voice.
    page.wait_for_timeout(4500)
    assert attr(page, "ply") == "9"
    page.evaluate("() => window.__endSpeech()")
    wait_for_board(page, opera, 10)
    page.locator(".c13b-play").click()  # pause
    wait_for_ply(page, opera, int(attr(page, "ply")))


def test_read_aloud_off_says_nothing(page: Any, cafe_server: Server,
                                     opera: chess.pgn.Game) -> None:
    page.add_init_script(SPEECH_STUB)
    open_cafe(page, cafe_server, "?ply=8")
    page.keyboard.press("ArrowRight")
    wait_for_ply(page, opera, 9)
    assert page.evaluate("() => window.__spoken") == []


def test_the_eval_bar_is_as_tall_as_the_board(page: Any, cafe_server: Server,
                                              opera: chess.pgn.Game) -> None:
    open_cafe(page, cafe_server, "?ply=9")
    wait_for_ply(page, opera, 9)
    bar = page.locator(f"{BOARD} .c13b-bar").bounding_box()
    board = page.locator(f"{BOARD} .c13b-board").bounding_box()
    assert bar is not None and board is not None
    assert abs(bar["height"] - board["height"]) <= 1
    assert abs(bar["y"] - board["y"]) <= 1
    # The fixture's swing: -2.50 at ply 9, so less than half the bar is White's.
    assert float(page.locator(f"{BOARD} .c13b-bar").get_attribute("data-win") or "") < 50


@pytest.fixture(scope="module")
def unanalysed_server(tmp_path_factory: pytest.TempPathFactory,
                      opera: chess.pgn.Game) -> Iterator[Server]:
    server = _server(tmp_path_factory, opera, evals=False)
    try:
        yield server
    finally:
        server.stop()


def test_an_unknown_eval_is_drawn_as_unknown(page: Any, unanalysed_server: Server,
                                             opera: chess.pgn.Game) -> None:
    open_cafe(page, unanalysed_server, "?ply=4")
    bar = page.locator(f"{BOARD} .c13b-bar")
    assert bar.get_attribute("data-win") == "unknown"
    assert "c13b-bar-unknown" in (bar.get_attribute("class") or "")
    assert bar.inner_text().strip() == "?"
    assert page.locator(f"{BOARD} .c13b-bar-white").evaluate("e => e.offsetHeight") == 0


def test_the_phone_layout_fits_without_sideways_scrolling(
        browser: Any, cafe_server: Server, opera: chess.pgn.Game) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        open_cafe(page, cafe_server, "?ply=20")
        wait_for_ply(page, opera, 20)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        board = page.locator(f"{BOARD} .c13b-board").bounding_box()
        bar = page.locator(f"{BOARD} .c13b-bar").bounding_box()
        assert board is not None and bar is not None
        assert board["width"] >= 300 and board["x"] + board["width"] <= 390  # fills the width
        assert abs(bar["height"] - board["height"]) <= 1
        assert page.locator(".c13b-current").is_visible()
        page.keyboard.press("ArrowLeft")
        wait_for_ply(page, opera, 19)
        chart = page.locator(".st-key-cafe-metaphor").first
        chart.scroll_into_view_if_needed()
        chart.locator("svg.marks").first.wait_for()
        box = chart.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


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
