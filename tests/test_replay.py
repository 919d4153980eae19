"""chessapp.replay: what a replay page shows, tested without Streamlit or an engine."""

from __future__ import annotations

import io

import chess
import chess.pgn
import pytest

from chessapp.analysis import GameAnalysis, Judgement, build_game_analysis
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.shapes import Brush, Shape
from chessapp.tree import main_line_boards, move_label
from chessapp.view.cafe import Beat, HistoryEvent, beat_for_ply, decimal_year, link_beats
from chessapp.view.charts import eval_chart_frame
from chessapp.view.replay import (
    AUTOPLAY_MAX_S,
    AUTOPLAY_MIN_S,
    autoplay_delay,
    build_replay,
    clamp_ply,
)
from chessapp.view.svg import board_svg

SCHOLAR = "1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0"
# White's view after each ply (index 0 = start); Nf6 walks into mate in 1.
EVALS = [WhiteEval(cp=20), WhiteEval(cp=30), WhiteEval(cp=25), WhiteEval(cp=0),
         WhiteEval(cp=20), WhiteEval(cp=10), WhiteEval(mate=1),
         WhiteEval.checkmate(chess.BLACK)]
# The engine's choice in each position (index = ply before the move).
BEST = ["e2e4", "e7e5", "d1h5", "b8c6", "f1c4", "d8e7", "h5f7", None]


def scholar() -> chess.pgn.Game:
    game = chess.pgn.read_game(io.StringIO(SCHOLAR))
    assert game is not None
    return game


def analysis_of(game: chess.pgn.Game) -> GameAnalysis:
    ident = EngineIdentity("Fake 1")
    limit = SearchLimit(nodes=1000)
    positions = []
    for board, ev, best in zip(main_line_boards(game), EVALS, BEST, strict=True):
        pv = () if best is None else (chess.Move.from_uci(best),)
        positions.append(PositionEval(board.fen(), (EngineLine(ev, pv),), ident, limit))
    return build_game_analysis(game, positions)


@pytest.fixture
def replay_with_evals():  # type: ignore[no-untyped-def]
    game = scholar()
    return build_replay(game, analysis_of(game))


def test_replay_labels_moves_and_check(replay_with_evals) -> None:  # type: ignore[no-untyped-def]
    r = replay_with_evals
    assert r.last == 7
    assert r.analysed
    assert [p.label for p in r.plies] == [
        "Start", "1. e4", "1… e5", "2. Qh5", "2… Nc6", "3. Bc4", "3… Nf6", "4. Qxf7#"]
    assert [p.lastmove for p in r.plies] == [
        None, "e2e4", "e7e5", "d1h5", "b8c6", "f1c4", "g8f6", "h5f7"]
    assert [p.check for p in r.plies] == [None] * 7 + [chess.E8]


def test_replay_judgements_and_engine_choice(replay_with_evals) -> None:  # type: ignore[no-untyped-def]
    r = replay_with_evals
    assert [p.judgement for p in r.plies] == [None] * 6 + [Judgement.BLUNDER, None]
    six = r.plies[6]
    assert six.glyph == "??"
    assert six.played_best == "Qe7"  # the engine's choice before Nf6
    assert six.best_next == "h5f7" and six.best_next_san == "Qxf7#"  # what to play now
    assert r.plies[7].best_next is None
    assert r.plies[0].eval == WhiteEval(cp=20)
    assert r.plies[0].white_win == pytest.approx(51.84, abs=0.01)
    assert r.plies[7].white_win == pytest.approx(97.54, abs=0.01)  # lila: mate counts as 1000 cp


def test_replay_without_analysis_or_with_a_mismatched_one() -> None:
    game = scholar()
    plain = build_replay(game)
    assert not plain.analysed
    assert all(p.eval is None and p.judgement is None for p in plain.plies)
    other = chess.pgn.read_game(io.StringIO("1. d4 d5 2. c4 e6 3. Nc3 Nf6 4. Bg5 Be7 *"))
    assert other is not None
    assert not build_replay(other, analysis_of(game)).analysed


def test_replay_from_a_black_to_move_fen() -> None:
    game = chess.pgn.read_game(io.StringIO(
        '[FEN "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1"]\n\n1... c5 2. Nf3 *'))
    assert game is not None
    assert [p.label for p in build_replay(game).plies] == ["Start", "1… c5", "2. Nf3"]


@pytest.mark.parametrize(("ply", "san", "start", "expected"), [
    pytest.param(1, "e4", 0, "1. e4", id="white's first move"),
    pytest.param(2, "e5", 0, "1… e5", id="black's first move"),
    pytest.param(23, "Nf3", 0, "12. Nf3", id="white's twelfth"),
    pytest.param(1, "c5", 1, "1… c5", id="black to move in the start FEN"),
    pytest.param(2, "Nf3", 1, "2. Nf3", id="then white"),
])
def test_move_label(ply: int, san: str, start: int, expected: str) -> None:
    assert move_label(ply, san, start=start) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    pytest.param("5", 5, id="in range"),
    pytest.param(" 7 ", 7, id="spaces"),
    pytest.param("0", 0, id="start"),
    pytest.param("40", 40, id="last"),
    pytest.param("41", 40, id="past the end clamps to last"),
    pytest.param("999999999", 40, id="huge"),
    pytest.param("-3", 0, id="negative clamps to start"),
    pytest.param("abc", 0, id="garbage gives the default"),
    pytest.param("3.5", 0, id="not an integer"),
    pytest.param("", 0, id="empty"),
    pytest.param("1e3", 0, id="exponent"),
    pytest.param("9" * 40, 0, id="too many digits"),
    pytest.param(None, 0, id="missing"),
    pytest.param(["5"], 0, id="a list"),
    pytest.param(True, 0, id="a bool is not a ply"),
    pytest.param(12, 12, id="an int"),
])
def test_clamp_ply(raw: object, expected: int) -> None:
    assert clamp_ply(raw, 40) == expected


