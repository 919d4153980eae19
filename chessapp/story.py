"""The narration track of a game: episode, acts, segments, timeline, and checkable claims.

A story track is data (``games/*.story.toml``, documented in
``docs/story-format.md``), parsed with the standard library's ``tomllib`` and
validated here. Every malformed field raises :class:`~chessapp.errors.StoryError`
whose message starts with the field's path, e.g. ``segments[2].plies: ...``.

Plies follow the rest of the app: ply N is the position after N half-moves
(ply 0 is the start) and "the move of ply N" is the N-th half-move. A
segment's claims are evaluated at its *last* ply, i.e. about the move that
produced that position.

Everything here is pure: python-chess for the board facts, a
:class:`~chessapp.analysis.GameAnalysis` for the engine facts. No engine is
started in this module; a claim that needs the engine and gets no analysis
answers ``holds=None``.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chess
import chess.pgn

from chessapp.analysis import GameAnalysis, Judgement, PlyAnalysis, winning_chances
from chessapp.errors import StoryError
from chessapp.evals import WhiteEval
from chessapp.shapes import Shape

log = logging.getLogger(__name__)

__all__ = [
    "DECISIVE_CP",
    "PIECE_VALUES",
    "Act",
    "Claim",
    "ClaimKind",
    "ClaimResult",
    "Episode",
    "Segment",
    "StoryTrack",
    "TimelineEvent",
    "centre_distance",
    "check_claim",
    "check_track",
    "engine_reading",
    "hero_color",
    "load_track",
    "material",
    "narration_by_ply",
    "parse_track",
    "segment_engine_note",
    "segment_for_ply",
    "shapes_by_ply",
]

#: The standard 1/3/3/5/9 count; the king is not counted.
PIECE_VALUES: Mapping[chess.PieceType, int] = {
    chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9, chess.KING: 0,
}
#: "Decisive" as the issue defines it: a forced mate, or at least +5.00 for the side named.
DECISIVE_CP = 500

_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
#: A date as precise as the history knows it: "1913", "1913-01" or "1913-01-31".
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_CLAIM = re.compile(r"^([a-z_]+)(?:\(([^()]*)\))?$")
#: Placeholders in engine notes: ``{b2.eval_after}`` = field ``eval_after`` of segment ``b2``.
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_-]*)\.([a-z_]+)\}")
_COLOR_NAMES = {"white": chess.WHITE, "black": chess.BLACK}


# --- The records ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Episode:
    title: str
    show: str
    air_date: dt.date
    hero: str  # the key claims use for the narrated player, e.g. "lev"
    hero_name: str  # how the PGN headers spell him, e.g. "Bronstein, Lev (Leon Trotsky)"
    hero_color: chess.Color | None  # explicit, or None: found from the PGN headers
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Act:
    id: str
    title: str
    date: str  # "1918", "1928-01" or "1928-01-31"
    place: str


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


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    act: str
    date: str
    place: str
    narration: str
    first_ply: int
    last_ply: int
    metaphor: str
    shapes: tuple[Shape, ...]
    claims: tuple[Claim, ...]
    engine_note: str | None = None

    @property
    def plies(self) -> range:
        return range(self.first_ply, self.last_ply + 1)

    @property
    def claim_ply(self) -> int:
        """The ply the claims speak about: the segment's last ply."""
        return self.last_ply


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    date: str
    place: str
    title: str
    segment: str | None = None  # the segment (beat) this event is linked to

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return _date_key(self.date)

    @property
    def year(self) -> int:
        return _date_key(self.date)[0]


@dataclass(frozen=True, slots=True)
class StoryTrack:
    episode: Episode
    acts: tuple[Act, ...]
    segments: tuple[Segment, ...]
    timeline: tuple[TimelineEvent, ...]
    reading: tuple[str, ...] = ()  # templates of the engine's honest reading
    source: str = "<string>"

    @property
    def hero(self) -> str:
        return self.episode.hero

    @property
    def last_ply(self) -> int:
        return max(s.last_ply for s in self.segments)

    def act(self, act_id: str) -> Act:
        for act in self.acts:
            if act.id == act_id:
                return act
        raise KeyError(act_id)

    def segment(self, segment_id: str) -> Segment:
        for seg in self.segments:
            if seg.id == segment_id:
                return seg
        raise KeyError(segment_id)


