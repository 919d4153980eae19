"""Widgets only the café page uses: the claim table and the metaphor picture.

Both draw plain data made elsewhere: the claim table's rows come from
:func:`chessapp.story.claim_table` (plain English, failing claims included),
the picture from :func:`chessapp.view.metaphor.metaphor_picture`. Story text
goes into table cells through :func:`chessapp.ui.widgets.plain` (``st.table``
renders Markdown) and into the chart as Vega-Lite data (drawn as SVG text,
never as HTML).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from chessapp.story import ClaimTable, Verdict
from chessapp.ui.widgets import plain
from chessapp.view.metaphor import Label, MetaphorPicture
from chessapp.view.replay import Replay

#: How the table says each verdict (Material icons: a bare Chromium has no emoji font).
VERDICT_CELLS = {
    Verdict.HOLDS: ":green[:material/check_circle: holds]",
    Verdict.FAILS: ":red[:material/cancel: **does not hold**]",
    Verdict.UNCHECKED: ":gray[:material/help: not checked (needs an engine analysis)]",
}

CLAIM_COLUMNS = ("Move", "The narrator says", "Checked", "The board and the engine say",
                 "Figures")


def claims_frame(table: ClaimTable) -> pd.DataFrame:
    """One row per claim, every cell in words and Markdown-inert, in the track's order."""
    rows = [{
        # "11. Nxd5" would start an ordered list in a Markdown cell: escape the dot.
        "Move": plain(row.move),  # plain() keeps "17. Rd8" from becoming a list
        "The narrator says": plain(row.narrator_says),
        "Checked": VERDICT_CELLS[row.verdict],
        "The board and the engine say": plain(row.board_and_engine_say),
        "Figures": plain(row.figures_text),
    } for row in table.rows]
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def claim_table(table: ClaimTable) -> None:
    """The claims as a table that wraps its text to the page's width (nothing is cut)."""
    st.caption(plain(table.summary))
    st.table(claims_frame(table), hide_index=True, border="horizontal")


# --- The metaphor picture ----------------------------------------------------------------

#: Layout, in the chart's own units (x 0..1 across, y 0..100 up).
_X0, _X1 = 0.03, 0.97
_GAME_LOW, _GAME_HIGH = 72.0, 96.0  # the eval curve's band
_ROW_TOP = (67.0, 34.0)  # where label rows start (one row wide, two rows narrow)
_AXIS_Y = (14.0, 4.0)  # the rivalry's time line, wide and narrow
_BLOCK = (15.0, 22.0)  # how far a label block reaches down, wide and narrow
#: Below this chart width (px) the labels go in two rows of three, narrow-wrapped.
NARROW_PX = 640
NARROW_COLUMNS = 3
CHART_HEIGHT = 440


#: One text line's height in the chart's y units (13 px of CHART_HEIGHT px for 100 units).
LINE_UNITS = 13 * 100 / 440


def label_lines(col: int, head: Label, moment: Label) -> list[dict[str, Any]]:
    """A column's text as one row per line, for each layout: the beat's lines, then its moment's.

    One row a line (rather than one text with line breaks) puts every line
    exactly where it belongs, and a test can read the lines back.
    """
    rows = []
    for layout in ("wide", "narrow"):
        lines = [("head", line) for line in getattr(head, layout)]
        lines += [("moment", line) for line in getattr(moment, layout)]
        rows += [{"kind": "line", "layout": layout, "col": col, "line": i, "role": role,
                  "text": text} for i, (role, text) in enumerate(lines)]
    return rows


