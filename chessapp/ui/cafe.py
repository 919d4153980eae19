"""Page 1, "Café 1913": the reconstructed game as a narrated, engine-checked story.

The page reads like its layout. The board is the chessground element
(:mod:`chessapp.ui.board_element`): the browser steps through the game
itself (keys, its buttons, its move list, autoplay and "Read aloud") and
reports the ply 150 ms after the last step. Everything that depends on the
ply (the element, the narration, the eval caption, the eval graph) lives in
one ``st.fragment``, so a report reruns only that fragment; the rest (the
metaphor picture, the claims, the beat cards, the engine and export panels)
is drawn on full runs. The data comes from :mod:`chessapp.view.cafe`, loaded
once per process from ``games/`` with the board's payload built once per game
and analysis; no engine is called unless asked. A re-analysis is a job in the
one registry (:mod:`chessapp.jobs`), keyed by this browser session.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import chess
import streamlit as st

from chessapp.analysis import build_game_analysis
from chessapp.engine import EngineConfig, EnginePool, shared_pool
from chessapp.errors import ChessAppError
from chessapp.evals import SearchLimit
from chessapp.jobs import JobState, cafe_key, evaluator_for, start_game_job
from chessapp.settings import DEFAULT_NODES, AnalysisSettings, LimitKind
from chessapp.ui import cafe_widgets, live_panel, owner, state, widgets
from chessapp.ui.board_element import board_element
from chessapp.ui.state import PlyCursor
from chessapp.ui.widgets import plain
from chessapp.view.board import BoardEvent, LiveToggleEvent, main_line_path
from chessapp.view.board import Path as NodePath
from chessapp.view.cafe import CafeView, games_dir, load_cafe, with_analysis

# A page runs as "__main__": name the logger so CHESSAPP_LOG_LEVEL reaches it.
log = logging.getLogger("chessapp.ui.cafe")

#: How often the engine panel polls a running re-analysis.
POLL_S = 1.0


@st.cache_resource(show_spinner="Loading the café game…")
def _load(folder: str) -> CafeView:
    return load_cafe(Path(folder))


def shipped_view() -> CafeView:
    """The shipped game, evals and story (and the board's payload), once per server process."""
    return _load(str(games_dir()))


def current_view() -> CafeView:
    live = state.cafe_live_view()
    return live if live is not None else shipped_view()


# --- The board panel (a fragment) --------------------------------------------------------


def board_panel(view: CafeView, cursor: PlyCursor) -> None:
    started = time.perf_counter()
    _board_panel(view, cursor)
    log.debug("board fragment ran in %.1f ms", (time.perf_counter() - started) * 1000)


def _board_panel(view: CafeView, cursor: PlyCursor) -> None:
    if state.take_full_run_request():
        st.rerun()  # from inside the fragment: the whole page runs (the live panel's timer)
    def reported(path: NodePath) -> None:
        # The café game has no side lines: a node's depth is its ply on the main line.
        cursor.go(len(path), from_board=True)
        if state.live_on(state.CAFE):
            live_panel.follow(state.CAFE, _board_at(view, cursor.ply), _live_pool(),
                              widgets.store_or_none(), LIVE_LINES)

    ply = cursor.ply
    board_col, side_col = st.columns([3, 2], gap="medium")
    with board_col, st.container(key="cafe-board-area"):
        board_element(
            view.board_tree, key=state.CAFE_BOARD, on_path=reported, on_event=_on_event,
            live_key=True,
            cursor=main_line_path(ply), cursor_seq=cursor.board_seq,
            autoplay=True, drawable=True, movable=False,
            show_best=view.replay.analysed, show_best_seq=0,
            read_aloud=state.cafe_read_aloud(), eval_bar=True, move_label=True,
            scroll_into_view=state.cafe_scroll_wanted(cursor.board_seq),
            label="Café 1913 board",
        )
    view_at = view.replay.at(ply)
    with side_col:
        st.toggle("Read aloud", key=state.CAFE_READ_ALOUD,
                  help="Speak each passage's narration with your browser's own voice "
                       "(nothing is sent anywhere); autoplay then waits for the end of it.")
        with st.container(key="cafe-move"):
            st.markdown(f"**{plain(view_at.label + view_at.glyph)}**" if ply else "**Start**")
        narration_panel(view, ply)
        widgets.eval_caption(view_at)
        st.caption("Keys: ←/→ step, Home/End, Space plays, `f` flips, `a` the engine's arrow, "
                   "`?` all keys.")
    widgets.eval_graph(cursor, view.replay, view.beats)


def narration_panel(view: CafeView, ply: int) -> None:
    beat = view.beat_at(ply)
    with st.container(key="cafe-narration"):
        if beat is None:
            st.caption("The narrator is silent here: step on to the next beat.")
            return
        with st.container(border=True):
            st.markdown(f"**{plain(beat.act)}** · {plain(beat.date)} · {plain(beat.place)}")
            st.markdown(plain(beat.narration))
            if beat.metaphor:
                st.caption(f"**The metaphor.** {plain(beat.metaphor)}")


# --- Full-run sections --------------------------------------------------------------------


def show_on_board(cursor: PlyCursor, ply: int) -> None:
    """A click far from the board: move it there and bring it into view."""
    cursor.go(ply)
    state.request_cafe_scroll(cursor.board_seq)


def metaphor_section(view: CafeView, cursor: PlyCursor) -> None:
    st.subheader("The game as a metaphor")
    if view.picture is None:
        st.caption("The story track has no timeline, so there is no picture to draw.")
        return
    st.caption("Above, the game's eval curve; below, the rivalry's years. Each story beat is "
               "tied to its own moment of the history; the cold open is one bracket at 1913. "
               "Click a beat to show it on the board.")
    cafe_widgets.metaphor_chart(view.picture, view.replay, key=state.CAFE_METAPHOR_CHART,
                                on_beat=lambda ply: show_on_board(cursor, ply))


def claims_section(view: CafeView) -> None:
    st.subheader("What the narrator says vs what the board and the engine say")
    if view.claim_table is None or not view.claim_table.rows:
        st.caption("No claims to check (no story track or no analysis).")
        return
    with st.container(key="cafe-claims"):
        cafe_widgets.claim_table(view.claim_table)
    if view.reading:
        st.markdown("**The engine's reading of the story**")
        for line in view.reading:
            st.markdown(f"- {plain(line)}")


def beat_cards(view: CafeView, cursor: PlyCursor) -> None:
    st.subheader("The beats")
    for beat in view.beats:
        with st.container(border=True):
            pic, text = st.columns([1, 2], gap="medium")
            with pic:
                at = view.replay.at(beat.anchor)
                widgets.board_image(at, shapes=view.shapes_at(beat.anchor), size=220,
                                    alt=f"Story beat {beat.key}: {at.label}")
            with text:
                st.markdown(f"**{plain(beat.act)}** · {plain(beat.date)} · {plain(beat.place)}"
                            f" · plies {beat.first_ply}–{beat.last_ply}")
                st.markdown(plain(beat.narration))
                if beat.metaphor:
                    st.caption(f"**The metaphor.** {plain(beat.metaphor)}")
                if beat.engine_note:
                    st.caption(f"**The engine.** {plain(beat.engine_note)}")
                st.button("Show on the board", key=state.cafe_beat_button_key(beat.key),
                          on_click=show_on_board, args=(cursor, beat.anchor))


# --- Re-analysis with the real engine (a polling fragment) --------------------------------


def _start_job(view: CafeView) -> None:
    nodes = int(st.session_state.get(state.CAFE_REANALYSE_NODES, DEFAULT_NODES))
    store = widgets.store_or_none()
    if store is None:
        return
    try:
        # A full game is background work: it waits its turn behind interactive requests,
        # round-robin with other visitors (chessapp.scheduler).
        start_game_job(cafe_key(state.cafe_visitor()), view.game,
                       evaluator_for(AnalysisSettings(), visitor=owner.visitor()),
                       SearchLimit(nodes=nodes), store)
    except ChessAppError as exc:
        st.toast(f"Cannot start the analysis: {plain(exc)}", icon=":material/error:")


def _adopt_result() -> bool:
    """Show a finished re-analysis (once); True when the view changed."""
    job = state.cafe_job()
    if job is None or job.seq == state.cafe_adopted_job():
        return False
    result = job.result
    if result is None or job.progress().state is not JobState.DONE:
        return False
    shipped = shipped_view()
    state.set_cafe_live_view(with_analysis(shipped, build_game_analysis(shipped.game, result)))
    state.set_cafe_adopted_job(job.seq)
    return True


def engine_panel(view: CafeView, registered_running: bool) -> None:
    job = state.cafe_job()
    progress = None if job is None else job.progress()
    running = progress is not None and not progress.state.finished
    if _adopt_result():
        st.rerun()
    if running != registered_running:
        st.rerun()  # start or stop polling
    status = widgets.engine_status()
    available = status.available
    if view.analysis is not None:
        a = view.analysis
        live = state.cafe_live_view() is not None
        source = "from your re-analysis" if live else "shipped with the app"
        st.caption(f"Evals {source}: {plain(a.engine.name)}, {plain(a.limit.key())} per position.")
    if running and progress is not None and job is not None:
        st.progress(progress.fraction,
                    text=f"Stockfish: {progress.done} of {progress.total} positions")
        if progress.queue_place:
            st.caption(f"Waiting for the engines, which every visitor shares: you are "
                       f"number {progress.queue_place} in the queue.")
        st.button("Cancel", key=state.CAFE_CANCEL_BUTTON, on_click=job.cancel)
        return
    if progress is not None and progress.state is JobState.FAILED:
        st.error(f"The analysis failed: {plain(progress.error)}")
    elif progress is not None and progress.state is JobState.CANCELLED:
        st.info("Analysis cancelled.")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        low, high = LimitKind.NODES.bounds
        st.number_input("Nodes per position", min_value=low, max_value=high,
                        value=DEFAULT_NODES, step=50_000, key=state.CAFE_REANALYSE_NODES,
                        disabled=not available)
        st.button("Re-analyse with Stockfish", key=state.CAFE_REANALYSE_BUTTON,
                  on_click=_start_job, args=(view,), disabled=not available)
    if not available:
        st.caption(f"No engine: {plain(status.message)}")


# --- The page -----------------------------------------------------------------------------


def _on_event(event: BoardEvent) -> None:
    """The café board is not movable: its one event is the ``l`` key (live engine)."""
    if isinstance(event, LiveToggleEvent):
        live_panel.toggle(state.CAFE)
        state.request_full_run()


#: Engine lines the café page's live engine shows.
LIVE_LINES = 3


def _board_at(view: CafeView, ply: int) -> chess.Board:
    return chess.Board(view.replay.at(ply).fen)


def _live_pool() -> EnginePool:
    return shared_pool(EngineConfig.from_env())


def main() -> None:
    owner.mount()
    owner.sign_in_controls()
    started = time.perf_counter()
    _main()
    log.debug("café page full run in %.1f ms", (time.perf_counter() - started) * 1000)


def _main() -> None:
    view = current_view()
    cursor = PlyCursor(state.CAFE, view.replay.last)
    cursor.sync_from_url()
    st.title(plain(view.title), anchor=False)
    h = view.game.headers
    st.caption(" · ".join(widgets.plain(h.get(k, "?")) for k in ("White", "Black", "Site", "Date",
                                                                  "Result")))
    for problem in view.problems:
        st.warning(widgets.plain(problem))

    st.fragment(board_panel)(view, cursor)
    # The live engine: the position on the board, streamed (its own fragment, see analysis.py).
    if live_panel.live_toggle(state.CAFE):
        st.fragment(live_panel.live_panel, run_every=live_panel.POLL_S)(
            state.CAFE, lambda: _board_at(view, PlyCursor(state.CAFE, view.replay.last).ply),
            _live_pool, widgets.store_or_none(), LIVE_LINES)

    with st.expander("Engine", expanded=False):
        running = state.cafe_job_running()
        st.fragment(engine_panel, run_every=POLL_S if running else None)(view, running)
    metaphor_section(view, cursor)
    claims_section(view)
    beat_cards(view, cursor)
    st.subheader("Export")
    widgets.export_block(state.CAFE, view.game, view.analysis, narration=view.narration,
                         shapes=view.shapes)


if __name__ == "__main__":
    main()
