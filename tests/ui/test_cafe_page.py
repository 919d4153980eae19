"""AppTest: the café page and the app entry point, driven without a browser."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chess
import chess.pgn
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
CAFE_PAGE = str(ROOT / "chessapp" / "ui" / "cafe.py")
APP = str(ROOT / "chessapp" / "app.py")
TIMEOUT = 60


def run_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(CAFE_PAGE, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    return at.run()


def svg_of(url: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert url.startswith(prefix)
    return base64.b64decode(url[len(prefix):]).decode("utf-8")


def board_images(at: AppTest) -> list[Any]:
    return [img for el in at.get("image") for img in el.proto.imgs
            if img.alt.startswith(("Board after", "Start position"))]


def shown_position(at: AppTest) -> str:
    """The piece placement drawn on the main board (python-chess writes it into <desc>)."""
    img = board_images(at)[0]
    match = re.search(r"<pre>(.*?)</pre>", svg_of(img.url), re.S)
    assert match is not None
    return match.group(1)


def placement(game: chess.pgn.Game, ply: int) -> str:
    board = game.board()
    for move in list(game.mainline_moves())[:ply]:
        board.push(move)
    return str(board)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_app_runs_and_routes_to_the_cafe_page(games_folder: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    no_exception(at)
    # The default page; story text is shown Markdown-escaped.
    assert at.title[0].value == "Test story\\: a night at the opera"
    assert board_images(at)


def test_cafe_page_opens_at_the_start_with_shipped_evals(games_folder: Path,
                                                        opera: chess.pgn.Game) -> None:
    at = run_page()
    no_exception(at)
    assert shown_position(at) == placement(opera, 0)
    assert board_images(at)[0].alt == "Start position"
    assert not at.warning  # analysis and story found, and they match the game
    assert any("Fixture 1" in c.value for c in at.caption)  # evals shipped, no engine


NAV = [
    pytest.param("next", 0, 1, id="next"),
    pytest.param("prev", 5, 4, id="prev"),
    pytest.param("first", 5, 0, id="first"),
    pytest.param("last", 5, 33, id="last"),
]


@pytest.mark.parametrize(("button", "start", "expected"), NAV)
def test_nav_buttons_move_the_board_and_the_url(games_folder: Path, opera: chess.pgn.Game,
                                                button: str, start: int, expected: int) -> None:
    at = run_page({"ply": str(start)})
    assert shown_position(at) == placement(opera, start)
    at.button(key=f"cafe.nav.{button}").click().run()
    no_exception(at)
    assert at.query_params["ply"] == str(expected)
    assert shown_position(at) == placement(opera, expected)


def test_buttons_carry_the_keyboard_shortcuts(games_folder: Path) -> None:
    at = run_page({"ply": "3"})
    shortcuts = {b.key: b.proto.shortcut for b in at.button if b.key and ".nav." in b.key}
    assert shortcuts == {"cafe.nav.first": "home", "cafe.nav.prev": "left",
                         "cafe.nav.next": "right", "cafe.nav.last": "end"}


def test_next_twice_then_prev(games_folder: Path, opera: chess.pgn.Game) -> None:
    at = run_page()
    at.button(key="cafe.nav.next").click().run()
    at.button(key="cafe.nav.next").click().run()
    at.button(key="cafe.nav.prev").click().run()
    assert at.query_params["ply"] == "1"
    assert shown_position(at) == placement(opera, 1)


@pytest.mark.parametrize(("raw", "expected"), [
    pytest.param("12", 12, id="in range"),
    pytest.param("33", 33, id="last"),
    pytest.param("500", 33, id="past the end clamps"),
    pytest.param("-4", 0, id="negative clamps"),
    pytest.param("knight", 0, id="garbage opens at the start"),
    pytest.param("", 0, id="empty"),
])
def test_deep_link_opens_at_the_ply(games_folder: Path, opera: chess.pgn.Game,
                                    raw: str, expected: int) -> None:
    at = run_page({"ply": raw})
    no_exception(at)
    assert not at.error
    assert shown_position(at) == placement(opera, expected)


def test_move_list_and_slider_jump(games_folder: Path, opera: chess.pgn.Game) -> None:
    at = run_page()
    pills = at.get("button_group")[0]
    assert pills.proto.options[8].content.startswith("5\\. ")  # ply 9 is White's 5th move
    at.slider(key="cafe.slider").set_value(7).run()
    no_exception(at)
    assert at.query_params["ply"] == "7"
    assert shown_position(at) == placement(opera, 7)
    assert at.get("button_group")[0].value == 7  # the current move is the selected pill


def test_judged_moves_carry_their_glyph(games_folder: Path) -> None:
    at = run_page()
    labels = [o.content for o in at.get("button_group")[0].proto.options]
    # The fixture's ply 9 swings from +2.55 to -2.50: a blunder by White.
    assert labels[8].endswith(":red[**??**]")
    assert sum("[**" in label for label in labels) >= 1


def test_flip_turns_the_board(games_folder: Path) -> None:
    at = run_page({"ply": "4"})
    before = board_images(at)[0].url
    at.button(key="cafe.flip_button").click().run()
    assert board_images(at)[0].url != before
    at.button(key="cafe.flip_button").click().run()
    assert board_images(at)[0].url == before


@pytest.fixture
def media_capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """Every file handed to Streamlit's media storage (downloads), by its URL."""
    seen: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self: MemoryMediaFileStorage, path_or_data: Any, mimetype: str, kind: Any,
            filename: str | None = None) -> str:
        file_id = original(self, path_or_data, mimetype, kind, filename)
        data = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
        seen[self.get_url(file_id)] = bytes(data)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    yield seen


