"""The chessground board element in Chromium, on tests/e2e/board_demo_page.py.

Every step is checked against python-chess: the element's ``data-fen`` must be
the FEN of the node at its ``data-path``, and what Python applied (the PGN the
demo page prints) must show each move, promotion, menu action and drawing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import chess
import chess.pgn
import pytest

from chessapp.view.board import parse_path_key, path_key
from chessapp.view.board_edits import add_move, delete, make_main_line, node_at, promote, read_pgn
from tests.e2e.board_demo_games import GAMES
from tests.e2e.conftest import ROOT, Server, start_server

pytestmark = pytest.mark.e2e

DEMO = ROOT / "tests" / "e2e" / "board_demo_page.py"
BOARD = ".c13b"
#: 2...d5, where 3.exd5 has two side lines (3.e5 and 3.Nc3).
BRANCH = path_key((0, 0, 0, 0))


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("board-demo"), app=DEMO)
    try:
        yield server
    finally:
        server.stop()


def open_demo(page: Any, server: Server, query: str = "") -> None:
    page.goto(f"{server.url}/{query}")
    page.locator(f"{BOARD}[data-fen]").wait_for()
    page.locator(".st-key-demo-path").wait_for()
    page.get_by_role("heading", name="Board demo").click()  # focus the page, not an input


def attr(page: Any, name: str) -> str:
    return str(page.locator(BOARD).get_attribute(f"data-{name}"))


def assert_at(page: Any, path: str, game: str | chess.pgn.Game = "main") -> None:
    """The board is on ``path``, and shows exactly python-chess's position there.

    ``game`` is a demo game's name, or the game as the test expects Python to have it.
    """
    page.wait_for_function(f"() => document.querySelector('{BOARD}').dataset.path === '{path}'")
    tree = read_pgn(GAMES[game]) if isinstance(game, str) else game
    node = node_at(tree, parse_path_key(path))
    board = node.board()
    assert attr(page, "fen") == board.fen()
    assert attr(page, "ply") == str(len(parse_path_key(path)))


#: The shapes chessground draws (each is a ``<g cgHash=...>`` in its shapes layer).
SHAPES_JS = f"document.querySelectorAll('{BOARD} svg.cg-shapes g[cgHash]').length"


def shape_count(page: Any) -> int:
    return int(page.evaluate(f"() => {SHAPES_JS}"))


def text_of(page: Any, key: str) -> str:
    return str(page.locator(f".st-key-{key}").inner_text())


def wait_text(page: Any, key: str, needle: str) -> None:
    page.wait_for_function(
        "([sel, needle]) => (document.querySelector(sel)?.innerText || '').includes(needle)",
        arg=[f".st-key-{key}", needle])


def wait_text_gone(page: Any, key: str, needle: str) -> None:
    """Wait until the page element ``key`` no longer shows ``needle``.

    The demo page draws its texts one after another in a rerun: that one
    text has changed says nothing yet of the next.
    """
    page.wait_for_function(
        "([sel, needle]) => !(document.querySelector(sel)?.innerText || '').includes(needle)",
        arg=[f".st-key-{key}", needle])


def square_center(page: Any, square: str, orientation: str = "white") -> tuple[float, float]:
    box = page.locator(f"{BOARD} cg-board").bounding_box()
    size = box["width"] / 8
    sq = chess.parse_square(square)
    file, rank = chess.square_file(sq), chess.square_rank(sq)
    col, row = (file, 7 - rank) if orientation == "white" else (7 - file, rank)
    return box["x"] + (col + 0.5) * size, box["y"] + (row + 0.5) * size


def drag(page: Any, orig: str, dest: str, button: str = "left") -> None:
    x0, y0 = square_center(page, orig)
    x1, y1 = square_center(page, dest)
    page.mouse.move(x0, y0)
    page.mouse.down(button=button)
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up(button=button)


def test_each_key_steps_locally(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    assert_at(page, "")
    page.keyboard.press("ArrowRight")
    assert_at(page, "0")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert_at(page, BRANCH)
    page.keyboard.press("ArrowLeft")
    assert_at(page, "0.0.0")
    page.keyboard.press("End")
    assert_at(page, ".".join(["0"] * 23))
    page.keyboard.press("Home")
    assert_at(page, "")
    page.keyboard.press("ArrowDown")
    assert_at(page, ".".join(["0"] * 23))
    page.keyboard.press("ArrowUp")
    assert_at(page, "")
    # 2...d5 has two side lines instead of 3.exd5: Shift+→ enters the first.
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert_at(page, "0.0.0.0.1")
    page.keyboard.press("ArrowRight")
    assert_at(page, "0.0.0.0.1.0")
    page.keyboard.press("Shift+ArrowLeft")
    assert_at(page, BRANCH)
    assert page.evaluate("() => window.__c13bMounts") == 1


def test_f_a_and_question_mark(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    wrap = page.locator(f"{BOARD} .cg-wrap").first
    assert "orientation-white" in str(wrap.get_attribute("class"))
    page.keyboard.press("f")
    assert "orientation-black" in str(wrap.get_attribute("class"))
    page.keyboard.press("f")
    assert "orientation-white" in str(wrap.get_attribute("class"))
    assert shape_count(page) == 0
    page.keyboard.press("a")  # the engine's best move at the start: e2e4
    page.wait_for_function(f"() => {SHAPES_JS} === 1")
    assert attr(page, "best") == "true"
    page.keyboard.press("a")
    page.wait_for_function(f"() => {SHAPES_JS} === 0")
    help_panel = page.locator(f"{BOARD} .c13b-help-panel")
    assert help_panel.is_hidden()
    page.keyboard.press("?")
    assert help_panel.is_visible()
    assert "Shift+→" in help_panel.inner_text()
    page.keyboard.press("Escape")
    assert help_panel.is_hidden()


def test_keys_typed_into_an_input_are_ignored(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    box = page.get_by_label("A text box (keys typed here must not step the board)")
    box.click()
    box.type("fa")
    box.press("ArrowRight")
    box.press("End")
    assert attr(page, "path") == ""
    wrap = page.locator(f"{BOARD} .cg-wrap").first
    assert "orientation-white" in str(wrap.get_attribute("class"))
    assert box.input_value() == "fa"


def test_space_plays_and_pauses_only_with_autoplay(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    page.keyboard.press("Space")
    page.wait_for_timeout(900)
    assert attr(page, "path") == ""
    assert page.locator(f"{BOARD} .c13b-play").is_hidden()
    open_demo(page, demo_server, "?autoplay=1")
    page.keyboard.press("Space")
    page.wait_for_function(f"() => document.querySelector('{BOARD}').dataset.ply >= '2'")
    page.keyboard.press("Space")
    stopped = attr(page, "ply")
    page.wait_for_timeout(900)
    assert attr(page, "ply") == stopped
    assert attr(page, "playing") == "false"


def test_the_path_reaches_python_after_the_last_step(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    wait_text(page, "demo-path", "path: 0.0.0.0.0.0")
    assert text_of(page, "demo-path") == "path: 0.0.0.0.0.0"
    assert page.evaluate("() => window.__c13bMounts") == 1  # the rerun did not re-mount it


def test_clicking_a_node_in_the_move_list(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    page.locator(f"{BOARD} .c13b-move[data-key='0.0.0.0.2.0']").click()  # 3.Nc3 Nf6 (side line)
    assert_at(page, "0.0.0.0.2.0")
    assert "c13b-active" in str(
        page.locator(f"{BOARD} .c13b-move[data-key='0.0.0.0.2.0']").get_attribute("class"))
    page.locator(f"{BOARD} .c13b-row .c13b-move", has_text="Nxd5").click()
    assert_at(page, ".".join(["0"] * 21))
    wait_text(page, "demo-path", "path: " + ".".join(["0"] * 21))


def test_dragging_a_new_move_makes_a_variation_in_python(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    assert page.locator(f"{BOARD} cg-board square.move-dest").count() == 0
    x, y = square_center(page, "d2")
    page.mouse.click(x, y)  # legal-move dots for the d-pawn (drawn on the next frame)
    page.wait_for_function(
        f"() => document.querySelectorAll('{BOARD} cg-board square.move-dest').length === 2")
    page.mouse.click(x, y)  # and off again
    drag(page, "d2", "d4")
    wait_text(page, "demo-events", "#1 MoveEvent  -> 1;")
    expected = read_pgn(GAMES["main"])
    add_move(expected, (), chess.Move.from_uci("d2d4"))
    assert_at(page, "1", expected)
    wait_text(page, "demo-pgn", "( 1. d4 )")
    assert page.evaluate("() => window.__c13bMounts") == 1  # a new tree: updated, not re-mounted
    assert page.locator(f"{BOARD} .c13b-move[data-key='1']").inner_text().startswith("1. d4")
    # A move that is already in the tree is a local step, no event.
    page.keyboard.press("Home")
    drag(page, "e2", "e4")
    assert_at(page, "0")
    assert text_of(page, "demo-events").count("MoveEvent") == 1


def test_under_promotion_with_the_picker(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server, "?game=promotion")
    assert_at(page, "", game="promotion")
    drag(page, "a7", "a8")
    picker = page.locator(f"{BOARD} .c13b-promo")
    picker.wait_for(state="visible")
    assert [b.get_attribute("data-role") for b in picker.locator("button").all()] == [
        "queen", "knight", "rook", "bishop"]
    picker.get_by_role("button", name="Promote to knight").click()
    wait_text(page, "demo-events", "#1 MoveEvent  -> 1;")
    wait_text(page, "demo-pgn", "( 1. a8=N )")
    page.wait_for_function(f"() => document.querySelector('{BOARD}').dataset.path === '1'")
    assert attr(page, "fen") == "N7/7k/8/8/8/8/6pK/8 b - - 0 1"


def test_promote_and_delete_a_variation_from_the_node_menu(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    page.locator(f"{BOARD} .c13b-move[data-key='0.0.0.0.2']").click(button="right")  # 3.Nc3
    menu = page.locator(f"{BOARD} .c13b-menu")
    menu.wait_for(state="visible")
    menu.get_by_role("menuitem", name="Promote variation").click()
    wait_text(page, "demo-events", "#1 NodeMenuEvent 0.0.0.0.2 -> 0.0.0.0.1;")
    wait_text(page, "demo-pgn", "( 3. Nc3 Nf6 ) ( 3. e5 c5 4. c3")
    expected = read_pgn(GAMES["main"])
    promote(expected, (0, 0, 0, 0, 2))
    assert_at(page, "0.0.0.0.1", expected)
    # Delete 3.e5 with the ⋯ button of the current move.
    page.locator(f"{BOARD} .c13b-move[data-key='0.0.0.0.2']").click()
    page.locator(f"{BOARD} .c13b-more").click()
    menu.get_by_role("menuitem", name="Delete from here").click()
    wait_text(page, "demo-events", "#2 NodeMenuEvent 0.0.0.0.2 -> 0.0.0.0;")
    wait_text_gone(page, "demo-pgn", "3. e5")
    delete(expected, (0, 0, 0, 0, 2))
    assert_at(page, BRANCH, expected)
    page.locator(f"{BOARD} .c13b-move[data-key='0.0.0.0.2']").wait_for(state="detached")
    # Make the remaining side line the main line.
    page.locator(f"{BOARD} .c13b-move[data-key='0.0.0.0.1']").click(button="right")
    menu.get_by_role("menuitem", name="Make main line").click()
    wait_text(page, "demo-events", "#3 NodeMenuEvent 0.0.0.0.1 -> 0.0.0.0.0;")
    wait_text(page, "demo-pgn", "3. Nc3 ( 3. exd5")
    make_main_line(expected, (0, 0, 0, 0, 1))
    assert_at(page, "0.0.0.0.0", expected)


def test_copy_pgn_from_a_node(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    page.locator(f"{BOARD} .c13b-move[data-key='0.0.0.0.1.0']").click(button="right")
    page.get_by_role("menuitem", name="Copy PGN").click()
    box = page.locator(f"{BOARD} .c13b-pgn")
    box.wait_for(state="visible")
    assert " ".join(box.input_value().split()).endswith(
        "1. e4 { The king's pawn. } 1... e6 2. d4 d5 3. e5 c5 4. c3 { The advance. } 1-0")


def test_drawing_an_arrow_reaches_python(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    page.keyboard.press("ArrowRight")
    assert_at(page, "0")
    drag(page, "g1", "f3", button="right")
    wait_text(page, "demo-events", "#1 ShapesEvent 0 -> 0;")
    wait_text(page, "demo-pgn", "[%cal Gg1f3]")
    page.keyboard.down("Shift")
    drag(page, "d4", "d4", button="right")  # a red circle
    page.keyboard.up("Shift")
    wait_text(page, "demo-pgn", "[%csl Rd4][%cal Gg1f3]")
    # The drawing stays with its node: away and back, it is drawn again.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert_at(page, "0")
    page.wait_for_function(f"() => {SHAPES_JS} === 2")


def test_layout_phone_fills_the_width_without_sideways_scroll(browser: Any,
                                                              demo_server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        open_demo(page, demo_server)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        assert widths[0] <= widths[1]
        board = page.locator(f"{BOARD} cg-board").bounding_box()
        root = page.locator(BOARD).bounding_box()
        assert board["width"] >= root["width"] - 8
        assert board["x"] >= 0 and board["x"] + board["width"] <= 390
        moves = page.locator(f"{BOARD} .c13b-moves").bounding_box()
        assert moves["y"] >= board["y"] + board["height"]
        assert page.get_by_role("button", name="Next move").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("size", [(1000, 800), (1400, 1000)])
def test_layout_board_and_move_list_do_not_overlap(browser: Any, demo_server: Server,
                                                   size: tuple[int, int]) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        page = context.new_page()
        open_demo(page, demo_server)
        board = page.locator(f"{BOARD} cg-board").bounding_box()
        moves = page.locator(f"{BOARD} .c13b-moves").bounding_box()
        beside = board["x"] + board["width"] <= moves["x"]
        below = board["y"] + board["height"] <= moves["y"]
        assert beside or below
        assert board["width"] >= 300
        widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        assert widths[0] <= widths[1]
    finally:
        context.close()


def test_screen_reader_text_follows_the_steps(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    live = page.locator(f"{BOARD} [aria-live='polite']")
    assert live.inner_text() == "Start position."
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"() => document.querySelector(`{BOARD} [aria-live='polite']`).textContent"
        ".startsWith('5... Qe7+?!')")
    assert live.text_content() == "5... Qe7+?!. Check."
    position = str(page.locator(f"{BOARD} .c13b-sr").nth(1).text_content())
    white, black = position.split(". Black: ")
    assert white.startswith("White: ") and "king e1" in white and "bishop g5" in white
    assert "queen e7" in black and "king e8" in black


def test_click_click_move(page: Any, demo_server: Server) -> None:
    open_demo(page, demo_server)
    page.mouse.click(*square_center(page, "g1"))
    page.wait_for_function(
        f"() => document.querySelectorAll('{BOARD} cg-board square.move-dest').length === 2")
    page.mouse.click(*square_center(page, "f3"))
    wait_text(page, "demo-events", "#1 MoveEvent  -> 1;")
    wait_text(page, "demo-pgn", "( 1. Nf3 )")
    expected = read_pgn(GAMES["main"])
    add_move(expected, (), chess.Move.from_uci("g1f3"))
    assert_at(page, "1", expected)
