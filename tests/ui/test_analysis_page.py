"""AppTest: the analysis page, driven without a browser.

Each test gets its own data directory (``CHESSAPP_DATA_DIR``), so saved
sessions are those the test made. The click-click board needs a browser
(tests/e2e); here the SAN box, which calls the same code, plays the moves.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chess
import chess.pgn
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from chessapp import jobs
from chessapp import session as model
from chessapp.evals import SearchLimit
from chessapp.export import ExportOptions, export_pgn
from chessapp.games import read_game
from chessapp.store import Store
from chessapp.ui.state import AnalysisKeys as K

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "chessapp" / "ui" / "analysis.py")
TIMEOUT = 60

SHORT = '[White "Anna"]\n[Black "Boris"]\n\n1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n'
TWO = ('[White "First"]\n[Black "Game"]\n\n1. d4 d5 *\n\n'
       '[White "Second"]\n[Black "Game"]\n\n1. c4 e5 2. Nc3 *\n')
BAD = '[White "Anna"]\n[Black "Boris"]\n\n1. e4 e5\n2. Nf3 Nc6\n3. Qxz9 a6 *\n'


@pytest.fixture
def data_dir(isolated_data_dir: Path) -> Path:
    return isolated_data_dir


def fresh(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    return at.run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def unescape(text: str) -> str:
    """The page escapes user text for Markdown; tests read it back as plain text."""
    out, escaped = [], False
    for ch in text:
        if ch == "\\" and not escaped:
            escaped = True
            continue
        out.append(ch)
        escaped = False
    return "".join(out)


def errors(at: AppTest) -> list[str]:
    return [unescape(e.value) for e in at.error]


def table_with(at: AppTest, column: str) -> Any:
    """The one st.table whose frame has ``column``."""
    found = [t.value for t in at.table if column in t.value.columns]
    assert len(found) == 1, [list(t.value.columns) for t in at.table]
    return found[0]


def paste(at: AppTest, text: str) -> AppTest:
    at.text_area(key=K.PASTE).set_value(text)
    return at.button(key=K.PASTE_BUTTON).click().run()


def explore_boards(at: AppTest) -> list[Any]:
    """The explore boards on the page (the owner-token element is another component)."""
    return [el for el in at.get("bidi_component")
            if el.proto.component_name == "chessapp_explore_board"]


def board_fen(at: AppTest) -> str:
    """The position Python puts the board on: the cursor node of the element's tree."""
    boards = [el for el in at.get("bidi_component")
              if el.proto.component_name.endswith("chessapp_board")]
    assert len(boards) == 1
    data: dict[str, Any] = json.loads(boards[0].proto.json)
    return str(data["tree"]["nodes"][data["cursor"]["path"]]["fen"])


def go_to_ply(at: AppTest, ply: int) -> AppTest:
    """Step the board as a deep link does (AppTest cannot press keys inside the element;
    the Chromium tests do): ``?ply=`` wins on a full run."""
    at.query_params["ply"] = str(ply)
    return at.run()


def after(text: str, plies: int) -> str:
    board = read_game(text).board()
    for move in list(read_game(text).mainline_moves())[:plies]:
        board.push(move)
    return board.fen()


def test_empty_page_runs_and_invites_input(data_dir: Path) -> None:
    at = fresh()
    no_exception(at)
    assert at.title[0].value == "Analysis"
    assert [unescape(i.value) for i in at.info] == [
        "Paste or upload a PGN, or set up a FEN, to start an analysis session."]
    assert not explore_boards(at)


def test_good_paste_loads_saves_and_links_the_session(data_dir: Path) -> None:
    at = paste(fresh(), SHORT)
    no_exception(at)
    assert not at.error
    assert [unescape(s.value) for s in at.success] == ["Game loaded and saved."]
    assert board_fen(at) == chess.STARTING_FEN
    sessions = Store().all_sessions()
    assert [s.name for s in sessions] == ["Anna – Boris"]
    assert at.query_params["session"] == sessions[0].id
    assert at.query_params["ply"] == "0"
    # Navigation moves the board along the main line.
    go_to_ply(at, 7)
    assert board_fen(at) == after(SHORT, 7)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("illegal square", BAD, ["Could not read the PGN:", "game 1", "line 6", "Qxz9"]),
        ("not a game", "hello world", ["Could not read the PGN:"]),
        ("html payload", "<script>alert(1)</script>", ["Could not read the PGN:"]),
    ],
)
def test_bad_paste_names_the_problem_and_the_page_still_works(
        data_dir: Path, name: str, text: str, expected: list[str]) -> None:
    at = paste(fresh(), text)
    no_exception(at)
    shown = errors(at)
    assert len(shown) == 1, name
    for part in expected:
        assert part in shown[0], (name, shown[0])
    assert Store().all_sessions() == []
    # The same page then loads a good game.
    at = paste(at, SHORT)
    no_exception(at)
    assert not at.error
    assert board_fen(at) == chess.STARTING_FEN


