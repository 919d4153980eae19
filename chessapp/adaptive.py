"""Adaptive analysis: lichess-quality judgements for a fraction of the nodes (issue 16).

A uniform analysis spends the same N nodes on every position. Most positions
get the same judgement at a small fraction of that; a few, near a lichess
threshold or after a big swing, need all of it. This module spends the budget
in passes over a fixed *ladder* of node budgets:

    ladder(N) = first, first·growth, first·growth², ... (each < N), then N
    (defaults: 1,000 · 4^k, so N = 1,000,000 gives 1k, 4k, 16k, 64k, 256k, 1M)

1. The first pass searches every position at ``first`` nodes, last position
   first (fishnet's order, ``src/queue.rs``: "Reverse for backwards analysis").
2. Each further pass looks at every move with the evals it has and finds the
   moves whose verdict could still change (:func:`uncertain_plies`). Both
   positions of such a move (before and after it) go one step up the ladder.
3. It stops when no move is uncertain, or the uncertain ones have both their
   positions at N.

A move (ply) is uncertain, at the smaller budget ``b`` of its two positions,
when any of these holds (``d`` is the mover's drop in winning chances on
lichess's −1..1 scale, :func:`chessapp.analysis.win_chance_loss`;
``below = log_growth(N / b)`` is how many ladder steps ``b`` is below N):

* ``NEAR_THRESHOLD``: ``|d − t| < MARGIN + MARGIN_PER_STEP · max(0, below − 1)``
  for a lichess threshold ``t`` in 0.1 / 0.2 / 0.3 (Advice.scala): 0.04 one
  step below N, 0.14 at 1k for N = 1M. The margin shrinks as the budget nears
  N because evals move less; both constants were measured (see their comments);
* ``SWING``: ``|d| ≥`` :data:`SWING` (a blunder-sized change either way);
* ``GAIN``: the mover gains at least :data:`GAIN` (the eval before the move
  was wrong, so the previous move's verdict is in doubt);
* ``MATE``: a mate score appears or disappears between the two positions, or
  changes side (lichess judges those with ``MateAdvice``, whose verdict
  depends on whether the mate is there at all);
* ``BEST_DIFFERS``: below the *tactics step* (the largest step ≤ N /
  :data:`TACTICS_DIVISOR`, at least the second), the engine's best move is not
  the move played and ``|d| ≥`` :data:`BEST_DIFFERS_MIN` (a shallow search
  misses the tactic that makes a quiet-looking move bad);
* ``SHORT_PV``: below the tactics step, a line shorter than :data:`SHORT_PV`
  plies at either position (the search did not settle);
* ``FLOOR``: ``b`` is below the largest step ≤ N / :data:`FLOOR_DIVISOR`
  (accuracy and ACPL use every eval, not just the judged ones).

Each pass moves both positions of every uncertain move one step up, except
that a ``SWING`` or ``MATE`` move whose positions are both past the tactics step
goes straight to N (:data:`JUMP_REASONS`). A position whose winning chances
moved more than :data:`UNSTABLE` between its last two budgets also goes up a
step (``UNSTABLE``).

Determinism. Every decision is a pure function of the results, and every
result is a search of one position at one exact ladder budget with a cleared
hash (``chessapp.engine``), so the same game, engine, settings and rule give
the same output byte for byte, whatever the cache holds. The cache is read
only under exact keys (FEN, engine, ``nodes=<ladder step>``, multipv): an
adaptive run reuses a uniform run at any ladder budget (a uniform N run
serves every position an adaptive N run takes to N) and another adaptive
run's steps (1M after 200k reuses 1k..64k), and never a deeper result in
place of a shallower one, which would change the output. Code that prefers
speed to byte-identity across cache states can wrap the store in
:class:`DeeperResultsCache`: a position searched to M nodes then serves any
request for at most M; the report still records the nodes each eval really
got, so the analysis stays reproducible. Nothing in the CLI does that.

Warm hash. fishnet splits a game into chunks of up to 6 positions with one
overlap (``src/queue.rs``; ``Chunk::MAX_POSITIONS``). ``benchmarks/warm_hash.py``
measured what keeping the hash within such chunks does at the ladder's low
budgets: it is deterministic for a fixed chunking, and it lowers the first
pass's eval error by about a fifth, but it costs a fifth more nodes (the
overlaps), it helps the 16k step's judgements not at all, and later passes
deepen scattered positions, not runs of 5. A warm result also depends on its
chunk, so it could not share the cache with passes and runs chunked
differently. Not adopted: every search clears the hash (BENCHMARKS.md).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import chess
import chess.pgn

from chessapp.analysis import (
    JUDGEMENT_THRESHOLDS,
    EvalCache,
    Evaluator,
    GameAnalysis,
    Progress,
    build_game_analysis,
    evaluate_positions,
    win_chance_loss,
    winning_chances,
)
from chessapp.errors import BadInput
from chessapp.evals import EngineIdentity, PositionEval, SearchLimit, terminal_eval
from chessapp.tree import main_line_boards

__all__ = [
    "AdaptiveResult",
    "AdaptiveRule",
    "CountingEvaluator",
    "DeeperResultsCache",
    "Reason",
    "analyse_game_adaptive",
    "uncertain_plies",
]

# --- The rule and its constants -------------------------------------------------------------

#: The first pass's budget: enough for Stockfish 15.1 to see one- and two-move
#: tactics in most middlegames (depth 8-10), for a thousandth of lichess's 1M.
FIRST_NODES = 1_000
#: Each pass multiplies a position's budget by this. 4 keeps the cost of all the
#: steps below N at a third of N (1/4 + 1/16 + ... = 1/3).
GROWTH = 4
#: Win-chance margin around each threshold one ladder step (or less) below N, and what it
#: grows by per further step. Measured on the benchmark games (BENCHMARKS.md): between
#: 64k and 200k nodes a move's drop still moves by 0.048 at the 90th percentile, and by
#: 0.062 between 16k and 200k.
MARGIN = 0.04
MARGIN_PER_STEP = 0.025
#: A mover's drop (or gain) this large is always searched to N: lichess's blunder
#: threshold (Advice.scala, 0.3).
SWING = 0.3
#: Every position gets at least the largest ladder step ≤ N / FLOOR_DIVISOR.
FLOOR_DIVISOR = 64
#: best move ≠ move played, or a short PV, deepen up to the largest step ≤ N / TACTICS_DIVISOR
#: (at least the second step, so even a small N looks twice at such moves).
TACTICS_DIVISOR = 8
#: The mover *gains* this much winning chance: the eval before the move was too low, so the
#: previous move's verdict is in doubt (a uniform analysis at N rarely shows gains this big).
GAIN = 0.1
#: A position whose winning chances moved more than this between its last two budgets has
#: not settled: it goes up another step, whatever its moves look like.
UNSTABLE = 0.05
#: A PV shorter than this many plies counts as short: the engine's move with no reply,
#: which Stockfish gives when its last iteration did not finish a line.
SHORT_PV = 2
#: best move ≠ move played counts only when the mover's drop (or gain) is at least this:
#: two moves of the same eval are alternatives, not a missed tactic.
BEST_DIFFERS_MIN = 0.02


class Reason(enum.Enum):
    """Why a move's verdict could still change (see the module docstring)."""

    FLOOR = "floor"
    GAIN = "gain"
    UNSTABLE = "unstable"
    NEAR_THRESHOLD = "near-threshold"
    SWING = "swing"
    MATE = "mate"
    BEST_DIFFERS = "best-differs"
    SHORT_PV = "short-pv"


