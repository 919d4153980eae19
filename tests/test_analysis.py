"""The lichess math, as tables of named cases (after lila's AccuracyPercentTest)."""

from __future__ import annotations

import math

import chess
import chess.pgn
import pytest

from chessapp import analysis, tree
from chessapp.analysis import Judgement, MateSequence
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval

W, B = chess.WHITE, chess.BLACK


def cp(v: int) -> WhiteEval:
    return WhiteEval(cp=v)


def mate(v: int) -> WhiteEval:
    return WhiteEval(mate=v)


@pytest.mark.parametrize(
    ("name", "centipawns", "expected"),
    [
        ("level", 0, 0.0),
        ("one pawn up", 100, 2 / (1 + math.exp(-0.368208)) - 1),
        ("one pawn down is symmetric", -100, -(2 / (1 + math.exp(-0.368208)) - 1)),
        ("a rook up", 500, 2 / (1 + math.exp(-1.84104)) - 1),
        ("clamped at +1000", 5000, 2 / (1 + math.exp(-3.68208)) - 1),
        ("clamped at -1000", -5000, -(2 / (1 + math.exp(-3.68208)) - 1)),
    ],
)
def test_winning_chances_cp(name: str, centipawns: int, expected: float) -> None:
    assert analysis.winning_chances(cp(centipawns)) == pytest.approx(expected, abs=1e-12), name


@pytest.mark.parametrize(
    ("name", "ev", "color", "as_cp"),
    [
        ("white mates in 1 counts as 2000 cp", mate(1), W, 2000),
        ("white mates in 10 counts as 1100 cp", mate(10), W, 1100),
        ("mate in 30 is capped like mate in 10", mate(30), W, 1100),
        ("black mates in 3, from White's side", mate(-3), W, -1800),
        ("black mates in 3, from Black's side", mate(-3), B, 1800),
        ("black is checkmated on the board", WhiteEval.checkmate(B), W, 2100),
        ("white is checkmated on the board", WhiteEval.checkmate(W), W, -2100),
    ],
)
def test_winning_chances_mate(name: str, ev: WhiteEval, color: chess.Color, as_cp: int) -> None:
    expected = analysis.raw_winning_chances(as_cp)
    assert analysis.winning_chances(ev, color) == pytest.approx(expected), name


@pytest.mark.parametrize(
    ("name", "before", "after", "mover", "judgement", "sequence"),
    [
        ("a quiet move", cp(30), cp(20), W, None, None),
        ("white drops a pawn: inaccuracy", cp(30), cp(-60), W, Judgement.INACCURACY, None),
        ("white drops a minor piece: blunder", cp(30), cp(-300), W, Judgement.BLUNDER, None),
        ("(0.30 -> -1.20) white: mistake", cp(30), cp(-120), W, Judgement.MISTAKE, None),
        ("black's view: white gains = black's error", cp(-30), cp(120), B, Judgement.MISTAKE, None),
        ("black improves: nothing", cp(120), cp(-30), B, None, None),
        ("already lost, loses more: ceiled, nothing", cp(-1500), cp(-3000), W, None, None),
        ("white allows mate from a level game", cp(0), mate(-4), W, Judgement.BLUNDER,
         MateSequence.CREATED),
        ("white allows mate when already -8", cp(-800), mate(-4), W, Judgement.MISTAKE,
         MateSequence.CREATED),
        ("white allows mate when already -10.5", cp(-1050), mate(-4), W, Judgement.INACCURACY,
         MateSequence.CREATED),
        ("white lets a mate slip, ends level", mate(3), cp(0), W, Judgement.BLUNDER,
         MateSequence.LOST),
        ("white lets a mate slip, still +8", mate(3), cp(800), W, Judgement.MISTAKE,
         MateSequence.LOST),
        ("white lets a mate slip, still +12", mate(3), cp(1200), W, Judgement.INACCURACY,
         MateSequence.LOST),
        ("black lets a mate slip", mate(-2), cp(0), B, Judgement.BLUNDER, MateSequence.LOST),
        ("white turns own mate into being mated", mate(2), mate(-1), W, Judgement.BLUNDER,
         MateSequence.LOST),
        ("a slower mate is no judgement (MateDelayed)", mate(2), mate(5), W, None, None),
        ("delivering mate is no judgement", mate(1), WhiteEval.checkmate(B), W, None, None),
    ],
)
def test_judge(
    name: str,
    before: WhiteEval,
    after: WhiteEval,
    mover: chess.Color,
    judgement: Judgement | None,
    sequence: MateSequence | None,
) -> None:
    verdict = analysis.judge(before, after, mover)
    assert (verdict.judgement, verdict.mate_sequence) == (judgement, sequence), name