def test_a_file_with_several_games_offers_a_pick(data_dir: Path) -> None:
    at = paste(fresh(), TWO)
    no_exception(at)
    assert unescape(at.info[0].value) == "The PGN holds 2 games: pick one below."
    picker = at.selectbox(key=K.PICK_GAME)
    assert picker.options == ["1. First – Game (*, 2 plies)", "2. Second – Game (*, 3 plies)"]
    picker.set_value(2)
    at = at.button(key=K.PICK_BUTTON).click().run()
    no_exception(at)
    assert [unescape(s.value) for s in at.success] == ["Game 2 loaded and saved."]
    go_to_ply(at, 3)
    assert board_fen(at) == after(TWO.split("\n\n", 2)[2], 3)


def test_fen_setup_and_a_bad_fen(data_dir: Path) -> None:
    at = fresh()
    at.text_input(key=K.FEN).set_value("8/8/8/8/8/8/8/8 w - - 0 1")
    at = at.button(key=K.FEN_BUTTON).click().run()
    no_exception(at)
    assert len(at.error) == 1 and errors(at)[0].startswith("Could not set up the position:")
    fen = "4k3/8/8/8/8/8/4P3/4K3 w - - 0 1"
    at.text_input(key=K.FEN).set_value(fen)
    at = at.button(key=K.FEN_BUTTON).click().run()
    no_exception(at)
    assert not at.error
    assert board_fen(at) == fen


def test_upload_loads_and_a_bad_upload_shows_an_error(data_dir: Path) -> None:
    at = fresh()
    at.file_uploader(key=K.UPLOAD).upload("bad.pgn", BAD.encode(), "application/x-chess-pgn")
    at.run()
    no_exception(at)
    assert len(at.error) == 1 and "Qxz9" in errors(at)[0]
    at.file_uploader(key=K.UPLOAD).upload("good.pgn", SHORT.encode("latin-1"),
                                          "application/x-chess-pgn")
    at.run()
    no_exception(at)
    assert not at.error
    assert [s.name for s in Store().all_sessions()] == ["Anna – Boris"]


def test_an_upload_over_the_limit_is_refused_before_reading(data_dir: Path) -> None:
    from chessapp.games import MAX_PGN_BYTES

    at = fresh()
    at.file_uploader(key=K.UPLOAD).upload("huge.pgn", b" " * (MAX_PGN_BYTES + 1),
                                          "application/x-chess-pgn")
    at.run()
    no_exception(at)
    assert errors(at) == [f"The file is {MAX_PGN_BYTES + 1:,} bytes; the limit is "
                          f"{MAX_PGN_BYTES:,}."]
    assert Store().all_sessions() == []


def test_the_san_box_adds_a_variation_and_it_is_saved(data_dir: Path) -> None:
    at = paste(fresh(), SHORT)
    go_to_ply(at, 1)  # after 1. e4
    at.text_input(key=K.SAN).set_value("c5")
    at = at.button(key=K.SAN_BUTTON).click().run()
    no_exception(at)
    assert not at.error
    board = chess.Board()
    board.push_san("e4")
    board.push_san("c5")
    assert board_fen(at) == board.fen()
    saved = Store().load_session(Store().all_sessions()[0].id)
    assert "1. e4 e5 ( 1... c5 ) 2. Qh5" in saved.pgn
    # A bad move names itself, and nothing changes.
    at.text_input(key=K.SAN).set_value("Qxz9")
    at = at.button(key=K.SAN_BUTTON).click().run()
    assert errors(at) == ["That move cannot be played: at 'Qxz9': not a legal move for "
                          "White here"]
    assert board_fen(at) == board.fen()
    # Back to the main line, at the branch point.
    at = at.button(key=K.MAIN_LINE).click().run()
    no_exception(at)
    assert board_fen(at) == after(SHORT, 1)


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