@dataclass(frozen=True, slots=True)
class AdaptiveRule:
    """The deepening rule's constants (defaults: the module constants above)."""

    first_nodes: int = FIRST_NODES
    growth: int = GROWTH
    margin: float = MARGIN
    margin_per_step: float = MARGIN_PER_STEP
    swing: float = SWING
    floor_divisor: int = FLOOR_DIVISOR
    tactics_divisor: int = TACTICS_DIVISOR
    short_pv: int = SHORT_PV
    gain: float = GAIN
    unstable: float = UNSTABLE
    best_differs_min: float = BEST_DIFFERS_MIN

    def __post_init__(self) -> None:
        if self.first_nodes < 1 or self.growth < 2:
            raise BadInput("the adaptive rule needs first_nodes >= 1 and growth >= 2")
        if self.floor_divisor < 1 or self.tactics_divisor < 1 or self.short_pv < 0:
            raise BadInput("the adaptive rule's divisors must be positive")

    def ladder(self, top: int) -> tuple[int, ...]:
        """``first·growth^k`` below ``top``, then ``top`` (fixed steps, so runs at different
        ``top`` share their cached results)."""
        if top < 1:
            raise BadInput("the adaptive budget must be positive")
        steps = []
        budget = self.first_nodes
        while budget < top:
            steps.append(budget)
            budget *= self.growth
        steps.append(top)
        return tuple(steps)

    def step_at_most(self, ladder: Sequence[int], budget: float) -> int:
        """Index of the largest ladder step ≤ ``budget`` (0 when even the first is larger)."""
        return max([0, *(i for i, b in enumerate(ladder) if b <= budget)])

    def tactics_step(self, ladder: Sequence[int]) -> int:
        """The ladder index below which best-differs and short PVs deepen (at least 1)."""
        if len(ladder) == 1:
            return 0
        return max(1, self.step_at_most(ladder, ladder[-1] / self.tactics_divisor))

    def key(self, top: int) -> str:
        """Recorded in the PGN tag ``[AnalysisAdaptive]`` and the JSON report's ``adaptive``."""
        return (f"nodes<={top} first={self.first_nodes} growth={self.growth} "
                f"margin={self.margin:g}+{self.margin_per_step:g}/step swing={self.swing:g} "
                f"floor=N/{self.floor_divisor} tactics=N/{self.tactics_divisor} "
                f"shortpv={self.short_pv} bestdiff={self.best_differs_min:g} gain={self.gain:g} "
                f"unstable={self.unstable:g} jump=swing,mate")


