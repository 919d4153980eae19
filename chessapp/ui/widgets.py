"""Widgets shared by the café page and the analysis page.

Each widget takes a :class:`~chessapp.ui.state.PlyCursor` (where the board is)
and a :class:`~chessapp.replay.Replay` (what every ply shows) and draws one
thing. Clicks go through the cursor's callbacks, which update session state
and ``?ply=`` before the (fragment) rerun, so nothing here reruns the page.

Nothing here renders HTML. The board and the eval bar are SVG strings made by
python-chess and :mod:`chessapp.replay`, shown through ``st.image`` (an
``<img>`` with a data URI, which cannot run script); labels go through
Streamlit's Markdown with HTML disabled; charts are Vega-Lite specs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import altair as alt
import chess.pgn
import pandas as pd
import streamlit as st

from chessapp.analysis import GameAnalysis, Judgement
from chessapp.engine import EngineStatus
from chessapp.engine import engine_status as probe_engine
from chessapp.errors import ChessAppError
from chessapp.export import ExportOptions, export_pgn, filename_for
from chessapp.shapes import Shape
from chessapp.store import DB_NAME, Store, data_dir
from chessapp.ui.state import PlyCursor, export_button_key, export_option_key
from chessapp.view.cafe import Beat
from chessapp.view.charts import JUDGEMENT_COLOURS, eval_chart_frame
from chessapp.view.replay import PlyView, Replay
from chessapp.view.svg import board_svg

log = logging.getLogger(__name__)

BOARD_SIZE = 440

#: Every ASCII punctuation character: CommonMark lets a backslash escape each one, and
#: shows it literally.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
#: What GFM's autolink-literal extension turns into a link: ``scheme://``, ``www.``, an
#: e-mail address. It runs on the parsed text, after escapes are resolved, so escaping
#: cannot stop it (issue 15: a player name holding ``https://...`` showed as a live link;
#: checked in Chromium by tests/e2e/test_injection.py). Code spans are never autolinked.
_AUTOLINKABLE = re.compile(r"(?i)://|www\.|@|mailto:|xmpp:")
_BACKTICKS = re.compile(r"`+")


def _code_span(text: str) -> str:
    """``text`` as a Markdown code span, shown exactly as written (CommonMark 6.1)."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def plain(text: object) -> str:
    """Text from a PGN, a story file or a visitor, made literal for Streamlit Markdown.

    Every punctuation mark is backslash-escaped, so ``[x](url)``, ``**b**``, ``# h``,
    ``:red[...]`` or ``<b>`` show as typed; a word that GFM would autolink (a URL,
    ``www.``, an e-mail address) becomes a code span, which Markdown never links
    or formats. Newlines become spaces (one line of text).
    """
    out: list[str] = []
    for part in re.split(r"(\s+)", str(text).replace("\n", " ")):
        if part and not part.isspace() and _AUTOLINKABLE.search(part):
            out.append(_code_span(part))
        else:
            out.append(_MD_SPECIAL.sub(r"\\\1", part))
    return "".join(out)

# --- Resources shared by the pages -------------------------------------------------


@st.cache_resource(show_spinner=False)
def _store_at(directory: str) -> Store:
    from pathlib import Path

    return Store(Path(directory) / DB_NAME)


def shared_store() -> Store:
    """The process's one Store for the current data directory, for every page.

    One per directory, so tests that point CHESSAPP_DATA_DIR elsewhere get their own.
    """
    return _store_at(str(data_dir()))


def store_or_none() -> Store | None:
    """The shared Store, or None with an error shown; says so if a bad file was moved aside."""
    try:
        store = shared_store()
    except ChessAppError as exc:
        st.error(f"Saved sessions are unavailable: {plain(exc)}")
        return None
    if store.recovered_from:
        # Shown for as long as this server runs, not only to the first visitor.
        st.warning(plain(store.recovered_from))
    if store.full:
        st.warning(plain(store.full))
    return store


def engine_status(path: str | None = None) -> EngineStatus:
    """The engine's status (:func:`chessapp.engine.engine_status` keeps the one cache)."""
    return probe_engine(path)


# --- Board and eval bar ------------------------------------------------------------


@st.cache_resource(max_entries=2048, show_spinner=False)
def _cached_board_svg(
    fen: str, lastmove: str | None, check: int | None, shapes: tuple[str, ...],
    best: str | None, flipped: bool, size: int,
) -> str:
    # Keyed by plain values: the same position with the same drawings is
    # rendered once per process, whichever page or session asks.
    return board_svg(fen, lastmove=lastmove, check=check,
                     shapes=[Shape.parse(s) for s in shapes], best=best,
                     flipped=flipped, size=size)