@pytest.mark.parametrize(
    ("name", "before", "after", "expected"),
    [
        ("no loss is perfect", 50.0, 50.0, 100.0),
        ("a gain is perfect", 40.0, 60.0, 100.0),
        ("10 points lost", 60.0, 50.0,
         103.1668100711649 * math.exp(-0.4354415386753951) - 3.166924740191411 + 1),
        ("everything lost is clamped at 0", 100.0, 0.0, 0.0),
    ],
)
def test_move_accuracy(name: str, before: float, after: float, expected: float) -> None:
    assert analysis.move_accuracy(before, after) == pytest.approx(expected), name


def _game_accuracy(cps: list[int], start: chess.Color = W) -> dict[chess.Color, float | None]:
    # lila's tests start from Cp.initial = 15
    return analysis.game_accuracy([cp(v) for v in cps], initial=cp(15), start_color=start)


# lila modules/analyse/src/test/AccuracyPercentTest.scala, case for case.
@pytest.mark.parametrize(
    ("name", "cps", "start", "white", "black"),
    [
        ("two good moves", [15, 15], W, (100, 1), (100, 1)),
        ("white blunders on first move", [-900, -900], W, (10, 5), (100, 1)),
        ("black blunders on first move", [15, 900], W, (100, 1), (10, 5)),
        ("both blunder on first move", [-900, 0], W, (10, 5), (10, 5)),
        ("20 perfect moves", [15] * 20, W, (100, 1), (100, 1)),
        ("20 perfect moves and a white blunder", [15] * 20 + [-900], W, (50, 5), (100, 1)),
        ("21 perfect moves and a black blunder", [15] * 21 + [900], W, (100, 1), (50, 5)),
        ("5 average moves (65 cpl) on each side", [-50, 15] * 5, W, (76, 8), (76, 8)),
        ("50 average moves (65 cpl) on each side", [-50, 15] * 50, W, (76, 8), (76, 8)),
        ("50 mediocre moves (150 cpl) on each side", [-135, 15] * 50, W, (54, 8), (54, 8)),
        ("50 terrible moves (500 cpl) on each side", [-435, 15] * 50, W, (20, 8), (20, 8)),
        ("black first: two good moves", [15, 15], B, (100, 1), (100, 1)),
        ("black first: black blunders", [900, 900], B, (100, 1), (10, 5)),
        ("black first: white blunders", [15, -900], B, (10, 5), (100, 1)),
        ("black first: both blunder", [900, 0], B, (10, 5), (10, 5)),
    ],
)
def test_game_accuracy_lichess_cases(
    name: str, cps: list[int], start: chess.Color,
    white: tuple[float, float], black: tuple[float, float],
) -> None:
    acc = _game_accuracy(cps, start)
    assert acc[W] == pytest.approx(white[0], abs=white[1]), name
    assert acc[B] == pytest.approx(black[0], abs=black[1]), name


def test_game_accuracy_side_without_moves_is_none() -> None:
    assert _game_accuracy([15]) == {W: pytest.approx(100, abs=1), B: None}


@pytest.mark.parametrize(
    ("name", "before", "after", "mover", "loss"),
    [
        ("white loses 50", cp(30), cp(-20), W, 50),
        ("white gains: 0", cp(-20), cp(30), W, 0),
        ("black loses 50", cp(-30), cp(20), B, 50),
        ("ceiled at 1000", cp(0), cp(-5000), W, 1000),
        ("allowing mate counts as -1000", cp(0), mate(-3), W, 1000),
        ("mate to mate is 0", mate(3), mate(2), W, 0),
    ],
)
def test_centipawn_loss(
    name: str, before: WhiteEval, after: WhiteEval, mover: chess.Color, loss: int
) -> None:
    assert analysis.centipawn_loss(before, after, mover) == loss, name


class FakeEvaluator:
    """Scripted evals by FEN: for testing the orchestration logic without an engine."""

    def __init__(self, evals: dict[str, tuple[WhiteEval, tuple[chess.Move, ...]]]) -> None:
        self.evals = evals
        self.calls: list[str] = []

    @property
    def identity(self) -> EngineIdentity:
        return EngineIdentity("Fake 1.0")

    @property
    def workers(self) -> int:
        return 2

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        self.calls.append(board.fen())
        ev, pv = self.evals[board.fen()]
        return PositionEval(board.fen(), (EngineLine(ev, pv),), self.identity, limit)


def _scholars_mate() -> chess.pgn.Game:
    game = chess.pgn.Game()
    node: chess.pgn.GameNode = game
    for san in ["e4", "e5", "Qh5", "Nc6", "Bc4", "Nf6", "Qxf7#"]:
        node = node.add_main_variation(node.board().parse_san(san))
    return game