# --- The pure selection ------------------------------------------------------------------------


def _mate_winner(result: PositionEval) -> int | None:
    """+1 White mates, −1 Black mates, None no mate score."""
    ev = result.eval
    if ev.mate is None:
        return None
    if ev.mate == 0:
        return 1 if ev.mated == chess.BLACK else -1
    return 1 if ev.mate > 0 else -1


def _pv_length(result: PositionEval) -> int:
    return len(result.best.pv)


def ply_reasons(
    before_board: chess.Board, move: chess.Move, before: PositionEval, after: PositionEval,
    budget: int, ladder: Sequence[int], rule: AdaptiveRule,
) -> frozenset[Reason]:
    """Why the verdict of ``move`` (from ``before`` to ``after``) could change; pure.

    ``budget`` is the smaller of the two positions' budgets.
    """
    top = ladder[-1]
    if budget >= top:
        return frozenset()
    reasons: set[Reason] = set()
    floor = ladder[rule.step_at_most(ladder, top / rule.floor_divisor)]
    tactics = ladder[rule.tactics_step(ladder)]
    if budget < floor:
        reasons.add(Reason.FLOOR)
    drop = win_chance_loss(before.eval, after.eval, before_board.turn)
    below = math.log(top / budget, rule.growth)
    margin = rule.margin + rule.margin_per_step * max(0.0, below - 1)
    if any(abs(drop - threshold) < margin for threshold, _ in JUDGEMENT_THRESHOLDS):
        reasons.add(Reason.NEAR_THRESHOLD)
    if abs(drop) >= rule.swing:
        reasons.add(Reason.SWING)
    elif -drop >= rule.gain:
        reasons.add(Reason.GAIN)
    if _mate_winner(before) != _mate_winner(after):
        reasons.add(Reason.MATE)
    if budget < tactics:
        best = before.best.pv[0] if before.best.pv else None
        if best is not None and best != move and abs(drop) >= rule.best_differs_min:
            reasons.add(Reason.BEST_DIFFERS)
        over = after.best.pv == () and after.nodes == 0  # a finished position has no line
        if _pv_length(before) < rule.short_pv or (not over and _pv_length(after) < rule.short_pv):
            reasons.add(Reason.SHORT_PV)
    return frozenset(reasons)