# --- Parsing and validation -------------------------------------------------------------


def load_track(path: Path | str) -> StoryTrack:
    """Read and validate a ``.story.toml`` file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise StoryError(f"cannot read story track: {exc.strerror or exc}", token=str(p)) from exc
    return parse_track(text, source=str(p))


def parse_track(text: str, *, source: str = "<string>") -> StoryTrack:
    """Parse and validate a story track; errors name the field that is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StoryError(f"{source}: not valid TOML: {exc}") from exc
    return _build_track(data, source)


def _err(path: str, reason: str) -> StoryError:
    return StoryError(f"{path}: {reason}")


def _table(data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        raise _err(path, "missing table")
    if not isinstance(value, dict):
        raise _err(path, f"must be a table, not {type(value).__name__}")
    return value


def _tables(data: Mapping[str, Any], key: str, *, required: bool = True) -> list[Mapping[str, Any]]:
    value = data.get(key)
    if value is None:
        if required:
            raise _err(key, "missing (expected an array of tables [[" + key + "]])")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _err(key, "must be an array of tables [[" + key + "]]")
    if required and not value:
        raise _err(key, "must not be empty")
    return value


def _str(data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise _err(f"{path}.{key}", "missing field")
        return None
    if not isinstance(value, str):
        raise _err(f"{path}.{key}", f"must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise _err(f"{path}.{key}", "must not be empty")
    return value.strip()


def _req(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _str(data, key, path)
    assert value is not None
    return value


def _id(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _req(data, key, path)
    if not _ID.match(value):
        raise _err(f"{path}.{key}", f"{value!r} must be lower-case letters, digits, '-' or '_'")
    return value


def _date(data: Mapping[str, Any], key: str, path: str) -> str:
    raw = data.get(key)
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw.isoformat()
    value = _req(data, key, path)
    try:
        _date_key(value)
    except ValueError as exc:
        raise _err(f"{path}.{key}",
                   f"{value!r} is not YYYY, YYYY-MM or YYYY-MM-DD ({exc})") from exc
    return value


def _date_key(text: str) -> tuple[int, int, int]:
    match = _DATE.match(text)
    if match is None:
        raise ValueError("bad format")
    year, month, day = int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1)
    dt.date(year, month, day)  # raises ValueError on month 13 or day 32
    return year, int(match.group(2) or 0), int(match.group(3) or 0)


def _build_track(data: Mapping[str, Any], source: str) -> StoryTrack:
    episode = _build_episode(_table(data, "episode", "episode"))
    acts = tuple(_build_act(t, f"acts[{i}]") for i, t in enumerate(_tables(data, "acts")))
    act_ids = [a.id for a in acts]
    _unique(act_ids, "acts")
    segments = tuple(
        _build_segment(t, f"segments[{i}]", set(act_ids))
        for i, t in enumerate(_tables(data, "segments"))
    )
    seg_ids = [s.id for s in segments]
    _unique(seg_ids, "segments")
    previous = -1
    for i, seg in enumerate(segments):
        if seg.first_ply != previous + 1:
            what = "overlaps" if seg.first_ply <= previous else "leaves a gap after"
            raise _err(f"segments[{i}].plies",
                       f"starts at ply {seg.first_ply} but {what} ply {previous}: segments must "
                       "cover consecutive plies from 0, in order")
        previous = seg.last_ply
    timeline = tuple(
        _build_event(t, f"timeline[{i}]", set(seg_ids))
        for i, t in enumerate(_tables(data, "timeline", required=False))
    )
    reading: tuple[str, ...] = ()
    if "engine_reading" in data:
        reading_table = _table(data, "engine_reading", "engine_reading")
        lines = reading_table.get("lines")
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise _err("engine_reading.lines", "must be an array of strings")
        for j, line in enumerate(lines):
            _check_template(line, f"engine_reading.lines[{j}]", set(seg_ids))
        reading = tuple(lines)
    for i, seg in enumerate(segments):
        if seg.engine_note is not None:
            _check_template(seg.engine_note, f"segments[{i}].engine_note", set(seg_ids))
    track = StoryTrack(episode, acts, segments, timeline, reading, source)
    log.debug("story track %s: %d segments, plies 0..%d", source, len(segments), track.last_ply)
    return track


def _unique(ids: list[str], path: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise _err(f"{path}[{i}].id", f"duplicate id {x!r}")
        seen.add(x)


def _build_episode(t: Mapping[str, Any]) -> Episode:
    air = t.get("air_date")
    if air is None:
        raise _err("episode.air_date", "missing field")
    if not isinstance(air, dt.date) or isinstance(air, dt.datetime):
        raise _err("episode.air_date", "must be a TOML date such as 2023-01-31 (no quotes)")
    color_name = _str(t, "hero_color", "episode", required=False)
    color: chess.Color | None = None
    if color_name is not None:
        if color_name not in _COLOR_NAMES:
            raise _err("episode.hero_color", f"{color_name!r} must be 'white' or 'black'")
        color = _COLOR_NAMES[color_name]
    hero = _id(t, "hero", "episode")
    if hero in ("white", "black", "opponent"):
        raise _err("episode.hero", f"{hero!r} is reserved; name the player, e.g. 'lev'")
    return Episode(
        title=_req(t, "title", "episode"),
        show=_req(t, "show", "episode"),
        air_date=air,
        hero=hero,
        hero_name=_req(t, "hero_name", "episode"),
        hero_color=color,
        summary=_str(t, "summary", "episode", required=False) or "",
    )


def _build_act(t: Mapping[str, Any], path: str) -> Act:
    return Act(id=_id(t, "id", path), title=_req(t, "title", path), date=_date(t, "date", path),
               place=_req(t, "place", path))


def _build_segment(t: Mapping[str, Any], path: str, act_ids: set[str]) -> Segment:
    seg_id = _id(t, "id", path)
    act = _req(t, "act", path)
    if act not in act_ids:
        raise _err(f"{path}.act", f"unknown act {act!r} (known: {', '.join(sorted(act_ids))})")
    first, last = _plies(t.get("plies"), f"{path}.plies")
    narration = _req(t, "narration", path)
    metaphor = _str(t, "metaphor", path, required=False) or ""
    shapes = _list_of_str(t, "shapes", path)
    parsed_shapes: list[Shape] = []
    for j, text in enumerate(shapes):
        try:
            parsed_shapes.append(Shape.parse(text))
        except ValueError as exc:
            raise _err(f"{path}.shapes[{j}]",
                       f"{text!r} is not a shape like 'Gg1f3' (arrow) or 'Rd5' (circle)") from exc
    claims: list[Claim] = []
    for j, text in enumerate(_list_of_str(t, "claims", path)):
        try:
            claim = Claim.parse(text)
            ClaimKind.validate(claim)
        except ValueError as exc:
            raise _err(f"{path}.claims[{j}]", str(exc)) from exc
        claims.append(claim)
    return Segment(
        id=seg_id, act=act, date=_date(t, "date", path), place=_req(t, "place", path),
        narration=narration, first_ply=first, last_ply=last, metaphor=metaphor,
        shapes=tuple(parsed_shapes), claims=tuple(claims),
        engine_note=_str(t, "engine_note", path, required=False),
    )


def _plies(value: Any, path: str) -> tuple[int, int]:
    if value is None:
        raise _err(path, "missing field (a ply number or [first, last])")
    if isinstance(value, bool):
        raise _err(path, "must be a ply number or [first, last], not a boolean")
    if isinstance(value, int):
        first = last = value
    elif isinstance(value, list) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        first, last = value
    else:
        raise _err(path, f"must be a ply number or [first, last], not {value!r}")
    if first < 0 or last < 0:
        raise _err(path, "plies must be >= 0 (ply 0 is the starting position)")
    if first > last:
        raise _err(path, f"first ply {first} is after last ply {last}")
    return first, last


def _list_of_str(t: Mapping[str, Any], key: str, path: str) -> list[str]:
    value = t.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(f"{path}.{key}", "must be an array of strings")
    return value


def _build_event(t: Mapping[str, Any], path: str, seg_ids: set[str]) -> TimelineEvent:
    segment = _str(t, "segment", path, required=False)
    if segment is not None and segment not in seg_ids:
        raise _err(f"{path}.segment", f"unknown segment {segment!r}")
    return TimelineEvent(date=_date(t, "date", path), place=_req(t, "place", path),
                         title=_req(t, "title", path), segment=segment)


def _check_template(text: str, path: str, seg_ids: set[str]) -> None:
    for match in _PLACEHOLDER.finditer(text):
        seg, name = match.group(1), match.group(2)
        if seg not in seg_ids:
            raise _err(path, f"placeholder {match.group(0)} names unknown segment {seg!r}")
        if name not in NOTE_FIELDS:
            raise _err(path, f"placeholder {match.group(0)}: unknown field {name!r} "
                             f"(known: {', '.join(sorted(NOTE_FIELDS))})")
    stripped = _PLACEHOLDER.sub("", text)
    if "{" in stripped or "}" in stripped:
        raise _err(path, "braces are only allowed in placeholders like {b2.eval_after}")


# --- Lookups by ply ------------------------------------------------------------------------


def segment_for_ply(track: StoryTrack, ply: int) -> Segment | None:
    for seg in track.segments:
        if seg.first_ply <= ply <= seg.last_ply:
            return seg
    return None


def narration_by_ply(track: StoryTrack) -> dict[int, str]:
    """Each segment's narration at its first ply (for PGN comments: one comment per segment)."""
    return {seg.first_ply: seg.narration for seg in track.segments}


def shapes_by_ply(track: StoryTrack) -> dict[int, tuple[Shape, ...]]:
    """Every ply of every segment with shapes, so the board shows them throughout the segment."""
    out: dict[int, tuple[Shape, ...]] = {}
    for seg in track.segments:
        if seg.shapes:
            for ply in seg.plies:
                out[ply] = seg.shapes
    return out


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
        return _COLOR_NAMES[name]

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

    @classmethod
    def validate(cls, claim: Claim) -> ClaimKind:
        try:
            kind = cls(claim.name)
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown claim {claim.name!r} (known: {known})") from None
        lo, hi, sided = _ARITY[kind]
        if not lo <= len(claim.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ValueError(f"claim {claim.name!r} takes {want} argument(s), "
                             f"got {len(claim.args)}")
        if sided and claim.args:
            side = claim.args[0]
            if not _ID.match(side):
                raise ValueError(f"claim {claim.text()!r}: {side!r} is not a player key")
        if kind is ClaimKind.MATERIAL_DOWN and len(claim.args) == 2 and not claim.args[1].isdigit():
            raise ValueError(f"claim {claim.text()!r}: the reference ply must be a number")
        return kind

    @property
    def needs_engine(self) -> bool:
        return self in (ClaimKind.DECISIVE_FOR, ClaimKind.WAS_BLUNDER, ClaimKind.WAS_MISTAKE,
                        ClaimKind.NO_ERROR)


def _fixed(fn: _Predicate, *args: str) -> _Predicate:
    return lambda ctx, _args: fn(ctx, args)


#: kind -> (min args, max args, first arg is a side)
_ARITY: dict[ClaimKind, tuple[int, int, bool]] = {
    ClaimKind.MATERIAL_DOWN: (1, 2, True),
    ClaimKind.IN_DANGER: (1, 1, True),
    ClaimKind.WINS: (1, 1, True),
    ClaimKind.DECISIVE_FOR: (1, 1, True),
}
for _kind in ClaimKind:
    _ARITY.setdefault(_kind, (0, 0, False))

_PREDICATES: dict[ClaimKind, _Predicate] = {
    ClaimKind.KNIGHT_MOVE: _fixed(_p_moves, "knight"),
    ClaimKind.ROOK_MOVE: _fixed(_p_moves, "rook"),
    ClaimKind.QUEEN_MOVE: _fixed(_p_moves, "queen"),
    ClaimKind.CAPTURES_PAWN: _fixed(_p_captures, "pawn"),
    ClaimKind.CAPTURES_BISHOP: _fixed(_p_captures, "bishop"),
    ClaimKind.QUEEN_CAPTURES_BISHOP: _p_queen_captures_bishop,
    ClaimKind.ATTACKS_QUEEN: _p_attacks_queen,
    ClaimKind.TOWARD_CENTRE: _p_toward_centre,
    ClaimKind.ESCAPES_ATTACKER: _p_escapes_attacker,
    ClaimKind.MATERIAL_DOWN: _p_material_down,
    ClaimKind.IN_DANGER: _p_in_danger,
    ClaimKind.GIVES_CHECK: _p_gives_check,
    ClaimKind.GAME_ENDS: _p_game_ends,
    ClaimKind.WINS: _p_wins,
    ClaimKind.DECISIVE_FOR: _p_decisive_for,
    ClaimKind.WAS_BLUNDER: _p_was_blunder,
    ClaimKind.WAS_MISTAKE: _p_was_mistake,
    ClaimKind.NO_ERROR: _p_no_error,
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
    if _ARITY[kind][2] and claim.args:
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
    holds, figures, explanation = _PREDICATES[kind](ctx, claim.args)
    return ClaimResult(segment_id, ctx.ply, claim.text(), holds, figures, explanation)


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


# --- The engine's honest reading -------------------------------------------------------------

#: Fields a note placeholder may use: ``{segment_id.field}``.
NOTE_FIELDS: frozenset[str] = frozenset({
    "san", "mover", "eval_before", "eval_after", "best", "judgement", "swing",
    "hero_win_before", "hero_win_after", "cp_loss", "accuracy",
})


def _note_values(track: StoryTrack, game: chess.pgn.Game, analysis: GameAnalysis,
                 seg: Segment) -> dict[str, str]:
    ply = seg.claim_ply
    hero = hero_color(track, game)
    values: dict[str, str] = {}
    if ply == 0:
        ev = analysis.initial.eval
        values.update(eval_before=ev.text(), eval_after=ev.text())
        values["hero_win_before"] = values["hero_win_after"] = _win_text(ev, hero)
        return values
    pa = analysis.plies[ply - 1]
    values.update(
        san=pa.san,
        mover=track.hero if pa.mover == hero else "the opponent",
        eval_before=pa.eval_before.text(),
        eval_after=pa.eval.text(),
        best=pa.best_san or "no move",
        judgement=pa.judgement.title.lower() if pa.judgement else "no error",
        swing=f"{pa.verdict.win_chance_loss * 50:.0f}",
        hero_win_before=_win_text(pa.eval_before, hero),
        hero_win_after=_win_text(pa.eval, hero),
        # The mating move has neither (lichess keeps no eval after it).
        cp_loss="none" if pa.cp_loss is None else str(pa.cp_loss),
        accuracy="none" if pa.accuracy is None else f"{pa.accuracy:.0f}",
    )
    return values


def _win_text(ev: WhiteEval, color: chess.Color) -> str:
    return f"{50 + 50 * winning_chances(ev, color):.0f}%"


def _fill(template: str, track: StoryTrack, game: chess.pgn.Game, analysis: GameAnalysis) -> str:
    cache: dict[str, dict[str, str]] = {}

    def sub(match: re.Match[str]) -> str:
        seg_id, name = match.group(1), match.group(2)
        if seg_id not in cache:
            cache[seg_id] = _note_values(track, game, analysis, track.segment(seg_id))
        return cache[seg_id].get(name, "n/a")

    return _PLACEHOLDER.sub(sub, template)


def segment_engine_note(track: StoryTrack, segment: Segment, game: chess.pgn.Game,
                        analysis: GameAnalysis | None) -> str | None:
    """The segment's ``engine_note`` with its numbers filled in; None without a note or analysis."""
    if segment.engine_note is None or analysis is None:
        return None
    return _fill(segment.engine_note, track, game, analysis)


def engine_reading(track: StoryTrack, game: chess.pgn.Game,
                   analysis: GameAnalysis | None) -> list[str]:
    """The track's ``[engine_reading]`` sentences with real numbers; empty without an analysis."""
    if analysis is None:
        return []
    _context(track, game, analysis, 0)  # checks that the analysis belongs to this game
    return [_fill(line, track, game, analysis) for line in track.reading]


def iter_segments_with_acts(track: StoryTrack) -> Iterator[tuple[Act, Segment]]:
    """Segments paired with their acts, in order (for the UI's act headings)."""
    for seg in track.segments:
        yield track.act(seg.act), seg