def metaphor_rows(picture: MetaphorPicture, replay: Replay) -> list[dict[str, Any]]:
    """The picture as rows of one dataset (one ``kind`` per layer)."""
    last = max(1, picture.last_ply)
    low, high = picture.years
    span = max(1.0, high - low)

    def gx(ply: int) -> float:
        return _X0 + (_X1 - _X0) * ply / last

    def hx(year: float) -> float:
        return _X0 + (_X1 - _X0) * (year - low) / span

    def gy(ply: int) -> float:
        win = replay.at(ply).white_win if ply <= replay.last else None
        return _GAME_LOW + (_GAME_HIGH - _GAME_LOW) * (50.0 if win is None else win) / 100

    rows: list[dict[str, Any]] = [
        {"kind": "band", "x": 0.0, "x2": 1.0, "y": _GAME_LOW - 1, "y2": _GAME_HIGH + 1},
        {"kind": "axis", "x": _X0, "x2": _X1},
        {"kind": "caption", "x": 0.0, "y": 99.5,
         "wide": "The game: White's winning chances, move by move",
         "narrow": "The game: White's chances"},
        {"kind": "rivalry", "x": 0.0,
         "wide": f"The rivalry, {int(low)} → {int(high)}",
         "narrow": f"The rivalry, {int(low)} → {int(high)}"},
    ]
    rows += [{"kind": "curve", "x": gx(p.ply), "y": gy(p.ply), "text": p.label}
             for p in replay.plies if p.ply <= picture.last_ply]
    columns: list[tuple[float, dict[str, Any]]] = []
    for bracket in picture.brackets:
        columns.append((bracket.moment.year, {
            "kind": "bracket", "gx": gx(bracket.first_ply), "gx2": gx(bracket.last_ply),
            "gy": _GAME_LOW - 3, "hx": hx(bracket.moment.year), "ply": bracket.last_ply,
            "head": bracket.label, "moment": bracket.moment.label,
            "tip": bracket.label.text, "history": bracket.moment.label.text}))
    for link in picture.links:
        columns.append((link.moment.year, {
            "kind": "beat", "gx": gx(link.ply), "gy": gy(link.ply),
            "hx": hx(link.moment.year), "ply": link.ply, "head": link.label,
            "moment": link.moment.label, "tip": link.label.text,
            "history": link.moment.label.text}))
    columns.sort(key=lambda c: c[0])
    count = len(columns)
    for i, (_, col) in enumerate(columns):
        head, moment = col.pop("head"), col.pop("moment")
        col.update({"col": i, "count": count})
        rows.append(col)
        rows += [{**line, "count": count, "ply": col["ply"], "tip": col["tip"],
                  "history": col["history"]} for line in label_lines(i, head, moment)]
    rows += [{"kind": "context", "hx": hx(m.year), "history": m.label.text}
             for m in picture.context]
    return rows


#: Column centres and row tops, from the chart's width (Vega's ``width`` signal), so one
#: spec reads at 1400 px (one row, wide labels) and at 390 px (two rows of three).
_NARROW = f"width < {NARROW_PX}"
_CX = (f"{_NARROW} ? ((datum.col % {NARROW_COLUMNS}) + 0.5) / {NARROW_COLUMNS}"
       " : (datum.col + 0.5) / datum.count")
_CY = f"{_NARROW} && datum.col >= {NARROW_COLUMNS} ? {_ROW_TOP[1]} : {_ROW_TOP[0]}"
_AY = f"{_NARROW} ? {_AXIS_Y[1]} : {_AXIS_Y[0]}"
_BOTTOM = f"datum.cy - ({_NARROW} ? {_BLOCK[1]} : {_BLOCK[0]})"