def uncertain_plies(
    boards: Sequence[chess.Board], moves: Sequence[chess.Move], results: Sequence[PositionEval],
    steps: Sequence[int], ladder: Sequence[int], rule: AdaptiveRule,
) -> dict[int, frozenset[Reason]]:
    """The plies (1-based) whose verdict could change, with the reasons; pure.

    ``boards`` and ``results`` are the main line's positions (index 0: the start),
    ``moves[i]`` leads from ``boards[i]`` to ``boards[i + 1]``, and ``steps[i]`` is
    the ladder index position ``i`` was searched at. A ply with a skipped
    position (the engine crashed there) is never deepened.
    """
    out: dict[int, frozenset[Reason]] = {}
    for ply in range(1, len(boards)):
        before, after = results[ply - 1], results[ply]
        if before.skipped or after.skipped:
            continue
        budget = min(ladder[steps[ply - 1]], ladder[steps[ply]])
        reasons = ply_reasons(boards[ply - 1], moves[ply - 1], before, after, budget, ladder,
                              rule)
        if reasons:
            out[ply] = reasons
    return out


def unstable_positions(
    previous: Sequence[PositionEval | None], results: Sequence[PositionEval], rule: AdaptiveRule,
) -> list[int]:
    """Positions whose winning chances moved more than ``rule.unstable`` between their last
    two budgets (``previous[i]`` is None until position ``i`` was deepened once); pure."""
    out = []
    for index, (old, new) in enumerate(zip(previous, results, strict=True)):
        if old is None or old.skipped or new.skipped:
            continue
        if abs(winning_chances(new.eval) - winning_chances(old.eval)) > rule.unstable:
            out.append(index)
    return out


#: Reasons that send a move's positions straight to N once they are past the tactics step:
#: a swing or a mate that survived a search at that step is nearly always still there at N,
#: and skipping the steps between saves up to a third of N per position.
JUMP_REASONS = frozenset({Reason.SWING, Reason.MATE})


def positions_to_deepen(
    uncertain: dict[int, frozenset[Reason]], unstable: Sequence[int], steps: Sequence[int],
    terminal: Sequence[bool], top_step: int, jump_from_step: int | None = None,
) -> dict[int, int]:
    """position index -> its next ladder step; pure.

    Both positions of every uncertain ply and every unstable position go one step up,
    unless finished or already at the top. A ply with a :data:`JUMP_REASONS` reason whose
    positions are both at ``jump_from_step`` or higher goes straight to the top.
    """
    chosen: dict[int, int] = {i: steps[i] + 1 for i in unstable}
    for ply, why in uncertain.items():
        pair = (ply - 1, ply)
        jump = (jump_from_step is not None and bool(why & JUMP_REASONS)
                and min(steps[i] for i in pair) >= jump_from_step)
        for index in pair:
            chosen[index] = max(chosen.get(index, 0), top_step if jump else steps[index] + 1)
    return {i: min(top_step, step) for i, step in sorted(chosen.items())
            if not terminal[i] and steps[i] < top_step}


# --- Counting what the engine did ------------------------------------------------------------


class CountingEvaluator:
    """An :class:`chessapp.analysis.Evaluator` that counts the searches and nodes it passes on."""

    def __init__(self, inner: Evaluator) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.calls = 0
        self.nodes = 0

    @property
    def identity(self) -> EngineIdentity:
        return self._inner.identity

    @property
    def workers(self) -> int:
        return self._inner.workers

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        result = self._inner.evaluate(board, limit, multipv=multipv)
        with self._lock:
            self.calls += 1
            self.nodes += result.nodes or 0
        return result


class DeeperLookup(EvalCache, Protocol):
    """A cache that can also find a deeper result (``chessapp.store.Store`` is one)."""

    def get_eval_covering(self, fen: str, engine: EngineIdentity, limit: SearchLimit,
                          multipv: int, *, at_most: int | None = None) -> PositionEval | None:
        ...


class DeeperResultsCache:
    """Opt-in reuse across budgets: a request for ``nodes=b`` is served by the cached result
    of the same position and settings with the smallest budget ≥ b (up to ``at_most``).

    This trades the byte-identity of outputs across cache states for speed (see the
    module docstring); neither the CLI nor :func:`analyse_game_adaptive` uses it.
    """

    def __init__(self, store: DeeperLookup, *, at_most: int | None = None) -> None:
        self._store = store
        self._at_most = at_most

    def get_eval(self, fen: str, engine: EngineIdentity, limit: SearchLimit,
                 multipv: int) -> PositionEval | None:
        if limit.nodes is None:
            return self._store.get_eval(fen, engine, limit, multipv)
        return self._store.get_eval_covering(fen, engine, limit, multipv, at_most=self._at_most)

    def put_eval(self, result: PositionEval, multipv: int) -> None:
        self._store.put_eval(result, multipv)


