"""Static exchange evaluation: what a capture (or any move) wins on its square.

python-chess has none. :func:`see` plays out the exchange on the destination
square of a move, each side always recapturing with its least valuable
attacker, and either side free to stop when going on would lose. The result is
in centipawns, from the point of view of the side making the move.

What it models, and why:

* **x-rays**: attackers are recomputed on the shrinking occupancy after each
  capture, so a rook behind a rook, or a bishop behind a queen, joins in.
* **en passant**: the captured pawn is taken off its own square, which also
  opens any line through it.
* **promotions**: a pawn that reaches the last rank (the move itself, or a
  pawn recapturing there) becomes a queen; the side gains queen minus pawn.
* **kings**: a king captures only when that is legal, that is when the other
  side has no attacker left on the square.
* **pins**: a piece pinned to its own king recaptures only along the pin line.

It does not see checks, mates or threats elsewhere: it is *static*.
"""

from __future__ import annotations

import chess

from chessapp.errors import BadInput

#: Centipawn values of the pieces: the classical 1/3/3/5/9 scale (Shannon,
#: "Programming a Computer for Playing Chess", 1950), the same scale lichess-puzzler's
#: tagger uses (tagger/util.py ``values``). The king is priced above everything
#: so that capturing it never looks cheap; a legal king capture never loses it.
PIECE_VALUES: dict[chess.PieceType, int] = {
    chess.PAWN: 100,
    chess.KNIGHT: 300,
    chess.BISHOP: 300,
    chess.ROOK: 500,
    chess.QUEEN: 900,
    chess.KING: 10_000,
}

_ORDER = (chess.PAWN, chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN, chess.KING)
_PROMOTION_GAIN = PIECE_VALUES[chess.QUEEN] - PIECE_VALUES[chess.PAWN]


def piece_value(piece_type: chess.PieceType) -> int:
    """The centipawn value of a piece type (see :data:`PIECE_VALUES`)."""
    return PIECE_VALUES[piece_type]


def _pin_ok(board: chess.Board, square: chess.Square, target: chess.Square) -> bool:
    """Whether the piece on ``square`` may move to ``target`` as far as a pin to its
    own king goes (pins are read on the board as given)."""
    color = board.color_at(square)
    if color is None:
        return True
    return bool(board.pin_mask(color, square) & chess.BB_SQUARES[target])


def attackers(board: chess.Board, color: chess.Color, square: chess.Square,
              occupied: chess.Bitboard | None = None) -> chess.SquareSet:
    """Pieces of ``color`` that attack ``square`` on ``occupied`` (default: the board),
    and are not pinned away from it. A king is included; :func:`see` decides if it may take."""
    occ = board.occupied if occupied is None else occupied
    mask = board.attackers_mask(color, square, occ) & occ
    return chess.SquareSet(sq for sq in chess.scan_forward(mask) if _pin_ok(board, sq, square))


def defenders(board: chess.Board, square: chess.Square) -> chess.SquareSet:
    """The pieces that defend the piece on ``square``, including those that defend it
    through one of its attackers (a queen behind an attacking bishop is an attacker; a rook
    behind the attacked piece's own rook that the attacker's capture would open counts)."""
    piece = board.piece_at(square)
    if piece is None:
        return chess.SquareSet()
    direct = attackers(board, piece.color, square)
    if direct:
        return direct
    # A defender standing behind an enemy slider: once that slider takes, it recaptures.
    found = chess.SquareSet()
    for attacker_sq in attackers(board, not piece.color, square):
        occ = board.occupied & ~chess.BB_SQUARES[attacker_sq]
        found |= attackers(board, piece.color, square, occ)
    return found


def is_hanging(board: chess.Board, square: chess.Square) -> bool:
    """The piece on ``square`` has no defender at all, x-rays included."""
    return board.piece_at(square) is not None and not defenders(board, square)


def _least_valuable(board: chess.Board, candidates: chess.Bitboard) -> chess.Square | None:
    for piece_type in _ORDER:
        mask = candidates & board.pieces_mask(piece_type, chess.WHITE) | (
            candidates & board.pieces_mask(piece_type, chess.BLACK))
        if mask:
            return chess.lsb(mask)
    return None


def see(board: chess.Board, move: chess.Move) -> int:
    """The centipawns ``move`` wins by static exchange on its destination square.

    Positive: the mover comes out ahead; 0: an even trade or a safe quiet move;
    negative: the piece moved (or the capturing piece) is lost for less. Raises
    :class:`BadInput` if the move is not legal on ``board``.
    """
    if not board.is_legal(move):
        raise BadInput(f"illegal move {move.uci()} in {board.fen()}")
    return exchange(board, move)


def exchange(board: chess.Board, move: chess.Move) -> int:
    """:func:`see` without the legality check, for callers that generated ``move`` from
    the legal moves themselves (the tagger calls this thousands of times per second)."""
    mover = board.piece_at(move.from_square)
    assert mover is not None  # a legal move has a piece on its from-square
    target = move.to_square
    occupied = board.occupied & ~chess.BB_SQUARES[move.from_square]
    if board.is_en_passant(move):
        captured_value = PIECE_VALUES[chess.PAWN]
        ep_pawn = target - 8 if board.turn == chess.WHITE else target + 8
        occupied &= ~chess.BB_SQUARES[ep_pawn]
    elif board.is_castling(move):
        return 0  # the king lands on a square castling rules already made safe
    else:
        victim = board.piece_type_at(target)
        captured_value = 0 if victim is None else PIECE_VALUES[victim]
    occupied |= chess.BB_SQUARES[target]

    gains = [captured_value]
    on_square = PIECE_VALUES[mover.piece_type]
    if move.promotion is not None:
        gains[0] += PIECE_VALUES[move.promotion] - PIECE_VALUES[chess.PAWN]
        on_square = PIECE_VALUES[move.promotion]
    last_rank = chess.BB_RANK_1 | chess.BB_RANK_8
    promotes_here = bool(chess.BB_SQUARES[target] & last_rank)

    side = not board.turn
    # Pieces that have moved onto ``target`` are not attackers any more.
    used = chess.BB_SQUARES[move.from_square]
    while True:
        mask = board.attackers_mask(side, target, occupied) & occupied & ~used
        mask &= ~chess.BB_SQUARES[target]
        mask = sum(chess.BB_SQUARES[sq] for sq in chess.scan_forward(mask)
                   if _pin_ok(board, sq, target))
        square = _least_valuable(board, mask)
        if square is None:
            break
        piece_type = board.piece_type_at(square)
        assert piece_type is not None
        occupied_after = occupied & ~chess.BB_SQUARES[square]
        if piece_type == chess.KING:
            others = (board.attackers_mask(not side, target, occupied_after)
                      & occupied_after & ~used & ~chess.BB_SQUARES[target])
            if others:
                break  # the king may not step into an attacked square
        gain = on_square - gains[-1]
        on_square = PIECE_VALUES[piece_type]
        if piece_type == chess.PAWN and promotes_here:
            gain += _PROMOTION_GAIN
            on_square = PIECE_VALUES[chess.QUEEN]
        gains.append(gain)
        used |= chess.BB_SQUARES[square]
        occupied = occupied_after
        side = not side
    # Each side may stop instead of capturing: fold the list back from the end.
    for depth in range(len(gains) - 1, 0, -1):
        gains[depth - 1] = -max(-gains[depth - 1], gains[depth])
    return gains[0]