def board_image(
    view: PlyView,
    *,
    shapes: Sequence[Shape] = (),
    best: bool = False,
    flipped: bool = False,
    size: int = BOARD_SIZE,
    alt: str | None = None,
) -> None:
    """The board at ``view``: last move, check, the story's shapes, the engine's arrow.

    ``alt`` defaults to "Board after <move>" (or "Start position"), which the
    browser tests use to find the page's main board.
    """
    svg = _cached_board_svg(
        view.fen, view.lastmove, view.check, tuple(s.pgn() for s in shapes),
        view.best_next if best else None, flipped, size,
    )
    if alt is None:
        alt = f"Board after {view.label}" if view.ply else "Start position"
    st.image(svg, width=size, alt=alt)


def eval_caption(view: PlyView) -> None:
    """One line under the board: eval, judgement, the engine's choice."""
    parts = []
    if view.eval is not None:
        parts.append(f"Eval **{view.eval.text()}**")
    if view.white_win is not None:
        parts.append(f"White wins {view.white_win:.0f}%")
    if view.judgement is not None:
        colour = _GLYPH_COLOUR[view.judgement]
        parts.append(f":{colour}[{view.judgement.title} {view.judgement.glyph}]")
        if view.played_best:
            parts.append(f"best was {view.played_best}")
    if view.best_next_san:
        parts.append(f"engine plays {view.best_next_san}")
    st.caption(" · ".join(parts) if parts else "No engine evaluation for this position.")
    if view.explanation:
        # The coach's sentences quote SAN and square names only; shown as plain text anyway.
        st.text(f"Why: {view.explanation}")


# --- Navigation ----------------------------------------------------------------------


_GLYPH_COLOUR: Mapping[Judgement, str] = {
    Judgement.INACCURACY: "blue",
    Judgement.MISTAKE: "orange",
    Judgement.BLUNDER: "red",
}


# --- Eval graph -------------------------------------------------------------------------


def _judgement_scale() -> alt.Scale:
    return alt.Scale(domain=list(JUDGEMENT_COLOURS), range=list(JUDGEMENT_COLOURS.values()))


def eval_graph_chart(replay: Replay, ply: int | None,
                     beats: Sequence[Beat] = ()) -> alt.LayerChart:
    """lichess-style win% curve, judged points, story beats and the current ply."""
    frame = eval_chart_frame(replay, beats)
    base = alt.Chart(frame).encode(
        x=alt.X("ply:Q", title=None, scale=alt.Scale(domain=[0, max(1, replay.last)], nice=False),
                axis=alt.Axis(tickMinStep=1, format="d")),
    )
    y = alt.Y("win:Q", title=None, scale=alt.Scale(domain=[0, 100]),
              axis=alt.Axis(values=[0, 50, 100], labelExpr="datum.value + '%'"))
    area = base.mark_area(color="#d9d9d9", line={"color": "#777", "strokeWidth": 1.5},
                          interpolate="monotone").encode(y=y)
    middle = alt.Chart(pd.DataFrame({"y": [50]})).mark_rule(color="#999", strokeDash=[2, 2]) \
        .encode(y="y:Q")
    jump = alt.selection_point(name="jump", fields=["ply"], on="click", nearest=True,
                               clear=False, empty=False)
    tooltip = [alt.Tooltip("label:N", title="Move"), alt.Tooltip("eval:N", title="Eval"),
               alt.Tooltip("win:Q", title="White win %", format=".0f")]
    # Every ply is a (nearly invisible) target, so a click anywhere picks the nearest ply.
    targets = base.mark_point(size=120, opacity=0.01, filled=True).encode(
        y=y, tooltip=tooltip).add_params(jump)
    judged = base.transform_filter(alt.datum.judgement != "good").mark_circle(size=70).encode(
        y=y, color=alt.Color("judgement:N", scale=_judgement_scale(), legend=None),
        tooltip=tooltip)
    layers: list[alt.Chart] = [area, middle, targets, judged]
    if beats:
        beat_frame = frame[frame["beat"] != ""]
        layers.append(alt.Chart(beat_frame).mark_rule(color="#7b4fa0", strokeDash=[4, 3])
                      .encode(x="ply:Q"))
        layers.append(alt.Chart(beat_frame).mark_text(
            text="★", color="#7b4fa0", fontSize=14, dy=-2, baseline="top").encode(
            x="ply:Q", y=alt.value(0)))
    if ply is not None:
        layers.append(alt.Chart(pd.DataFrame({"ply": [ply]})).mark_rule(color="#d85000", size=2)
                      .encode(x="ply:Q"))
    return alt.LayerChart(layer=layers, height=150)


