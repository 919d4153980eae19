"""Tactical motifs: tag a line of moves, played from a position, with lichess theme names.

The side that moves first in the line is the *attacker*; the other side is the
*defender*. Plies are numbered from 0, so the attacker plays the even plies.
Every detector looks only at the positions of the line (never at the move that
led to the starting position, which the caller may not know), and each returns a
:class:`Finding` that names the ply and squares it rests on, so that an
explanation can quote what was checked.

The definitions follow the meaning of lichess's puzzle themes, as lichess-puzzler's
tagger (``tagger/cook.py``) operationalises them; the code is our own, and where
"hangs", "wins material" or "loses material" matter it stands on
:func:`chessapp.see.see`. Each definition is written out in its detector's
docstring and in ``docs/motifs.md``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import chess

from chessapp.errors import BadInput
from chessapp.see import PIECE_VALUES, exchange, is_hanging


class Motif(enum.Enum):
    """The themes this tagger knows; the values are lichess's theme names."""

    MATE = "mate"
    MATE_IN_1 = "mateIn1"
    MATE_IN_2 = "mateIn2"
    MATE_IN_3 = "mateIn3"
    MATE_IN_4 = "mateIn4"
    MATE_IN_5 = "mateIn5"
    SMOTHERED_MATE = "smotheredMate"
    BACK_RANK_MATE = "backRankMate"
    DOUBLE_CHECK = "doubleCheck"
    DISCOVERED_ATTACK = "discoveredAttack"
    FORK = "fork"
    PIN = "pin"
    SKEWER = "skewer"
    HANGING_PIECE = "hangingPiece"
    TRAPPED_PIECE = "trappedPiece"
    SACRIFICE = "sacrifice"
    CAPTURING_DEFENDER = "capturingDefender"
    DEFLECTION = "deflection"
    ATTRACTION = "attraction"
    EXPOSED_KING = "exposedKing"
    PROMOTION = "promotion"
    UNDER_PROMOTION = "underPromotion"
    EN_PASSANT = "enPassant"
    CASTLING = "castling"
    ADVANCED_PAWN = "advancedPawn"
    KINGSIDE_ATTACK = "kingsideAttack"
    QUEENSIDE_ATTACK = "queensideAttack"
    ATTACKING_F2_F7 = "attackingF2F7"
    X_RAY_ATTACK = "xRayAttack"
    INTERMEZZO = "intermezzo"


@dataclass(frozen=True)
class Ply:
    """One move of the line with the positions around it."""

    index: int
    before: chess.Board
    move: chess.Move
    after: chess.Board

    @cached_property
    def san(self) -> str:
        """The move in SAN (computed on first use: most tagging never needs it)."""
        return self.before.san(self.move)

    @cached_property
    def is_mate(self) -> bool:
        """The move gives checkmate."""
        return self.after.is_checkmate()

    @property
    def mover(self) -> chess.PieceType:
        """The type of the piece that moved (a promoted pawn counts as a pawn)."""
        piece_type = self.before.piece_type_at(self.move.from_square)
        assert piece_type is not None  # the move was legal
        return piece_type

    @property
    def landed(self) -> chess.PieceType:
        """The type of the piece standing on the destination after the move."""
        piece_type = self.after.piece_type_at(self.move.to_square)
        assert piece_type is not None
        return piece_type

    @property
    def captured(self) -> chess.PieceType | None:
        """The type of the piece this move takes (a pawn for en passant), or None."""
        if self.before.is_en_passant(self.move):
            return chess.PAWN
        return self.before.piece_type_at(self.move.to_square)


@dataclass(frozen=True)
class Finding:
    """A motif, the ply it was found at, and the squares it is about (the first square is
    the acting piece, the rest are its targets), for the explanation to quote."""

    motif: Motif
    ply: int
    squares: tuple[chess.Square, ...] = ()


