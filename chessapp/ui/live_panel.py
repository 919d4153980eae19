"""The live engine panel (issue 10, part 3): Stockfish's view of the position on the board.

A toggle turns it on; a fragment then polls the page's :class:`~chessapp.live.LiveSearch`
four times a second and shows depth, speed, eval and the top lines in SAN with move
numbers. The search follows the board: a step stops it and starts one on the new
position (the board's path callback calls :func:`follow`, so it starts before the
page even reruns). A finished search goes to the eval cache, so going back to a
position shows its lines at once. Turning the toggle off gives the engine back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import chess
import pandas as pd
import streamlit as st

from chessapp.engine import EnginePool
from chessapp.errors import ChessAppError
from chessapp.evals import PositionEval, terminal_eval
from chessapp.live import LiveSearch, LiveSnapshot, live_limit
from chessapp.store import Store
from chessapp.tree import numbered_line, san_line
from chessapp.ui import state
from chessapp.ui.widgets import plain

log = logging.getLogger(__name__)

#: How often the panel looks for new engine output while it is on (>= 2 updates a second).
POLL_S = 0.25
#: How long a new search may hold up the rerun that shows it, waiting for its first line.
FIRST_LINE_WAIT_S = 0.12


def _cached(pool: EnginePool, store: Store | None, board: chess.Board,
            multipv: int) -> PositionEval | None:
    limit = live_limit()
    found = terminal_eval(board, pool.identity, limit)
    if found is None and store is not None:
        found = store.get_eval(board.fen(), pool.identity, limit, multipv)
    return found


def follow(page: str, board: chess.Board, pool: EnginePool, store: Store | None,
           multipv: int) -> None:
    """Point the page's live search at ``board`` (if the live engine is on); never raises."""
    if not state.live_on(page):
        return
    current = state.live_search(page)
    if current is not None and current.fen == board.fen() and not current.snapshot().error:
        return
    if current is not None:
        current.stop()
    try:
        if _cached(pool, store, board, multipv) is not None:
            state.set_live_search(page, None)  # the cache answers; no engine needed
            return

        def keep(result: PositionEval) -> None:
            if store is not None:
                store.put_eval(result, multipv)

        search = LiveSearch(pool, board, multipv=multipv, limit=live_limit(), on_done=keep)
        state.set_live_search(page, search.start())
        # This runs in the board's callback, just before the page reruns: a moment's wait
        # lets that rerun show the first lines already (Stockfish has one in milliseconds).
        search.wait_for_lines(FIRST_LINE_WAIT_S)
    except ChessAppError as exc:
        log.warning("live engine unavailable: %s", exc)


def stop(page: str) -> None:
    search = state.live_search(page)
    if search is not None:
        search.stop()
    state.set_live_search(page, None)


def toggle(page: str) -> None:
    """The ``l`` key: flip the live engine's toggle (safe in a callback, before the widget)."""
    st.session_state[state.live_toggle_key(page)] = not state.live_on(page)
    if not state.live_on(page):
        stop(page)


def live_toggle(page: str) -> bool:
    """The on/off toggle; drawn outside the polling fragment (it sets its timer)."""
    on = st.toggle("Live engine (l)", key=state.live_toggle_key(page),
                   help="Stockfish analyses the position on the board as you step")
    if not on:
        stop(page)
    return on


def live_panel(page: str, board: Callable[[], chess.Board], pool: Callable[[], EnginePool],
               store: Store | None, multipv: int) -> None:
    """Draw the panel; run it as ``st.fragment(..., run_every=POLL_S)`` while it is on."""
    if not state.live_on(page):
        return
    position = board()
    try:
        engine = pool()
        follow(page, position, engine, store, multipv)
        done = _cached(engine, store, position, multipv)
    except ChessAppError as exc:
        st.warning(f"The live engine is unavailable: {plain(exc)}")
        return
    search = state.live_search(page)
    if search is not None and search.fen == position.fen():
        show_snapshot(position, search.snapshot())
    elif done is not None:
        show_snapshot(position, LiveSnapshot(position.fen(), max(
            (line.depth or 0) for line in done.lines), sum(
            (line.nodes or 0) for line in done.lines[:1]), 0, done.lines, 0, True))


def show_snapshot(board: chess.Board, snap: LiveSnapshot) -> None:
    if snap.error:
        st.warning(f"The live engine stopped: {plain(snap.error)}")
        return
    speed = f" · {snap.nps / 1000:,.0f} kn/s" if snap.nps else ""
    status = "done" if snap.done else f"thinking, {snap.elapsed_s:.1f} s"
    st.caption(f"Live: depth {snap.depth} · {snap.nodes:,} nodes{speed} · {status}")
    if not snap.lines:
        return
    rows = [{"#": i, "Eval": plain(line.eval.text()),
             "Line": plain(numbered_line(board, san_line(board, line.pv, limit=12)))}
            for i, line in enumerate(snap.lines, start=1)]
    # st.table renders Markdown: plain() keeps a numbered line from becoming a list.
    st.table(pd.DataFrame(rows).set_index("#"))