# --- The orchestrator ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdaptiveResult:
    """An adaptive analysis and what it cost."""

    analysis: GameAnalysis
    ladder: tuple[int, ...]
    #: The budget each position's eval was searched at (index 0: the start position).
    budgets: tuple[int, ...]
    #: How many passes ran (the first pass included).
    passes: int
    #: Why each ply was deepened at least once (1-based ply -> reasons of every pass).
    reasons: dict[int, frozenset[Reason]]
    #: Nodes of every search of every pass, from the engine or the cache alike (so the
    #: same for every run): what a cold run spends.
    nodes_all_passes: int


def analyse_game_adaptive(
    game: chess.pgn.Game,
    evaluator: Evaluator,
    limit: SearchLimit,
    *,
    multipv: int = 1,
    cache: EvalCache | None = None,
    rule: AdaptiveRule = AdaptiveRule(),  # frozen, so a safe default
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    on_pass: Callable[[GameAnalysis, int], None] | None = None,
) -> AdaptiveResult:
    """Analyse the main line with at most ``limit.nodes`` per position, spent adaptively.

    ``progress`` is called per batch of positions of a pass (done, total of the batch).
    ``on_pass(analysis, passes)`` gets the whole game judged with the evals so far after
    every pass: a page can show the first pass's analysis at once and refine it.
    """
    if limit.nodes is None:
        raise BadInput("adaptive analysis needs a node budget (--nodes), not depth or time")
    ladder = rule.ladder(limit.nodes)
    top_step = len(ladder) - 1
    boards = main_line_boards(game)
    moves = list(game.mainline_moves())
    identity = evaluator.identity
    terminal = [terminal_eval(b, identity, SearchLimit(nodes=ladder[0])) is not None
                for b in boards]
    steps = [0] * len(boards)
    previous: list[PositionEval | None] = [None] * len(boards)
    results: list[PositionEval] = list(evaluate_positions(
        boards, evaluator, SearchLimit(nodes=ladder[0]), multipv=multipv, cache=cache,
        progress=progress, cancel=cancel))
    passes = 1
    spent = sum(r.nodes or 0 for r in results)
    key = rule.key(limit.nodes)

    def judged() -> GameAnalysis:
        built = build_game_analysis(game, results, multipv=multipv)
        return dataclasses.replace(built, limit=limit, adaptive=key)

    if on_pass is not None:
        on_pass(judged(), passes)
    seen: dict[int, set[Reason]] = {}
    while True:
        uncertain = uncertain_plies(boards, moves, results, steps, ladder, rule)
        for ply, why in uncertain.items():
            seen.setdefault(ply, set()).update(why)
        unstable = unstable_positions(previous, results, rule)
        for index in unstable:  # reported on the ply that leads to the position
            if index > 0:
                seen.setdefault(index, set()).add(Reason.UNSTABLE)
        chosen = positions_to_deepen(uncertain, unstable, steps, terminal, top_step,
                                     jump_from_step=rule.tactics_step(ladder))
        if not chosen:
            break
        passes += 1
        by_step: dict[int, list[int]] = {}
        for index, step in chosen.items():
            by_step.setdefault(step, []).append(index)
        for step in sorted(by_step, reverse=True):
            indices = by_step[step]  # ascending; evaluate_positions runs them last first
            found = evaluate_positions([boards[i] for i in indices], evaluator,
                                       SearchLimit(nodes=ladder[step]), multipv=multipv,
                                       cache=cache, progress=progress, cancel=cancel)
            for index, result in zip(indices, found, strict=True):
                spent += result.nodes or 0
                previous[index] = results[index]
                results[index] = result
                steps[index] = step
        if on_pass is not None:
            on_pass(judged(), passes)
    analysis = judged()
    return AdaptiveResult(
        analysis=analysis,
        ladder=ladder,
        budgets=tuple(0 if terminal[i] else ladder[s] for i, s in enumerate(steps)),
        passes=passes,
        reasons={ply: frozenset(why) for ply, why in sorted(seen.items())},
        nodes_all_passes=spent,
    )
