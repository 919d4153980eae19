"""Claims: named board and engine facts a narration stands on, checked with python-chess.

A story segment lists claims such as ``knight_move`` or ``decisive_for(lev)``;
:func:`check_track` evaluates each at the segment's last ply, against the board
(python-chess) and, for the engine facts, a
:class:`~chessapp.analysis.GameAnalysis`. No engine is started here: a claim
that needs the engine and gets no analysis answers ``holds=None``.

Each kind of claim is one row of :data:`CLAIM_SPECS`: its arity, whether its
first argument names a player, whether it needs the engine, and its predicate.
"""

from __future__ import annotations

import enum
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
_CLAIM = re.compile(r"^([a-z_]+)(?:\(([^()]*)\))?$")
COLOR_NAMES = {"white": chess.WHITE, "black": chess.BLACK}


@dataclass(frozen=True, slots=True)
class Claim:
    """A named board or engine fact.

    ``decisive_for(lev)`` parses to name ``decisive_for`` and args ``("lev",)``.
    """

    name: str
    args: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Claim:
        match = _CLAIM.match(text.strip())
        if match is None:
            raise ValueError(f"not a claim: {text!r} (expected name or name(arg, ...))")
        name, raw = match.group(1), match.group(2)
        args = () if raw is None or not raw.strip() else tuple(a.strip() for a in raw.split(","))
        if any(not a for a in args):
            raise ValueError(f"empty argument in claim {text!r}")
        return cls(name, args)

    def text(self) -> str:
        return f"{self.name}({', '.join(self.args)})" if self.args else self.name



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


