"""Learn from your mistakes (issue 12, part 4): candidates, verdicts on tries, progress."""

from __future__ import annotations

import chess
import pytest

from chessapp import retro
from chessapp.analysis import GameAnalysis
from chessapp.engine import EnginePool
from chessapp.errors import BadInput
from chessapp.evals import SearchLimit, WhiteEval
from chessapp.retro import ACCEPT_LOSS, Feedback, Mistake, RetroProgress, judge_attempt
from chessapp.view.cafe import load_cafe


@pytest.fixture(scope="module")
def cafe() -> GameAnalysis:
    analysis = load_cafe().analysis
    assert analysis is not None
    return analysis


def test_the_cafe_regular_has_two_mistakes_to_revisit(cafe: GameAnalysis) -> None:
    black = retro.mistakes_of(cafe, chess.BLACK)
    assert [(m.ply, m.played_san, m.best_san) for m in black] == [
        (20, "g6", "Be6"), (22, "Qxe2", "cxd5")]
    # 5... Qe7+ is an inaccuracy too, but its swing is under lila's retrospect threshold.
    assert all(m.loss > retro.CANDIDATE_LOSS for m in black)
    assert retro.mistakes_of(cafe, chess.WHITE) == []
    g6 = black[0]
    assert chess.Board(g6.fen_before).san(g6.played) == "g6"
    assert g6.best_line[0] == g6.best


def _never(board: chess.Board) -> WhiteEval:
    raise AssertionError("the engine must not be asked")


def test_the_engines_choice_wins_and_the_games_move_is_recognised(cafe: GameAnalysis) -> None:
    g6 = retro.mistakes_of(cafe, chess.BLACK)[0]
    assert judge_attempt(g6, g6.best, _never) == retro.Attempt(Feedback.WIN, "Be6")
    assert judge_attempt(g6, g6.played, _never) == retro.Attempt(Feedback.PLAYED, "g6")
    with pytest.raises(BadInput, match="not legal"):
        judge_attempt(g6, chess.Move.from_uci("e1e2"), _never)


MISTAKE = Mistake(ply=2, fen_before=chess.Board().fen(), played=chess.Move.from_uci("f2f3"),
                  played_san="f3", best=chess.Move.from_uci("e2e4"), best_san="e4",
                  best_line=(chess.Move.from_uci("e2e4"),), eval_before=WhiteEval(cp=30),
                  loss=0.3)


@pytest.mark.parametrize(("after_cp", "feedback"), [
    pytest.param(30, Feedback.WIN, id="as good as the best"),
    pytest.param(10, Feedback.WIN, id="a little worse: within the tolerance"),
    # winning_chances(+30) - winning_chances(x) < 0.08 holds down to about -14 cp.
    pytest.param(-13, Feedback.WIN, id="just inside lila's povDiff > -0.04"),
    pytest.param(-16, Feedback.FAIL, id="just outside it"),
    pytest.param(-300, Feedback.FAIL, id="far worse"),
])
def test_another_move_is_judged_by_the_tolerance(after_cp: int, feedback: Feedback) -> None:
    calls: list[str] = []

    def evaluate(board: chess.Board) -> WhiteEval:
        calls.append(board.fen())
        return WhiteEval(cp=after_cp)

    attempt = judge_attempt(MISTAKE, chess.Move.from_uci("d2d4"), evaluate)
    assert attempt.feedback is feedback and attempt.move_san == "d4"
    assert attempt.eval_after == WhiteEval(cp=after_cp)
    assert attempt.loss is not None and (attempt.loss < ACCEPT_LOSS) == (feedback is Feedback.WIN)
    assert len(calls) == 1 and calls[0].startswith("rnbqkbnr/pppppppp/8/8/3P4/")


def test_black_tries_are_judged_from_blacks_side() -> None:
    flipped = Mistake(ply=2, fen_before=chess.Board("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/"
                                                    "RNBQKBNR b KQkq - 0 1").fen(),
                      played=chess.Move.from_uci("g7g5"), played_san="g5",
                      best=chess.Move.from_uci("c7c5"), best_san="c5", best_line=(),
                      eval_before=WhiteEval(cp=30), loss=0.3)
    # For Black a higher White eval is worse: +200 after the try is a clear loss.
    worse = judge_attempt(flipped, chess.Move.from_uci("a7a6"), lambda b: WhiteEval(cp=200))
    better = judge_attempt(flipped, chess.Move.from_uci("e7e5"), lambda b: WhiteEval(cp=25))
    assert (worse.feedback, better.feedback) == (Feedback.FAIL, Feedback.WIN)


def test_the_search_is_at_least_lichess_equivalent() -> None:
    assert retro.retro_limit(SearchLimit(nodes=50_000)) == SearchLimit(nodes=retro.RETRO_NODES)
    assert retro.retro_limit(SearchLimit(nodes=1_000_000)) == SearchLimit(nodes=1_000_000)
    assert retro.retro_limit(SearchLimit(depth=12)) == SearchLimit(nodes=retro.RETRO_NODES)


def test_progress_walks_the_mistakes_and_round_trips(cafe: GameAnalysis) -> None:
    mistakes = retro.mistakes_of(cafe, chess.BLACK)
    progress = RetroProgress(chess.BLACK)
    assert progress.next_mistake(mistakes) == mistakes[0]
    progress.solve(mistakes[0])
    progress.solve(mistakes[0])  # solving twice counts once
    assert progress.next_mistake(mistakes) == mistakes[1]
    assert progress.completion(mistakes) == (1, 2)
    data = progress.to_json()
    assert data == {"color": "black", "solved": [20]}
    assert RetroProgress.from_json(data) == progress
    progress.solve(mistakes[1])
    assert progress.next_mistake(mistakes) is None


@pytest.mark.parametrize("junk", [None, [], {"color": "red"}, {"color": "white", "solved": "1"},
                                  {"color": "black", "solved": [1, "2"]}])
def test_saved_progress_that_is_junk_is_refused(junk: object) -> None:
    with pytest.raises(ValueError):
        RetroProgress.from_json(junk)


@pytest.mark.engine
def test_a_real_engine_judges_a_try(engine_pool: EnginePool, cafe: GameAnalysis) -> None:
    """Before 11... Qxe2: giving the queen away fails; the engine is asked once."""
    queen_grab = retro.mistakes_of(cafe, chess.BLACK)[1]
    calls_before = engine_pool.calls
    evaluate = retro.evaluator_search(engine_pool, SearchLimit(nodes=20_000))
    attempt = judge_attempt(queen_grab, chess.Move.from_uci("e7e2"), evaluate)  # Qxe2, the game
    assert attempt.feedback is Feedback.PLAYED and engine_pool.calls == calls_before
    bad = judge_attempt(queen_grab, chess.Move.from_uci("e7e4"), evaluate)  # Qe4: Nxf6+ hits it
    assert engine_pool.calls == calls_before + 1
    assert bad.feedback is Feedback.FAIL, bad
    assert bad.eval_after is not None and bad.loss is not None and bad.loss >= ACCEPT_LOSS
