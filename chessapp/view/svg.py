"""The board and the eval bar as SVG strings: the one renderer of every board picture.

Arguments are plain values (strings, ints, frozen shapes), so callers can cache
the result by them. No PGN text ever reaches the SVG: the only text in it is
what python-chess writes itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import chess
import chess.svg

from chessapp.shapes import LICHESS_BLUE, Shape

__all__ = ["BEST_MOVE_COLOUR", "LINE_COLOURS", "board_svg"]


# --- SVG pictures -------------------------------------------------------------------

#: lichess's engine arrow is a translucent blue.
BEST_MOVE_COLOUR = LICHESS_BLUE + "aa"
#: Engine line arrows: the best line strongest, then fainter.
LINE_COLOURS: tuple[str, ...] = tuple(LICHESS_BLUE + a for a in ("cc", "99", "77", "66", "55"))


def board_svg(
    fen: str,
    *,
    lastmove: str | None = None,
    check: chess.Square | None = None,
    shapes: Sequence[Shape] = (),
    best: str | None = None,
    lines: Sequence[chess.Move] = (),
    flipped: bool = False,
    size: int = 420,
    coordinates: bool = True,
) -> str:
    """The board as an SVG string, via ``chess.svg.board``.

    ``best`` is the engine's choice (UCI) as one arrow; ``lines`` the first moves
    of the engine's lines, best first, as fading arrows.
    """
    board = chess.Board(fen)
    arrows = [s.svg() for s in shapes]
    arrows += [chess.svg.Arrow(m.from_square, m.to_square, color=LINE_COLOURS[min(i, 4)])
               for i, m in enumerate(lines)]
    if best is not None:
        move = chess.Move.from_uci(best)
        arrows.append(chess.svg.Arrow(move.from_square, move.to_square, color=BEST_MOVE_COLOUR))
    return chess.svg.board(
        board,
        orientation=chess.BLACK if flipped else chess.WHITE,
        lastmove=None if lastmove is None else chess.Move.from_uci(lastmove),
        check=check,
        arrows=arrows,
        size=size,
        coordinates=coordinates,
    )


