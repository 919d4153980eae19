"""What a replay page shows, as pure data: no Streamlit here.

A page that steps through a game (the café page, the analysis page) needs the
same few things for every ply: the position, the move that led to it, the
eval and its judgement, the engine's best move, and the story beat it belongs
to. :func:`build_replay` computes them once from a ``chess.pgn.Game`` and an
optional :class:`~chessapp.analysis.GameAnalysis`, so a click only looks
things up. The chart frames, the ply clamping for ``?ply=`` deep links, the
autoplay pacing and the board/eval-bar SVGs live here too, so they are unit
tested without a browser.

Ply 0 is the starting position; ply *n* is the position after the *n*-th
half-move of the main line (as in :mod:`chessapp.analysis`).
"""

from __future__ import annotations

import enum
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import chess
import chess.pgn
import chess.svg
import pandas as pd

from chessapp.analysis import GameAnalysis, Judgement, win_percent
from chessapp.evals import WhiteEval
from chessapp.shapes import Shape

log = logging.getLogger(__name__)

__all__ = [
    "AUTOPLAY_MAX_S",
    "AUTOPLAY_MIN_S",
    "Beat",
    "ClaimCheck",
    "HistoryEvent",
    "Nav",
    "PlyView",
    "Replay",
    "autoplay_delay",
    "beat_for_ply",
    "board_svg",
    "build_replay",
    "clamp_ply",
    "decimal_year",
    "eval_bar_svg",
    "eval_chart_frame",
    "link_beats",
    "metaphor_frames",
    "move_label",
    "step",
]


# --- Per-ply records ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlyView:
    """Everything a page shows about one ply, precomputed."""

    ply: int
    fen: str
    san: str | None  # the move that led here; None at ply 0
    label: str  # "12. Nf3", "12… Nf6", "Start"
    lastmove: str | None  # UCI of the move that led here
    check: chess.Square | None  # the king in check, for the red highlight
    eval: WhiteEval | None  # after the move, White's view
    white_win: float | None  # White's win % in [0, 100] (lichess WinPercent)
    judgement: Judgement | None
    best_next: str | None  # UCI of the engine's choice in *this* position
    best_next_san: str | None
    played_best: str | None  # SAN of the engine's choice instead of the move played

    @property
    def glyph(self) -> str:
        return "" if self.judgement is None else self.judgement.glyph


@dataclass(frozen=True, slots=True)
class Replay:
    """A main line ready to step through. ``plies[0]`` is the start position."""

    headers: Mapping[str, str]
    plies: tuple[PlyView, ...]
    analysed: bool

    @property
    def last(self) -> int:
        return len(self.plies) - 1

    def at(self, ply: int) -> PlyView:
        return self.plies[clamp_ply(ply, self.last)]


def move_label(ply: int, san: str, *, start_ply: int = 0) -> str:
    """``1. e4`` for White's move, ``1… e5`` for Black's (ply counted from the start FEN)."""
    absolute = start_ply + ply  # half-moves since the standard start
    number = (absolute + 1) // 2
    return f"{number}. {san}" if absolute % 2 == 1 else f"{number}… {san}"


def _start_ply(board: chess.Board) -> int:
    """Half-moves before ``board`` as python-chess counts them (for non-standard FENs)."""
    return (board.fullmove_number - 1) * 2 + (0 if board.turn == chess.WHITE else 1)


def build_replay(game: chess.pgn.Game, analysis: GameAnalysis | None = None) -> Replay:
    """Walk the main line once; attach the analysis when it matches the moves."""
    board = game.board()
    start = _start_ply(board)
    moves = list(game.mainline_moves())
    if analysis is not None and [p.uci for p in analysis.plies] != [m.uci() for m in moves]:
        log.warning("analysis does not match the game's moves; showing the game without it")
        analysis = None
    plies: list[PlyView] = []

    def best_at(ply: int) -> tuple[str | None, str | None]:
        if analysis is None or ply >= len(analysis.plies):
            return None, None
        nxt = analysis.plies[ply]  # ply+1's best move was chosen in this position
        return (None if nxt.best is None else nxt.best.uci()), nxt.best_san

    initial = None if analysis is None else analysis.initial.eval
    best, best_san = best_at(0)
    plies.append(PlyView(
        ply=0, fen=board.fen(), san=None, label="Start", lastmove=None,
        check=board.king(board.turn) if board.is_check() else None,
        eval=initial, white_win=None if initial is None else win_percent(initial),
        judgement=None, best_next=best, best_next_san=best_san, played_best=None,
    ))
    for i, move in enumerate(moves, start=1):
        san = board.san(move)
        board.push(move)
        info = None if analysis is None else analysis.plies[i - 1]
        best, best_san = best_at(i)
        played_best = None
        if info is not None and info.best is not None and info.best != move:
            played_best = info.best_san
        plies.append(PlyView(
            ply=i, fen=board.fen(), san=san, label=move_label(i, san, start_ply=start),
            lastmove=move.uci(),
            check=board.king(board.turn) if board.is_check() else None,
            eval=None if info is None else info.eval,
            white_win=None if info is None else win_percent(info.eval),
            judgement=None if info is None else info.judgement,
            best_next=best, best_next_san=best_san, played_best=played_best,
        ))
    return Replay(headers=dict(game.headers), plies=tuple(plies), analysed=analysis is not None)


