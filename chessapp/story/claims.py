"""Claims: named board and engine facts a narration stands on, checked with python-chess.

A story segment lists claims such as ``knight_move``, ``decisive_for(lev)`` or
``played(Nc3)@7``; :func:`check_track` evaluates each at its own ply (``@N``) or
else at the segment's last ply, against the board
(python-chess) and, for the engine facts, a
:class:`~chessapp.analysis.GameAnalysis`. No engine is started here: a claim
that needs the engine and gets no analysis answers ``holds=None``.

Each kind of claim is one row of :data:`CLAIM_SPECS`: its arity, whether its
first argument names a player, whether it needs the engine, and its predicate.
"""

from __future__ import annotations

import enum
import itertools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import chess
import chess.pgn

from chessapp.analysis import GameAnalysis, Judgement, PlyAnalysis, winning_chances
from chessapp.errors import StoryError
from chessapp.evals import WhiteEval
from chessapp.shapes import Brush

if TYPE_CHECKING:
    from chessapp.story.track import StoryTrack

log = logging.getLogger(__name__)

#: The standard 1/3/3/5/9 count; the king is not counted.
PIECE_VALUES: Mapping[chess.PieceType, int] = {
    chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9, chess.KING: 0,
}
#: "Decisive" as the issue defines it: a forced mate, or at least +5.00 for the side named.
DECISIVE_CP = 500

#: Ids of segments and acts, and player keys in claims.
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")
_CLAIM = re.compile(r"^([a-z_]+)(?:\(([^()]*)\))?(?:@(\d+))?$")
COLOR_NAMES = {"white": chess.WHITE, "black": chess.BLACK}


@dataclass(frozen=True, slots=True)
class Claim:
    """A named board or engine fact.

    ``decisive_for(lev)`` parses to name ``decisive_for`` and args ``("lev",)``.
    ``played(Nc3)@7`` is about ply 7 instead of the segment's last ply.
    """

    name: str
    args: tuple[str, ...] = ()
    at: int | None = None  # the ply the claim is about; None: the segment's last ply

    @classmethod
    def parse(cls, text: str) -> Claim:
        match = _CLAIM.match(text.strip())
        if match is None:
            raise ValueError(f"not a claim: {text!r} (expected name, name(arg, ...) or "
                             "name(arg, ...)@ply)")
        name, raw, at = match.group(1), match.group(2), match.group(3)
        args = () if raw is None or not raw.strip() else tuple(a.strip() for a in raw.split(","))
        if any(not a for a in args):
            raise ValueError(f"empty argument in claim {text!r}")
        return cls(name, args, None if at is None else int(at))

    def text(self) -> str:
        core = f"{self.name}({', '.join(self.args)})" if self.args else self.name
        return core if self.at is None else f"{core}@{self.at}"


# --- Board facts ------------------------------------------------------------------------------


def hero_color(track: StoryTrack, game: chess.pgn.Game) -> chess.Color:
    """The narrated player's colour: explicit ``hero_color``, else the header naming him."""
    if track.episode.hero_color is not None:
        return track.episode.hero_color
    name = track.episode.hero_name
    white, black = game.headers.get("White", ""), game.headers.get("Black", "")
    if name == white and name != black:
        return chess.WHITE
    if name == black and name != white:
        return chess.BLACK
    raise StoryError(f"episode.hero_name: {name!r} is neither the White nor the Black player "
                     f"of the game ({white!r} / {black!r}); set episode.hero_color")


def material(board: chess.Board, color: chess.Color) -> int:
    """``color``'s material by the 1/3/3/5/9 count."""
    return sum(PIECE_VALUES[p.piece_type] for p in board.piece_map().values() if p.color == color)


def material_balance(board: chess.Board, color: chess.Color) -> int:
    """``color``'s material minus the opponent's."""
    return material(board, color) - material(board, not color)


def centre_distance(square: chess.Square) -> int:
    """Chebyshev (king-move) distance to the nearest of d4, e4, d5, e5; 0 in the centre."""
    f, r = chess.square_file(square), chess.square_rank(square)
    df = max(0, 3 - f, f - 4)
    dr = max(0, 3 - r, r - 4)
    return max(df, dr)


def in_centre_block(square: chess.Square) -> bool:
    """Inside the c3–f6 block: files c..f, ranks 3..6."""
    return 2 <= chess.square_file(square) <= 5 and 2 <= chess.square_rank(square) <= 5


def king_zone(board: chess.Board, color: chess.Color) -> chess.SquareSet:
    """The king's square and its neighbours."""
    king = board.king(color)
    if king is None:
        return chess.SquareSet()
    return chess.SquareSet(chess.BB_KING_ATTACKS[king] | chess.BB_SQUARES[king])


def hanging(board: chess.Board, color: chess.Color) -> chess.SquareSet:
    """``color``'s pieces (not pawns or king) attacked by the opponent and not defended."""
    out = chess.SquareSet()
    for sq, piece in board.piece_map().items():
        if piece.color != color or piece.piece_type in (chess.PAWN, chess.KING):
            continue
        if board.is_attacked_by(not color, sq) and not board.is_attacked_by(color, sq):
            out.add(sq)
    return out


# --- Claims ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimResult:
    segment_id: str
    ply: int
    claim: str
    holds: bool | None  # None: the claim needs an engine analysis that is missing
    figures: dict[str, str] = field(default_factory=dict)
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class _Ctx:
    """What a claim predicate sees: the move of ply ``ply`` and the positions around it."""

    track: StoryTrack
    game: chess.pgn.Game
    boards: tuple[chess.Board, ...]  # boards[i] = position at ply i
    moves: tuple[chess.Move, ...]  # moves[i] = the move of ply i+1
    ply: int
    hero: chess.Color
    analysis: GameAnalysis | None

    @property
    def before(self) -> chess.Board:
        return self.boards[self.ply - 1]

    @property
    def after(self) -> chess.Board:
        return self.boards[self.ply]

    @property
    def move(self) -> chess.Move:
        return self.moves[self.ply - 1]

    @property
    def mover(self) -> chess.Color:
        return self.before.turn

    def side(self, name: str) -> chess.Color:
        if name == self.track.hero:
            return self.hero
        if name == "opponent":
            return not self.hero
        return COLOR_NAMES[name]

    def ply_analysis(self, ply: int | None = None) -> PlyAnalysis | None:
        p = self.ply if ply is None else ply
        if self.analysis is None or not 1 <= p <= len(self.analysis.plies):
            return None
        return self.analysis.plies[p - 1]

    def eval_at(self, ply: int) -> WhiteEval | None:
        if self.analysis is None:
            return None
        if ply == 0:
            return self.analysis.initial.eval
        pa = self.ply_analysis(ply)
        return None if pa is None else pa.eval


