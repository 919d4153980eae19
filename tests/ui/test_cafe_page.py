"""AppTest: the café page and the app entry point, driven without a browser."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chess
import chess.pgn
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from chessapp.ui import cafe_widgets
from chessapp.view.board import main_line_path, path_key
from chessapp.view.cafe import load_cafe

ROOT = Path(__file__).resolve().parents[2]
CAFE_PAGE = str(ROOT / "chessapp" / "ui" / "cafe.py")
APP = str(ROOT / "chessapp" / "app.py")
TIMEOUT = 60


def run_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(CAFE_PAGE, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    return at.run()


def board(at: AppTest) -> dict[str, Any]:
    """What the page sent the board element on this run (its JSON ``data``)."""
    # The page also mounts the owner-token element (issue 15): pick the board.
    elements = [e for e in at.get("bidi_component") if e.proto.component_name.endswith(
        "chessapp_board")]
    assert len(elements) == 1
    data: dict[str, Any] = json.loads(elements[0].proto.json)
    return data


def shown_ply(at: AppTest) -> int:
    """The main-line ply the page points the board at (its cursor's path)."""
    path = board(at)["cursor"]["path"]
    return 0 if path == "" else len(path.split("."))


def shown_position(at: AppTest) -> str:
    """The piece placement of the node the board is sent to."""
    data = board(at)
    fen = data["tree"]["nodes"][data["cursor"]["path"]]["fen"]
    return str(chess.Board(fen))


def placement(game: chess.pgn.Game, ply: int) -> str:
    board = game.board()
    for move in list(game.mainline_moves())[:ply]:
        board.push(move)
    return str(board)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def node(at: AppTest, ply: int) -> dict[str, Any]:
    return board(at)["tree"]["nodes"][path_key(main_line_path(ply))]  # type: ignore[no-any-return]


def test_app_runs_and_routes_to_the_cafe_page(games_folder: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    no_exception(at)
    # The default page; story text is shown Markdown-escaped.
    assert at.title[0].value == "Test story\\: a night at the opera"
    assert board(at)["label"] == "Café 1913 board"


def test_cafe_page_opens_at_the_start_with_shipped_evals(games_folder: Path,
                                                        opera: chess.pgn.Game) -> None:
    at = run_page()
    no_exception(at)
    assert shown_position(at) == placement(opera, 0)
    assert shown_ply(at) == 0
    assert not at.warning  # analysis and story found, and they match the game
    assert any("Fixture 1" in c.value for c in at.caption)  # evals shipped, no engine
    data = board(at)
    # The element steps, plays, shows the eval bar and the move; the page moves nothing.
    assert (data["autoplay"], data["movable"], data["evalBar"], data["moveLabel"]) == (
        True, False, True, True)
    assert data["showBest"] is True  # the engine's arrow starts on (the `a` key toggles it)
    assert "readAloud" not in data and "scrollIntoView" not in data


def test_the_board_element_replaces_the_old_controls(games_folder: Path) -> None:
    """No slider, pills, nav buttons or key shortcuts: the element has them (a key would step
    twice if the page bound it too)."""
    at = run_page({"ply": "3"})
    assert not at.slider
    assert not at.get("button_group")
    assert not at.get("image") or all(not img.alt.startswith(("Board after", "Start position"))
                                      for el in at.get("image") for img in el.proto.imgs)
    assert [b.key for b in at.button if b.proto.shortcut] == []
    assert not [b for b in at.button if b.key and (".nav." in b.key or "flip" in b.key
                                                    or "play" in b.key)]


@pytest.mark.parametrize(("raw", "expected", "url"), [
    pytest.param("12", 12, "12", id="in range"),
    pytest.param("33", 33, "33", id="last"),
    pytest.param("500", 33, "33", id="past the end clamps"),
    pytest.param("-4", 0, "0", id="negative clamps"),
    pytest.param("knight", 0, "0", id="garbage opens at the start"),
    pytest.param("", 0, "0", id="empty"),
])
def test_deep_link_opens_at_the_ply_and_corrects_the_url(
        games_folder: Path, opera: chess.pgn.Game, raw: str, expected: int, url: str) -> None:
    at = run_page({"ply": raw})
    no_exception(at)
    assert not at.error
    assert shown_position(at) == placement(opera, expected)
    assert at.query_params["ply"] == url


def test_back_and_forward_move_the_board(games_folder: Path, opera: chess.pgn.Game) -> None:
    """Back/Forward is a full run with another ?ply=: the board gets a new cursor seq."""
    at = run_page({"ply": "4"})
    seq = board(at)["cursor"]["seq"]
    at.query_params["ply"] = "9"
    at.run()
    assert shown_position(at) == placement(opera, 9)
    assert board(at)["cursor"]["seq"] > seq
    seq = board(at)["cursor"]["seq"]
    at.run()  # a rerun with the same ply does not pull the board back
    assert board(at)["cursor"]["seq"] == seq


def test_the_payload_carries_shapes_best_moves_delays_speech_and_bars(
        games_folder: Path, opera: chess.pgn.Game) -> None:
    at = run_page()
    # The "swing" passage (plies 9-20): its default shapes on each of its plies, none before.
    assert node(at, 12)["autoShapes"] == [{"orig": "b5", "dest": "c6", "brush": "green"},
                                          {"orig": "b7", "brush": "red"}]
    assert node(at, 8)["autoShapes"] == []
    assert node(at, 0)["best"] is not None
    # Autoplay waits longer where a passage starts, and speaks that passage.
    assert node(at, 9)["speech"] == "The queen goes hunting on b7."
    assert "speech" not in node(at, 10)
    assert node(at, 9)["delayMs"] > node(at, 10)["delayMs"] == 1500
    # The fixture's evals: +0.30 at the start, the swing at ply 9.
    assert node(at, 0)["bar"]["text"] == "+0.30"
    assert node(at, 9)["bar"]["text"] == "-2.50" and node(at, 9)["bar"]["win"] < 50


def test_the_payload_is_built_once(games_folder: Path) -> None:
    at = run_page()
    first = board(at)["tree"]["id"]
    at.query_params["ply"] = "5"
    at.run()
    assert board(at)["tree"]["id"] == first


def test_without_evals_the_bar_says_unknown(games_folder: Path, opera: chess.pgn.Game) -> None:
    (games_folder / "cafe-1913.analysis.json").unlink()
    at = run_page({"ply": "3"})
    no_exception(at)
    assert shown_position(at) == placement(opera, 3)
    assert any("analysis" in w.value for w in at.warning)
    assert {(n["bar"]["win"], n["bar"]["text"]) for n in board(at)["tree"]["nodes"].values()} \
        == {(None, "?")}
    assert board(at)["showBest"] is False


def test_read_aloud_is_a_toggle_the_element_obeys(games_folder: Path) -> None:
    at = run_page({"ply": "3"})
    at.toggle(key="cafe.read_aloud").set_value(True).run()
    no_exception(at)
    assert board(at)["readAloud"] is True
    at.toggle(key="cafe.read_aloud").set_value(False).run()
    assert "readAloud" not in board(at)


def test_narration_and_move_follow_the_ply(games_folder: Path) -> None:
    at = run_page({"ply": "3"})
    assert "The players open quietly while the orchestra tunes." in markdown_texts(at)
    assert "**Overture** · 1858-11 · Paris, the opera box" in markdown_texts(at)
    assert "**2. Nf3**" in markdown_texts(at)
    at.query_params["ply"] = "33"
    at.run()
    assert "A rook lands on the back rank and the game is over." in markdown_texts(at)
    assert any(unescape(c.value) == "**The metaphor.** The curtain falls." for c in at.caption)
    assert "**17. Rd8#**" in markdown_texts(at)


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


def unescape(text: str) -> str:
    """The page backslash-escapes every punctuation mark of story and PGN text."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def markdown_texts(at: AppTest) -> list[str]:
    """Markdown shown, read back as the text a person sees."""
    return [unescape(m.value) for m in at.markdown]


def test_claims_table_is_plain_english_and_shows_failing_claims(games_folder: Path) -> None:
    at = run_page()
    frame = at.table[0].value
    assert list(frame.columns) == ["Move", "The narrator says", "Checked",
                                   "The board and the engine say", "Figures"]
    assert frame["Move"].tolist() == ["10… cxb5", *["17\\. Rd8\\#"] * 4]
    checked = frame["Checked"].tolist()
    assert checked[0] == ":red[:material/cancel: **does not hold**]"  # shown, not hidden
    assert set(checked[1:]) == {":green[:material/check_circle: holds]"}
    cells = " ".join(str(v) for v in frame.to_numpy().ravel())
    for claim_id in ("queen_move", "rook_move", "gives_check", "game_ends", "wins(paul)"):
        assert claim_id not in cells  # no claim ids: words
    assert any(unescape(c.value) == "4 of 5 claims hold; 1 does not hold." for c in at.caption)
    # The engine's reading, with the numbers filled in from the analysis.
    assert "- The last move Rd8# left the eval at 1-0." in markdown_texts(at)


def test_beat_card_shows_the_position_and_brings_the_board_into_view(
        games_folder: Path, opera: chess.pgn.Game) -> None:
    at = run_page()
    cards = [img for img in (i for el in at.get("image") for i in el.proto.imgs)
             if img.alt.startswith("Story beat")]
    # Each card shows its beat's last ply, the move its claims are about.
    assert [c.alt for c in cards] == ["Story beat opening: 4… Bxf3", "Story beat swing: 10… cxb5",
                                      "Story beat mate: 17. Rd8#"]
    seq = board(at)["cursor"]["seq"]
    at.button(key="cafe.beat.swing").click().run()
    no_exception(at)
    assert at.query_params["ply"] == "20"
    assert shown_position(at) == placement(opera, 20)
    assert board(at)["cursor"]["seq"] > seq
    assert board(at)["scrollIntoView"] is True
    at.query_params["ply"] = "3"  # a move of another kind: the board need not scroll
    at.run()
    assert "scrollIntoView" not in board(at)


def metaphor_rows(folder: Path | None = None) -> list[dict[str, Any]]:
    """The rows the page's metaphor chart draws (the same function the page calls)."""
    view = load_cafe(folder)
    assert view.picture is not None
    return cafe_widgets.metaphor_rows(view.picture, view.replay)


def test_metaphor_picture_ties_each_beat_to_its_moment(games_folder: Path) -> None:
    at = run_page()
    assert "cafe.metaphor" in {c.key for c in at.get("vega_lite_chart")}
    rows = metaphor_rows(games_folder)
    beats = [r for r in rows if r["kind"] == "beat"]
    assert [(b["ply"], b["tip"], b["history"]) for b in beats] == [
        (8, "opening, 4…\u00a0Bxf3", "November 1858, Paris: The opera")]
    assert [r["history"] for r in rows if r["kind"] == "context"] == [
        "May 1859, New Orleans: Home again"]
    for layout in ("wide", "narrow"):
        lines = [r["text"] for r in rows if r["kind"] == "line" and r["layout"] == layout]
        assert " ".join(lines) == "opening, 4…\u00a0Bxf3 November 1858, Paris: The opera"


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
    assert "**11. Nxd5**" in markdown_texts(at)
    assert shown_ply(at) == 21
    assert any(c.value.startswith("Evals shipped with the app: Stockfish") for c in at.caption)
    frame = at.table[0].value
    assert len(frame) > 0
    assert set(frame["Checked"]) == {":green[:material/check_circle: holds]"}
    charts = {c.key for c in at.get("vega_lite_chart")}
    assert charts == {"cafe.graph.21", "cafe.metaphor"}  # the eval graph and the metaphor
    # The picture: the cold open one bracket, five beats each to its own moment.
    rows = metaphor_rows()
    assert [r["tip"] for r in rows if r["kind"] == "bracket"] == [
        "Cold open: a café in Vienna, plies 0–20"]
    moments = [r["history"].split(",")[0] for r in rows if r["kind"] == "beat"]
    assert moments == ["1918", "January 1924", "31 January 1928", "1929", "20 August 1940"]


def test_a_judged_move_says_why_beside_the_board(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """Issue 12: the café game's 10... g6 carries the coach's checked explanation, as text."""
    monkeypatch.delenv("CHESSAPP_GAMES_DIR", raising=False)
    monkeypatch.setenv("CHESSAPP_DATA_DIR", str(tmp_path / "data"))
    at = run_page({"ply": "20"})
    no_exception(at)
    assert [t.value for t in at.text if t.value.startswith("Why: ")] == [
        "Why: g6 allows Ba6: After Ba6, the queen on e7 is pinned to its king."]
    at = run_page({"ply": "21"})
    assert not [t for t in at.text if t.value.startswith("Why: ")]


@pytest.mark.engine
def test_the_live_engine_works_on_the_cafe_page_too(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    """Issue 10: the live toggle streams the story's position on the board."""
    from chessapp.ui import state

    monkeypatch.delenv("CHESSAPP_GAMES_DIR", raising=False)
    monkeypatch.setenv("CHESSAPP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHESSAPP_LIVE_NODES", "20000")
    at = run_page({"ply": "21"})
    at.toggle(key=state.live_toggle_key(state.CAFE)).set_value(True)
    at.run()
    no_exception(at)
    search = at.session_state[f"{state.CAFE}.live_search"]
    assert search is not None
    assert search.fen == "r3kb1r/pp1nqp1p/2p2np1/3N1bB1/3P4/5N1P/PPP1BPP1/R2QR1K1 b kq - 0 11"
    assert search.join(60)
    at.run()
    assert [c.value for c in at.caption if c.value.startswith("Live: depth")]
