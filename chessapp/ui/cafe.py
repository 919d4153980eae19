"""Page 1, "Café 1913": the reconstructed game as a narrated, engine-checked story.

The page reads like its layout. Everything that depends on the ply (board,
eval bar, buttons, move list, slider, narration, eval graph) lives in one
``st.fragment``, so a click reruns only that fragment; the rest (the metaphor
picture, the claims, the beat cards, the engine and export panels) is drawn on
full runs. The data comes from :mod:`chessapp.view.cafe`, loaded once per
process from ``games/``; no engine is called unless asked. A re-analysis is a
job in the one registry (:mod:`chessapp.jobs`), keyed by this browser session.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from chessapp.analysis import build_game_analysis
from chessapp.errors import ChessAppError
from chessapp.evals import SearchLimit
from chessapp.jobs import JobState, cafe_key, evaluator_for, start_game_job
from chessapp.settings import DEFAULT_NODES, AnalysisSettings, LimitKind
from chessapp.ui import owner, state, widgets
from chessapp.ui.state import PlyCursor
from chessapp.ui.widgets import plain
from chessapp.view.cafe import CafeView, games_dir, load_cafe, with_analysis
from chessapp.view.replay import autoplay_delay

# A page runs as "__main__": name the logger so CHESSAPP_LOG_LEVEL reaches it.
log = logging.getLogger("chessapp.ui.cafe")

#: How often a playing board checks whether the next move is due.
AUTOPLAY_TICK_S = 0.5
#: How often the engine panel polls a running re-analysis.
POLL_S = 1.0


@st.cache_resource(show_spinner="Loading the café game…")
def _load(folder: str) -> CafeView:
    return load_cafe(Path(folder))


def shipped_view() -> CafeView:
    """The shipped game, evals and story, parsed once per server process (per folder)."""
    return _load(str(games_dir()))


def current_view() -> CafeView:
    live = state.cafe_live_view()
    return live if live is not None else shipped_view()


# --- The board panel (a fragment) --------------------------------------------------------


def board_panel(view: CafeView, cursor: PlyCursor, registered_playing: bool) -> None:
    started = time.perf_counter()
    _board_panel(view, cursor, registered_playing)
    log.debug("board fragment ran in %.1f ms", (time.perf_counter() - started) * 1000)


def _board_panel(view: CafeView, cursor: PlyCursor, registered_playing: bool) -> None:
    if cursor.playing != registered_playing:
        st.rerun()  # Play/Pause changes the fragment's timer, which only a full run can set
    if cursor.playing:
        _autoplay_step(view, cursor)
    view_at = view.replay.at(cursor.ply)
    cursor.prepare_widgets()
    board_col, side_col = st.columns([3, 2], gap="medium")
    with board_col:
        bar, board = st.columns([1, 20], gap="small")
        with board:
            widgets.board_image(view_at, shapes=view.shapes_at(view_at.ply),
                                best=cursor.show_best and view.replay.analysed,
                                flipped=cursor.flipped)
        with bar:
            widgets.eval_bar(view_at, flipped=cursor.flipped)
        widgets.nav_buttons(cursor, autoplay=True)
        widgets.ply_slider(cursor)
        widgets.eval_caption(view_at)
    with side_col:
        narration_panel(view, view_at.ply)
        widgets.move_list(cursor, view.replay)
        st.toggle("Engine's best move (blue arrow)", value=True, key=cursor.best_arrow_key,
                  disabled=not view.replay.analysed)
    widgets.eval_graph(cursor, view.replay, view.beats)


def _autoplay_step(view: CafeView, cursor: PlyCursor) -> None:
    if cursor.ply >= cursor.last:
        cursor.set_playing(False)
        st.rerun()
    if cursor.since_last_step >= autoplay_delay(view.fresh_narration(cursor.ply)):
        cursor.go(cursor.ply + 1)
        cursor.mark_step()


def narration_panel(view: CafeView, ply: int) -> None:
    beat = view.beat_at(ply)
    if beat is None:
        st.caption("The narrator is silent here: step on to the next beat.")
        return
    with st.container(border=True):
        st.markdown(f"**{plain(beat.act)}** · {plain(beat.date)} · {plain(beat.place)}")
        st.markdown(plain(beat.narration))
        if beat.metaphor:
            st.caption(f"**The metaphor.** {plain(beat.metaphor)}")


# --- Full-run sections --------------------------------------------------------------------


def metaphor_section(view: CafeView, cursor: PlyCursor) -> None:
    st.subheader("The game as a metaphor")
    if not view.beats or not view.events:
        st.caption("The story track is missing, so there is no timeline to draw.")
        return
    st.caption("Above, the game's eval curve; below, the rivalry's timeline. Each story beat "
               "is joined to its historical moment. Click a beat to jump the board there.")
    widgets.metaphor_picture(cursor, view.replay, view.beats, view.events,
                             key=state.CAFE_METAPHOR_CHART)


def verdict(holds: bool | None) -> str:
    return "needs an analysis" if holds is None else "holds" if holds else "does not hold"


def claims_frame(view: CafeView) -> pd.DataFrame:
    rows = [{
        "Beat": beat.key,
        "Ply": claim.ply,
        "The narrator says": claim.claim,
        "The engine says": verdict(claim.holds),
        "Figures": "; ".join(f"{k}: {v}" for k, v in claim.figures),
        "Why": claim.explanation,
    } for beat in view.beats for claim in beat.claims]
    return pd.DataFrame(rows, columns=["Beat", "Ply", "The narrator says", "The engine says",
                                       "Figures", "Why"])


def claims_section(view: CafeView) -> None:
    st.subheader("What the narrator says vs what the engine says")
    frame = claims_frame(view)
    if frame.empty:
        st.caption("No claims to check (no story track or no analysis).")
        return
    held = int((frame["The engine says"] == "holds").sum())
    st.caption(f"{held} of {len(frame)} claims hold by the engine's analysis.")
    st.dataframe(frame, hide_index=True, width="stretch")
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
                widgets.board_image(at, shapes=beat.shapes, size=220,
                                    alt=f"Story beat {beat.key}: {at.label}")
            with text:
                st.markdown(f"**{plain(beat.act)}** · {plain(beat.date)} · {plain(beat.place)}"
                            f" · plies {beat.first_ply}–{beat.last_ply}")
                st.markdown(plain(beat.narration))
                if beat.metaphor:
                    st.caption(f"**The metaphor.** {plain(beat.metaphor)}")
                if beat.engine_note:
                    st.caption(f"**The engine.** {plain(beat.engine_note)}")
                for claim in beat.claims:
                    # Material icons, not emoji: a bare Chromium has no emoji font.
                    mark = {True: ":green[:material/check_circle:]",
                            False: ":red[:material/cancel:]",
                            None: ":gray[:material/help:]"}[claim.holds]
                    figures = ", ".join(f"{k} {v}" for k, v in claim.figures)
                    st.markdown(f"{mark} **{plain(claim.claim)}** — {plain(claim.explanation)}"
                                + (f" ({plain(figures)})" if figures else ""))
                st.button("Show on the board", key=state.cafe_beat_button_key(beat.key),
                          on_click=cursor.go, args=(beat.anchor,))


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


def main() -> None:
    owner.mount()
    owner.sign_in_controls()
    view = current_view()
    cursor = PlyCursor(state.CAFE, view.replay.last)
    cursor.sync_from_url()
    st.title(plain(view.title), anchor=False)
    h = view.game.headers
    st.caption(" · ".join(widgets.plain(h.get(k, "?")) for k in ("White", "Black", "Site", "Date",
                                                                  "Result")))
    for problem in view.problems:
        st.warning(widgets.plain(problem))

    playing = cursor.playing
    st.fragment(board_panel, run_every=AUTOPLAY_TICK_S if playing else None)(
        view, cursor, playing)

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
