"""The engine's honest reading of a story: note templates filled with the analysis's numbers.

A segment's ``engine_note`` and the track's ``[engine_reading]`` lines hold
placeholders such as ``{b2.eval_after}``; :func:`segment_engine_note` and
:func:`engine_reading` fill them from a :class:`~chessapp.analysis.GameAnalysis`.
"""

from __future__ import annotations

import re

import chess
import chess.pgn

from chessapp.analysis import GameAnalysis, winning_chances
from chessapp.evals import WhiteEval
from chessapp.story.claims import check_context, hero_color
from chessapp.story.track import PLACEHOLDER, Segment, StoryTrack

# --- The engine's honest reading -------------------------------------------------------------



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

    return PLACEHOLDER.sub(sub, template)


def fill_template(template: str, track: StoryTrack, game: chess.pgn.Game,
                  analysis: GameAnalysis) -> str:
    """Any text with ``{segment.field}`` placeholders, filled from ``analysis``."""
    return _fill(template, track, game, analysis)


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
    check_context(track, game, analysis)  # checks that the analysis belongs to this game
    return [_fill(line, track, game, analysis) for line in track.reading]
