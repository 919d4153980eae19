"""Move labels beyond lichess's ?! ? ??: Best, ! (only move), !! (brilliant).

lichess shows none of these (users ask for them: lila #12419, #18845,
en-croissant #78); the rules here are ours, built from lichess's own measures
so that they read the same way as its judgements. Every number is in
:data:`THRESHOLDS`, with where it comes from; the README shows the same table.

* **Best**: the move played is the engine's first choice in the position
  before it (needs one engine line).
* **! only move**: Best, and the engine's second choice leaves the mover at
  least :data:`ONLY_MOVE_MARGIN` less in winning chances (needs multipv ≥ 2,
  and at least two legal moves).
* **!! brilliant**: an only move that gives up material by a static exchange
  count on the board (at least :data:`BRILLIANT_MIN_SACRIFICE` pawns), and is
  not a recapture.
* **Book** is not decided here: it is the opening's (:mod:`chessapp.openings`).

Two forced mates of different length are both wins: lichess calls the slower
one ``MateDelayed`` and does not judge it (lila ``Advice.scala``), and neither
label here marks it (a slower mate is not the first choice, and the second
line being a mate too means the best move was not the only one).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import chess

from chessapp.evals import EngineLine, WhiteEval

__all__ = ["THRESHOLDS", "MoveLabel", "Threshold", "is_recapture", "label_move",
           "static_exchange"]


class MoveLabel(enum.Enum):
    BEST = "best"
    ONLY = "only"
    BRILLIANT = "brilliant"

    @property
    def glyph(self) -> str:
        return {"best": "", "only": "!", "brilliant": "!!"}[self.value]

    @property
    def nag(self) -> int | None:
        """PGN's NAG for the label, written only when the user asks (lichess writes none)."""
        return {"best": None, "only": 1, "brilliant": 3}[self.value]

    @property
    def title(self) -> str:
        return {"best": "Best", "only": "Only move", "brilliant": "Brilliant"}[self.value]


@dataclass(frozen=True, slots=True)
class Threshold:
    name: str
    value: float
    source: str


#: The one table of label thresholds (mirrored in the README).
THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("only_move_margin", 0.3,
              "winning chances (lichess's −1…1 scale) the second choice must lose against "
              "the first: lila Advice.scala's blunder step, so every other move would be a "
              "blunder by lichess's own rule. lichess-puzzler's generator keeps 0.42 on its "
              "steeper −0.004 curve (generator.py is_valid_attack) because a puzzle needs a "
              "single solution beyond doubt; a game label needs less"),
    Threshold("brilliant_min_sacrifice", 2,
              "pawns the move gives up by static exchange (P 1, N 3, B 3, R 5, Q 9, the "
              "values lichess-puzzler's util.material_count uses): more than a pawn, so the "
              "exchange counts and a pawn push does not"),
    Threshold("min_engine_lines", 2,
              "engine lines (multipv) needed for ! and !!: the second choice must be known"),
)
_BY_NAME = {t.name: t.value for t in THRESHOLDS}
ONLY_MOVE_MARGIN = _BY_NAME["only_move_margin"]
BRILLIANT_MIN_SACRIFICE = _BY_NAME["brilliant_min_sacrifice"]
MIN_ENGINE_LINES = int(_BY_NAME["min_engine_lines"])

#: lichess-puzzler util.material_count piece values; the king is never exchanged.
PIECE_VALUES = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5,
                chess.QUEEN: 9, chess.KING: 1000}


def _value(board: chess.Board, square: chess.Square) -> int:
    piece = board.piece_type_at(square)
    return 0 if piece is None else PIECE_VALUES[piece]


def _swap(board: chess.Board, square: chess.Square) -> int:
    """What the side to move can win on ``square`` by capturing there (0: it need not)."""
    attackers = [s for s in board.attackers(board.turn, square)]
    if not attackers:
        return 0
    attacker = min(attackers, key=lambda s: _value(board, s))
    target = _value(board, square)
    after = board.copy(stack=False)
    piece = after.remove_piece_at(attacker)
    assert piece is not None
    after.set_piece_at(square, piece)
    after.turn = not after.turn
    if piece.piece_type == chess.KING and after.attackers(after.turn, square):
        return 0  # the king may not capture into a defended square
    return max(0, target - _swap(after, square))


def static_exchange(board: chess.Board, move: chess.Move) -> int:
    """The material (pawns) the mover nets on ``move.to_square`` by a static exchange count.

    Negative when the move gives material up: what it captures, less what the
    opponent then wins back by the cheapest captures on that square (x-rays
    included: python-chess's attackers see through the pieces already gone).
    """
    captured = PIECE_VALUES[chess.PAWN] if board.is_en_passant(move) else _value(
        board, move.to_square)
    after = board.copy(stack=False)
    after.push(move)
    return captured - _swap(after, move.to_square)


def is_recapture(board: chess.Board, move: chess.Move, previous: chess.Move | None,
                 previous_captured: bool) -> bool:
    """``move`` takes back on the square where the opponent's last move captured."""
    return (previous is not None and previous_captured and move.to_square == previous.to_square
            and board.is_capture(move))


#: A side's winning chances in [−1, 1] for an eval (chessapp.analysis.winning_chances).
Chances = Callable[[WhiteEval, chess.Color], float]


def label_move(board: chess.Board, move: chess.Move, lines: Sequence[EngineLine], *,
               chances: Chances, recapture: bool = False) -> MoveLabel | None:
    """The label of ``move`` played in ``board``, from the engine's lines of ``board``.

    ``lines`` are best first; ``recapture`` says the move takes back on the
    square where the opponent just captured (see :func:`is_recapture`).
    """
    if not lines or not lines[0].pv or lines[0].pv[0] != move:
        return None
    if len(lines) < MIN_ENGINE_LINES or not lines[1].pv or board.legal_moves.count() < 2:
        return MoveLabel.BEST
    mover = board.turn
    gap = chances(lines[0].eval, mover) - chances(lines[1].eval, mover)
    if gap < ONLY_MOVE_MARGIN:
        return MoveLabel.BEST
    if static_exchange(board, move) <= -BRILLIANT_MIN_SACRIFICE and not recapture:
        return MoveLabel.BRILLIANT
    return MoveLabel.ONLY