@dataclass(frozen=True)
class Line:
    """A line played from a position: the plies, and who attacks."""

    start: chess.Board
    plies: tuple[Ply, ...]
    #: The move that led to ``start``, when the caller's board remembers it (a game, a
    #: puzzle); None for a bare FEN.
    previous: Ply | None = None

    @property
    def attacker(self) -> chess.Color:
        return self.start.turn

    @property
    def end(self) -> chess.Board:
        return self.plies[-1].after if self.plies else self.start

    def attacker_plies(self) -> tuple[Ply, ...]:
        return self.plies[0::2]


def play_line(board: chess.Board, moves: Sequence[chess.Move | str]) -> Line:
    """Play ``moves`` (Move objects or UCI strings) from ``board``; the board is not changed.

    Raises :class:`BadInput` naming the first move that is malformed or illegal.
    """
    previous = None
    if board.move_stack:
        before = board.copy()
        last = before.pop()
        previous = Ply(-1, before.copy(stack=False), last, board.copy(stack=False))
    current = board.copy(stack=False)
    start = current.copy(stack=False)
    plies = []
    for index, item in enumerate(moves):
        if isinstance(item, chess.Move):
            move = item
        else:
            try:
                move = chess.Move.from_uci(item)
            except ValueError:
                raise BadInput(f"move {index + 1} is not UCI", token=item) from None
        if not current.is_legal(move):
            raise BadInput(f"move {index + 1} is illegal in {current.fen()}", token=move.uci())
        after = current.copy(stack=False)
        after.push(move)
        plies.append(Ply(index, current, move, after))
        current = after
    return Line(start, tuple(plies), previous)


# --- helpers -----------------------------------------------------------------------------

def _value(piece_type: chess.PieceType) -> int:
    """A piece's value in pawns, for comparing pieces and counting material: the 1/3/3/5/9
    scale of :data:`chessapp.see.PIECE_VALUES` (the king is worth more than anything)."""
    return PIECE_VALUES[piece_type] // 100


_SLIDERS = (chess.BISHOP, chess.ROOK, chess.QUEEN)


def material(board: chess.Board, color: chess.Color) -> int:
    """``color``'s material minus the other side's, in pawns (kings not counted)."""
    total = 0
    for piece_type in (chess.PAWN, chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN):
        total += _value(piece_type) * (len(board.pieces(piece_type, color))
                                       - len(board.pieces(piece_type, not color)))
    return total


def _capture_move(board: chess.Board, from_square: chess.Square,
                  to_square: chess.Square) -> chess.Move:
    promotion = None
    if (board.piece_type_at(from_square) == chess.PAWN
            and chess.square_rank(to_square) in (0, 7)):
        promotion = chess.QUEEN
    return chess.Move(from_square, to_square, promotion)


def in_bad_spot(board: chess.Board, square: chess.Square, *, pins_protect: bool = True) -> bool:
    """The piece on ``square`` can be won: a capture of it by the side to move has a
    positive static exchange value. With ``pins_protect`` only legal captures count; without
    it a capture by a pinned piece counts too (the piece is then safe only thanks to a pin).
    Only meaningful when the piece's owner is not to move; otherwise it is never in a bad
    spot by this test."""
    piece = board.piece_at(square)
    if piece is None or piece.color == board.turn:
        return False
    allowed = board.is_legal if pins_protect else board.is_pseudo_legal
    for attacker_square in board.attackers(board.turn, square):
        move = _capture_move(board, attacker_square, square)
        if allowed(move) and exchange(board, move) > 0:
            return True
    return False


def _attacked_enemies(board: chess.Board, square: chess.Square
                      ) -> list[tuple[chess.Square, chess.PieceType]]:
    """Enemy pieces the piece on ``square`` attacks (enemy: not the piece's colour)."""
    piece = board.piece_at(square)
    assert piece is not None
    found = []
    for target in board.attacks(square):
        victim = board.piece_at(target)
        if victim is not None and victim.color != piece.color:
            found.append((target, victim.piece_type))
    return found


def _king_value(piece_type: chess.PieceType) -> int:
    return 99 if piece_type == chess.KING else _value(piece_type)


# --- mates -------------------------------------------------------------------------------