def test_download_is_valid_pgn_with_the_evals(games_folder: Path, opera: chess.pgn.Game,
                                              media_capture: dict[str, bytes]) -> None:
    at = run_page()
    no_exception(at)
    button = at.get("download_button")[0]
    text = media_capture[button.proto.url].decode("utf-8")
    game = chess.pgn.read_game(io.StringIO(text))
    assert game is not None and not game.errors
    assert [m.uci() for m in game.mainline_moves()] == [m.uci() for m in opera.mainline_moves()]
    assert game.headers["White"] == opera.headers["White"]
    evals = [node.eval() for node in game.mainline()]
    # Every move carries its eval (the mating move may go without: the game is over).
    assert all(e is not None for e in evals[:-1])
    assert chess.pgn.NAG_BLUNDER in list(game.mainline())[8].nags


def test_download_without_evals(games_folder: Path, media_capture: dict[str, bytes]) -> None:
    at = run_page()
    at.checkbox(key="cafe.export.evals").uncheck().run()
    button = at.get("download_button")[0]
    text = media_capture[button.proto.url].decode("utf-8")
    assert "[%eval" not in text
    assert chess.pgn.read_game(io.StringIO(text)) is not None


def test_page_without_shipped_analysis_still_works(games_folder: Path,
                                                   opera: chess.pgn.Game) -> None:
    (games_folder / "cafe-1913.analysis.json").unlink()
    at = run_page({"ply": "3"})
    no_exception(at)
    assert shown_position(at) == placement(opera, 3)
    assert any("analysis" in w.value for w in at.warning)


def test_narration_follows_the_ply(games_folder: Path) -> None:
    at = run_page({"ply": "3"})
    assert "The players open quietly while the orchestra tunes." in markdown_texts(at)
    assert "**Overture** · 1858-11 · Paris, the opera box" in markdown_texts(at)
    at.button(key="cafe.nav.last").click().run()
    assert "A rook lands on the back rank and the game is over." in markdown_texts(at)
    assert any(unescape(c.value) == "**The metaphor.** The curtain falls." for c in at.caption)