def metaphor_spec(picture: MetaphorPicture, replay: Replay) -> dict[str, Any]:
    """A Vega-Lite spec: the eval curve on top, the rivalry's years below, a column per beat."""
    x = {"field": "x", "type": "quantitative", "axis": None, "scale": {"domain": [0, 1]}}
    y = {"field": "y", "type": "quantitative", "axis": None, "scale": {"domain": [0, 100]}}
    scale_x = {"type": "quantitative", "axis": None, "scale": {"domain": [0, 1]}}
    scale_y = {"type": "quantitative", "axis": None, "scale": {"domain": [0, 100]}}

    def only(*kinds: str) -> dict[str, Any]:
        return {"filter": {"field": "kind", "oneOf": list(kinds)}}

    placed = [only("beat", "bracket"), {"calculate": _CX, "as": "cx"},
              {"calculate": _CY, "as": "cy"}]
    lines = [only("line"),
             {"filter": f"datum.layout == ({_NARROW} ? 'narrow' : 'wide')"},
             {"calculate": _CX, "as": "cx"},
             {"calculate": f"({_CY}) - datum.line * {LINE_UNITS:.3f}", "as": "ly"}]
    tooltip = [{"field": "tip", "type": "nominal", "title": "In the game"},
               {"field": "history", "type": "nominal", "title": "In the history"}]
    layers: list[dict[str, Any]] = [
        {"transform": [only("band")], "mark": {"type": "rect", "color": "#f2f2f2"},
         "encoding": {"x": x, "x2": {"field": "x2"}, "y": y, "y2": {"field": "y2"}}},
        {"transform": [only("axis"), {"calculate": _AY, "as": "ay"}],
         "mark": {"type": "rule", "color": "#7b4fa0", "strokeWidth": 3},
         "encoding": {"x": x, "x2": {"field": "x2"}, "y": {"field": "ay", **scale_y}}},
        {"transform": [only("rivalry"), {"calculate": _AY + " + 4", "as": "ay"},
                       {"calculate": f"{_NARROW} ? datum.narrow : datum.wide", "as": "label"}],
         "mark": {"type": "text", "align": "left", "baseline": "bottom", "fontSize": 12,
                  "color": "#555"},
         "encoding": {"x": x, "y": {"field": "ay", **scale_y}, "text": {"field": "label"}}},
        {"transform": [only("curve")],
         "mark": {"type": "line", "color": "#555", "interpolate": "monotone"},
         "encoding": {"x": x, "y": y}},
        {"transform": [only("caption"),
                       {"calculate": f"{_NARROW} ? datum.narrow : datum.wide", "as": "label"}],
         "mark": {"type": "text", "align": "left", "baseline": "bottom", "fontSize": 12,
                  "color": "#555"},
         "encoding": {"x": x, "y": y, "text": {"field": "label"}}},
        # The cold open: one bracket over its plies, one line down to its moment.
        {"transform": [only("bracket")],
         "mark": {"type": "rule", "color": "#7b4fa0", "strokeWidth": 4},
         "encoding": {"x": {"field": "gx", **scale_x}, "x2": {"field": "gx2"},
                      "y": {"field": "gy", **scale_y}}},
        # Beat and bracket → their column's label (above) → their year (below).
        {"transform": [*placed, {"calculate": "datum.kind == 'bracket' ? "
                                 "(datum.gx + datum.gx2) / 2 : datum.gx", "as": "from"}],
         "mark": {"type": "rule", "color": "#d85000", "opacity": 0.45},
         "encoding": {"x": {"field": "from", **scale_x}, "y": {"field": "gy", **scale_y},
                      "x2": {"field": "cx"}, "y2": {"field": "cy"}}},
        {"transform": [*placed, {"calculate": _BOTTOM, "as": "bottom"},
                       {"calculate": _AY, "as": "ay"}],
         "mark": {"type": "rule", "color": "#7b4fa0", "strokeDash": [3, 3], "opacity": 0.6},
         "encoding": {"x": {"field": "cx", **scale_x}, "y": {"field": "bottom", **scale_y},
                      "x2": {"field": "hx"}, "y2": {"field": "ay"}}},
        {"transform": [only("context"), {"calculate": _AY, "as": "ay"}],
         "mark": {"type": "point", "shape": "diamond", "size": 70, "filled": True,
                  "color": "#b9a3cc"},
         "encoding": {"x": {"field": "hx", **scale_x}, "y": {"field": "ay", **scale_y},
                      "tooltip": [{"field": "history", "type": "nominal",
                                   "title": "Also in the history"}]}},
        {"transform": [*placed, {"calculate": _AY, "as": "ay"}],
         "mark": {"type": "point", "shape": "diamond", "size": 150, "filled": True,
                  "color": "#7b4fa0"},
         "encoding": {"x": {"field": "hx", **scale_x}, "y": {"field": "ay", **scale_y},
                      "tooltip": tooltip}},
        {"transform": lines,
         "params": [{"name": "beat_label", "select": {"type": "point", "fields": ["ply"],
                                                      "on": "click", "clear": False}}],
         "mark": {"type": "text", "align": "center", "baseline": "top", "fontSize": 11,
                  "cursor": "pointer"},
         "encoding": {
             "x": {"field": "cx", **scale_x}, "y": {"field": "ly", **scale_y},
             "text": {"field": "text"}, "tooltip": tooltip,
             "color": {"field": "role", "type": "nominal", "legend": None,
                       "scale": {"domain": ["head", "moment"],
                                 "range": ["#d85000", "#333333"]}},
             "fontWeight": {"field": "role", "type": "nominal", "legend": None,
                            "scale": {"domain": ["head", "moment"],
                                      "range": ["bold", "normal"]}}}},
        {"transform": [only("beat")],
         "params": [{"name": "beat", "select": {"type": "point", "fields": ["ply"],
                                                "on": "click", "clear": False}}],
         "mark": {"type": "point", "size": 220, "filled": True, "color": "#d85000",
                  "cursor": "pointer"},
         "encoding": {"x": {"field": "gx", **scale_x}, "y": {"field": "gy", **scale_y},
                      "tooltip": tooltip}},
    ]
    return {
        "data": {"values": metaphor_rows(picture, replay)},
        "height": CHART_HEIGHT,
        "layer": layers,
        "config": {"view": {"stroke": None}},
    }


def metaphor_chart(picture: MetaphorPicture, replay: Replay, *, key: str,
                   on_beat: Callable[[int], None]) -> None:
    """The picture; a click on a beat (its point or its label) calls ``on_beat(ply)``."""

    def clicked() -> None:
        selection = (st.session_state.get(key) or {}).get("selection", {})
        for name in ("beat", "beat_label"):
            points = selection.get(name) or []
            if points and "ply" in points[0]:
                on_beat(int(points[0]["ply"]))
                return

    st.vega_lite_chart(metaphor_spec(picture, replay), key=key, on_select=clicked,
                       selection_mode=["beat", "beat_label"], width="stretch")