def test_download_has_the_explored_variations_as_the_export_module_writes_them(
        data_dir: Path, media_capture: dict[str, bytes]) -> None:
    at = paste(fresh(), SHORT)
    go_to_ply(at, 1)
    at.text_input(key=K.SAN).set_value("c5")
    at = at.button(key=K.SAN_BUTTON).click().run()
    button = at.get("download_button")[0]
    text = media_capture[button.proto.url].decode("utf-8")
    game = read_game(Store().load_session(Store().all_sessions()[0].id).pgn)
    assert text == export_pgn(game, None, ExportOptions(
        evals=False, judgements=False, variations=False, explored=True, narration=False,
        shapes=True))
    assert "1. e4 e5 ( 1... c5 ) 2. Qh5" in text
    parsed = chess.pgn.read_game(io.StringIO(text))
    assert parsed is not None and not parsed.errors
    # Without explored variations, the main line only.
    at = at.checkbox(key="analysis.export.explored").uncheck().run()
    text = media_capture[at.get("download_button")[0].proto.url].decode("utf-8")
    assert "c5" not in text and "4. Qxf7# 1-0" in text


def test_sessions_list_rename_open_and_delete(data_dir: Path) -> None:
    at = paste(fresh(), SHORT)
    at = paste(at, TWO.split("\n\n", 2)[2])  # a second session: "Second – Game"
    store = Store()
    first, second = sorted(store.all_sessions(), key=lambda s: s.created)
    assert (first.name, second.name) == ("Anna – Boris", "Second – Game")
    assert at.query_params["session"] == second.id

    at.text_input(key=K.RENAME).set_value("My <b>study</b>")
    at = at.button(key=K.RENAME_BUTTON).click().run()
    no_exception(at)
    assert store.load_session(second.id).name == "My <b>study</b>"
    assert unescape(at.subheader[0].value) == "My <b>study</b>"

    at = at.button(key=K.open_session(first.id)).click().run()
    no_exception(at)
    assert [unescape(s.value) for s in at.success] == ["Session resumed."]
    assert at.query_params["session"] == first.id
    assert unescape(at.subheader[0].value) == "Anna – Boris"

    at = at.button(key=K.delete_session(first.id)).click().run()
    no_exception(at)
    assert [s.id for s in store.all_sessions()] == [second.id]
    assert "session" not in at.query_params
    assert not explore_boards(at)  # the open session was the deleted one
    at = at.button(key=K.delete_session(second.id)).click().run()
    assert store.all_sessions() == []


def test_a_shared_link_opens_the_session_at_its_ply(data_dir: Path) -> None:
    session = model.AnalysisSession(read_game(SHORT))
    session_id = session.save(Store())
    at = fresh({"session": session_id, "ply": "3"})
    no_exception(at)
    assert board_fen(at) == after(SHORT, 3)
    assert at.query_params["ply"] == "3"
    # Garbage and unknown ids do not break the page.
    at = fresh({"session": "no-such-session", "ply": "x"})
    no_exception(at)
    assert errors(at) == ["No saved session has that id: it may have been deleted."]
    assert "session" not in at.query_params


