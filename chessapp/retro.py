"""Learn from your mistakes: walk one side's mistakes and let the player find better.

After lichess's retrospect (lila ``ui/analyse/src/retrospect/retroCtrl.ts`` and
``nodeFinder.ts``). For one colour, the candidates are that side's judged moves
whose swing in winning chances is large enough to be worth a second look; at
each, the player sees the position before the mistake and tries a move:

* the engine's own choice (the best line of the analysis) is accepted at once;
* the move played in the game gets "that is what was played";
* any other move is searched: accepted when the mover keeps its winning chances
  within :data:`ACCEPT_LOSS` of the best move's, else "try again" with a hint
  (the tactical theme of the best line, when the tagger finds one).

Thresholds, from lila, converted to our scale. lila's ``povDiff`` halves the
difference of two winning chances (``ceval/winningChances.ts``:
``(povChances(c, e1) - povChances(c, e2)) / 2``), so its numbers are half of ours
on the -1..1 scale:

* candidates: ``evalSwings`` keeps a move whose ``|povDiff| > 0.075``, i.e. a drop
  of more than :data:`CANDIDATE_LOSS` = 0.15;
* acceptance: ``povDiff > -0.04`` at depth >= 18, i.e. a loss of less than
  :data:`ACCEPT_LOSS` = 0.08. lichess asks its browser engine for depth 18; we
  search a fixed node budget instead (deterministic, cacheable):
  :data:`RETRO_NODES` = 200,000, where Stockfish reaches depth 16 to 20 in a
  middlegame on one thread, and never less than the analysis's own budget.

Progress (which plies are solved) is plain data saved with the session.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import chess

from chessapp.analysis import Evaluator, GameAnalysis, PlyAnalysis, winning_chances
from chessapp.errors import BadInput
from chessapp.evals import SearchLimit, WhiteEval

__all__ = [
    "ACCEPT_LOSS",
    "CANDIDATE_LOSS",
    "RETRO_NODES",
    "Attempt",
    "Feedback",
    "Mistake",
    "RetroProgress",
    "judge_attempt",
    "mistakes_of",
    "retro_limit",
]

#: lila nodeFinder.evalSwings: |povDiff| > 0.075 (half scale) -> 0.15 on -1..1.
CANDIDATE_LOSS = 0.15
#: lila retroCtrl.checkCeval: povDiff > -0.04 (half scale) -> a loss under 0.08.
ACCEPT_LOSS = 0.08
#: The node-budget stand-in for lichess's "depth >= 18" (see the module doc).
RETRO_NODES = 200_000


class Feedback(enum.Enum):
    """What the player is told after a try (lila's ``win`` / ``fail``, plus the game's move)."""

    WIN = "win"  # a good move: the engine's choice, or as good by the engine's count
    PLAYED = "played"  # that is the move played in the game
    FAIL = "fail"  # try again (with a hint)


@dataclass(frozen=True, slots=True)
class Mistake:
    """One candidate: the position before a judged move, the move played, and the best."""

    ply: int  # the ply of the mistaken move (the position shown is ply - 1)
    fen_before: str
    played: chess.Move
    played_san: str
    best: chess.Move
    best_san: str
    best_line: tuple[chess.Move, ...]
    eval_before: WhiteEval  # the engine's eval of the position, i.e. of its best move
    loss: float  # the mover's drop in winning chances with the move played


@dataclass(frozen=True, slots=True)
class Attempt:
    """The verdict on one try, with the figures it rests on."""

    feedback: Feedback
    move_san: str
    eval_after: WhiteEval | None = None  # the engine's eval after the try (None: not searched)
    loss: float | None = None  # the mover's loss against the best move, on -1..1


def mistakes_of(analysis: GameAnalysis, color: chess.Color) -> list[Mistake]:
    """``color``'s mistakes worth a second look, in game order."""
    out = []
    for p in analysis.plies:
        if (p.mover != color or p.judgement is None or p.best is None or p.best_san is None
                or p.verdict.win_chance_loss <= CANDIDATE_LOSS):
            continue
        out.append(_mistake(analysis, p))
    return out


def _mistake(analysis: GameAnalysis, p: PlyAnalysis) -> Mistake:
    fen_before = analysis.initial.fen if p.ply == 1 else analysis.plies[p.ply - 2].fen
    assert p.best is not None and p.best_san is not None
    return Mistake(ply=p.ply, fen_before=fen_before, played=chess.Move.from_uci(p.uci),
                   played_san=p.san, best=p.best, best_san=p.best_san,
                   best_line=tuple(p.pv), eval_before=p.eval_before,
                   loss=p.verdict.win_chance_loss)


def retro_limit(analysis_limit: SearchLimit) -> SearchLimit:
    """The search that judges a try: :data:`RETRO_NODES`, or the analysis's own if larger."""
    nodes = analysis_limit.nodes or 0
    return SearchLimit(nodes=max(RETRO_NODES, nodes))


#: evaluate(board after the try) -> White's eval of that position.
EvaluateAfter = Callable[[chess.Board], WhiteEval]


def judge_attempt(mistake: Mistake, move: chess.Move, evaluate: EvaluateAfter) -> Attempt:
    """Judge the player's ``move`` in the position before ``mistake``.

    ``evaluate`` is only called for a move that is neither the engine's choice
    nor the game's move (see :func:`evaluator_search`).
    """
    board = chess.Board(mistake.fen_before)
    if not board.is_legal(move):
        raise BadInput("that move is not legal in this position", token=move.uci())
    san = board.san(move)
    if move == mistake.best:
        return Attempt(Feedback.WIN, san)
    if move == mistake.played:
        return Attempt(Feedback.PLAYED, san)
    mover = board.turn
    board.push(move)
    after = evaluate(board)
    loss = winning_chances(mistake.eval_before, mover) - winning_chances(after, mover)
    return Attempt(Feedback.WIN if loss < ACCEPT_LOSS else Feedback.FAIL, san, after, loss)


def evaluator_search(evaluator: Evaluator, limit: SearchLimit) -> EvaluateAfter:
    """``evaluate`` for :func:`judge_attempt` from an engine pool (or any Evaluator)."""

    def evaluate(board: chess.Board) -> WhiteEval:
        return evaluator.evaluate(board, limit).eval

    return evaluate


@dataclass
class RetroProgress:
    """Which of ``color``'s mistakes are solved (or skipped, or their solution viewed)."""

    color: chess.Color
    solved: list[int] = field(default_factory=list)  # plies

    def next_mistake(self, mistakes: Sequence[Mistake]) -> Mistake | None:
        return next((m for m in mistakes if m.ply not in self.solved), None)

    def solve(self, mistake: Mistake) -> None:
        if mistake.ply not in self.solved:
            self.solved.append(mistake.ply)

    def completion(self, mistakes: Sequence[Mistake]) -> tuple[int, int]:
        plies = {m.ply for m in mistakes}
        return len(plies.intersection(self.solved)), len(plies)

    def to_json(self) -> dict[str, Any]:
        return {"color": "white" if self.color == chess.WHITE else "black",
                "solved": sorted(self.solved)}

    @classmethod
    def from_json(cls, data: Any) -> RetroProgress:
        if not isinstance(data, dict) or data.get("color") not in ("white", "black"):
            raise ValueError(f"not a retrospect progress: {data!r}")
        solved = data.get("solved", [])
        if not isinstance(solved, list) or not all(isinstance(p, int) for p in solved):
            raise ValueError(f"solved plies must be a list of numbers: {solved!r}")
        return cls(chess.WHITE if data["color"] == "white" else chess.BLACK, list(solved))
