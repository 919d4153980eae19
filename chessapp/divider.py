"""Opening, middlegame and endgame, split where lichess splits them.

A reproduction of scalachess ``core/src/main/scala/Divider.scala`` (lichess-org/scalachess),
definition for definition:

* the **middlegame** starts at the first position with at most 10 majors and
  minors on the board, or a sparse back rank (fewer than 4 of White's pieces on
  the first rank or of Black's on the eighth), or a "mixedness" above 150;
* the **endgame** starts at the first position with at most 6 majors and minors
  (looked for only when a middlegame was found);
* a middlegame that does not start before the endgame is dropped.

The boards are the start position and the position after every move (lila
passes ``Replay.situations``' boards), so a division is a ply: "middle 24" means
the position after the 24th half-move is the first of the middlegame.

A move belongs to the phase of the position it leads to, as in lila's insight
module (``modules/insight/src/main/model.scala``, ``Phase.of``, with the move's
1-based ply). Where lila's ``Phase.of`` has no middlegame it calls the whole game
opening even past an endgame division; we follow ``Division.endBounds`` there
instead (a game set up as an endgame is an endgame).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import chess

__all__ = ["Division", "Phase", "divide", "mixedness", "phase_of"]

#: Divider.scala thresholds.
MIDDLEGAME_MAX_MAJORS_AND_MINORS = 10
ENDGAME_MAX_MAJORS_AND_MINORS = 6
SPARSE_BACK_RANK_BELOW = 4
MIDDLEGAME_MIN_MIXEDNESS = 150  # strictly more than this


class Phase(enum.Enum):
    OPENING = "opening"
    MIDDLEGAME = "middlegame"
    ENDGAME = "endgame"


@dataclass(frozen=True, slots=True)
class Division:
    """scalachess ``Division``: the first ply of the middlegame and of the endgame, if any."""

    middle: int | None
    end: int | None
    plies: int  # how many boards were divided (start position included)

    def to_json(self) -> dict[str, int | None]:
        return {"middle": self.middle, "end": self.end}


def _majors_and_minors(board: chess.BaseBoard) -> int:
    return chess.popcount(board.occupied & ~(board.kings | board.pawns))


def _backrank_sparse(board: chess.BaseBoard) -> bool:
    """Pieces have been developed (Divider.scala ``backrankSparse``)."""
    white = chess.popcount(chess.BB_RANK_1 & board.occupied_co[chess.WHITE])
    black = chess.popcount(chess.BB_RANK_8 & board.occupied_co[chess.BLACK])
    return white < SPARSE_BACK_RANK_BELOW or black < SPARSE_BACK_RANK_BELOW


def _score(y: int, white: int, black: int) -> int:
    """Divider.scala ``score``: how mixed one 2x2 region in row band ``y`` is."""
    table = {
        (0, 0): 0,
        (1, 0): 1 + (8 - y),
        (2, 0): 2 + (y - 2) if y > 2 else 0,
        (3, 0): 3 + (y - 1) if y > 1 else 0,
        (4, 0): 3 + (y - 1) if y > 1 else 0,  # a group of 4 on the home row = 0
        (0, 1): 1 + y,
        (1, 1): 5 + abs(3 - y),
        (2, 1): 4 + y,
        (3, 1): 5 + y,
        (0, 2): 2 + (6 - y) if y < 6 else 0,
        (1, 2): 4 + (6 - y),
        (2, 2): 7,
        (0, 3): 3 + (7 - y) if y < 7 else 0,
        (1, 3): 5 + (6 - y),
        (0, 4): 3 + (7 - y) if y < 7 else 0,
    }
    return table.get((white, black), 0)


#: Divider.scala ``mixednessRegions``: every 2x2 square (0x0303 shifted), with its row band 1..7.
_REGIONS: tuple[tuple[int, int], ...] = tuple(
    (0x0303 << (x + 8 * y), y + 1) for y in range(7) for x in range(7))


def mixedness(board: chess.BaseBoard) -> int:
    """Divider.scala ``mixedness``: how interlocked the two sides' pieces are."""
    white, black = board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK]
    return sum(_score(y, chess.popcount(white & region), chess.popcount(black & region))
               for region, y in _REGIONS)


def divide(boards: Sequence[chess.BaseBoard]) -> Division:
    """scalachess ``Divider.apply`` over the start position and the position after each move."""
    middle = next((i for i, b in enumerate(boards)
                   if _majors_and_minors(b) <= MIDDLEGAME_MAX_MAJORS_AND_MINORS
                   or _backrank_sparse(b) or mixedness(b) > MIDDLEGAME_MIN_MIXEDNESS), None)
    end = None
    if middle is not None:
        end = next((i for i, b in enumerate(boards)
                    if _majors_and_minors(b) <= ENDGAME_MAX_MAJORS_AND_MINORS), None)
    if middle is not None and end is not None and not middle < end:
        middle = None
    return Division(middle, end, len(boards))


def phase_of(division: Division, ply: int) -> Phase:
    """The phase of the move that leads to position ``ply`` (1-based, like lila's insight)."""
    if division.end is not None and ply >= division.end:
        return Phase.ENDGAME
    if division.middle is not None and ply >= division.middle:
        return Phase.MIDDLEGAME
    return Phase.OPENING
