"""A game's analysis in a few plain lines: what the CLI prints after each game (the
per-database tables are chessapp.report).

Pure text from a :class:`~chessapp.analysis.GameAnalysis`; no colours, no
terminal control, so the lines can go to a log as they are.
"""

from __future__ import annotations

import chess

from chessapp.analysis import GameAnalysis, PhaseSummary, PlyAnalysis, SideSummary
from chessapp.divider import Phase
from chessapp.labels import MoveLabel

__all__ = ["summary_lines"]


def _number(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:.1f}{unit}"


def _move_text(ply: PlyAnalysis) -> str:
    number = (ply.ply + 1) // 2 if ply.mover == chess.WHITE else ply.ply // 2
    dots = "." if ply.mover == chess.WHITE else "..."
    glyph = "" if ply.label is None else ply.label.glyph
    return f"{number}{dots}{ply.san}{glyph}"


def _phase(summary: PhaseSummary | None) -> str:
    if summary is None:
        return "not reached"
    return f"{_number(summary.accuracy, '%')} / {_number(summary.acpl)}"


def _side(name: str, side: SideSummary, plies: list[PlyAnalysis]) -> list[str]:
    counts = (f"{side.inaccuracies} inaccuracies, {side.mistakes} mistakes, "
              f"{side.blunders} blunders")
    lines = [f"  {name}: accuracy {_number(side.accuracy, '%')}, ACPL {_number(side.acpl)}; "
             f"{counts}"]
    labelled = [(label, [p for p in plies if p.label is label]) for label in MoveLabel]
    lines.append("    labels: " + ", ".join(
        f"{len(found)} {label.title.lower()}"
        + (f" ({' '.join(_move_text(p) for p in found)})" if found and label.glyph else "")
        for label, found in labelled))
    phases = ", ".join(f"{phase.value} {_phase(side.phases.get(phase))}" for phase in Phase)
    lines.append(f"    by phase (accuracy / ACPL): {phases}")
    return lines


def summary_lines(analysis: GameAnalysis) -> list[str]:
    """The opening, the phases, each side's accuracy, ACPL and errors, and the same by phase."""
    summary = analysis.summary()
    division = analysis.division
    lines: list[str] = []
    opening = analysis.opening
    lines.append("  opening: " + ("none named (lichess names standard games only)"
                                  if opening is None else
                                  f"{opening.opening.literate()} (book to ply {opening.ply})"))
    split = [f"middlegame from ply {division.middle}" if division.middle is not None else None,
             f"endgame from ply {division.end}" if division.end is not None else None]
    lines.append("  phases: " + (", ".join(s for s in split if s) or "opening only"))
    for color, name in ((chess.WHITE, "White"), (chess.BLACK, "Black")):
        lines += _side(name, summary[color], [p for p in analysis.plies if p.mover == color])
    return lines