def _graph_key(replay: Replay, beats: Sequence[Beat]) -> str:
    """What the eval graph depends on, as a string (Replay itself is not hashable)."""
    return repr([(p.fen, p.white_win, p.judgement) for p in replay.plies]
                + [(b.key, b.first_ply) for b in beats])


@st.cache_resource(max_entries=64, show_spinner=False)
def _graph_spec(key: str, _replay: Replay, _beats: Sequence[Beat]) -> dict[str, Any]:
    # Altair validates the whole spec on to_dict (~50 ms): do it once per game and
    # analysis, and add the current-ply marker to a copy of the dict per rerun.
    return eval_graph_chart(_replay, None, _beats).to_dict()


def eval_graph_spec(replay: Replay, ply: int, beats: Sequence[Beat] = ()) -> dict[str, Any]:
    """The eval graph's Vega-Lite spec with a marker on ``ply`` (cached but for the marker)."""
    base = _graph_spec(_graph_key(replay, beats), replay, beats)
    marker = {"mark": {"type": "rule", "color": "#d85000", "size": 2},
              "data": {"values": [{"ply": ply}]},
              "encoding": {"x": {"field": "ply", "type": "quantitative"}}}
    return {**base, "layer": [*base["layer"], marker]}


def eval_graph(cursor: PlyCursor, replay: Replay, beats: Sequence[Beat] = ()) -> None:
    """The clickable eval graph: a click on (or near) a point jumps to that ply."""
    if not replay.analysed:
        st.caption("No evals yet: run the engine to draw the graph.")
        return
    ply = cursor.ply
    key = cursor.graph_key(ply)

    def clicked() -> None:
        state = st.session_state.get(key)
        points = (state or {}).get("selection", {}).get("jump", [])
        if points:
            cursor.go(int(points[0]["ply"]))

    st.vega_lite_chart(eval_graph_spec(replay, ply, beats), key=key, on_select=clicked,
                       selection_mode="jump", width="stretch")


# --- The game as a metaphor -------------------------------------------------------------


# --- Export -------------------------------------------------------------------------------

#: (ExportOptions field, checkbox label, default).
EXPORT_OPTIONS: tuple[tuple[str, str, bool], ...] = (
    ("evals", "Evals ([%eval])", True),
    ("judgements", "Judgements and comments (?!, ?, ??)", True),
    ("variations", "Engine best lines as variations", True),
    ("explored", "Explored variations", True),
    ("narration", "Narration as comments", True),
    ("shapes", "Arrows and circles ([%cal]/[%csl])", True),
    ("label_nags", "Only-move and brilliant glyphs (! and !!, not lichess's)", False),
)


def export_block(
    page: str,
    game: chess.pgn.Game,
    analysis: GameAnalysis | None,
    *,
    narration: Mapping[int, str] | None = None,
    shapes: Mapping[int, Sequence[Shape]] | None = None,
    offer: Sequence[str] = ("evals", "judgements", "variations", "narration", "shapes"),
    render: Callable[..., str] | None = None,
    analysis_key: str = "",
) -> str | None:
    """Options and an annotated-PGN download; the text is the CLI's for the same options.

    Returns the PGN offered (for tests and previews), or None when it could not be made.
    """
    chosen: dict[str, bool] = {}
    with st.container(horizontal=True, gap="medium"):
        for name, label, default in EXPORT_OPTIONS:
            if name not in offer:
                chosen[name] = False
                continue
            disabled = analysis is None and name in ("evals", "judgements", "variations",
                                                     "label_nags")
            # ``analysis_key`` gives the analysis-dependent boxes a new key once an analysis
            # exists: the browser sends back a widget's old value with every rerun, so a box
            # drawn off and disabled before would otherwise stay off.
            key = export_option_key(page, name) + (
                analysis_key if name in ("evals", "judgements", "variations", "label_nags")
                else "")
            chosen[name] = st.checkbox(label, value=default and not disabled, disabled=disabled,
                                       key=key)
    options = ExportOptions(**chosen)
    try:
        text = (render or export_pgn)(game, analysis, options, narration=narration, shapes=shapes)
    except ChessAppError as exc:
        st.error(f"Could not write the PGN: {exc}")
        return None
    st.download_button("Download annotated PGN", data=text, file_name=filename_for(game.headers),
                       mime="application/x-chess-pgn", key=export_button_key(page),
                       icon=":material/download:", on_click="ignore")
    return text
