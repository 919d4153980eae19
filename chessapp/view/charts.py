"""The data behind the page's charts: the eval graph and the game-as-metaphor picture.

Pure (pandas frames, no Streamlit, no Altair): the widgets in ``chessapp/ui``
turn them into Vega-Lite. The eval chart emits "jump to ply" and shows the
current ply, nothing more (lila's ``ui/chart/src/acpl.ts``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from chessapp.view.cafe import Beat
from chessapp.view.replay import Replay

__all__ = ["JUDGEMENT_COLOURS", "eval_chart_frame"]


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