def unescape(text: str) -> str:
    """The page backslash-escapes every punctuation mark of story and PGN text."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def markdown_texts(at: AppTest) -> list[str]:
    """Markdown shown, read back as the text a person sees."""
    return [unescape(m.value) for m in at.markdown]


def test_claims_table_says_what_holds_and_what_does_not(games_folder: Path) -> None:
    at = run_page()
    frame = at.dataframe[0].value
    assert frame[["Beat", "Ply", "The narrator says", "The engine says"]].values.tolist() == [
        ["swing", 20, "queen_move", "does not hold"],
        ["mate", 33, "rook_move", "holds"],
        ["mate", 33, "gives_check", "holds"],
        ["mate", 33, "game_ends", "holds"],
        ["mate", 33, "wins(paul)", "holds"],
    ]
    assert frame["Figures"].tolist()[0] == "move: cxb5; piece: pawn"
    assert any(c.value == "4 of 5 claims hold by the engine's analysis." for c in at.caption)
    # The engine's reading, with the numbers filled in from the analysis.
    assert "- The last move Rd8# left the eval at 1-0." in markdown_texts(at)


def test_beat_card_jumps_the_board(games_folder: Path, opera: chess.pgn.Game) -> None:
    at = run_page()
    cards = [img for img in (i for el in at.get("image") for i in el.proto.imgs)
             if img.alt.startswith("Story beat")]
    # Each card shows its beat's last ply, the move its claims are about.
    assert [c.alt for c in cards] == ["Story beat opening: 4… Bxf3", "Story beat swing: 10… cxb5",
                                      "Story beat mate: 17. Rd8#"]
    at.button(key="cafe.beat.swing").click().run()
    no_exception(at)
    assert at.query_params["ply"] == "20"
    assert shown_position(at) == placement(opera, 20)


def test_story_shapes_are_drawn_on_the_board(games_folder: Path) -> None:
    at = run_page({"ply": "12"})  # inside the "swing" beat: a green arrow and a red circle
    svg = svg_of(board_images(at)[0].url)
    assert svg.count('class="arrow') >= 2
    assert "#15781B" in svg and "#882020" in svg


def test_pgn_and_story_text_is_shown_as_text(games_folder: Path) -> None:
    pgn = games_folder / "cafe-1913.pgn"
    pgn.write_text(pgn.read_text(encoding="utf-8").replace(
        '[White "Morphy, Paul"]', '[White "[click](javascript:alert(1)) :red[x] <b>y</b>"]'),
        encoding="utf-8")
    story = games_folder / "cafe-1913.story.toml"
    story.write_text(story.read_text(encoding="utf-8").replace(
        'hero_name = "Morphy, Paul"', 'hero_name = "[click](javascript:alert(1)) :red[x] <b>y</b>"'
    ).replace("The players open quietly", "<script>x</script> [a](b) The players"),
        encoding="utf-8")
    at = run_page({"ply": "2"})
    no_exception(at)
    # Every mark escaped, so Markdown shows the text as written.
    assert at.caption[0].value.startswith(
        "\\[click\\]\\(javascript\\:alert\\(1\\)\\) \\:red\\[x\\] \\<b\\>y\\<\\/b\\>")
    assert unescape(at.caption[0].value).startswith("[click](javascript:alert(1)) :red[x] <b>y</b>")
    assert ("<script>x</script> [a](b) The players while the "
            "orchestra tunes.") in markdown_texts(at)


def test_the_shipped_cafe_game_opens_with_its_evals_and_story(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The real games/cafe-1913.* files: evals, story and claims load with no engine."""
    monkeypatch.delenv("CHESSAPP_GAMES_DIR", raising=False)
    monkeypatch.setenv("CHESSAPP_DATA_DIR", str(tmp_path / "data"))
    at = run_page({"ply": "21"})
    no_exception(at)
    assert not at.warning
    assert board_images(at)[0].alt == "Board after 11. Nxd5"
    assert any(c.value.startswith("Evals shipped with the app: Stockfish") for c in at.caption)
    frame = at.dataframe[0].value
    assert len(frame) > 0 and set(frame["The engine says"]) == {"holds"}
    charts = {c.key for c in at.get("vega_lite_chart")}
    assert charts == {"cafe.graph.21", "cafe.metaphor"}  # the eval graph and the metaphor
