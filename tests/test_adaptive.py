"""Adaptive analysis (issue 16): the pure deepening rule, then the real engine.

The rule is tested on scripted evals (tables of named cases); determinism, the
cache's reuse across budgets and the CLI flag with real Stockfish at small node
limits (N = 20,000 with a 1,000-node first pass), counting calls and nodes.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp import adaptive, analysis, export, store
from chessapp.adaptive import AdaptiveRule, Reason
from chessapp.engine import EngineConfig, EnginePool
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval

ROOT = Path(__file__).resolve().parents[1]
CAFE_SOURCE = ROOT / "games" / "cafe-1913.source.pgn"
FAKE = EngineIdentity("Fake 1.0")
E4, E5, NF3, D4 = (chess.Move.from_uci(u) for u in ("e2e4", "e7e5", "g1f3", "d2d4"))
LONG_PV = (E4, E5, NF3, chess.Move.from_uci("b8c6"))


def cp_for(white_chances: float) -> int:
    """The centipawns whose lichess winning chances (White's view) are ``white_chances``."""
    return round(math.log((1 + white_chances) / (1 - white_chances)) / 0.00368208)


def position(ev: WhiteEval, pv: tuple[chess.Move, ...] = LONG_PV, nodes: int = 1000,
             fen: str = chess.STARTING_FEN) -> PositionEval:
    return PositionEval(fen, (EngineLine(ev, pv, nodes=nodes),), FAKE, SearchLimit(nodes=nodes))


# --- The ladder ----------------------------------------------------------------------------


@pytest.mark.parametrize(("top", "ladder"), [
    pytest.param(20_000, (1_000, 4_000, 16_000, 20_000), id="test budget"),
    pytest.param(1_000_000, (1_000, 4_000, 16_000, 64_000, 256_000, 1_000_000), id="lichess 1M"),
    pytest.param(64_000, (1_000, 4_000, 16_000, 64_000), id="N on a step"),
    pytest.param(1_000, (1_000,), id="N is the first pass"),
    pytest.param(300, (300,), id="N below the first pass"),
])
def test_ladder_is_fixed_steps_capped_at_n(top: int, ladder: tuple[int, ...]) -> None:
    assert AdaptiveRule().ladder(top) == ladder


# --- One move's reasons --------------------------------------------------------------------

TOP = 1_000_000
LADDER = AdaptiveRule().ladder(TOP)


def _reasons(before_wc: float, after_wc: float, *, budget: int, best: chess.Move = E4,
             pv_before: tuple[chess.Move, ...] | None = None,
             before_ev: WhiteEval | None = None,
             after_ev: WhiteEval | None = None) -> frozenset[Reason]:
    """White plays e4 from the start position; winning chances are White's."""
    board = chess.Board()
    before = position(before_ev or WhiteEval(cp=cp_for(before_wc)),
                      pv_before if pv_before is not None else (best, *LONG_PV[1:]), budget)
    after = position(after_ev or WhiteEval(cp=cp_for(after_wc)), LONG_PV[1:], budget)
    return adaptive.ply_reasons(board, E4, before, after, budget, LADDER, AdaptiveRule())


@pytest.mark.parametrize(("case", "kwargs", "expected"), [
    ("quiet best move at 64k", dict(before_wc=0.05, after_wc=0.04, budget=64_000), set()),
    ("quiet best move at 256k", dict(before_wc=0.05, after_wc=0.04, budget=256_000), set()),
    ("at the top nothing is uncertain",
     dict(before_wc=0.5, after_wc=0.2, budget=TOP), set()),
    ("drop just under the mistake threshold at 256k",
     dict(before_wc=0.3, after_wc=0.11, budget=256_000), {Reason.NEAR_THRESHOLD}),
    ("the same drop far from the top has a wider margin",
     dict(before_wc=0.3, after_wc=0.15, budget=64_000), {Reason.NEAR_THRESHOLD}),
    ("the same drop near the top is settled",
     dict(before_wc=0.3, after_wc=0.15, budget=256_000), set()),
    ("blunder-sized drop", dict(before_wc=0.3, after_wc=-0.3, budget=256_000), {Reason.SWING}),
    ("blunder-sized gain", dict(before_wc=-0.3, after_wc=0.3, budget=256_000), {Reason.SWING}),
    ("a gain means the eval before was wrong",
     dict(before_wc=0.0, after_wc=0.15, budget=256_000), {Reason.GAIN}),
    ("below the floor (N/64 -> 4k) everything deepens (and 1k's margin is wide)",
     dict(before_wc=0.05, after_wc=0.04, budget=1_000), {Reason.FLOOR, Reason.NEAR_THRESHOLD}),
    ("best move differs below the tactics step (N/8 -> 64k), the mover gaining a little",
     dict(before_wc=0.0, after_wc=0.03, budget=16_000, best=D4), {Reason.BEST_DIFFERS}),
    ("best move differs with the same eval: an alternative, not a tactic",
     dict(before_wc=0.05, after_wc=0.045, budget=16_000, best=D4), set()),
    ("near a threshold at 16k: the margin is 0.04 + 0.025 per step beyond the first",
     dict(before_wc=0.05, after_wc=0.0, budget=16_000, best=D4),
     {Reason.NEAR_THRESHOLD, Reason.BEST_DIFFERS}),
    ("best move differs at the tactics step is left to the other rules",
     dict(before_wc=0.0, after_wc=0.03, budget=64_000, best=D4), set()),
    ("a line with no reply below the tactics step",
     dict(before_wc=0.05, after_wc=0.04, budget=16_000, pv_before=(E4,)), {Reason.SHORT_PV}),
    ("a mate appears", dict(before_wc=0.9, after_wc=0.0, budget=256_000,
                            after_ev=WhiteEval(mate=5)), {Reason.MATE}),
    ("a mate changes side", dict(before_wc=0.0, after_wc=0.0, budget=256_000,
                                 before_ev=WhiteEval(mate=3), after_ev=WhiteEval(mate=-2)),
     {Reason.MATE, Reason.SWING}),
    ("a mate kept by the same side", dict(before_wc=0.0, after_wc=0.0, budget=256_000,
                                          before_ev=WhiteEval(mate=4),
                                          after_ev=WhiteEval(mate=3)), set()),
])
def test_ply_reasons(case: str, kwargs: dict[str, object], expected: set[Reason]) -> None:
    assert _reasons(**kwargs) == expected, case  # type: ignore[arg-type]


def test_positions_to_deepen_takes_both_sides_of_a_move_but_not_finished_or_top_ones() -> None:
    uncertain = {1: frozenset({Reason.NEAR_THRESHOLD}), 3: frozenset({Reason.MATE})}
    steps = [0, 2, 1, 1]
    terminal = [False, False, False, True]
    assert adaptive.positions_to_deepen(uncertain, [], steps, terminal, top_step=2) == {
        0: 1, 2: 2}
    assert adaptive.positions_to_deepen({}, [1, 2], steps, terminal, top_step=2) == {2: 2}


@pytest.mark.parametrize(("case", "why", "steps", "expected"), [
    ("a swing past the tactics step jumps to the top",
     {Reason.SWING}, [2, 2], {0: 5, 1: 5}),
    ("a mate past the tactics step jumps too", {Reason.MATE}, [3, 2], {0: 5, 1: 5}),
    ("a swing below the tactics step goes one step", {Reason.SWING}, [1, 2], {0: 2, 1: 3}),
    ("near a threshold never jumps", {Reason.NEAR_THRESHOLD}, [3, 3], {0: 4, 1: 4}),
])
def test_swings_and_mates_jump_once_past_the_tactics_step(
        case: str, why: set[Reason], steps: list[int], expected: dict[int, int]) -> None:
    got = adaptive.positions_to_deepen({1: frozenset(why)}, [], steps, [False, False],
                                       top_step=5, jump_from_step=2)
    assert got == expected, case


def test_unstable_positions_compare_the_last_two_budgets() -> None:
    previous = [None, position(WhiteEval(cp=0)), position(WhiteEval(cp=0))]
    results = [position(WhiteEval(cp=300)), position(WhiteEval(cp=10)),
               position(WhiteEval(cp=80))]
    # wc(80cp) - wc(0) = 0.147 > 0.05; 10 cp moves it by 0.018; index 0 has no earlier search.
    assert adaptive.unstable_positions(previous, results, AdaptiveRule()) == [2]


# --- The passes, on a scripted engine ----------------------------------------------------------


class LadderFake:
    """Scripted evals by (FEN, nodes): what an engine that sees more with more nodes says."""

    def __init__(self, evals: dict[str, dict[int, int]], best: dict[str, chess.Move]) -> None:
        self.evals = evals
        self.best = best
        self.calls: list[tuple[str, int]] = []

    @property
    def identity(self) -> EngineIdentity:
        return FAKE

    @property
    def workers(self) -> int:
        return 2

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        assert limit.nodes is not None
        self.calls.append((board.fen(), limit.nodes))
        by_budget = self.evals[board.fen()]
        cp = by_budget[max(b for b in by_budget if b <= limit.nodes)]
        best = self.best[board.fen()]
        return PositionEval(board.fen(), (EngineLine(WhiteEval(cp=cp), (best, *LONG_PV[1:]),
                                                     nodes=limit.nodes),), FAKE, limit)


def _game(*sans: str) -> chess.pgn.Game:
    game = chess.pgn.Game()
    node: chess.pgn.GameNode = game
    for san in sans:
        node = node.add_main_variation(node.board().parse_san(san))
    return game


def test_only_the_moves_that_could_change_are_deepened_until_settled() -> None:
    # 1. e4 e5 2. Qh5 Nc6: Qh5 looks fine at 1k (the engine prefers Nf3 by a little) but is
    # an inaccuracy from 4k on; the opening moves are quiet at every budget.
    game = _game("e4", "e5", "Qh5", "Nc6")
    boards = analysis.main_line_boards(game)
    fens = [b.fen() for b in boards]
    moves = list(game.mainline_moves())
    after_qh5 = {1000: 18, 4000: -40, 16000: -50}
    evals = {fens[0]: {1000: 20}, fens[1]: {1000: 25}, fens[2]: {1000: 30},
             fens[3]: after_qh5, fens[4]: dict(after_qh5)}
    best = {fens[i]: moves[i] for i in range(4)} | {fens[4]: E4}
    best[fens[2]] = NF3
    limit = SearchLimit(nodes=20_000)
    fake = LadderFake(evals, best)
    interim: list[tuple[int, analysis.Judgement | None]] = []
    result = adaptive.analyse_game_adaptive(
        game, fake, limit, on_pass=lambda a, n: interim.append((n, a.plies[2].judgement)))
    # The first pass's analysis came at once (Qh5 not yet judged), then one per pass.
    assert interim[0] == (1, None) and [n for n, _ in interim] == list(range(1, result.passes + 1))
    assert interim[-1][1] is analysis.Judgement.INACCURACY
    uniform = analysis.analyse_game(game, LadderFake(evals, best), limit)
    assert result.budgets[:2] == (1000, 1000)  # quiet: the first pass was enough
    # Both sides of Qh5 go up until the drop (0.147 at 16k) is more than 16k's margin (0.04)
    # from 0.1 and 0.2, and the eval after it moved less than 0.05 since 4k: not to N.
    assert result.budgets[2:4] == (16_000, 16_000)
    assert [p.judgement for p in result.analysis.plies] == [p.judgement for p in uniform.plies]
    assert result.analysis.plies[2].judgement is analysis.Judgement.INACCURACY
    assert Reason.BEST_DIFFERS in result.reasons[3]
    assert [b for _, b in fake.calls].count(1000) == 5  # the first pass saw every position
    assert result.nodes_all_passes == sum(b for _, b in fake.calls)
    assert result.passes >= 4  # 1k, then 4k and 16k, and position 4 a pass behind
    assert result.analysis.limit == limit
    assert result.analysis.adaptive == AdaptiveRule().key(20_000)


def test_a_quiet_game_stops_after_the_first_pass_at_the_top_of_a_short_ladder() -> None:
    game = _game("e4", "e5")
    boards = analysis.main_line_boards(game)
    fake = LadderFake({b.fen(): {1000: 20} for b in boards},
                      {boards[0].fen(): E4, boards[1].fen(): E5, boards[2].fen(): NF3})
    result = adaptive.analyse_game_adaptive(game, fake, SearchLimit(nodes=1000))
    assert result.passes == 1 and len(fake.calls) == 3 and result.budgets == (1000,) * 3


def test_adaptive_needs_a_node_budget() -> None:
    game = _game("e4")
    fake = LadderFake({}, {})
    with pytest.raises(ValueError, match="node budget"):
        adaptive.analyse_game_adaptive(game, fake, SearchLimit(depth=8))


# --- Real Stockfish -------------------------------------------------------------------------------

N = 20_000


def _cafe() -> chess.pgn.Game:
    with CAFE_SOURCE.open(encoding="utf-8") as handle:
        game = chess.pgn.read_game(handle)
    assert game is not None
    return game


class Recording(adaptive.CountingEvaluator):
    """Counts like CountingEvaluator and also records the budget of every engine call."""

    def __init__(self, inner: analysis.Evaluator) -> None:
        super().__init__(inner)
        self.budgets: list[int] = []

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        assert limit.nodes is not None
        self.budgets.append(limit.nodes)
        return super().evaluate(board, limit, multipv=multipv)


@pytest.mark.engine
def test_uniform_runs_report_the_nodes_each_position_got(engine_pool: EnginePool) -> None:
    game = _game("e4", "e5", "Nf3", "Nc6")
    counted = adaptive.CountingEvaluator(engine_pool)
    result = analysis.analyse_game(game, counted, SearchLimit(nodes=5_000))
    data = result.to_json()
    nodes = [data["start"]["nodes"], *(p["nodes"] for p in data["plies"])]
    # Stockfish stops at the first node check past the limit: a little over it, never far.
    assert all(5_000 <= n <= 6_000 for n in nodes), nodes
    assert sum(nodes) == counted.nodes and counted.calls == 5
    tags = chess.pgn.read_game(io.StringIO(export.export_pgn(game, result)))
    assert tags is not None
    assert tags.headers["AnalysisNodes"] == (f"total={sum(nodes)} searched=5 min={min(nodes)} "
                                             f"max={max(nodes)}")
    assert analysis.GameAnalysis.from_json(data).to_json() == data


@pytest.mark.engine
def test_adaptive_is_deterministic_whatever_the_cache_holds(
        stockfish_path: str, tmp_path: Path) -> None:
    game = _cafe()
    limit = SearchLimit(nodes=N)
    config = EngineConfig(path=stockfish_path, workers=2, threads=1, hash_mb=16)
    with EnginePool(config) as pool:
        cold = Recording(pool)
        first = adaptive.analyse_game_adaptive(game, cold, limit)
        again = adaptive.analyse_game_adaptive(game, Recording(pool), limit)
        cache = store.Store(tmp_path / "cache.sqlite3")
        uniform = Recording(pool)
        analysis.analyse_game(game, uniform, limit, cache=cache)  # every position at N
        warm = Recording(pool)
        from_cache = adaptive.analyse_game_adaptive(game, warm, limit, cache=cache)
        rerun = Recording(pool)
        adaptive.analyse_game_adaptive(game, rerun, limit, cache=cache)
    texts = [json.dumps(r.analysis.to_json(), sort_keys=True) for r in (first, again, from_cache)]
    assert texts[0] == texts[1] == texts[2]
    pgns = [export.export_pgn(game, r.analysis) for r in (first, again, from_cache)]
    assert pgns[0] == pgns[1] == pgns[2]
    # Spent unevenly: some positions stayed below N. (On this tactical game at a ladder as
    # short as 1k/4k/16k/20k it spends no fewer nodes than the uniform run: BENCHMARKS.md.)
    assert min(b for b in first.budgets if b) < N
    assert cold.nodes == first.nodes_all_passes  # a cold run searched every step itself
    # Across budgets: the uniform N run served every position the adaptive run took to N,
    # so the adaptive run asked the engine only for the steps below N ...
    at_top = sum(1 for b in first.budgets if b == N)
    assert at_top > 0
    assert N not in warm.budgets
    assert warm.calls == cold.calls - at_top
    # ... and a second adaptive run with the same settings makes no engine call at all.
    assert rerun.calls == 0


@pytest.mark.engine
def test_a_deeper_budget_reuses_the_shallower_runs_steps(
        stockfish_path: str, tmp_path: Path) -> None:
    game = _game("e4", "e5", "Nf3", "Nc6", "Bb5", "a6")
    cache = store.Store(tmp_path / "cache.sqlite3")
    config = EngineConfig(path=stockfish_path, workers=1, threads=1, hash_mb=16)
    with EnginePool(config) as pool:
        low = Recording(pool)
        adaptive.analyse_game_adaptive(game, low, SearchLimit(nodes=4_000), cache=cache)
        high = Recording(pool)
        deeper = adaptive.analyse_game_adaptive(game, high, SearchLimit(nodes=N), cache=cache)
    assert 1_000 in low.budgets  # the first pass ran at 1k ...
    assert 1_000 not in high.budgets  # ... and served the 20k run's first pass from the cache
    assert set(high.budgets) <= {16_000, N}  # 4k was the low run's top, also cached
    assert deeper.analysis.limit == SearchLimit(nodes=N)


@pytest.mark.engine
def test_deeper_results_cache_serves_requests_for_fewer_nodes(
        engine_pool: EnginePool, tmp_path: Path) -> None:
    game = _game("e4", "e5", "Nf3")
    cache = store.Store(tmp_path / "cache.sqlite3")
    analysis.analyse_game(game, engine_pool, SearchLimit(nodes=N), cache=cache)
    exact = adaptive.CountingEvaluator(engine_pool)
    analysis.analyse_game(game, exact, SearchLimit(nodes=5_000), cache=cache)
    assert exact.calls == 4  # the plain cache is exact: 5k is not 20k
    reuse = adaptive.CountingEvaluator(engine_pool)
    served = analysis.analyse_game(game, reuse, SearchLimit(nodes=4_000),
                                   cache=adaptive.DeeperResultsCache(cache))
    assert reuse.calls == 0
    # It says what it really got: the 5k results (smallest budget >= 4k), not 4k.
    assert all(5_000 <= (p.nodes or 0) <= 6_000 for p in served.plies)
    capped = adaptive.CountingEvaluator(engine_pool)
    analysis.analyse_game(game, capped, SearchLimit(nodes=6_000),
                          cache=adaptive.DeeperResultsCache(cache, at_most=10_000))
    assert capped.calls == 4  # 20k is deeper than the cap allows


def _run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CHESSAPP_DATA_DIR=str(data_dir))
    return subprocess.run([sys.executable, "-m", "chessapp", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.engine
def test_cli_adaptive_flag_gives_byte_identical_output(tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        pgn, report = tmp_path / f"{run}.pgn", tmp_path / f"{run}.json"
        proc = _run_cli("analyze", str(CAFE_SOURCE), "--nodes", str(N), "--adaptive",
                        "--workers", "2", "--no-cache", "-q", "-o", str(pgn),
                        "--json", str(report), data_dir=tmp_path / "data")
        assert proc.returncode == 0, proc.stderr
        outputs.append((pgn.read_bytes(), report.read_bytes()))
    assert outputs[0] == outputs[1]
    data = json.loads(outputs[0][1])["games"][0]
    assert data["adaptive"] == AdaptiveRule().key(N)
    assert data["limit"]["nodes"] == N
    nodes = [p["nodes"] for p in data["plies"]]
    assert min(nodes) < N / 4 and max(nodes) >= N  # spent unevenly, at most N (+ overshoot)
    text = outputs[0][0].decode("utf-8")
    assert f'[AnalysisAdaptive "{AdaptiveRule().key(N)}"]' in text
    assert f'[AnalysisLimit "nodes={N}"]' in text and "[AnalysisNodes \"total=" in text


def test_cli_adaptive_refuses_depth_and_time(tmp_path: Path) -> None:
    proc = _run_cli("analyze", str(CAFE_SOURCE), "--depth", "6", "--adaptive", "--no-cache",
                    data_dir=tmp_path / "data")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("chessapp: bad input: --adaptive needs a node budget: "
                                   "use --nodes, not --depth or --movetime")