_Outcome = tuple[bool | None, dict[str, str], str]
_Predicate = Callable[[_Ctx, tuple[str, ...]], _Outcome]

_PIECE_NAMES = {chess.piece_name(pt): pt for pt in chess.PIECE_TYPES}


def _sq_list(squares: chess.SquareSet | list[chess.Square]) -> str:
    return " ".join(chess.square_name(s) for s in squares) or "none"


def _needs_move(ctx: _Ctx) -> _Outcome | None:
    if ctx.ply < 1:
        return False, {}, "ply 0 is the starting position: no move was played"
    return None


def _captured(ctx: _Ctx) -> chess.Piece | None:
    board, move = ctx.before, ctx.move
    if board.is_en_passant(move):
        return chess.Piece(chess.PAWN, not board.turn)
    if board.is_castling(move):
        return None
    return board.piece_at(move.to_square)


def _p_moves(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    if (early := _needs_move(ctx)) is not None:
        return early
    want = _PIECE_NAMES[args[0]]
    piece = ctx.before.piece_at(ctx.move.from_square)
    assert piece is not None
    castling = ctx.before.is_castling(ctx.move)
    holds = piece.piece_type == want and not castling
    san = ctx.before.san(ctx.move)
    what = "castling" if castling else chess.piece_name(piece.piece_type)
    return holds, {"move": san, "piece": what}, f"{san} is a {what} move."


def _p_captures(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    if (early := _needs_move(ctx)) is not None:
        return early
    want = _PIECE_NAMES[args[0]]
    captured = _captured(ctx)
    san = ctx.before.san(ctx.move)
    figures = {"move": san, "captured": "nothing" if captured is None else
               chess.piece_name(captured.piece_type)}
    if captured is None:
        return False, figures, f"{san} captures nothing."
    return (captured.piece_type == want, figures,
            f"{san} captures a {chess.piece_name(captured.piece_type)} on "
            f"{chess.square_name(ctx.move.to_square)}.")


def _p_queen_captures_bishop(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    if (early := _needs_move(ctx)) is not None:
        return early
    piece = ctx.before.piece_at(ctx.move.from_square)
    captured = _captured(ctx)
    san = ctx.before.san(ctx.move)
    holds = (piece is not None and piece.piece_type == chess.QUEEN and captured is not None
             and captured.piece_type == chess.BISHOP)
    what = "a queen takes a bishop" if holds else "not a queen taking a bishop"
    return holds, {"move": san}, f"{san}: {what}."


def _p_attacks_queen(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    if (early := _needs_move(ctx)) is not None:
        return early
    board, dest = ctx.after, ctx.move.to_square
    attacked = board.attacks(dest)
    queens = [s for s in attacked if (p := board.piece_at(s)) is not None
              and p.piece_type == chess.QUEEN and p.color != ctx.mover]
    figures = {"attacked_squares": _sq_list(attacked), "queen_attacked_on": _sq_list(queens)}
    san = ctx.before.san(ctx.move)
    where = chess.square_name(dest)
    if queens:
        return True, figures, (f"After {san} the piece on {where} attacks the queen on "
                               f"{_sq_list(queens)}.")
    return False, figures, f"After {san} the piece on {where} does not attack the opposing queen."


def _p_toward_centre(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    if (early := _needs_move(ctx)) is not None:
        return early
    frm, to = ctx.move.from_square, ctx.move.to_square
    d0, d1 = centre_distance(frm), centre_distance(to)
    holds = d1 < d0 and in_centre_block(to)
    figures = {"from": chess.square_name(frm), "to": chess.square_name(to),
               "centre_distance": f"{d0} → {d1}", "in_c3_f6": str(in_centre_block(to))}
    inside = "inside" if in_centre_block(to) else "outside"
    return holds, figures, (f"{chess.square_name(frm)} → {chess.square_name(to)}: centre distance "
                            f"{d0} → {d1}, {inside} the c3–f6 block.")


def _piece_desc(board: chess.Board, square: chess.Square) -> str:
    """``the white knight on d5``, or ``the empty square d5``."""
    piece = board.piece_at(square)
    name = chess.square_name(square)
    if piece is None:
        return f"the empty square {name}"
    colour = "white" if piece.color == chess.WHITE else "black"
    return f"the {colour} {chess.piece_name(piece.piece_type)} on {name}"


def _squares_arg(text: str) -> chess.SquareSet:
    """``"d7 e7"`` → those squares; ``"none"`` → the empty set."""
    if text.strip() == "none":
        return chess.SquareSet()
    return chess.SquareSet([chess.parse_square(s) for s in text.split()])


def _p_played(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``played(SAN)``: the move of the ply is ``SAN`` (check marks optional, as python-chess)."""
    if (early := _needs_move(ctx)) is not None:
        return early
    san = ctx.before.san(ctx.move)
    try:
        wanted = ctx.before.parse_san(args[0])
    except ValueError:
        wanted = None
    holds = wanted == ctx.move
    return holds, {"move": san}, (f"The move of ply {ctx.ply} is {san}"
                                  f"{'' if holds else f', not {args[0]}'}.")


#: Openings by their first moves (ECO: C00 is 1.e4 e6, the French Defence; C01 its
#: Exchange Variation, 3.exd5 exd5). Only the openings a track names need to be here.
OPENINGS: Mapping[str, tuple[str, ...]] = {
    "french_defence": ("e4", "e6"),
    "french_exchange": ("e4", "e6", "d4", "d5", "exd5", "exd5"),
}


def opening_name(key: str) -> str:
    """``french_defence`` → ``French Defence``."""
    return " ".join(word.capitalize() for word in key.split("_"))


def _p_opening(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    wanted = OPENINGS[args[0]]
    board = ctx.boards[0].copy(stack=False)
    played: list[str] = []
    for move in ctx.moves[:len(wanted)]:
        played.append(board.san(move))
        board.push(move)
    first = " ".join(played) or "no moves"
    holds = tuple(played) == wanted
    return holds, {"first_moves": first, "opening_moves": " ".join(wanted)}, (
        f"The game starts {first}; the {opening_name(args[0])} is {' '.join(wanted)}.")


def _p_open_file(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``open_file(e)``: no pawn of either colour stands on the file."""
    file_index = chess.FILE_NAMES.index(args[0])
    pawns = ctx.after.pieces_mask(chess.PAWN, chess.WHITE) | ctx.after.pieces_mask(
        chess.PAWN, chess.BLACK)
    on_file = chess.SquareSet(pawns & chess.BB_FILES[file_index])
    holds = not on_file
    return holds, {"pawns_on_file": _sq_list(on_file)}, (
        f"Pawns on the {args[0]}-file after ply {ctx.ply}: {_sq_list(on_file)}.")


def _p_lined_up(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``lined_up(e1 e2 e7 e8)``: occupied squares on one line, in order, nothing between."""
    squares = [chess.parse_square(s) for s in args[0].split()]  # in the order written
    board = ctx.after
    figures = {"pieces": "; ".join(_piece_desc(board, s) for s in squares)}
    if len(squares) < 2:
        return False, figures, "a line needs at least two squares"
    empty = [s for s in squares if board.piece_at(s) is None]
    if empty:
        return False, figures, f"{_sq_list(empty)} hold(s) no piece after ply {ctx.ply}."
    for a, b in itertools.pairwise(squares):
        if not chess.BB_RAYS[a][b]:
            return False, figures, (f"{chess.square_name(a)} and {chess.square_name(b)} are not "
                                    "on one rank, file or diagonal.")
        between = chess.SquareSet(chess.between(a, b)) & chess.SquareSet(board.occupied)
        if between:
            return False, figures, (f"{_sq_list(between)} stand(s) between "
                                    f"{chess.square_name(a)} and {chess.square_name(b)}.")
    line = chess.SquareSet(chess.BB_RAYS[squares[0]][squares[1]])
    if any(s not in line for s in squares):
        return False, figures, "the squares are not all on one line"
    names = [chess.square_name(s) for s in squares]
    return True, figures, (f"{', '.join(names)} stand on one line with nothing between them "
                           f"after ply {ctx.ply}.")


def _p_pins(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``pins(g5, f6, e7)``: the piece on g5 pins the piece on f6 to the piece behind it on e7.

    The pinner is a bishop, rook or queen whose own line runs through both; the
    pinned piece and the one behind are the other colour, nothing stands
    between; the piece behind is the king (an absolute pin) or worth more than
    the pinned piece (a relative pin, 1/3/3/5/9).
    """
    pinner_sq, pinned_sq, behind_sq = (chess.parse_square(a) for a in args)
    board = ctx.after
    pinner, pinned, behind = (board.piece_at(s) for s in (pinner_sq, pinned_sq, behind_sq))
    figures = {"pinner": _piece_desc(board, pinner_sq), "pinned": _piece_desc(board, pinned_sq),
               "behind": _piece_desc(board, behind_sq)}
    if pinner is None or pinned is None or behind is None:
        return False, figures, "one of the three squares is empty"
    if pinned.color == pinner.color or behind.color != pinned.color:
        return False, figures, "the pinned piece and the one behind must be the other side's"
    aligned = (pinned_sq in board.attacks(pinner_sq)
               and bool(chess.BB_RAYS[pinner_sq][behind_sq] & chess.BB_SQUARES[pinned_sq])
               and not chess.SquareSet(chess.between(pinned_sq, behind_sq))
               & chess.SquareSet(board.occupied)
               and chess.square_distance(pinner_sq, behind_sq)
               > chess.square_distance(pinner_sq, pinned_sq))
    slider = pinner.piece_type in (chess.BISHOP, chess.ROOK, chess.QUEEN)
    absolute = behind.piece_type == chess.KING
    worth_more = PIECE_VALUES[behind.piece_type] > PIECE_VALUES[pinned.piece_type]
    holds = slider and aligned and (absolute or worth_more)
    figures["kind"] = "absolute (to the king)" if absolute else "relative"
    if holds:
        return True, figures, (f"{figures['pinner'].capitalize()} pins {figures['pinned']} to "
                               f"{figures['behind']} ({figures['kind']} pin).")
    return False, figures, (f"{figures['pinner'].capitalize()} does not pin {figures['pinned']} "
                            f"to {figures['behind']}.")


def _relation(ctx: _Ctx, args: tuple[str, ...], *, same_colour: bool) -> _Outcome:
    frm, to = chess.parse_square(args[0]), chess.parse_square(args[1])
    board = ctx.after
    piece, target = board.piece_at(frm), board.piece_at(to)
    figures = {"from": _piece_desc(board, frm), "to": _piece_desc(board, to)}
    verb = "guards" if same_colour else "attacks"
    if piece is None:
        return False, figures, f"{chess.square_name(frm)} is empty after ply {ctx.ply}."
    if target is None:
        return False, figures, f"{chess.square_name(to)} is empty after ply {ctx.ply}."
    if (target.color == piece.color) != same_colour:
        whose = "its own side" if same_colour else "the other side"
        return False, figures, (f"{figures['to'].capitalize()} is not a piece of {whose}, "
                                f"as seen from {chess.square_name(frm)}.")
    holds = to in board.attacks(frm)
    return holds, figures, (f"{figures['from'].capitalize()} {verb if holds else 'does not reach'} "
                            f"{figures['to']}.")


def _p_attacks(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``attacks(d5, e7)``: the piece on d5 attacks the other side's piece on e7."""
    return _relation(ctx, args, same_colour=False)


def _p_guards(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``guards(c6, d5)``: the piece on c6 defends its own side's piece on d5."""
    return _relation(ctx, args, same_colour=True)


def _exact_set(ctx: _Ctx, args: tuple[str, ...], *, defenders: bool) -> _Outcome:
    square = chess.parse_square(args[0])
    board = ctx.after
    piece = board.piece_at(square)
    what = "defenders" if defenders else "attackers"
    if piece is None:
        return False, {what: "none"}, f"{chess.square_name(square)} is empty after ply {ctx.ply}."
    colour = piece.color if defenders else not piece.color
    found = chess.SquareSet(board.attackers(colour, square))
    wanted = _squares_arg(args[1])
    holds = found == wanted
    has = f"{what} on {_sq_list(found)}" if found else f"no {what}"
    return holds, {what: _sq_list(found)}, (
        f"After ply {ctx.ply}, {_piece_desc(board, square)} has {has}"
        f"{'' if holds else f', not {_sq_list(wanted)}'}.")


def _p_defenders(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``defenders(f6, d7 e7)``: exactly these pieces of its own side guard the piece on f6.

    A pinned defender still counts, as in python-chess's ``attackers()``.
    """
    return _exact_set(ctx, args, defenders=True)


def _p_attackers(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``attackers(e2, d1 e1)``: exactly these pieces of the other side attack the piece on e2."""
    return _exact_set(ctx, args, defenders=False)


def _p_queen_attacked(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``queen_attacked(side)``: the opponent attacks ``side``'s queen."""
    side = ctx.side(args[0])
    board = ctx.after
    queens = board.pieces(chess.QUEEN, side)
    hit = {q: chess.SquareSet(board.attackers(not side, q)) for q in queens}
    attacked = [q for q, by in hit.items() if by]
    figures = {"queen_on": _sq_list(queens),
               "attacked_by": _sq_list([s for by in hit.values() for s in by])}
    if not queens:
        return False, figures, f"{args[0]} has no queen after ply {ctx.ply}."
    return bool(attacked), figures, (
        f"{args[0]}'s queen on {_sq_list(queens)} is "
        f"{'attacked from ' + figures['attacked_by'] if attacked else 'not attacked'}.")


def _p_out_of_reach(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``out_of_reach(d5)``: the moved piece lands where the piece on d5 does not attack."""
    if (early := _needs_move(ctx)) is not None:
        return early
    source = chess.parse_square(args[0])
    reach = ctx.after.attacks(source)
    dest = ctx.move.to_square
    holds = dest not in reach
    figures = {"reach_of": _piece_desc(ctx.after, source), "reach": _sq_list(reach),
               "landed_on": chess.square_name(dest)}
    return holds, figures, (f"{figures['reach_of'].capitalize()} "
                            f"{'does not reach' if holds else 'reaches'} "
                            f"{chess.square_name(dest)}.")


def _en_prise(board: chess.Board, square: chess.Square) -> bool:
    """The piece on ``square`` can simply be taken: attacked, and undefended or attacked by
    a piece worth less (the static test before any exchange is counted)."""
    piece = board.piece_at(square)
    if piece is None:
        return False
    attackers = board.attackers(not piece.color, square)
    if not attackers:
        return False
    if not board.attackers(piece.color, square):
        return True
    value = PIECE_VALUES[piece.piece_type]
    return any(PIECE_VALUES[board.piece_type_at(a) or chess.KING] < value for a in attackers
               if board.piece_type_at(a) != chess.KING)


def _p_escapes_attacker(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """The piece moved at this ply leaves the reach of the piece moved one ply earlier
    *and* lands where it cannot simply be taken (see :func:`_en_prise`)."""
    if (early := _needs_move(ctx)) is not None:
        return early
    if ctx.ply < 2:
        return False, {}, "there is no previous move to escape from"
    attacker = ctx.moves[ctx.ply - 2].to_square
    reach = ctx.after.attacks(attacker)
    dest = ctx.move.to_square
    out_of_reach = dest not in reach
    taken = _en_prise(ctx.after, dest)
    by = chess.SquareSet(ctx.after.attackers(ctx.after.turn, dest))
    figures = {"attacker_on": chess.square_name(attacker), "landed_on": chess.square_name(dest),
               "attacked_there_by": _sq_list(by),
               "defended_there_by": _sq_list(ctx.after.attackers(not ctx.after.turn, dest))}
    holds = out_of_reach and not taken
    if not out_of_reach:
        why = f"the piece on {chess.square_name(attacker)} still reaches {chess.square_name(dest)}"
    elif taken:
        why = (f"it leaves the reach of {chess.square_name(attacker)} but lands where "
               f"{_sq_list(by)} can simply take it")
    else:
        why = (f"it leaves the reach of {chess.square_name(attacker)} for a square where it "
               "cannot simply be taken")
    return holds, figures, why[0].upper() + why[1:] + "."


def _settled(ctx: _Ctx) -> str | None:
    """Why the position is in the middle of a trade, or None when it is not.

    Mid-trade: the move of the ply captured on a square the side to move can
    capture on in turn.
    """
    if ctx.ply < 1 or _captured(ctx) is None:
        return None
    dest = ctx.move.to_square
    back = ctx.after.attackers(ctx.after.turn, dest)
    if not back:
        return None
    return f"mid-trade: {_sq_list(back)} can capture on {chess.square_name(dest)} in reply"


def _p_material_down(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``material_down(side[, ply])``: side's balance now is below its balance at ``ply``,
    read only when no trade is half done (see :func:`_settled`).

    The default reference is two plies earlier: for a reply, the position
    just before the side's own previous move.
    """
    side = ctx.side(args[0])
    ref = int(args[1]) if len(args) > 1 else max(0, ctx.ply - 2)
    if not 0 <= ref < len(ctx.boards):
        return False, {}, f"reference ply {ref} is not in the game"
    then, now = material_balance(ctx.boards[ref], side), material_balance(ctx.after, side)
    figures = {
        "material_then": (f"{material(ctx.boards[ref], side)} v "
                          f"{material(ctx.boards[ref], not side)}"),
        "material_now": f"{material(ctx.after, side)} v {material(ctx.after, not side)}",
        "balance": f"{then:+d} → {now:+d}",
    }
    text = f"{args[0]}'s material balance went from {then:+d} at ply {ref} to {now:+d}"
    mid = _settled(ctx)
    if mid is not None:
        figures["trade"] = mid
        return False, figures, f"{text}, but that is {mid}: not counted."
    return now < then, figures, text + "."


def _p_material_count(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``material_count(side, own, other)``: the 1/3/3/5/9 count on the board right now,
    a snapshot that may fall in the middle of a trade (the figures say so)."""
    side = ctx.side(args[0])
    own, other = material(ctx.after, side), material(ctx.after, not side)
    holds = (own, other) == (int(args[1]), int(args[2]))
    figures = {"material_now": f"{own} v {other}"}
    mid = _settled(ctx)
    if mid is not None:
        figures["trade"] = mid
    return holds, figures, (f"After ply {ctx.ply} {args[0]} has {own} points of material "
                            f"against {other}{f' ({mid})' if mid else ''}.")


def _p_looks_vulnerable(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``looks_vulnerable(side)``: how the board looks, not what it is worth: side has less
    material on the board, and the opponent attacks at least two squares of its king zone
    (the king's square and its neighbours) or at least one of its pieces hangs."""
    side = ctx.side(args[0])
    board = ctx.after
    zone = king_zone(board, side)
    hit = [s for s in zone if board.is_attacked_by(not side, s)]
    loose = hanging(board, side)
    balance = material_balance(board, side)
    holds = balance < 0 and (len(hit) >= 2 or bool(loose))
    figures = {"balance": f"{balance:+d}", "king_zone_attacked": _sq_list(hit),
               "hanging": _sq_list(loose)}
    return holds, figures, (f"{args[0]} is {balance:+d} in material on the board; the opponent "
                            f"hits {len(hit)} king-zone square(s) and {len(loose)} piece(s) hang.")


#: "In danger" by the engine's count: one pawn (100 centipawns, the unit of the engine's
#: score) or worse from the side's own view, or a forced mate against it.
DANGER_CP = -100


def _side_view(ctx: _Ctx, name: str
               ) -> tuple[chess.Color, WhiteEval | None, bool | None, int | None]:
    """The engine's eval at the claim's ply from ``name``'s side: (side, eval, whether a
    forced mate is *for* the side or None when there is no mate, centipawns)."""
    side = ctx.side(name)
    ev = ctx.eval_at(ctx.ply)
    if ev is None:
        return side, None, None, None
    score = ev.for_side(side)
    mate = score.mate()
    if mate is not None:
        return side, ev, mate > 0 or (mate == 0 and ev.mated != side), None
    return side, ev, None, score.score()


def _p_in_danger(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``in_danger(side)`` *(engine)*: the engine rates the position a pawn or more against side.

    Only the engine's view counts, so a side that merely looks vulnerable
    (``looks_vulnerable``) while winning is not in danger.
    """
    side, ev, mating, cp = _side_view(ctx, args[0])
    if ev is None:
        return None, {}, "needs an engine analysis of this position"
    holds = (not mating) if mating is not None else cp is not None and cp <= DANGER_CP
    return holds, _eval_figures(ctx, side), (
        f"The engine rates the position {ev.text()} (White's view): {args[0]} is "
        f"{'in danger' if holds else 'not in danger'} (a pawn or worse against it counts).")


def _p_blocks_check(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """The move answers a check by putting a piece between the checker and the king."""
    if (early := _needs_move(ctx)) is not None:
        return early
    before, move = ctx.before, ctx.move
    san = before.san(move)
    king = before.king(before.turn)
    checkers = list(before.checkers())
    if king is None or not checkers:
        return False, {"move": san}, f"{san} is not played out of check."
    blocked = (len(checkers) == 1 and before.piece_type_at(move.from_square) != chess.KING
               and move.to_square in chess.SquareSet(chess.between(checkers[0], king)))
    figures = {"move": san, "checker": chess.square_name(checkers[0])}
    return blocked, figures, (f"{san} {'blocks' if blocked else 'does not block'} the check from "
                              f"{chess.square_name(checkers[0])}.")


def _p_gives_check(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    if (early := _needs_move(ctx)) is not None:
        return early
    check = ctx.after.is_check()
    san = ctx.before.san(ctx.move)
    checkers = ctx.after.checkers()
    return check, {"move": san, "checkers": _sq_list(checkers)}, (
        f"{san} {'gives check' if check else 'gives no check'}.")


def _p_game_ends(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    last = len(ctx.moves)
    result = ctx.game.headers.get("Result", "*")
    return ctx.ply == last, {"last_ply": str(last), "result": result}, (
        f"The game's last ply is {last}; result {result}.")


def _p_wins(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    side = ctx.side(args[0])
    result = ctx.game.headers.get("Result", "*")
    want = "1-0" if side == chess.WHITE else "0-1"
    return result == want, {"result": result}, f"The result is {result}."


def _eval_figures(ctx: _Ctx, side: chess.Color) -> dict[str, str]:
    before, after = ctx.eval_at(ctx.ply - 1) if ctx.ply else None, ctx.eval_at(ctx.ply)
    figures: dict[str, str] = {}
    if before is not None:
        figures["eval_before"] = before.text()
    if after is not None:
        figures["eval_after"] = after.text()
        colour = "White" if side == chess.WHITE else "Black"
        figures["win_chance_after"] = f"{50 + 50 * winning_chances(after, side):.0f}% for {colour}"
    if ctx.analysis is not None:
        figures["engine"] = f"{ctx.analysis.engine.name}, {ctx.analysis.limit.key()}"
    return figures


def _p_decisive_for(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    side, ev, mating, cp = _side_view(ctx, args[0])
    if ev is None:
        return None, {}, "needs an engine analysis of this position"
    holds = mating if mating is not None else cp is not None and cp >= DECISIVE_CP
    return holds, _eval_figures(ctx, side), (
        f"The engine rates the position {ev.text()} (White's view): "
        f"{'decisive' if holds else 'not decisive'} for {args[0]}.")


def _analysed_move(ctx: _Ctx) -> tuple[PlyAnalysis, dict[str, str]] | _Outcome:
    """The move's analysis and its eval figures, or the outcome that says why there are none."""
    if (early := _needs_move(ctx)) is not None:
        return early
    pa = ctx.ply_analysis()
    if pa is None:
        return None, {}, "needs an engine analysis of this move"
    figures = _eval_figures(ctx, pa.mover)
    figures["win_chance_loss"] = f"{pa.verdict.win_chance_loss * 50:.0f} points"
    if pa.best_san is not None and pa.best_san != pa.san:
        figures["engine_best"] = pa.best_san  # the engine's choice before the move
    return pa, figures


def _judged(ctx: _Ctx, grades: tuple[Judgement, ...], label: str) -> _Outcome:
    found = _analysed_move(ctx)
    if len(found) == 3:
        return found
    pa, figures = found
    figures["judgement"] = pa.judgement.title if pa.judgement else "none"
    if pa.best_san:
        figures["best"] = pa.best_san
    holds = pa.judgement in grades
    tail = "" if holds else f", not {label}"
    return holds, figures, (f"{pa.san} cost the mover {pa.verdict.win_chance_loss * 50:.0f} points "
                            f"of winning chances: {figures['judgement'].lower()} by lichess "
                            f"thresholds{tail}.")


def _p_was_blunder(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    return _judged(ctx, (Judgement.BLUNDER,), "a blunder")


def _p_was_mistake(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """Exactly lichess's Mistake grade; a blunder is not a mistake here (see ``was_error``)."""
    return _judged(ctx, (Judgement.MISTAKE,), "a mistake")


def _p_was_inaccuracy(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    return _judged(ctx, (Judgement.INACCURACY,), "an inaccuracy")


def _p_was_error(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """A mistake *or* a blunder: the narrator's word "error" covers both grades."""
    return _judged(ctx, (Judgement.MISTAKE, Judgement.BLUNDER), "a mistake or a blunder")


def _p_no_error(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    found = _analysed_move(ctx)
    if len(found) == 3:
        return found
    pa, figures = found
    holds = pa.judgement is None or pa.judgement is Judgement.INACCURACY
    grade = pa.judgement.title.lower() if pa.judgement else "no error"
    return holds, figures, f"{pa.san}: {grade} by lichess thresholds."


class ArgKind(enum.Enum):
    """What a claim argument is; :meth:`ClaimKind.validate` checks each."""

    SIDE = "a player key (the hero, 'opponent', 'white' or 'black')"
    SQUARE = "a square such as d5"
    SQUARES = "squares such as 'd7 e7', or 'none'"
    SAN = "a move in SAN such as Nxd5"
    FILE = "a file letter a..h"
    INT = "a whole number"
    OPENING = "an opening name"

    def check(self, text: str) -> bool:
        if self is ArgKind.SIDE:
            return bool(ID_PATTERN.match(text))
        if self is ArgKind.SQUARE:
            return text in chess.SQUARE_NAMES
        if self is ArgKind.SQUARES:
            parts = text.split()
            return text == "none" or (bool(parts) and all(p in chess.SQUARE_NAMES for p in parts))
        if self is ArgKind.SAN:
            return bool(_SAN.match(text))
        if self is ArgKind.FILE:
            return text in chess.FILE_NAMES
        if self is ArgKind.INT:
            return text.isdigit()
        return text in OPENINGS


_SAN = re.compile(r"^(?:[KQRBN]?[a-h]?[1-8]?x?[a-h][1-8](?:=[QRBN])?|O-O(?:-O)?)[+#]?$")


class ClaimKind(enum.Enum):
    """The closed set of claims a track may make; the value is the name used in the TOML."""

    KNIGHT_MOVE = "knight_move"
    ROOK_MOVE = "rook_move"
    QUEEN_MOVE = "queen_move"
    PLAYED = "played"
    OPENING = "opening"
    CAPTURES_PAWN = "captures_pawn"
    CAPTURES_BISHOP = "captures_bishop"
    CAPTURES_QUEEN = "captures_queen"
    QUEEN_CAPTURES_BISHOP = "queen_captures_bishop"
    ATTACKS_QUEEN = "attacks_queen"
    ATTACKS = "attacks"
    GUARDS = "guards"
    ATTACKERS = "attackers"
    DEFENDERS = "defenders"
    PINS = "pins"
    QUEEN_ATTACKED = "queen_attacked"
    LINED_UP = "lined_up"
    OPEN_FILE = "open_file"
    TOWARD_CENTRE = "toward_centre"
    OUT_OF_REACH = "out_of_reach"
    ESCAPES_ATTACKER = "escapes_attacker"
    MATERIAL_COUNT = "material_count"
    MATERIAL_DOWN = "material_down"
    LOOKS_VULNERABLE = "looks_vulnerable"
    IN_DANGER = "in_danger"
    BLOCKS_CHECK = "blocks_check"
    GIVES_CHECK = "gives_check"
    GAME_ENDS = "game_ends"
    WINS = "wins"
    DECISIVE_FOR = "decisive_for"
    WAS_BLUNDER = "was_blunder"
    WAS_MISTAKE = "was_mistake"
    WAS_INACCURACY = "was_inaccuracy"
    WAS_ERROR = "was_error"
    NO_ERROR = "no_error"

    @property
    def spec(self) -> ClaimSpec:
        return CLAIM_SPECS[self]

    @property
    def needs_engine(self) -> bool:
        return self.spec.needs_engine

    @classmethod
    def validate(cls, claim: Claim) -> ClaimKind:
        """The kind of ``claim``, after checking its name and arguments; ``ValueError`` if bad."""
        try:
            kind = cls(claim.name)
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown claim {claim.name!r} (known: {known})") from None
        spec = kind.spec
        if not spec.min_args <= len(claim.args) <= spec.max_args:
            want = (str(spec.min_args) if spec.min_args == spec.max_args
                    else f"{spec.min_args} to {spec.max_args}")
            raise ValueError(f"claim {claim.name!r} takes {want} argument(s), "
                             f"got {len(claim.args)}")
        for i, (arg, arg_kind) in enumerate(zip(claim.args, spec.arg_kinds, strict=False)):
            if not arg_kind.check(arg):
                if arg_kind is ArgKind.SIDE:
                    raise ValueError(f"claim {claim.text()!r}: {arg!r} is not a player key")
                if arg_kind is ArgKind.INT and kind is ClaimKind.MATERIAL_DOWN:
                    raise ValueError(f"claim {claim.text()!r}: the reference ply must be a number")
                raise ValueError(f"claim {claim.text()!r}: argument {i + 1} {arg!r} is not "
                                 f"{arg_kind.value}")
        return kind


@dataclass(frozen=True, slots=True)
class ClaimSpec:
    """One kind of claim: how it is written, how it is checked and how it reads.

    ``says`` is the claim in plain English for the claim table; ``{0}``, ``{1}``
    ... are its arguments (:mod:`chessapp.story.readable` fills them).
    """

    predicate: _Predicate
    says: str
    arg_kinds: tuple[ArgKind, ...] = ()
    optional: int = 0  # how many of the trailing arguments may be left out
    needs_engine: bool = False  # answers ``None`` without an analysis

    @property
    def min_args(self) -> int:
        return len(self.arg_kinds) - self.optional

    @property
    def max_args(self) -> int:
        return len(self.arg_kinds)

    @property
    def sided(self) -> bool:
        """The first argument names a player (``lev``, ``opponent``, ``white``)."""
        return bool(self.arg_kinds) and self.arg_kinds[0] is ArgKind.SIDE


def _fixed(fn: _Predicate, *args: str) -> _Predicate:
    return lambda ctx, _args: fn(ctx, args)


_SIDE, _SQ, _SQS = ArgKind.SIDE, ArgKind.SQUARE, ArgKind.SQUARES

#: The one table of claim kinds.
CLAIM_SPECS: Mapping[ClaimKind, ClaimSpec] = {
    ClaimKind.KNIGHT_MOVE: ClaimSpec(_fixed(_p_moves, "knight"), "a knight moves"),
    ClaimKind.ROOK_MOVE: ClaimSpec(_fixed(_p_moves, "rook"), "a rook moves"),
    ClaimKind.QUEEN_MOVE: ClaimSpec(_fixed(_p_moves, "queen"), "the queen moves"),
    ClaimKind.PLAYED: ClaimSpec(_p_played, "the move is {0}", (ArgKind.SAN,)),
    ClaimKind.OPENING: ClaimSpec(_p_opening, "the opening is the {0}", (ArgKind.OPENING,)),
    ClaimKind.CAPTURES_PAWN: ClaimSpec(_fixed(_p_captures, "pawn"), "the move takes a pawn"),
    ClaimKind.CAPTURES_BISHOP: ClaimSpec(_fixed(_p_captures, "bishop"),
                                         "the move takes a bishop"),
    ClaimKind.CAPTURES_QUEEN: ClaimSpec(_fixed(_p_captures, "queen"), "the move takes a queen"),
    ClaimKind.QUEEN_CAPTURES_BISHOP: ClaimSpec(_p_queen_captures_bishop,
                                               "a queen takes a bishop"),
    ClaimKind.ATTACKS_QUEEN: ClaimSpec(_p_attacks_queen,
                                       "the piece that moved attacks the other queen"),
    ClaimKind.ATTACKS: ClaimSpec(_p_attacks, "the piece on {0} attacks the piece on {1}",
                                 (_SQ, _SQ)),
    ClaimKind.GUARDS: ClaimSpec(_p_guards, "the piece on {0} guards the piece on {1}",
                                (_SQ, _SQ)),
    ClaimKind.ATTACKERS: ClaimSpec(_p_attackers,
                                   "the piece on {0} is attacked from {1} and nowhere else",
                                   (_SQ, _SQS)),
    ClaimKind.DEFENDERS: ClaimSpec(_p_defenders,
                                   "the piece on {0} is guarded from {1} and nowhere else",
                                   (_SQ, _SQS)),
    ClaimKind.PINS: ClaimSpec(_p_pins, "the piece on {0} pins the piece on {1} to the one on {2}",
                              (_SQ, _SQ, _SQ)),
    ClaimKind.QUEEN_ATTACKED: ClaimSpec(_p_queen_attacked, "{0}'s queen is attacked", (_SIDE,)),
    ClaimKind.LINED_UP: ClaimSpec(_p_lined_up, "{0} stand in one line with nothing between",
                                  (_SQS,)),
    ClaimKind.OPEN_FILE: ClaimSpec(_p_open_file, "the {0}-file has no pawns on it",
                                   (ArgKind.FILE,)),
    ClaimKind.TOWARD_CENTRE: ClaimSpec(_p_toward_centre, "the piece moves toward the centre"),
    ClaimKind.OUT_OF_REACH: ClaimSpec(_p_out_of_reach,
                                      "the piece lands where the piece on {0} cannot reach it",
                                      (_SQ,)),
    ClaimKind.ESCAPES_ATTACKER: ClaimSpec(
        _p_escapes_attacker, "the attacked piece gets away to a square where it is safe"),
    ClaimKind.MATERIAL_COUNT: ClaimSpec(_p_material_count,
                                        "{0} has {1} points of material against {2}",
                                        (_SIDE, ArgKind.INT, ArgKind.INT)),
    ClaimKind.MATERIAL_DOWN: ClaimSpec(_p_material_down,
                                       "{0} has lost material, once any trade is complete",
                                       (_SIDE, ArgKind.INT), optional=1),
    ClaimKind.LOOKS_VULNERABLE: ClaimSpec(_p_looks_vulnerable,
                                          "{0} looks vulnerable on the board", (_SIDE,)),
    ClaimKind.IN_DANGER: ClaimSpec(_p_in_danger, "{0} is in danger by the engine's count",
                                   (_SIDE,), needs_engine=True),
    ClaimKind.BLOCKS_CHECK: ClaimSpec(_p_blocks_check, "the move blocks a check"),
    ClaimKind.GIVES_CHECK: ClaimSpec(_p_gives_check, "the move gives check"),
    ClaimKind.GAME_ENDS: ClaimSpec(_p_game_ends, "it is the last move of the game"),
    ClaimKind.WINS: ClaimSpec(_p_wins, "{0} wins the game", (_SIDE,)),
    ClaimKind.DECISIVE_FOR: ClaimSpec(_p_decisive_for, "the position is decisive for {0}",
                                      (_SIDE,), needs_engine=True),
    ClaimKind.WAS_BLUNDER: ClaimSpec(_p_was_blunder, "the move is a blunder", needs_engine=True),
    ClaimKind.WAS_MISTAKE: ClaimSpec(_p_was_mistake, "the move is a mistake", needs_engine=True),
    ClaimKind.WAS_INACCURACY: ClaimSpec(_p_was_inaccuracy, "the move is an inaccuracy",
                                        needs_engine=True),
    ClaimKind.WAS_ERROR: ClaimSpec(_p_was_error, "the move is a mistake or a blunder",
                                   needs_engine=True),
    ClaimKind.NO_ERROR: ClaimSpec(_p_no_error, "the move is no mistake", needs_engine=True),
}


def _context(track: StoryTrack, game: chess.pgn.Game, analysis: GameAnalysis | None,
             ply: int) -> _Ctx:
    board = game.board()
    boards = [board.copy(stack=False)]
    moves = list(game.mainline_moves())
    for move in moves:
        board.push(move)
        boards.append(board.copy(stack=False))
    if analysis is not None and len(analysis.plies) != len(moves):
        raise StoryError(f"analysis has {len(analysis.plies)} plies but the game has {len(moves)}")
    return _Ctx(track, game, tuple(boards), tuple(moves), ply, hero_color(track, game), analysis)


def _check_side_args(ctx: _Ctx, claim: Claim) -> None:
    kind = ClaimKind(claim.name)
    if kind.spec.sided and claim.args:
        side = claim.args[0]
        if side not in (ctx.track.hero, "opponent", "white", "black"):
            raise StoryError(f"claim {claim.text()!r}: unknown player {side!r} "
                             f"(use {ctx.track.hero!r}, 'opponent', 'white' or 'black')")


def check_claim(claim: Claim, game: chess.pgn.Game, ply: int, analysis: GameAnalysis | None,
                track: StoryTrack, *, segment_id: str = "") -> ClaimResult:
    """Evaluate one claim about the move of ``ply`` (or of ``claim.at``) and the position after."""
    ctx = _context(track, game, analysis, ply if claim.at is None else claim.at)
    return _run(ctx, claim, segment_id)


def _run(ctx: _Ctx, claim: Claim, segment_id: str) -> ClaimResult:
    if not 0 <= ctx.ply < len(ctx.boards):
        raise StoryError(f"claim {claim.text()!r} at ply {ctx.ply}: the game has only "
                         f"{len(ctx.moves)} plies")
    kind = ClaimKind.validate(claim)
    _check_side_args(ctx, claim)
    holds, figures, explanation = kind.spec.predicate(ctx, claim.args)
    return ClaimResult(segment_id, ctx.ply, claim.text(), holds, figures, explanation)


def check_context(track: StoryTrack, game: chess.pgn.Game,
                  analysis: GameAnalysis | None) -> None:
    """Raise :class:`StoryError` unless ``analysis`` (if any) analyses this game's moves."""
    _context(track, game, analysis, 0)


def misplaced_arrows(track: StoryTrack, game: chess.pgn.Game) -> list[str]:
    """Every story arrow that does not start on a piece of the right side at its ply.

    The brushes say whose piece an arrow starts from: green (``G``) the
    hero's, red (``R``) the opponent's; yellow and blue any piece. Circles may
    mark any square.
    """
    ctx = _context(track, game, None, 0)
    problems = []
    for seg in track.segments:
        for ply in seg.plies:
            if ply >= len(ctx.boards):
                continue
            board = ctx.boards[ply]
            for shape in seg.shapes_for(ply):
                if shape.is_circle:
                    continue
                where = f"{seg.id}, ply {ply}: arrow {shape.pgn()}"
                piece = board.piece_at(shape.orig)
                if piece is None:
                    problems.append(f"{where} starts on the empty square "
                                    f"{chess.square_name(shape.orig)}")
                elif shape.brush is Brush.GREEN and piece.color != ctx.hero:
                    problems.append(f"{where} is green but starts on the opponent's "
                                    f"{chess.piece_name(piece.piece_type)}")
                elif shape.brush is Brush.RED and piece.color == ctx.hero:
                    problems.append(f"{where} is red but starts on {track.hero}'s "
                                    f"{chess.piece_name(piece.piece_type)}")
    return problems


def check_track(track: StoryTrack, game: chess.pgn.Game,
                analysis: GameAnalysis | None) -> list[ClaimResult]:
    """Every claim of every segment, in track order.

    A claim is evaluated at its own ply (``@N``) or else at the segment's last ply.
    """
    plies = len(list(game.mainline_moves()))
    if track.last_ply > plies:
        raise StoryError(f"segments: the track runs to ply {track.last_ply} but the game has "
                         f"only {plies} plies")
    base = _context(track, game, analysis, 0)
    results = []
    for seg in track.segments:
        for claim in seg.claims:
            ply = seg.claim_ply if claim.at is None else claim.at
            ctx = _Ctx(base.track, base.game, base.boards, base.moves, ply, base.hero,
                       base.analysis)
            results.append(_run(ctx, claim, seg.id))
    return results