# --- The cursor -------------------------------------------------------------------


class Nav(enum.Enum):
    """The four navigation buttons."""

    FIRST = "first"
    PREV = "prev"
    NEXT = "next"
    LAST = "last"


def step(ply: int, nav: Nav, last: int) -> int:
    """Where a navigation button goes from ``ply``; never leaves [0, last]."""
    target = {Nav.FIRST: 0, Nav.PREV: ply - 1, Nav.NEXT: ply + 1, Nav.LAST: last}[nav]
    return clamp_ply(target, last)


_INT = re.compile(r"^\s*[+-]?\d{1,9}\s*$")


def clamp_ply(raw: object, last: int, *, default: int = 0) -> int:
    """A ply in [0, last] from anything a URL or a widget may hold.

    ``?ply=`` is typed by people and pasted around: a number out of range
    clamps to the nearest end, and anything that is not an integer (``abc``,
    ``3.5``, empty, a list) falls back to ``default``. Never raises.
    """
    last = max(0, last)
    value: int
    if isinstance(raw, bool):
        value = default
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _INT.match(raw):
        value = int(raw)
    else:
        value = default
    return max(0, min(last, value))


# --- Autoplay ---------------------------------------------------------------------

#: The shortest and longest pause on one ply. A move with no new narration is
#: shown for the minimum; narration is paced at about 200 words a minute
#: (a relaxed reading speed), so a long beat is not cut off mid-sentence.
AUTOPLAY_MIN_S = 1.5
AUTOPLAY_MAX_S = 20.0
WORDS_PER_SECOND = 200 / 60


def autoplay_delay(narration: str | None) -> float:
    """Seconds to stay on a ply whose *new* narration is ``narration``."""
    words = len(narration.split()) if narration else 0
    return round(max(AUTOPLAY_MIN_S, min(AUTOPLAY_MAX_S, 1.0 + words / WORDS_PER_SECOND)), 2)