def test_analyse_game_orders_judges_and_skips_terminal() -> None:
    game = _scholars_mate()
    boards = tree.main_line_boards(game)
    scripted = [cp(20), cp(20), cp(10), cp(30), cp(40), cp(40), mate(1)]
    best = ["e2e4", "g8f6", "b8c6", "g1f3", "g1f3", "g7g6", "h5f7"]
    fake = FakeEvaluator({
        b.fen(): (ev, (chess.Move.from_uci(u),))
        for b, ev, u in zip(boards[:-1], scripted, best, strict=True)
    })
    progress: list[tuple[int, int]] = []
    result = analysis.analyse_game(game, fake, SearchLimit(nodes=1000), best_line_plies=0,
                                   progress=lambda d, t: progress.append((d, t)))
    # the checkmate position never reaches the engine; the rest run last first
    assert sorted(fake.calls) == sorted(b.fen() for b in boards[:-1])
    assert progress[0] == (1, 8) and progress[-1] == (8, 8)
    assert [p.san for p in result.plies] == ["e4", "e5", "Qh5", "Nc6", "Bc4", "Nf6", "Qxf7#"]
    assert result.plies[-1].eval == WhiteEval.checkmate(B)
    nf6 = result.plies[5]
    assert nf6.judgement is Judgement.BLUNDER
    assert nf6.verdict.mate_sequence is MateSequence.CREATED
    assert nf6.comment() == "(0.40 → Mate in 1) Checkmate is now unavoidable. g6 was best."
    assert result.plies[0].best_san == "e4" and result.plies[0].comment() == ""


def test_report_json_round_trip_recomputes_the_same_numbers() -> None:
    game = _scholars_mate()
    boards = tree.main_line_boards(game)
    scripted = [cp(20), cp(-90), cp(10), cp(30), cp(40), cp(40), mate(1)]
    best = ["d2d4", "g8f6", "b8c6", "g1f3", "g1f3", "g7g6", "h5f7"]
    fake = FakeEvaluator({b.fen(): (ev, (chess.Move.from_uci(u),))
                          for b, ev, u in zip(boards[:-1], scripted, best, strict=True)})
    result = analysis.analyse_game(game, fake, SearchLimit(nodes=1000), best_line_plies=0)
    data = result.to_json()
    again = analysis.GameAnalysis.from_json(data)
    assert again.to_json() == data
    # from lila's +0.15 (not the engine's +0.20) to -0.90 is a 0.192 drop: an inaccuracy
    assert data["plies"][0]["judgement"] == "inaccuracy"
    assert data["start"]["eval"] == {"cp": 20, "mate": None}
    assert data["summary"]["black"]["blunders"] == 1


def test_positions_run_last_first_like_fishnet() -> None:
    game = _scholars_mate()
    boards = tree.main_line_boards(game)[:-1]
    fake = FakeEvaluator({b.fen(): (cp(0), ()) for b in boards})
    fake.__class__ = type("OneWorker", (FakeEvaluator,), {"workers": property(lambda self: 1)})
    analysis.evaluate_positions(boards, fake, SearchLimit(nodes=1))
    assert fake.calls == [b.fen() for b in reversed(boards)]


def test_cached_positions_cost_no_call() -> None:
    game = _scholars_mate()
    boards = tree.main_line_boards(game)[:-1]
    fake = FakeEvaluator({b.fen(): (cp(0), ()) for b in boards})

    class DictCache:
        def __init__(self) -> None:
            self.data: dict[str, PositionEval] = {}

        def get_eval(self, fen: str, engine: EngineIdentity, limit: SearchLimit,
                     multipv: int) -> PositionEval | None:
            return self.data.get(fen)

        def put_eval(self, result: PositionEval, multipv: int) -> None:
            self.data[result.fen] = result

    cache = DictCache()
    first = analysis.evaluate_positions(boards, fake, SearchLimit(nodes=1), cache=cache)
    calls = len(fake.calls)
    second = analysis.evaluate_positions(boards, fake, SearchLimit(nodes=1), cache=cache)
    assert calls == len(boards) and len(fake.calls) == calls
    assert first == second


def test_a_position_the_engine_crashes_on_is_skipped_with_a_note() -> None:
    from chessapp.errors import EngineCrashed

    game = _scholars_mate()
    boards = tree.main_line_boards(game)
    bad = boards[3].fen()
    fake = FakeEvaluator({b.fen(): (cp(20), ()) for b in boards[:-1]})
    real_evaluate = fake.evaluate

    def evaluate(board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        if board.fen() == bad:
            raise EngineCrashed(f"the engine crashed 3 times on {bad}")
        return real_evaluate(board, limit, multipv=multipv)

    fake.evaluate = evaluate  # type: ignore[method-assign]
    result = analysis.analyse_game(game, fake, SearchLimit(nodes=1))
    notes = [p.note for p in result.plies]
    assert notes[2] == notes[3] == f"not judged: the engine crashed 3 times on {bad}"
    assert [n for i, n in enumerate(notes) if i not in (2, 3)] == [None] * 5
    assert result.plies[2].judgement is None and result.plies[6].san == "Qxf7#"


def test_an_engine_that_crashes_everywhere_fails_the_analysis() -> None:
    from chessapp.errors import EngineCrashed

    game = _scholars_mate()
    fake = FakeEvaluator({})

    def evaluate(board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        raise EngineCrashed("crash")

    fake.evaluate = evaluate  # type: ignore[method-assign]
    with pytest.raises(EngineCrashed):
        analysis.analyse_game(game, fake, SearchLimit(nodes=1))
