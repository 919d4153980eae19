"""The "Reports" page: load an ``analyze --all --report`` file, see a player's figures.

Thin: widgets only. The tables and the chart come from :mod:`chessapp.report`,
the same code as ``python -m chessapp report``.
"""

from __future__ import annotations

import io

import streamlit as st

from chessapp import report
from chessapp.errors import ChessAppError

ALL_PLAYERS = "All players"

st.title("Reports")
st.caption("Load a report written by `python -m chessapp analyze DB.pgn --all "
           "--report FILE.csv` (or `.parquet`): one row per game and side.")
upload = st.file_uploader("Report file", type=["csv", "parquet"])
if upload is None:
    st.info("No report loaded yet.")
    st.stop()
try:
    frame = report.read_report(io.BytesIO(upload.getvalue()), name=upload.name)
    names = report.players(frame)
    choice = st.selectbox("Player", [ALL_PLAYERS, *names])
    player = None if choice == ALL_PLAYERS else choice
    figures = report.player_figures(frame, player)
except ChessAppError as exc:
    st.error(str(exc))
    st.stop()

st.subheader(figures.player)
st.dataframe(report.figure_table([figures.overall]), hide_index=True)
left, right = st.columns(2)
with left:
    st.markdown("**By colour**")
    st.dataframe(report.figure_table(figures.by_colour), hide_index=True)
with right:
    if figures.phases:
        st.markdown("**Accuracy by phase**")
        st.dataframe([{"phase": r.group, "games": r.games, "accuracy": round(r.accuracy or 0, 1)}
                      for r in figures.phases], hide_index=True)
st.markdown("**By opening** (most played first)")
st.dataframe(report.figure_table(figures.by_opening), hide_index=True)
try:
    st.altair_chart(report.accuracy_chart(frame, player), width="stretch")
except ChessAppError as exc:
    st.info(str(exc))