# --- The story, as the UI needs it -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """One narrative claim and the engine's verdict on it (None: needs an analysis)."""

    claim: str
    ply: int
    holds: bool | None
    figures: tuple[tuple[str, str], ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """A dated moment of the rivalry, placed on the timeline by ``year`` (decimal)."""

    key: str
    year: float
    date: str
    place: str
    title: str


@dataclass(frozen=True, slots=True)
class Beat:
    """A story segment over a ply range, with its shapes and checked claims."""

    key: str
    first_ply: int
    last_ply: int
    act: str
    date: str
    place: str
    narration: str
    metaphor: str
    shapes: tuple[Shape, ...] = ()
    claims: tuple[ClaimCheck, ...] = ()
    year: float | None = None  # when the history it maps to happened
    event: str | None = None  # HistoryEvent.key it is linked to
    engine_note: str | None = None  # the engine's reading of this moment, numbers filled in

    @property
    def anchor(self) -> int:
        """The ply a click on the beat jumps to: its last, the move its claims are about."""
        return self.last_ply


def beat_for_ply(beats: Sequence[Beat], ply: int) -> Beat | None:
    """The beat covering ``ply``; the latest-starting one wins where ranges overlap."""
    found = None
    for beat in beats:
        if beat.first_ply <= ply <= beat.last_ply and (
            found is None or beat.first_ply >= found.first_ply
        ):
            found = beat
    return found


_YEAR = re.compile(r"(1[89]\d\d|20\d\d)(?:[-./](\d{1,2}|\?\?))?")


def decimal_year(date: str) -> float | None:
    """``"1918-08"`` → 1918.58, ``"January 1913"`` → 1913.0, no year → None."""
    match = _YEAR.search(date)
    if match is None:
        return None
    year = float(match.group(1))
    month = match.group(2)
    if month and month.isdigit() and 1 <= int(month) <= 12:
        year += (int(month) - 1) / 12
    return round(year, 3)


def link_beats(beats: Sequence[Beat], events: Sequence[HistoryEvent]) -> tuple[Beat, ...]:
    """Connect each beat to the historical event nearest its own date.

    A beat that already names its event keeps it. Ties go to the earlier event.
    """
    from dataclasses import replace

    out = []
    for beat in beats:
        if beat.event is not None or not events:
            out.append(beat)
            continue
        year = beat.year if beat.year is not None else decimal_year(beat.date)
        if year is None:
            out.append(beat)
            continue
        nearest = min(events, key=lambda e: (abs(e.year - year), e.year))
        out.append(replace(beat, year=year, event=nearest.key))
    return tuple(out)


# --- Chart frames -------------------------------------------------------------------

#: lichess's judgement colours (ui/analyse acpl chart and move list).
JUDGEMENT_COLOURS: Mapping[str, str] = {
    "good": "#8c8c8c",
    "inaccuracy": "#56b4e9",
    "mistake": "#e69f00",
    "blunder": "#df5353",
}


def eval_chart_frame(replay: Replay, beats: Sequence[Beat] = ()) -> pd.DataFrame:
    """One row per ply with a known eval: the data of the clickable eval graph.

    Columns: ply, label, win (White's win %, 0–100), eval (text), judgement
    ("good" when none), beat (the beat key starting at this ply, or "").
    """
    starts = {b.first_ply: b.key for b in beats}
    rows = []
    for p in replay.plies:
        if p.white_win is None or p.eval is None:
            continue
        rows.append({
            "ply": p.ply,
            "label": p.label + p.glyph,
            "win": round(p.white_win, 2),
            "eval": p.eval.text(),
            "judgement": "good" if p.judgement is None else p.judgement.value,
            "beat": starts.get(p.ply, ""),
        })
    return pd.DataFrame(rows, columns=["ply", "label", "win", "eval", "judgement", "beat"])


def metaphor_frames(
    replay: Replay, beats: Sequence[Beat], events: Sequence[HistoryEvent]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The game-as-metaphor picture on one canvas: the eval curve above, history below.

    Both bands share the x axis, whose unit is the ply: the timeline's years
    are mapped linearly onto [0, last ply] so a beat's point and its
    historical moment can be joined by a straight link. y is in picture
    units: the curve occupies 40–100 (White's win % squeezed), the timeline
    sits at 10.

    Returns (curve, events, links). ``links`` has one row per beat:
    beat, ply, x0, y0 (on the curve), x1, y1 (on the timeline), event title.
    """
    last = max(1, replay.last)
    years = [e.year for e in events]
    lo, hi = (min(years), max(years)) if years else (0.0, 1.0)
    span = hi - lo or 1.0

    def x_of(year: float) -> float:
        return round((year - lo) / span * last, 3)

    def y_curve(win: float) -> float:
        return round(40 + win * 0.6, 3)

    curve = pd.DataFrame(
        [{"ply": p.ply, "y": y_curve(p.white_win), "label": p.label + p.glyph}
         for p in replay.plies if p.white_win is not None],
        columns=["ply", "y", "label"],
    )
    ev = pd.DataFrame(
        [{"key": e.key, "x": x_of(e.year), "y": 10.0, "year": math.floor(e.year),
          "title": f"{math.floor(e.year)} {e.title}", "place": e.place}
         for e in events],
        columns=["key", "x", "y", "year", "title", "place"],
    )
    by_key = {e.key: e for e in events}
    rows = []
    for beat in beats:
        event = by_key.get(beat.event or "")
        view = replay.at(beat.anchor)
        win = view.white_win if view.white_win is not None else 50.0
        rows.append({
            "beat": beat.key, "ply": beat.anchor, "label": view.label,
            "x0": float(beat.anchor), "y0": y_curve(win),
            "x1": x_of(event.year) if event else float(beat.anchor),
            "y1": 10.0,
            "event": f"{math.floor(event.year)} {event.title}" if event else "",
            "metaphor": beat.metaphor,
        })
    links = pd.DataFrame(rows, columns=["beat", "ply", "label", "x0", "y0", "x1", "y1",
                                        "event", "metaphor"])
    return curve, ev, links


# --- SVG pictures -------------------------------------------------------------------

#: lichess's engine arrow is a translucent blue.
BEST_MOVE_COLOUR = "#003088aa"


def board_svg(
    fen: str,
    *,
    lastmove: str | None = None,
    check: chess.Square | None = None,
    shapes: Sequence[Shape] = (),
    best: str | None = None,
    flipped: bool = False,
    size: int = 420,
    coordinates: bool = True,
) -> str:
    """The board as an SVG string, via ``chess.svg.board``.

    Arguments are plain values (strings, ints, frozen shapes), so callers can
    cache the result by them. No PGN text ever reaches the SVG: the only text
    in it is what python-chess writes itself.
    """
    board = chess.Board(fen)
    arrows = [s.svg() for s in shapes]
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


def eval_bar_svg(white_win: float | None, *, flipped: bool = False, height: int = 420,
                 width: int = 24) -> str:
    """A vertical bar: White's share from the bottom (top when flipped), lichess style."""
    share = 0.5 if white_win is None else max(0.0, min(100.0, white_win)) / 100
    white_h = round(height * share, 1)
    black_h = round(height - white_h, 1)
    white_y = 0.0 if flipped else black_h
    black_y = white_h if flipped else 0.0
    mid = height / 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<rect x="0" y="{black_y}" width="{width}" height="{black_h}" fill="#403d39"/>'
        f'<rect x="0" y="{white_y}" width="{width}" height="{white_h}" fill="#f2f2f2"/>'
        f'<line x1="0" y1="{mid}" x2="{width}" y2="{mid}" stroke="#d85000" stroke-width="2" '
        f'stroke-opacity="0.6"/>'
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="none" '
        f'stroke="#888" stroke-width="1"/></svg>'
    )