def mate_in(line: Line) -> Finding | None:
    """``mateInN``: the line ends in checkmate given by the attacker, with N attacker moves
    (five or more all count as ``mateIn5``, as on lichess). The finding's squares are the
    mated king's."""
    if not line.plies or len(line.plies) % 2 == 0 or not line.plies[-1].is_mate:
        return None
    moves = min(5, (len(line.plies) + 1) // 2)
    king = line.end.king(not line.attacker)
    motif = Motif(f"mateIn{moves}")
    return Finding(motif, len(line.plies) - 1, () if king is None else (king,))


def smothered_mate(line: Line) -> Finding | None:
    """``smotheredMate``: the final mate is given by a knight and every square next to the
    mated king holds one of the king's own pieces: it is smothered by its own army."""
    if mate_in(line) is None:
        return None
    board = line.end
    king = board.king(not line.attacker)
    assert king is not None
    knights = [sq for sq in board.checkers() if board.piece_type_at(sq) == chess.KNIGHT]
    if not knights:
        return None
    for square in chess.SquareSet(chess.BB_KING_ATTACKS[king]):
        if board.color_at(square) != (not line.attacker):
            return None
    return Finding(Motif.SMOTHERED_MATE, len(line.plies) - 1, (knights[0], king))


def back_rank_mate(line: Line) -> Finding | None:
    """``backRankMate``: the final mate catches the king on its own first rank, a checker
    stands on that rank, and every square in front of the king (the three squares of the
    next rank) holds one of its own pieces that the attacker does not attack: the king is
    walled in by its own men. Not tagged when the mate is smothered."""
    if mate_in(line) is None or smothered_mate(line) is not None:
        return None
    board = line.end
    defender = not line.attacker
    king = board.king(defender)
    assert king is not None
    home = 0 if defender == chess.WHITE else 7
    if chess.square_rank(king) != home:
        return None
    step = 1 if defender == chess.WHITE else -1
    front_rank = home + step
    for file in range(chess.square_file(king) - 1, chess.square_file(king) + 2):
        if not 0 <= file <= 7:
            continue
        square = chess.square(file, front_rank)
        if board.color_at(square) != defender or board.is_attacked_by(line.attacker, square):
            return None
    checkers = [sq for sq in board.checkers() if chess.square_rank(sq) == home]
    if not checkers:
        return None
    return Finding(Motif.BACK_RANK_MATE, len(line.plies) - 1, (checkers[0], king))


# --- checks and lines ----------------------------------------------------------------------


def double_check(line: Line) -> Finding | None:
    """``doubleCheck``: after an attacker move, two pieces give check at once."""
    for ply in line.attacker_plies():
        checkers = ply.after.checkers()
        if len(checkers) > 1:
            return Finding(Motif.DOUBLE_CHECK, ply.index, tuple(checkers))
    return None


def _discovered_check(line: Line) -> Finding | None:
    for ply in line.attacker_plies():
        checkers = ply.after.checkers()
        if checkers and ply.move.to_square not in checkers and not ply.before.is_castling(
                ply.move):
            return Finding(Motif.DISCOVERED_ATTACK, ply.index,
                           (next(iter(checkers)), ply.move.from_square))
    return None


def discovered_attack(line: Line) -> Finding | None:
    """``discoveredAttack``: an attacker move unmasks another piece's line.

    Either it is a discovered check (the moving piece is not among the checkers, castling
    aside), or a later attacker capture travels along a line that the attacker's previous
    move opened: the square that piece left lies between the capturer's start and target,
    and the capture is not made by, or on the square of, the piece that moved away. The
    search stops at the first attacker capture on the square the defender's reply moved
    to: from there on the line is an exchange."""
    found = _discovered_check(line)
    if found is not None:
        return found
    for ply in line.attacker_plies()[1:]:
        if ply.captured is None:
            continue
        reply, opener = line.plies[ply.index - 1], line.plies[ply.index - 2]
        if reply.move.to_square == ply.move.to_square:
            # An exchange has begun on that square: what follows is recapturing, and the
            # search stops (going on adds false discoveries on the puzzles).
            return None
        between = chess.SquareSet.between(ply.move.from_square, ply.move.to_square)
        if (opener.move.from_square in between
                and ply.move.to_square != opener.move.to_square
                and ply.move.from_square != opener.move.to_square
                and not opener.before.is_castling(opener.move)):
            return Finding(Motif.DISCOVERED_ATTACK, opener.index,
                           (ply.move.from_square, ply.move.to_square))
    return None


def fork(line: Line) -> Finding | None:
    """``fork``: an attacker move (not the last attacker move, not a king move) puts a piece
    on a square where it cannot be won (:func:`in_bad_spot`, where a capture by a pinned
    piece counts: a fork that only works because the piece that could take the forker is
    pinned is a ``pin``) and from which it attacks two or more enemy pieces other than
    pawns that are each either worth more than it (the king counts as the most valuable)
    or hanging and unable to take it."""
    for ply in line.attacker_plies()[:-1]:
        if ply.mover == chess.KING:
            continue
        board, square = ply.after, ply.move.to_square
        if in_bad_spot(board, square, pins_protect=False):
            continue
        own = _king_value(ply.landed)
        targets = []
        for target, victim in _attacked_enemies(board, square):
            if victim == chess.PAWN:
                continue
            if _king_value(victim) > own or (
                    is_hanging(board, target)
                    and target not in board.attackers(board.turn, square)):
                targets.append(target)
        if len(targets) > 1:
            return Finding(Motif.FORK, ply.index, (square, *targets))
    return None


def _pinned_squares(board: chess.Board, color: chess.Color) -> list[chess.Square]:
    king = board.king(color)
    if king is None:
        return []
    found = []
    for square in chess.scan_forward(board.occupied_co[color] & ~chess.BB_SQUARES[king]):
        if board.is_pinned(color, square):
            found.append(square)
    return found


def pin(line: Line) -> Finding | None:
    """``pin``: after an attacker move, a defender piece pinned to its king either

    * cannot use an attack it has: it attacks, off the pin line, an attacker piece worth
      more than itself or hanging (the pin prevents an attack); or
    * cannot escape an attack: a piece on the pin line attacks it and is worth less, or
      the pinned piece is hanging, cannot take that attacker, and has moves off the line
      that the pin forbids (the pin prevents an escape)."""
    for ply in line.attacker_plies():
        board = ply.after
        defender = not line.attacker
        for square in _pinned_squares(board, defender):
            pinned = board.piece_type_at(square)
            assert pinned is not None
            ray = board.pin(defender, square)
            for target in board.attacks(square):
                victim = board.piece_at(target)
                if (victim is not None and victim.color == line.attacker and target not in ray
                        and (_value(victim.piece_type) > _value(pinned)
                             or is_hanging(board, target))):
                    return Finding(Motif.PIN, ply.index, (square, target))
            for pinner in board.attackers(line.attacker, square):
                if pinner not in ray:
                    continue
                pinner_type = board.piece_type_at(pinner)
                assert pinner_type is not None
                if _value(pinned) > _value(pinner_type):
                    return Finding(Motif.PIN, ply.index, (pinner, square))
                if (is_hanging(board, square)
                        and pinner not in board.attackers(defender, square)
                        and any(m.from_square == square and m.to_square not in ray
                                for m in board.pseudo_legal_moves)):
                    return Finding(Motif.PIN, ply.index, (pinner, square))
    return None


def skewer(line: Line) -> Finding | None:
    """``skewer``: a slider attacks a valuable piece, it steps off the line, and the
    slider takes what stood behind it. Precisely: an attacker capture by a bishop, rook or
    queen (not mate) whose path holds the square the defender's last move left; that
    piece was worth more than the one now taken (the king most of all) and the taken piece
    could be won where it stood (:func:`in_bad_spot`)."""
    for ply in line.attacker_plies()[1:]:
        captured = ply.captured
        if captured is None or ply.mover not in _SLIDERS or ply.is_mate:
            continue
        reply = line.plies[ply.index - 1]
        between = chess.SquareSet.between(ply.move.from_square, ply.move.to_square)
        if reply.move.to_square == ply.move.to_square or reply.move.from_square not in between:
            continue
        if (_king_value(reply.mover) > _king_value(captured)
                and in_bad_spot(ply.before, ply.move.to_square)):
            # The finding points at the attacker's move before the capture (the skewering
            # attack); attacker_plies()[1:] starts at ply 2.
            return Finding(Motif.SKEWER, ply.index - 2,
                           (ply.move.from_square, reply.move.from_square, ply.move.to_square))
    return None


# --- material -----------------------------------------------------------------------------


def hanging_piece(line: Line) -> Finding | None:
    """``hangingPiece``: the attacker's first move takes a piece other than a pawn that
    nothing defends (x-ray defenders included); if the line goes on, the attacker still has
    that material after its second move (the piece was really free, not bait). When the
    move that led to the start is known and it captured a piece worth as much on that
    same square, taking back is a recapture, not a hanging piece."""
    if not line.plies:
        return None
    first = line.plies[0]
    captured = first.captured
    if captured is None or captured == chess.PAWN:
        return None
    if not is_hanging(first.before, first.move.to_square):
        return None
    previous = line.previous
    if previous is not None and previous.move.to_square == first.move.to_square:
        taken = previous.captured
        if taken is not None and _value(taken) >= _value(captured):
            return None
    if len(line.plies) >= 3 and (material(line.plies[2].after, line.attacker)
                                 < material(first.after, line.attacker)):
        return None
    return Finding(Motif.HANGING_PIECE, 0, (first.move.from_square, first.move.to_square))


def is_trapped(board: chess.Board, square: chess.Square) -> bool:
    """The piece on ``square`` (its side to move, not in check, not pinned, not a pawn or
    king) can be won where it stands, and every legal move it has either lands on a square
    where it can be won or, if a capture, takes a piece worth less than itself."""
    piece = board.piece_at(square)
    if (piece is None or piece.color != board.turn or board.is_check()
            or piece.piece_type in (chess.PAWN, chess.KING)
            or board.is_pinned(board.turn, square)):
        return False
    probe = board.copy(stack=False)
    probe.turn = not probe.turn
    probe.ep_square = None
    if not in_bad_spot(probe, square):
        return False
    for escape in board.legal_moves:
        if escape.from_square != square:
            continue
        victim = board.piece_type_at(escape.to_square)
        if victim is not None and _value(victim) >= _value(piece.piece_type):
            return False
        board.push(escape)
        try:
            if not in_bad_spot(board, escape.to_square):
                return False
        finally:
            board.pop()
    return True


def trapped_piece(line: Line) -> Finding | None:
    """``trappedPiece``: a later attacker move takes a piece other than a pawn that was
    trapped (:func:`is_trapped`) just before the defender's last move (if that move brought
    the piece to the capture square, it is the piece's former square that is tested)."""
    for ply in line.attacker_plies()[1:]:
        captured = ply.captured
        if captured is None or captured == chess.PAWN:
            continue
        reply = line.plies[ply.index - 1]
        square = ply.move.to_square
        if reply.move.to_square == square:
            square = reply.move.from_square
        if is_trapped(reply.before.copy(stack=False), square):
            return Finding(Motif.TRAPPED_PIECE, ply.index, (ply.move.from_square, square))
    return None


def sacrifice(line: Line) -> Finding | None:
    """``sacrifice``: the attacker gives material on purpose. After some attacker move other
    than the first, the attacker's material balance is at least two pawns below the
    balance at the start, counting the line up to that point, with no promotion by the
    attacker before it. The finding points at the first attacker move whose static exchange
    value is negative (the move that offered the material), else the first move."""
    start = material(line.start, line.attacker)
    for ply in line.attacker_plies()[1:]:
        if material(ply.after, line.attacker) - start <= -2:
            if any(p.move.promotion for p in line.attacker_plies()):
                return None
            offered = next((p for p in line.attacker_plies()[: ply.index // 2 + 1]
                            if exchange(p.before, p.move) < 0), line.plies[0])
            return Finding(Motif.SACRIFICE, offered.index,
                           (offered.move.from_square, offered.move.to_square))
    return None


def capturing_defender(line: Line) -> Finding | None:
    """``capturingDefender``: the attacker removes a defender, then cashes in. An attacker
    move X (not giving check, from a position not in check) takes a piece that defended
    square S; a later attacker move (by a different piece than X's) either mates, or takes
    on S a piece worth no more than the capturer that is now hanging, the defender's reply
    not having moved onto S."""
    for ply in line.attacker_plies()[1:]:
        reply, removal = line.plies[ply.index - 1], line.plies[ply.index - 2]
        captured = ply.captured
        mate = ply.is_mate
        cashes_in = (captured is not None and ply.mover != chess.KING
                     and _value(captured) <= _value(ply.mover)
                     and is_hanging(ply.before, ply.move.to_square)
                     and reply.move.to_square != ply.move.to_square)
        if not (mate or cashes_in):
            continue
        if removal.after.is_check() or removal.move.to_square == ply.move.from_square:
            continue
        init = removal.before
        removed = init.piece_at(removal.move.to_square)
        if (removed is not None and not init.is_check()
                and removal.move.to_square in init.attackers(removed.color, ply.move.to_square)):
            return Finding(Motif.CAPTURING_DEFENDER, removal.index,
                           (removal.move.to_square, ply.move.to_square))
    return None


def deflection(line: Line) -> Finding | None:
    """``deflection``: a defender piece is lured away from a square it guards, and the
    attacker then uses that square. An attacker move X that captures nothing, or captures
    less than the piece it moves with, draws the defender's reply onto X's square (or X
    gives check and the reply answers it); the reply's piece used to guard square S (or
    the promotion file ahead of a pawn) and no longer does; the attacker's next move then
    captures on S (not something worth more than the capturer) or promotes there."""
    for ply in line.attacker_plies()[1:]:
        captured = ply.captured
        if captured is None and not ply.move.promotion:
            continue
        if captured is not None and _king_value(captured) > _king_value(ply.mover):
            continue
        reply, lure = line.plies[ply.index - 1], line.plies[ply.index - 2]
        lure_captured = lure.captured
        square = ply.move.to_square
        if lure_captured is not None and _value(lure_captured) >= _value(lure.mover):
            continue
        if square in (reply.move.to_square, lure.move.to_square):
            continue
        if not (reply.move.to_square == lure.move.to_square or lure.after.is_check()):
            continue
        guarded_before = lure.after.attacks(reply.move.from_square)
        guarded = square in guarded_before or (
            ply.move.promotion is not None
            and chess.square_file(square) == chess.square_file(reply.move.from_square)
            and ply.move.from_square in guarded_before)
        if guarded and square not in reply.after.attacks(reply.move.to_square):
            return Finding(Motif.DEFLECTION, lure.index, (reply.move.from_square, square))
    return None


def attraction(line: Line) -> Finding | None:
    """``attraction``: the attacker offers a piece on a square, the defender's king, queen
    or rook takes it, and the attacker's next move attacks that square: with check when it
    was the king, or followed two plies later by a capture on the square otherwise."""
    plies = line.plies
    for ply in line.attacker_plies():
        if ply.index + 2 >= len(plies):
            break
        reply, follow = plies[ply.index + 1], plies[ply.index + 2]
        square = ply.move.to_square
        if reply.move.to_square != square or reply.mover not in (
                chess.KING, chess.QUEEN, chess.ROOK):
            continue
        if follow.move.to_square not in follow.after.attackers(line.attacker, square):
            continue
        if reply.mover == chess.KING:
            return Finding(Motif.ATTRACTION, ply.index, (square,))
        if ply.index + 4 < len(plies) and plies[ply.index + 4].move.to_square == square:
            return Finding(Motif.ATTRACTION, ply.index, (square,))
    return None


def x_ray_attack(line: Line) -> Finding | None:
    """``xRayAttack``: an exchange on one square where the attacker's piece takes *through*
    the defender's recapturing piece. The attacker moves to square S, the defender takes
    back on S with a piece other than the king that stood on the line between the
    attacker's next capturer and S, and that capturer then takes on S."""
    for ply in line.attacker_plies()[1:]:
        if ply.captured is None:
            continue
        reply, first = line.plies[ply.index - 1], line.plies[ply.index - 2]
        square = ply.move.to_square
        if (reply.move.to_square == square and reply.mover != chess.KING
                and first.move.to_square == square
                and reply.move.from_square in chess.SquareSet.between(ply.move.from_square,
                                                                      square)):
            return Finding(Motif.X_RAY_ATTACK, ply.index, (ply.move.from_square, square))
    return None


def intermezzo(line: Line) -> Finding | None:
    """``intermezzo``: the defender has just captured on square S, and instead of taking
    back at once the attacker first plays another move (elsewhere), then recaptures on S.
    Precisely, at the first later attacker capture on S: the defender's move before it did
    not come from a square attacking S, the attacker's move before that did not go to S,
    and the defender's capture on S came just before it, when the recapture was already
    legal. For the capture at the start of the line, the move that led to the start must
    be known (a bare FEN cannot show it)."""
    for ply in line.attacker_plies()[1:]:
        if ply.captured is None:
            continue
        square = ply.move.to_square
        reply, between = line.plies[ply.index - 1], line.plies[ply.index - 2]
        if reply.move.from_square in between.after.attackers(not line.attacker, square):
            continue
        if between.move.to_square == square:
            continue
        capture = line.plies[ply.index - 3] if ply.index >= 3 else line.previous
        if (capture is not None and capture.move.to_square == square
                and capture.captured is not None and capture.after.is_legal(ply.move)):
            return Finding(Motif.INTERMEZZO, between.index, (square,))
        return None
    return None


# --- kings and pawns ----------------------------------------------------------------------


def exposed_king(line: Line) -> Finding | None:
    """``exposedKing``: at the start the defender's king stands on one of its own three
    home ranks (1st-3rd for White, 6th-8th for Black), with none of its own pawns beside it
    or on the three squares in front of it (towards the attacker), and the attacker gives
    check on some move that is neither the first nor the last: checks against a king that
    has lost its shelter."""
    defender = not line.attacker
    king = line.start.king(defender)
    if king is None:
        return None
    relative_rank = chess.square_rank(king) if defender == chess.WHITE else (
        7 - chess.square_rank(king))
    if relative_rank > 2:
        return None
    forward = 1 if defender == chess.WHITE else -1
    for d_file in (-1, 0, 1):
        for d_rank in (0, forward):
            file, rank = chess.square_file(king) + d_file, chess.square_rank(king) + d_rank
            if (d_file, d_rank) == (0, 0) or not (0 <= file <= 7 and 0 <= rank <= 7):
                continue
            if line.start.piece_at(chess.square(file, rank)) == chess.Piece(chess.PAWN, defender):
                return None
    for ply in line.attacker_plies()[1:-1]:
        if ply.after.is_check():
            return Finding(Motif.EXPOSED_KING, ply.index, (king,))
    return None


def promotion(line: Line) -> Finding | None:
    """``promotion``: an attacker pawn promotes."""
    for ply in line.attacker_plies():
        if ply.move.promotion:
            return Finding(Motif.PROMOTION, ply.index, (ply.move.to_square,))
    return None


def under_promotion(line: Line) -> Finding | None:
    """``underPromotion``: an attacker pawn promotes to a knight, bishop or rook."""
    for ply in line.attacker_plies():
        if ply.move.promotion and ply.move.promotion != chess.QUEEN:
            return Finding(Motif.UNDER_PROMOTION, ply.index, (ply.move.to_square,))
    return None


def en_passant(line: Line) -> Finding | None:
    """``enPassant``: an attacker pawn captures en passant."""
    for ply in line.attacker_plies():
        if ply.before.is_en_passant(ply.move):
            return Finding(Motif.EN_PASSANT, ply.index, (ply.move.to_square,))
    return None


def castling(line: Line) -> Finding | None:
    """``castling``: the attacker castles."""
    for ply in line.attacker_plies():
        if ply.before.is_castling(ply.move):
            return Finding(Motif.CASTLING, ply.index, (ply.move.to_square,))
    return None


def advanced_pawn(line: Line) -> Finding | None:
    """``advancedPawn``: an attacker pawn moves to its seventh or eighth rank."""
    for ply in line.attacker_plies():
        if ply.mover != chess.PAWN:
            continue
        rank = chess.square_rank(ply.move.to_square)
        if (rank if line.attacker == chess.WHITE else 7 - rank) >= 6:
            return Finding(Motif.ADVANCED_PAWN, ply.index, (ply.move.to_square,))
    return None


def attacking_f2_f7(line: Line) -> Finding | None:
    """``attackingF2F7``: the first attacker capture on f2/f7 (the defender's f-pawn
    square) is made while the defender's king still stands on its home square e1/e8."""
    defender = not line.attacker
    target = chess.F2 if defender == chess.WHITE else chess.F7
    home = chess.E1 if defender == chess.WHITE else chess.E8
    for ply in line.attacker_plies():
        if ply.captured is not None and ply.move.to_square == target:
            if ply.after.piece_at(home) == chess.Piece(chess.KING, defender):
                return Finding(Motif.ATTACKING_F2_F7, ply.index, (target,))
            return None
    return None


def _side_attack(line: Line, corner_file: int, king_files: tuple[int, ...],
                 min_pieces: int, motif: Motif) -> Finding | None:
    defender = not line.attacker
    home = 0 if defender == chess.WHITE else 7
    king = line.start.king(defender)
    if (king is None or chess.square_rank(king) != home
            or chess.square_file(king) not in king_files
            or chess.popcount(line.start.occupied) < min_pieces
            or not any(p.after.is_check() for p in line.attacker_plies())):
        return None
    corner = chess.square(corner_file, home)
    score = 0
    for ply in line.attacker_plies():
        distance = chess.square_distance(corner, ply.move.to_square)
        if ply.after.is_check():
            score += 1
        if ply.captured is not None and distance <= 3:
            score += 1
        elif distance >= 5:
            score -= 1
    return Finding(motif, 0, (king,)) if score >= 2 else None


def kingside_attack(line: Line) -> Finding | None:
    """``kingsideAttack``: a middlegame (20 or more pieces) attack on a king at home on the
    g- or h-file: the attacker checks at least once, and scores at least 2 points where
    each check is +1, each capture within three squares of the h-file corner +1, and each
    other move five or more squares from that corner -1. Not tagged with a back-rank mate
    or a fork (the attack is then the other theme's story)."""
    return _side_attack(line, 7, (6, 7), 20, Motif.KINGSIDE_ATTACK)


def queenside_attack(line: Line) -> Finding | None:
    """``queensideAttack``: as :func:`kingside_attack`, for a king on the a-, b- or c-file,
    measured from the a-file corner, with 18 or more pieces on the board."""
    return _side_attack(line, 0, (0, 1, 2), 18, Motif.QUEENSIDE_ATTACK)


# --- the tagger ---------------------------------------------------------------------------

Detector = Callable[[Line], "Finding | None"]

#: Every detector, in the order their findings are reported (and explained).
DETECTORS: tuple[Detector, ...] = (
    mate_in, smothered_mate, back_rank_mate, double_check, discovered_attack, fork, pin,
    skewer, hanging_piece, trapped_piece, capturing_defender, deflection, attraction,
    sacrifice, exposed_king, promotion, under_promotion, en_passant, castling, advanced_pawn,
    attacking_f2_f7, x_ray_attack, intermezzo, kingside_attack, queenside_attack,
)


def find_motifs(line: Line) -> tuple[Finding, ...]:
    """Every motif the line shows, each with its evidence, in :data:`DETECTORS` order.
    A mate also yields ``mate``."""
    findings: list[Finding] = []
    for detector in DETECTORS:
        if detector in (kingside_attack, queenside_attack) and any(
                f.motif in (Motif.BACK_RANK_MATE, Motif.FORK, Motif.KINGSIDE_ATTACK)
                for f in findings):
            continue
        found = detector(line)
        if found is None:
            continue
        findings.append(found)
        if detector is mate_in:
            findings.append(Finding(Motif.MATE, found.ply, found.squares))
    return tuple(findings)


def tag(board: chess.Board, moves: Sequence[chess.Move | str]) -> frozenset[Motif]:
    """The motifs of ``moves`` played from ``board`` (the first mover is the attacker)."""
    return frozenset(f.motif for f in find_motifs(play_line(board, moves)))
