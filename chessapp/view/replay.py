"""What a replay shows for every ply of a line, as pure data: no Streamlit here.

A page that steps through a game (the café page, the analysis page) needs the
same few things for every ply: the position, the move that led to it, the
eval and its judgement, the engine's best move. :func:`build_replay` computes
them once from a ``chess.pgn.Game`` and an optional
:class:`~chessapp.analysis.GameAnalysis`, so a click only looks things up. The
ply clamping for ``?ply=`` deep links and the autoplay pacing live here too.

Ply 0 is the starting position; ply *n* is the position after the *n*-th
half-move of the main line (as in :mod:`chessapp.analysis`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

import chess
import chess.pgn

from chessapp.analysis import GameAnalysis, Judgement, win_percent
from chessapp.evals import WhiteEval
from chessapp.tree import move_label, start_ply

log = logging.getLogger(__name__)

__all__ = [
    "AUTOPLAY_MAX_S",
    "AUTOPLAY_MIN_S",
    "PlyView",
    "Replay",
    "autoplay_delay",
    "build_replay",
    "clamp_ply",
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
    explanation: str | None = None  # why the move was judged (coach), for judged moves

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


def build_replay(game: chess.pgn.Game, analysis: GameAnalysis | None = None, *,
                 explanations: Mapping[int, str] | None = None) -> Replay:
    """Walk the main line once; attach the analysis when it matches the moves.

    ``explanations`` (ply -> text, :func:`chessapp.coach.explain_analysis`) say why
    each judged move was judged.
    """
    board = game.board()
    start = start_ply(board)
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
            ply=i, fen=board.fen(), san=san, label=move_label(i, san, start=start),
            lastmove=move.uci(),
            check=board.king(board.turn) if board.is_check() else None,
            eval=None if info is None else info.eval,
            white_win=None if info is None else win_percent(info.eval),
            judgement=None if info is None else info.judgement,
            best_next=best, best_next_san=best_san, played_best=played_best,
            explanation=None if info is None or explanations is None else explanations.get(i),
        ))
    return Replay(headers=dict(game.headers), plies=tuple(plies), analysed=analysis is not None)


# --- The cursor -------------------------------------------------------------------


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