def test_without_an_engine_the_page_explains_and_still_browses(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STOCKFISH_PATH", str(tmp_path / "no-stockfish"))
    at = paste(fresh(), SHORT)
    no_exception(at)
    warnings = [unescape(w.value) for w in at.warning]
    assert len(warnings) == 1
    assert warnings[0].startswith("No chess engine is available, so analysis is off")
    assert "no-stockfish" in warnings[0]
    assert at.button(key=K.RUN).disabled
    go_to_ply(at, 7)
    assert board_fen(at) == after(SHORT, 7)


@pytest.mark.engine
def test_analysis_runs_in_the_background_and_fills_the_tables(data_dir: Path) -> None:
    at = paste(fresh(), SHORT)
    at.number_input(key=K.LIMIT_VALUE).set_value(2000)
    at.number_input(key=K.MULTIPV).set_value(2)
    at = at.button(key=K.RUN).click().run()
    no_exception(at)
    session_id = at.query_params["session"]
    job = jobs.JOBS.get(jobs.main_line_key(session_id))
    assert job is not None and job.join(120)
    at.run()
    no_exception(at)
    summary = table_with(at, "Blunders")
    assert list(summary.index) == ["White", "Black"]
    assert summary.loc["Black", "Blunders"] == 1  # 3... Nf6?? allows Qxf7#
    moves = at.dataframe[0].value
    assert list(moves.columns) == ["Ply", "Move", "Eval", "Best move", "Judgement", "Accuracy",
                                   "Book", "Why"]
    # 3... Nf6?? is judged; the mate is the only move ("!", chessapp.labels) with 2 lines.
    assert list(moves["Move"])[-2:] == ["3… Nf6??", "4. Qxf7#!"]
    saved = Store().load_session(session_id)
    assert saved.analysis is not None and len(saved.analysis["plies"]) == 7
    assert saved.settings["value"] == 2000 and saved.settings["multipv"] == 2
    # Jump to Black's blunder; the engine lines there show the mate.
    at = at.button(key=K.NEXT_MISTAKE_BLACK).click().run()
    while board_fen(at) != after(SHORT, 6):
        assert not at.button(key=K.NEXT_MISTAKE_BLACK).disabled
        at = at.button(key=K.NEXT_MISTAKE_BLACK).click().run()
    lines = table_with(at, "Line")
    # Engine lines carry move numbers, as lichess writes them.
    assert (unescape(lines.iloc[0]["Eval"]), unescape(lines.iloc[0]["Line"])) == (
        "#1", "4. Qxf7#")
    assert len(lines) == 2


@pytest.mark.engine
def test_the_live_engine_follows_the_board_and_fills_the_cache(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: the live toggle streams the position on the board; a finished search is
    cached, so the same position later shows its lines with no engine."""
    from chessapp.ui import state

    monkeypatch.setenv("CHESSAPP_LIVE_NODES", "20000")
    at = paste(fresh(), SHORT)
    at = go_to_ply(at, 5)  # after 3. Bc4: Black must meet Qxf7#
    at.toggle(key=state.live_toggle_key(state.ANALYSIS)).set_value(True)
    at.run()
    no_exception(at)
    search = at.session_state[f"{state.ANALYSIS}.live_search"]
    assert search is not None and search.fen == after(SHORT, 5)
    assert search.join(60)
    at.run()
    live = [c.value for c in at.caption if c.value.startswith("Live: depth")]
    assert live and live[0].endswith("· done")
    assert Store().get_eval(after(SHORT, 5), search._pool.identity,
                            SearchLimit(nodes=20_000), 3) is not None  # the session's 3 lines
    # Stepping moves the live engine to the new position; back again, the cache answers.
    at = go_to_ply(at, 4)
    at = go_to_ply(at, 5)
    assert at.session_state[f"{state.ANALYSIS}.live_search"] is None  # served from the cache
    assert [c.value for c in at.caption if c.value.startswith("Live: depth")]
    # Off: the engine is given back.
    at.toggle(key=state.live_toggle_key(state.ANALYSIS)).set_value(False)
    at.run()
    assert not [c for c in at.caption if c.value.startswith("Live:")]


@pytest.mark.parametrize(("headers", "line"), [
    pytest.param({"White": "Anna", "Black": "Boris", "Event": "Club", "Date": "2024.05.01",
                  "Result": "1-0", "WhiteElo": "1850", "BlackElo": "1790",
                  "TimeControl": "600+5"},
                 "Anna (1850) · Boris (1790) · Club · 2024.05.01 · time control 600+5 · 1-0",
                 id="ratings and time control"),
    pytest.param({"White": "Anna", "Black": "Boris", "WhiteElo": "?", "TimeControl": "-"},
                 "Anna · Boris · ? · ? · *", id="unknown ratings and control are left out"),
])
def test_the_header_names_ratings_and_time_control(headers: dict[str, str], line: str) -> None:
    from chessapp.ui.analysis import header_line

    assert unescape(header_line(headers)) == line  # shown as typed: every mark escaped


def test_the_header_keeps_a_players_link_as_text() -> None:
    from chessapp.ui.analysis import header_line

    line = header_line({"White": "1. [x](https://a.example)", "Black": "B"})
    assert "`[x](https://a.example)`" in line  # a word that would autolink: a code span
    assert line.startswith("1\\. ")  # not a list


@pytest.mark.engine
def test_an_analysed_game_gets_a_checked_story_to_download(
        data_dir: Path, media_capture: dict[str, bytes]) -> None:
    """Issue 12: after the analysis, the page narrates the game beside the board and offers
    the story as TOML that loads back with every claim holding."""
    from chessapp import story
    from chessapp.analysis import GameAnalysis

    at = paste(fresh(), SHORT)
    at.number_input(key=K.LIMIT_VALUE).set_value(2000)
    at = at.button(key=K.RUN).click().run()
    session_id = at.query_params["session"]
    job = jobs.JOBS.get(jobs.main_line_key(session_id))
    assert job is not None and job.join(120)
    at.run()
    no_exception(at)
    download = next(b for b in at.get("download_button")
                    if b.proto.id.endswith(K.STORY_DOWNLOAD) or K.STORY_DOWNLOAD in b.proto.id)
    text = media_capture[download.proto.url].decode("utf-8")
    track = story.parse_track(text, source="download")
    saved = Store().load_session(session_id)
    assert saved.analysis is not None
    results = story.check_track(track, read_game(SHORT), GameAnalysis.from_json(saved.analysis))
    assert results and all(r.holds for r in results)
    # The finish, 4. Qxf7#, is narrated beside the board at the last ply.
    at = go_to_ply(at, 7)
    assert any(t.value.startswith("The game ends after 4. Qxf7#") for t in at.text)