def test_clamp_ply_default_and_empty_game() -> None:
    assert clamp_ply("junk", 40, default=9) == 9
    assert clamp_ply("junk", 5, default=9) == 5
    assert clamp_ply("3", 0) == 0
    assert clamp_ply("3", -1) == 0


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(None, AUTOPLAY_MIN_S, id="no narration"),
    pytest.param("", AUTOPLAY_MIN_S, id="empty"),
    pytest.param("one", AUTOPLAY_MIN_S, id="one word is still the minimum"),
    pytest.param(" ".join(["w"] * 20), 7.0, id="20 words at 200 wpm plus a second"),
    pytest.param(" ".join(["w"] * 50), 16.0, id="50 words"),
    pytest.param(" ".join(["w"] * 500), AUTOPLAY_MAX_S, id="capped"),
])
def test_autoplay_delay(text: str | None, expected: float) -> None:
    assert autoplay_delay(text) == expected


@pytest.mark.parametrize(("date", "expected"), [
    pytest.param("1913-01", 1913.0, id="january"),
    pytest.param("1918-08", 1918.583, id="august"),
    pytest.param("1913.01.??", 1913.0, id="pgn date"),
    pytest.param("1940-??", 1940.0, id="unknown month"),
    pytest.param("January 1924", 1924.0, id="words"),
    pytest.param("the café", None, id="no year"),
])
def test_decimal_year(date: str, expected: float | None) -> None:
    assert decimal_year(date) == expected


def beat(key: str, first: int, last: int, date: str = "1913-01") -> Beat:
    return Beat(key=key, first_ply=first, last_ply=last, act="Cold open", date=date,
                place="Vienna", narration=f"{key} text", metaphor=f"{key} metaphor",
                shapes=(Shape(chess.F3, chess.E5, Brush.RED),))


EVENTS = (
    HistoryEvent("cafe", 1913.0, "1913-01", "Vienna", "Café Central"),
    HistoryEvent("train", 1918.5, "1918-08", "Sviyazhsk", "Armoured train"),
    HistoryEvent("mexico", 1940.6, "1940-08", "Mexico City", "Coyoacán"),
)


def test_beat_for_ply_prefers_the_later_start() -> None:
    beats = [beat("a", 0, 4), beat("b", 3, 6)]
    assert [getattr(beat_for_ply(beats, p), "key", None) for p in range(8)] == [
        "a", "a", "a", "b", "b", "b", "b", None]


def test_link_beats_to_the_nearest_event() -> None:
    beats = [beat("a", 0, 1, "1913-01"), beat("b", 2, 3, "1919"), beat("c", 4, 5, "1939-12"),
             beat("d", 6, 7, "no date")]
    linked = link_beats(beats, EVENTS)
    assert [(b.key, b.event, b.year) for b in linked] == [
        ("a", "cafe", 1913.0), ("b", "train", 1919.0), ("c", "mexico", 1939.917),
        ("d", None, None)]
    named = Beat(key="x", first_ply=0, last_ply=0, act="", date="1913", place="",
                 narration="", metaphor="", event="mexico")
    assert link_beats([named], EVENTS)[0].event == "mexico"


def test_eval_chart_frame(replay_with_evals) -> None:  # type: ignore[no-untyped-def]
    frame = eval_chart_frame(replay_with_evals, [beat("b1", 6, 7)])
    assert list(frame.columns) == ["ply", "label", "win", "eval", "judgement", "beat"]
    assert frame["ply"].tolist() == list(range(8))
    assert frame["judgement"].tolist() == ["good"] * 6 + ["blunder", "good"]
    assert frame["beat"].tolist() == [""] * 6 + ["b1", ""]
    assert frame["label"].tolist()[6] == "3… Nf6??"
    assert frame["eval"].tolist()[6:] == ["#1", "1-0"]
    assert frame["win"].tolist()[-1] == 97.54


def test_eval_chart_frame_without_evals_is_empty() -> None:
    frame = eval_chart_frame(build_replay(scholar()))
    assert frame.empty and list(frame.columns)[:3] == ["ply", "label", "win"]


def test_board_svg_draws_last_move_check_shapes_and_best_arrow() -> None:
    fen = "r1bqkb1r/pppp1Qpp/2n2n2/4p3/2B1P3/8/PPPP1PPP/RNB1K1NR b KQkq - 0 4"
    svg = board_svg(fen, lastmove="h5f7", check=chess.E8,
                    shapes=[Shape(chess.F7, chess.E8, Brush.RED), Shape(chess.E5)],
                    best=None)
    assert svg.startswith("<svg")
    assert "lastmove" in svg and "check" in svg
    assert svg.count('class="arrow') == 2  # the red arrow and the green circle
    with_best = board_svg(fen, best="e8e7")
    assert "#003088" in with_best
    assert board_svg(fen) != board_svg(fen, flipped=True)


