"""The data behind the page's charts: the eval graph and the game-as-metaphor picture.

Pure (pandas frames, no Streamlit, no Altair): the widgets in ``chessapp/ui``
turn them into Vega-Lite. The eval chart emits "jump to ply" and shows the
current ply, nothing more (lila's ``ui/chart/src/acpl.ts``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from chessapp.view.cafe import Beat, HistoryEvent
from chessapp.view.replay import Replay

__all__ = ["JUDGEMENT_COLOURS", "eval_chart_frame", "metaphor_frames"]


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