def _p_escapes_attacker(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """The piece moved at this ply lands where the piece moved one ply earlier does not attack."""
    if (early := _needs_move(ctx)) is not None:
        return early
    if ctx.ply < 2:
        return False, {}, "there is no previous move to escape from"
    attacker = ctx.moves[ctx.ply - 2].to_square
    reach = ctx.after.attacks(attacker)
    dest = ctx.move.to_square
    holds = dest not in reach
    figures = {"attacker_on": chess.square_name(attacker), "attacker_reach": _sq_list(reach),
               "landed_on": chess.square_name(dest)}
    reach_text = "does not reach" if holds else "still reaches"
    return holds, figures, (f"The piece on {chess.square_name(attacker)} "
                            f"{reach_text} {chess.square_name(dest)}.")


def _p_material_down(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``material_down(side[, ply])``: side's balance now is below its balance at ``ply``.

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
    return now < then, figures, (f"{args[0]}'s material balance went from {then:+d} at ply {ref} "
                                 f"to {now:+d}.")


def _p_in_danger(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    """``in_danger(side)``: behind on material, and the king zone is under fire or a piece hangs.

    "Under fire": the opponent attacks at least two squares of the king zone
    (the king's square and its neighbours).
    """
    side = ctx.side(args[0])
    board = ctx.after
    zone = king_zone(board, side)
    hit = [s for s in zone if board.is_attacked_by(not side, s)]
    loose = hanging(board, side)
    balance = material_balance(board, side)
    holds = balance < 0 and (len(hit) >= 2 or bool(loose))
    figures = {"balance": f"{balance:+d}", "king_zone_attacked": _sq_list(hit),
               "hanging": _sq_list(loose)}
    return holds, figures, (f"{args[0]} is {balance:+d} in material; the opponent hits "
                            f"{len(hit)} king-zone square(s) and {len(loose)} piece(s) hang.")


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
        figures["win_chance_after"] = f"{50 + 50 * winning_chances(after, side):.0f}%"
    if ctx.analysis is not None:
        figures["engine"] = f"{ctx.analysis.engine.name}, {ctx.analysis.limit.key()}"
    return figures


def _p_decisive_for(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    side = ctx.side(args[0])
    ev = ctx.eval_at(ctx.ply)
    if ev is None:
        return None, {}, "needs an engine analysis of this position"
    score = ev.for_side(side)
    mate = score.mate()
    if mate is not None:
        holds = mate > 0 or (mate == 0 and ev.mated != side)
    else:
        cp = score.score()
        holds = cp is not None and cp >= DECISIVE_CP
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
    """A mistake *or worse*: the narrator's "error" covers both grades."""
    return _judged(ctx, (Judgement.MISTAKE, Judgement.BLUNDER), "a mistake")


def _p_no_error(ctx: _Ctx, args: tuple[str, ...]) -> _Outcome:
    found = _analysed_move(ctx)
    if len(found) == 3:
        return found
    pa, figures = found
    holds = pa.judgement is None or pa.judgement is Judgement.INACCURACY
    grade = pa.judgement.title.lower() if pa.judgement else "no error"
    return holds, figures, f"{pa.san}: {grade} by lichess thresholds."


class ClaimKind(enum.Enum):
    """The closed set of claims a track may make; the value is the name used in the TOML."""

    KNIGHT_MOVE = "knight_move"
    ROOK_MOVE = "rook_move"
    QUEEN_MOVE = "queen_move"
    CAPTURES_PAWN = "captures_pawn"
    CAPTURES_BISHOP = "captures_bishop"
    QUEEN_CAPTURES_BISHOP = "queen_captures_bishop"
    ATTACKS_QUEEN = "attacks_queen"
    TOWARD_CENTRE = "toward_centre"
    ESCAPES_ATTACKER = "escapes_attacker"
    MATERIAL_DOWN = "material_down"
    IN_DANGER = "in_danger"
    GIVES_CHECK = "gives_check"
    GAME_ENDS = "game_ends"
    WINS = "wins"
    DECISIVE_FOR = "decisive_for"
    WAS_BLUNDER = "was_blunder"
    WAS_MISTAKE = "was_mistake"
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
        if spec.sided and claim.args:
            side = claim.args[0]
            if not ID_PATTERN.match(side):
                raise ValueError(f"claim {claim.text()!r}: {side!r} is not a player key")
        if kind is ClaimKind.MATERIAL_DOWN and len(claim.args) == 2 and not claim.args[1].isdigit():
            raise ValueError(f"claim {claim.text()!r}: the reference ply must be a number")
        return kind


@dataclass(frozen=True, slots=True)
class ClaimSpec:
    """One kind of claim: how it is written and how it is checked."""

    predicate: _Predicate
    min_args: int = 0
    max_args: int = 0
    sided: bool = False  # the first argument names a player (``lev``, ``opponent``, ``white``)
    needs_engine: bool = False  # answers ``None`` without an analysis


def _fixed(fn: _Predicate, *args: str) -> _Predicate:
    return lambda ctx, _args: fn(ctx, args)


#: The one table of claim kinds.
CLAIM_SPECS: Mapping[ClaimKind, ClaimSpec] = {
    ClaimKind.KNIGHT_MOVE: ClaimSpec(_fixed(_p_moves, "knight")),
    ClaimKind.ROOK_MOVE: ClaimSpec(_fixed(_p_moves, "rook")),
    ClaimKind.QUEEN_MOVE: ClaimSpec(_fixed(_p_moves, "queen")),
    ClaimKind.CAPTURES_PAWN: ClaimSpec(_fixed(_p_captures, "pawn")),
    ClaimKind.CAPTURES_BISHOP: ClaimSpec(_fixed(_p_captures, "bishop")),
    ClaimKind.QUEEN_CAPTURES_BISHOP: ClaimSpec(_p_queen_captures_bishop),
    ClaimKind.ATTACKS_QUEEN: ClaimSpec(_p_attacks_queen),
    ClaimKind.TOWARD_CENTRE: ClaimSpec(_p_toward_centre),
    ClaimKind.ESCAPES_ATTACKER: ClaimSpec(_p_escapes_attacker),
    ClaimKind.MATERIAL_DOWN: ClaimSpec(_p_material_down, 1, 2, sided=True),
    ClaimKind.IN_DANGER: ClaimSpec(_p_in_danger, 1, 1, sided=True),
    ClaimKind.GIVES_CHECK: ClaimSpec(_p_gives_check),
    ClaimKind.GAME_ENDS: ClaimSpec(_p_game_ends),
    ClaimKind.WINS: ClaimSpec(_p_wins, 1, 1, sided=True),
    ClaimKind.DECISIVE_FOR: ClaimSpec(_p_decisive_for, 1, 1, sided=True, needs_engine=True),
    ClaimKind.WAS_BLUNDER: ClaimSpec(_p_was_blunder, needs_engine=True),
    ClaimKind.WAS_MISTAKE: ClaimSpec(_p_was_mistake, needs_engine=True),
    ClaimKind.NO_ERROR: ClaimSpec(_p_no_error, needs_engine=True),
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
    """Evaluate one claim about the move of ``ply`` (and the position after it)."""
    ctx = _context(track, game, analysis, ply)
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


def check_track(track: StoryTrack, game: chess.pgn.Game,
                analysis: GameAnalysis | None) -> list[ClaimResult]:
    """Every claim of every segment, evaluated at the segment's last ply, in track order."""
    plies = len(list(game.mainline_moves()))
    if track.last_ply > plies:
        raise StoryError(f"segments: the track runs to ply {track.last_ply} but the game has "
                         f"only {plies} plies")
    base = _context(track, game, analysis, 0)
    results = []
    for seg in track.segments:
        ctx = _Ctx(base.track, base.game, base.boards, base.moves, seg.claim_ply, base.hero,
                   base.analysis)
        for claim in seg.claims:
            results.append(_run(ctx, claim, seg.id))
    return results
