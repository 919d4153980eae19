"""Page 2, "Analysis": engine analysis sessions for any game.

The page reads like its layout: load a game, set the engine, step through
the game on a board you can play on, read the tables, export, manage saved
sessions. The model is :class:`chessapp.session.AnalysisSession`; every action goes
through the controller :class:`chessapp.view.analysis.AnalysisController`
(one cursor: the line and the ply on it), so this file only reads widgets,
calls the controller and draws what it says. Every change is saved to the Store at once, so a
closed tab loses nothing, and a session has a shareable URL
(``?session=ID&ply=N``).

Everything that depends on the ply (board, eval bar, buttons, move list,
slider, engine lines, the explore tools, the graph) is one ``st.fragment``,
so a click reruns only that. A running analysis is polled by another
fragment with ``run_every``; the analysis itself runs on a server thread
(:class:`chessapp.jobs.AnalysisJob`), so navigation keeps working.

User text (names, comments, file contents) is never rendered as HTML: it goes
through :func:`plain` before Markdown, or into dataframes and text widgets.

Sessions belong to their owner (:mod:`chessapp.ui.owner`): the list shows only
yours; a shared link to someone else's opens read-only, in memory (step,
explore, analyse), and "Save a copy" makes it yours. Every engine call waits
its turn in the fair scheduler (:mod:`chessapp.scheduler`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import chess
import pandas as pd
import streamlit as st

from chessapp import jobs
from chessapp.analysis import Evaluator, win_percent
from chessapp.engine import EngineStatus
from chessapp.errors import BadInput, ChessAppError, SessionNotFound
from chessapp.export import filename_for
from chessapp.games import MAX_PGN_BYTES, decode_pgn, game_from_fen, list_games, read_game
from chessapp.jobs import AnalysisJob, JobState
from chessapp.retro import Feedback, evaluator_search, retro_limit
from chessapp.scheduler import Priority
from chessapp.session import AnalysisSession
from chessapp.settings import (
    MAX_MULTIPV,
    MAX_SESSIONS_PER_OWNER,
    MAX_STORY_BYTES,
    AnalysisSettings,
    LimitKind,
    engine_choices,
    max_threads,
)
from chessapp.store import Store
from chessapp.story import check_track
from chessapp.story import parse_track as parse_story
from chessapp.story.generate import generate_story
from chessapp.tree import (
    copy_game,
    game_to_pgn,
    index_path,
    mainline_path,
    move_label,
    parse_move,
    san_line,
    start_ply,
    uci_path,
)
from chessapp.ui import live_panel, owner, state, widgets
from chessapp.ui.board_element import board_element
from chessapp.ui.state import AnalysisKeys as K
from chessapp.ui.state import PendingPick, PlyCursor, RetroState, StoryState
from chessapp.view.analysis import (
    AnalysisController,
    EngineLineRow,
    engine_shapes,
    judged_copy,
    move_rows,
    opening_names,
    phase_rows,
    retro_hint,
    summary_rows,
)
from chessapp.view.board import BoardEvent, LiveToggleEvent, tree_payload
from chessapp.view.board import Path as BoardPath
from chessapp.view.board import main_line_path as main_line_index
from chessapp.view.board_edits import apply_event
from chessapp.view.cafe import Beat, beat_for_ply, story_beats
from chessapp.view.replay import autoplay_delay, clamp_ply

# A page runs as "__main__": name the logger so CHESSAPP_LOG_LEVEL reaches it.
log = logging.getLogger("chessapp.ui.analysis")

#: How often the engine panel polls a running analysis.
POLL_S = 1.0

plain = widgets.plain
_store = widgets.shared_store
store_or_none = widgets.store_or_none
_engine_status = widgets.engine_status


def _evaluator(settings: AnalysisSettings,
               priority: Priority = Priority.BACKGROUND) -> Evaluator:
    """The engines for this visitor, through the fair scheduler, at ``priority``."""
    return jobs.evaluator_for(settings, visitor=owner.visitor(), priority=priority)


def _read_only(session: AnalysisSession) -> bool:
    """Someone else's session (a shared link): changes stay in this tab's memory."""
    return session.read_only_for(owner.current_owner())


def _save(session: AnalysisSession) -> bool:
    """The autosave: the owner's session is saved; someone else's is not (it is read-only
    for this visitor, and the Store would refuse). A refusal or a full store is flashed."""
    if _read_only(session):
        return False
    try:
        session.save(_store(), owner=owner.current_owner())
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"Not saved: {exc}")
        return False
    return True


# --- Opening a session ------------------------------------------------------------------------


def _open(session: AnalysisSession, *, ply: int = 0) -> bool:
    """Make ``session`` the page's session: save it, point the URL and the cursor at it.

    False when a new session could not be saved (the store is full): it still opens,
    in this tab only, and the visitor has been told why.
    """
    saved = session.session_id is not None or _save(session)
    state.set_analysis_session(session)
    main = mainline_path(session.game)
    state.set_analysis_line(main)
    state.set_analysis_pending(None)
    if session.session_id is not None:
        state.set_analysis_url_session(session.session_id)
        st.query_params[state.SESSION_PARAM] = session.session_id
    PlyCursor(state.ANALYSIS, len(main)).go(ply)
    _seed_settings(session.settings, force=True)
    _reset_export_options()
    st.session_state[K.RENAME] = session.name
    return saved


def _reset_export_options() -> None:
    """The export options for evals are drawn disabled (and off) without an analysis;
    forget them when the analysis changes so they come back with their defaults."""
    for option in ("evals", "judgements", "variations"):
        st.session_state.pop(state.export_option_key(state.ANALYSIS, option), None)


def _seed_settings(settings: AnalysisSettings, *, force: bool = False) -> None:
    """Point the engine-setting widgets at a session's settings (before they are drawn).

    Streamlit forgets a widget's value when a run does not draw it (another
    page was open), so the values are seeded again whenever they are missing.
    """
    values: dict[str, Any] = {K.LIMIT_KIND: settings.kind.value, K.LIMIT_VALUE: settings.value,
                              K.MULTIPV: settings.multipv, K.THREADS: settings.threads}
    if settings.engine_path:
        values[K.ENGINE_PATH] = settings.engine_path
    for key, value in values.items():
        if force or key not in st.session_state:
            st.session_state[key] = value


def _load_text(text: str) -> None:
    infos = list_games(text)
    if len(infos) == 1:
        if _open(AnalysisSession(read_game(text, 0))):
            state.push_analysis_flash("success", "Game loaded and saved.")
    else:
        state.set_analysis_pending(PendingPick(text, tuple(infos)))
        state.push_analysis_flash("info", f"The PGN holds {len(infos)} games: pick one below.")


def _on_paste() -> None:
    text = str(st.session_state.get(K.PASTE) or "")
    try:
        if not text.strip():
            state.push_analysis_flash("error", "Paste a PGN first.")
            return
        _load_text(text)
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"Could not read the PGN: {exc}")


def _on_upload() -> None:
    upload = st.session_state.get(K.UPLOAD)
    if upload is None:
        return
    try:
        if upload.size > MAX_PGN_BYTES:
            state.push_analysis_flash(
                "error", f"The file is {upload.size:,} bytes; the limit is {MAX_PGN_BYTES:,}.")
            return
        _load_text(decode_pgn(upload.getvalue()))
    except ChessAppError as exc:
        # Not plain() here: _show_flash escapes every flash once, as it is shown.
        state.push_analysis_flash("error", f"Could not read {upload.name}: {exc}")


def _on_pick() -> None:
    pending = state.analysis_pending()
    index = st.session_state.get(K.PICK_GAME)
    if pending is None or index is None:
        return
    try:
        if _open(AnalysisSession(read_game(pending.text, int(index) - 1))):
            state.push_analysis_flash("success", f"Game {index} loaded and saved.")
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"Could not read the PGN: {exc}")


def _on_fen() -> None:
    fen = str(st.session_state.get(K.FEN) or "").strip()
    try:
        if _open(AnalysisSession(game_from_fen(fen))):
            state.push_analysis_flash("success", "Position set up and saved.")
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"Could not set up the position: {exc}")


def _open_saved(session_id: str, *, ply: int = 0) -> bool:
    try:
        session = AnalysisSession.load(_store(), session_id, read_game)
    except SessionNotFound:
        state.push_analysis_flash("error", "No saved session has that id: it may have been "
                                           "deleted.")
        return False
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"The saved session cannot be opened: {exc}")
        return False
    _open(session, ply=ply)
    return True


def _open_from_url() -> None:
    """On a full run, ``?session=ID`` opens that session (once; after that the page owns it)."""
    wanted = st.query_params.get(state.SESSION_PARAM)
    if not wanted or wanted == state.analysis_url_session():
        return
    state.set_analysis_url_session(wanted)
    ply = clamp_ply(st.query_params.get("ply"), 10**6)
    if not _open_saved(wanted, ply=ply):
        del st.query_params[state.SESSION_PARAM]


def input_section(expanded: bool) -> None:
    with st.expander("Load a game", expanded=expanded):
        paste, upload, fen = st.tabs(["Paste PGN", "Upload PGN", "Set up a FEN"])
        with paste:
            st.text_area("PGN", key=K.PASTE, height=160,
                         placeholder='[Event "..."]\n\n1. e4 e5 2. Nf3 Nc6 *')
            st.button("Load PGN", key=K.PASTE_BUTTON, on_click=_on_paste)
        with upload:
            st.file_uploader(f"A .pgn file (up to {MAX_PGN_BYTES // (1024 * 1024)} MB)",
                             type=["pgn", "txt"], key=K.UPLOAD, on_change=_on_upload)
        with fen:
            st.text_input("FEN", key=K.FEN, placeholder=chess.STARTING_FEN)
            st.button("Set up position", key=K.FEN_BUTTON, on_click=_on_fen)
        pending = state.analysis_pending()
        if pending is not None:
            infos = {i.index: i for i in pending.games}

            def label(index: int) -> str:
                i = infos[index]
                text = f"{i.index}. {i.white} – {i.black}"
                if i.event and i.event != "?":
                    text += f", {i.event}"
                if i.date and not i.date.startswith("????"):
                    text += f", {i.date}"
                return f"{text} ({i.result}, {i.plies} plies)"

            st.selectbox("Game", options=list(infos), format_func=label, key=K.PICK_GAME)
            st.button("Load this game", key=K.PICK_BUTTON, on_click=_on_pick)


# --- Engine settings and the background job ---------------------------------------------------


def _settings_from_widgets(session: AnalysisSession) -> AnalysisSettings:
    kind = LimitKind(st.session_state.get(K.LIMIT_KIND, session.settings.kind.value))
    return AnalysisSettings(
        kind=kind,
        value=int(st.session_state.get(K.LIMIT_VALUE, session.settings.value)),
        multipv=int(st.session_state.get(K.MULTIPV, session.settings.multipv)),
        engine_path=st.session_state.get(K.ENGINE_PATH) or session.settings.engine_path,
        threads=int(st.session_state.get(K.THREADS, session.settings.threads)),
    )


def _on_kind_change() -> None:
    kind = LimitKind(st.session_state[K.LIMIT_KIND])
    st.session_state[K.LIMIT_VALUE] = kind.default


def _on_run(session: AnalysisSession) -> None:
    try:
        session.settings = _settings_from_widgets(session)
        _save(session)
        jobs.start_main_line_job(session, _evaluator(session.settings), _store(),
                                 viewer=owner.current_owner(), viewer_label=owner.tab_label())
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"Cannot start the analysis: {exc}")


def _on_analyse_variation(session: AnalysisSession) -> None:
    try:
        session.settings = _settings_from_widgets(session)
        jobs.start_variation_job(session, _controller(session).line,
                                 _evaluator(session.settings, Priority.INTERACTIVE), _store(),
                                 viewer=owner.current_owner(), viewer_label=owner.tab_label())
        # The button sits in the board's fragment, whose rerun would not start the job
        # panel's polling: ask for a whole-page run (see board_panel).
        state.request_full_run()
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"Cannot analyse the variation: {exc}")


def _jobs(session: AnalysisSession) -> tuple[AnalysisJob | None, AnalysisJob | None]:
    if session.session_id is None:
        return None, None
    # This tab's own read-only jobs first: one started in the moment before the browser's
    # owner token arrived is this tab's, and its result is saved once the owner is known.
    tab = owner.tab_label()
    sid = session.session_id
    mine = not _read_only(session)

    def pick(own_key: str, tab_key: str) -> AnalysisJob | None:
        found = [j for j in (jobs.JOBS.get(tab_key), jobs.JOBS.get(own_key) if mine else None)
                 if j is not None]
        return max(found, key=lambda j: j.seq, default=None)  # the newest

    return (pick(jobs.main_line_key(sid), jobs.main_line_key(sid, tab)),
            pick(jobs.variation_key(sid), jobs.variation_key(sid, tab)))


def _adopt_finished(session: AnalysisSession) -> bool:
    """Fold finished jobs into this tab's session (once each); True when something changed."""
    if not _controller(session).adopt_finished(*_jobs(session)):
        return False
    _reset_export_options()
    _save(session)
    return True


def _running(session: AnalysisSession) -> bool:
    return any(job is not None and not job.progress().state.finished for job in _jobs(session))


def engine_settings(session: AnalysisSession, status: EngineStatus) -> None:
    available = status.available
    _seed_settings(session.settings)
    kind = LimitKind(st.session_state.get(K.LIMIT_KIND, session.settings.kind.value))
    low, high = kind.bounds
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.selectbox("Limit per position", options=[k.value for k in LimitKind],
                     format_func=lambda v: LimitKind(v).label, key=K.LIMIT_KIND,
                     on_change=_on_kind_change)
        st.number_input(kind.label, min_value=low, max_value=high,
                        step={LimitKind.NODES: 10_000, LimitKind.DEPTH: 1,
                              LimitKind.MOVETIME: 100}[kind], key=K.LIMIT_VALUE)
        st.number_input("Lines (MultiPV)", min_value=1, max_value=MAX_MULTIPV,
                        key=K.MULTIPV)
        st.number_input("Threads per engine", min_value=1, max_value=max_threads(),
                        key=K.THREADS)
        choices = engine_choices(status.path)
        if choices:
            if st.session_state.get(K.ENGINE_PATH) not in choices:
                st.session_state[K.ENGINE_PATH] = choices[0]
            st.selectbox("Engine", options=choices, key=K.ENGINE_PATH,
                         help="Engines the server offers (CHESSAPP_ENGINES).")
    running = _running(session)
    with st.container(horizontal=True):
        st.button("Analyse the game", key=K.RUN, type="primary", on_click=_on_run,
                  args=(session,), disabled=not available or running)
    if not available:
        st.warning(f"No chess engine is available, so analysis is off; you can still load and "
                   f"browse games. {status.message}")
    st.fragment(job_panel, run_every=POLL_S if running else None)(session, running)


def job_panel(session: AnalysisSession, registered_running: bool) -> None:
    """Progress of the background jobs, polled while one runs; results appear as they come."""
    main, var = _jobs(session)
    if _adopt_finished(session):
        st.rerun()
    running = _running(session)
    if running != registered_running:
        st.rerun()  # start or stop polling: only a full run can change run_every
    for job, what in ((main, "the game"), (var, "the variation")):
        if job is None:
            continue
        progress = job.progress()
        if not progress.state.finished:
            st.progress(progress.fraction, text=f"Analysing {what}: {progress.done} of "
                                                f"{progress.total} positions")
            if progress.queue_place:
                st.caption(f"Waiting for the engines, which every visitor shares: you are "
                           f"number {progress.queue_place} in the queue.")
            st.button("Cancel", key=f"{K.CANCEL}.{what}", on_click=job.cancel)
            if job is main:
                _partial_chart(job)
        elif progress.state is JobState.FAILED:
            st.error(f"The analysis of {what} failed: {plain(progress.error)}")
        elif progress.state is JobState.CANCELLED:
            st.info(f"The analysis of {what} was cancelled; finished positions are kept.")


def _partial_chart(job: AnalysisJob) -> None:
    rows = [{"ply": i, "White win %": round(win_percent(p.eval), 1)}
            for i, p in enumerate(job.partial()) if p is not None]
    if rows:
        st.line_chart(pd.DataFrame(rows), x="ply", y="White win %", height=120)


# --- The board and the explore tools (one fragment) ----------------------------------------------


def _controller(session: AnalysisSession) -> AnalysisController:
    """The page's cursor, from state: the line shown and the ply on it."""
    line = state.analysis_line()
    return AnalysisController(session, line, PlyCursor(state.ANALYSIS, len(line)).ply)


def _commit(ctrl: AnalysisController) -> None:
    """Write the controller's cursor back to state and the URL; the board follows."""
    state.set_analysis_line(ctrl.line)
    cursor = PlyCursor(state.ANALYSIS, len(ctrl.line))
    cursor.go(ctrl.ply)
    cursor.bump_board()  # the same ply on another line is still a move of the board


def _act(session: AnalysisSession, action: Callable[[AnalysisController], object], *,
         save: bool = False) -> None:
    """Run one controller action from a callback; a refusal is flashed, never raised."""
    ctrl = _controller(session)
    try:
        action(ctrl)
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"That cannot be done: {exc}")
        return
    _commit(ctrl)
    if save:
        _save(session)


def _play_parsed(session: AnalysisSession, parse: Callable[[chess.Board], chess.Move]) -> None:
    """Play the move ``parse`` reads off the position on the board, or flash why not."""
    ctrl = _controller(session)
    try:
        ctrl.play(parse(ctrl.board))
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"That move cannot be played: {exc}")
        return
    _commit(ctrl)
    _save(session)


def _on_san(session: AnalysisSession) -> None:
    text = str(st.session_state.get(K.SAN) or "")
    _play_parsed(session, lambda board: parse_move(board, text))


def _on_board_path(session: AnalysisSession, path: BoardPath) -> None:
    """The board reports where the user stopped: the cursor follows (the board is there)."""
    ctrl = _controller(session)
    try:
        ctrl.jump(uci_path(session.game, path))
    except ChessAppError:
        return  # a report from a tree that has changed since: the next one will fit
    state.set_analysis_line(ctrl.line)
    PlyCursor(state.ANALYSIS, len(ctrl.line)).go(ctrl.ply, from_board=True)
    if state.live_on(state.ANALYSIS):
        # Start the live search on the new position now, before the page reruns.
        live_panel.follow(state.ANALYSIS, ctrl.board, jobs.pool_for(session.settings),
                          _store(), session.settings.multipv)


def _on_board_event(session: AnalysisSession, event: BoardEvent) -> None:
    """A move, a drawing or a node-menu action on the board: apply it to the tree and save."""
    if isinstance(event, LiveToggleEvent):
        live_panel.toggle(state.ANALYSIS)
        state.request_full_run()  # the live panel's polling is set up by a whole-page run
        return
    try:
        outcome = apply_event(session.game, event)
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"That cannot be done on the board: {exc}")
        PlyCursor(state.ANALYSIS, len(state.analysis_line())).bump_board()  # put it back
        return
    if outcome.pgn is not None:
        state.set_analysis_copied(outcome.pgn)
    ctrl = _controller(session)
    ctrl.jump(uci_path(session.game, outcome.path))
    state.set_analysis_line(ctrl.line)
    cursor = PlyCursor(state.ANALYSIS, len(ctrl.line))
    cursor.go(ctrl.ply)
    cursor.bump_board()
    if outcome.changed:
        session.save(_store())


def _board_tree(session: AnalysisSession) -> dict[str, Any]:
    """The element's payload: the whole tree, with the engine's lines where they are known.

    Built once per version of the tree and of its evals (this tab remembers the last).
    """
    evals = session.evals_by_fen()
    story_state = state.analysis_story()
    key = (session.session_id, game_to_pgn(session.game), len(evals), id(session.analysis),
           None if story_state is None else story_state.toml)
    cached = state.analysis_board_tree()
    if cached is not None and cached[0] == key:
        return cached[1]
    shapes, best = engine_shapes(session.game, evals)
    # Autoplay waits longer where the story has more to say (on the main line).
    delays: dict[BoardPath, int] = {}
    for beat in _story_beats(session):
        delays[main_line_index(beat.first_ply)] = int(autoplay_delay(beat.narration) * 1000)
    tree = tree_payload(judged_copy(session.game, session.analysis), auto_shapes=shapes,
                        best_moves=best, delays_ms=delays)
    state.set_analysis_board_tree((key, tree))
    return tree


def board_panel(session: AnalysisSession) -> None:
    if state.take_full_run_request():
        st.rerun()  # from inside a fragment: the whole page runs, with its pollers
    ctrl = _controller(session)
    state.set_analysis_line(ctrl.line)
    cursor = PlyCursor(state.ANALYSIS, len(ctrl.line))
    replay = ctrl.replay
    view = replay.at(ctrl.ply)
    rows = ctrl.engine_lines()
    copied = state.analysis_copied()

    board_element(
        _board_tree(session), key=K.BOARD,
        on_path=lambda path: _on_board_path(session, path),
        on_event=lambda event: _on_board_event(session, event),
        cursor=index_path(session.game, ctrl.path), cursor_seq=cursor.board_seq,
        movable=True, drawable=True, autoplay=True, live_key=True,
        copied_pgn=None if copied is None else copied[1],
        copied_seq=0 if copied is None else copied[0],
        label=f"Board after {view.label}" if view.ply else "Start position",
    )
    if session.analysis is not None and ctrl.on_main_line:
        names = opening_names(session.analysis)
        if 0 <= ctrl.ply < len(names) and names[ctrl.ply]:
            st.caption(f"Opening: {plain(names[ctrl.ply])}")
    with st.container(horizontal=True, vertical_alignment="center"):
        widgets.eval_caption(view)
    beats = _story_beats(session) if ctrl.on_main_line else ()
    beat = beat_for_ply(beats, ctrl.ply)
    if beat is not None:
        with st.container(border=True):
            st.text(beat.narration)
    if ctrl.on_main_line:
        st.caption("Main line. Drag a piece (or click it, then a square) to explore another move; "
                   "right-click a move in the list to promote or delete a variation.")
    else:
        st.caption(f"Variation from ply {ctrl.branch}. It is saved with the session.")
    with st.form(K.SAN_FORM, clear_on_submit=True, border=False), \
            st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input("Play a move (SAN)", key=K.SAN, placeholder="Nf3")
        st.form_submit_button("Play move", key=K.SAN_BUTTON, on_click=_on_san, args=(session,))
    if not ctrl.on_main_line:
        with st.container(horizontal=True):
            st.button("Back to the main line", key=K.MAIN_LINE, on_click=_act,
                      args=(session, AnalysisController.back_to_main_line))
            st.button("Analyse this variation", key=K.ANALYSE_VARIATION,
                      on_click=_on_analyse_variation, args=(session,),
                      disabled=not _engine_status(None).available or _running(session))
            st.button("Delete this variation", key=K.DELETE_VARIATION, on_click=_act,
                      args=(session, AnalysisController.delete_variation),
                      kwargs={"save": True})
    engine_lines(rows)
    if session.analysis is not None:
        with st.container(horizontal=True):
            for color, key, label in ((chess.WHITE, K.NEXT_MISTAKE_WHITE, "White"),
                                      (chess.BLACK, K.NEXT_MISTAKE_BLACK, "Black")):
                st.button(f"Next {label} mistake ▶", key=key, on_click=_act,
                          args=(session, lambda c, side=color: c.jump_to_next_mistake(side)),
                          disabled=ctrl.next_mistake(color) is None,
                          help="Jump to the next inaccuracy, mistake or blunder")
    widgets.eval_graph(cursor, replay, beats)


def engine_lines(rows: list[EngineLineRow]) -> None:
    if not rows:
        st.caption("No engine lines for this position yet.")
        return
    # st.table renders Markdown: the numbered line must not become a list.
    frame = pd.DataFrame([{"#": r.rank, "Eval": plain(r.eval.text()), "Line": plain(r.numbered)}
                          for r in rows])
    st.table(frame.set_index("#"))


def _on_probe(session: AnalysisSession) -> None:
    """Ask the engine about the position on the board, now (an interactive request)."""
    ctrl = _controller(session)
    board = ctrl.board
    where = f"Ply {ctrl.ply} ({ctrl.replay.at(ctrl.ply).label})" if ctrl.ply else "Start position"
    try:
        settings = _settings_from_widgets(session)
        evaluator = _evaluator(settings, Priority.INTERACTIVE)
        started = time.perf_counter()
        result = jobs.evaluate_position(board, evaluator, settings, _store())
        # The load test reads this line (CHESSAPP_LOG_LEVEL=DEBUG): the server's share.
        log.debug("probe answered in %.1f ms", (time.perf_counter() - started) * 1000)
    except ChessAppError as exc:
        state.set_analysis_probe_answer((board.fen(),
                                         f"{where}: the engine could not answer: {exc}"))
        return
    if settings == session.settings:
        # Same settings as the session's: the board's engine lines show it too.
        session.variation_evals.setdefault(result.fen, result)
    best = result.best.pv[0] if result.best.pv else None
    text = f"{where}: engine {result.eval.text()}"
    if best is not None:
        text += f", best {board.san(best)}"
    state.set_analysis_probe_answer((board.fen(), f"{text} ({result.limit.key()})"))


def position_probe(session: AnalysisSession, available: bool) -> None:
    """"Ask the engine" about the board's position: one search, ahead of full-game jobs."""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Ask the engine about this position", key=K.PROBE, on_click=_on_probe,
                  args=(session,), disabled=not available,
                  help="One position, searched ahead of the queue of full-game analyses.")
        answer = state.analysis_probe_answer()
        if answer is not None:
            with st.container(key=K.PROBE_ANSWER):
                st.text(answer[1])


# --- Tables -----------------------------------------------------------------------------------


def results_tables(session: AnalysisSession) -> None:
    analysis = session.analysis
    if analysis is None:
        st.caption("No analysis yet. Run the engine to see accuracy, judgements and lines.")
        return
    st.caption(f"{plain(analysis.engine.name)}, {analysis.limit.key()} per position, "
               f"{analysis.multipv} line{'s' if analysis.multipv > 1 else ''}.")
    # st.table renders Markdown in its cells, so the players' names are escaped.
    rows = [{**row, "Player": plain(row["Player"]),
             "Accuracy": "–" if row["Accuracy"] is None else f"{row['Accuracy']:.1f}%",
             "ACPL": "–" if row["ACPL"] is None else f"{row['ACPL']:.0f}"}
            for row in summary_rows(analysis)]
    st.table(pd.DataFrame(rows).set_index("Side"))
    st.caption("By phase (lichess's Divider): accuracy and ACPL")
    st.table(pd.DataFrame(phase_rows(analysis)).set_index("Phase"))
    st.dataframe(pd.DataFrame(move_rows(analysis)), hide_index=True, width="stretch",
                 height=320, key=K.MOVE_TABLE, on_select=lambda: _on_move_row(session),
                 selection_mode="single-row")


def _on_move_row(session: AnalysisSession) -> None:
    """A click on a row of the move table jumps the board to that ply of the main line."""
    selection = st.session_state.get(K.MOVE_TABLE)
    rows = [] if selection is None else selection.get("selection", {}).get("rows", [])
    if rows and session.analysis is not None and 0 <= rows[0] < len(session.analysis.plies):
        ply = session.analysis.plies[rows[0]].ply
        _act(session, lambda c: c.jump(mainline_path(session.game, ply)))


# --- The story of the game -----------------------------------------------------------------------


def _story(session: AnalysisSession) -> StoryState | None:
    """The session's story: the user's uploaded track if there is one, else a generated one."""
    analysis = session.analysis
    if analysis is None:
        return None
    key = (session.session_id, id(analysis))
    current = state.analysis_story()
    if current is not None and current.key == key:
        return current
    generated = generate_story(session.game, analysis)
    made = StoryState(key, generated.track, generated.toml)
    state.set_analysis_story(made)
    return made


def _story_beats(session: AnalysisSession) -> tuple[Beat, ...]:
    story_state = _story(session)
    if story_state is None:
        return ()
    return story_beats(story_state.track, session.game, session.analysis)


def _on_story_upload(session: AnalysisSession) -> None:
    upload = st.session_state.get(K.STORY_UPLOAD)
    current = _story(session)
    if upload is None or current is None:
        return
    try:
        if upload.size > MAX_STORY_BYTES:
            raise BadInput(f"the file is {upload.size:,} bytes; the limit is {MAX_STORY_BYTES:,}")
        text = upload.getvalue().decode("utf-8")
        track = parse_story(text, source=upload.name)
        results = check_track(track, session.game, session.analysis)
    except UnicodeDecodeError:
        state.push_analysis_flash("error", f"{upload.name} is not UTF-8 text.")
        return
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"{upload.name} is not a usable story: {exc}")
        return
    failing = [r for r in results if r.holds is False]
    state.set_analysis_story(StoryState(current.key, track, text, uploaded=upload.name))
    state.push_analysis_flash(
        "warning" if failing else "success",
        f"Story loaded from {upload.name}: {len(results) - len(failing)} of {len(results)} "
        f"claims hold" + (f"; {len(failing)} do not, and are shown as failing." if failing
                         else "."))


def _on_story_reset() -> None:
    state.set_analysis_story(None)


def story_section(session: AnalysisSession) -> None:
    """The generated story: every claim it stands on, a TOML download, an upload to edit it."""
    story_state = _story(session)
    if story_state is None:
        return
    with st.expander("The story of the game", expanded=False):
        source = (f"Your story, from {story_state.uploaded}." if story_state.uploaded else
                  "Generated from the engine's analysis: every sentence rests on a claim that "
                  "python-chess and the analysis checked. Download it, edit it, load it back.")
        st.caption(plain(source))
        for beat in _story_beats(session):
            held = sum(1 for c in beat.claims if c.holds)
            st.text(f"Plies {beat.first_ply}–{beat.last_ply}: {beat.narration}"
                    + (f"  [{held} of {len(beat.claims)} claims hold]" if beat.claims else ""))
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.download_button("Download the story (TOML)", data=story_state.toml,
                               file_name=filename_for(session.game.headers).removesuffix(".pgn")
                               + ".story.toml", mime="application/toml", key=K.STORY_DOWNLOAD,
                               icon=":material/download:", on_click="ignore")
            if story_state.uploaded:
                st.button("Back to the generated story", key=K.STORY_RESET,
                          on_click=_on_story_reset)
        st.file_uploader("Load an edited story (.toml)", type=["toml"], key=K.STORY_UPLOAD,
                         on_change=_on_story_upload, args=(session,))


# --- Learn from your mistakes -------------------------------------------------------------------


def _side(color: chess.Color) -> str:
    return "White" if color == chess.WHITE else "Black"


def _on_retro_start(session: AnalysisSession, color: chess.Color) -> None:
    ctrl = _controller(session)
    if ctrl.retro_show(color) is None:
        state.push_analysis_flash("info", f"{_side(color)} made no mistake worth another look.")
    state.set_analysis_retro(RetroState(color))
    _commit(ctrl)


def _on_retro_try(session: AnalysisSession) -> None:
    retro = state.analysis_retro()
    if retro is None or session.analysis is None:
        return
    ctrl = _controller(session)
    text = str(st.session_state.get(K.RETRO_MOVE) or "")
    mistake = ctrl.retro_current(retro.color)
    if mistake is None:
        return
    try:
        move = parse_move(chess.Board(mistake.fen_before), text)
        evaluate = evaluator_search(_evaluator(session.settings),
                                    retro_limit(session.analysis.limit))
        attempt = ctrl.retro_try(retro.color, move, evaluate)
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"That move cannot be tried: {exc}")
        return
    state.set_analysis_retro(RetroState(retro.color, attempt))
    session.save(_store())


def _on_retro_solution(session: AnalysisSession) -> None:
    retro = state.analysis_retro()
    if retro is None:
        return
    mistake = _controller(session).retro_give_up(retro.color)
    state.set_analysis_retro(RetroState(retro.color, solution=mistake))
    session.save(_store())


def _on_retro_next(session: AnalysisSession, *, skip: bool) -> None:
    retro = state.analysis_retro()
    if retro is None:
        return
    ctrl = _controller(session)
    if skip:
        ctrl.retro_give_up(retro.color)
        session.save(_store())
    ctrl.retro_show(retro.color)
    state.set_analysis_retro(RetroState(retro.color))
    _commit(ctrl)


def _on_retro_stop() -> None:
    state.set_analysis_retro(None)


def retro_section(session: AnalysisSession) -> None:
    """lichess's "Learn from your mistakes": find a better move where one side went wrong."""
    retro = state.analysis_retro()
    with st.expander("Learn from your mistakes", expanded=retro is not None):
        with st.container(horizontal=True):
            for color, key in ((chess.WHITE, K.RETRO_WHITE), (chess.BLACK, K.RETRO_BLACK)):
                st.button(f"{_side(color)}'s mistakes", key=key, on_click=_on_retro_start,
                          args=(session, color))
        if retro is None:
            st.caption("Pick a side: the board goes to the position before each of its "
                       "mistakes, and you look for a better move.")
            return
        ctrl = _controller(session)
        mistakes = ctrl.retro_mistakes(retro.color)
        done, total = ctrl.retro_progress(retro.color).completion(mistakes)
        st.caption(f"{_side(retro.color)}: {done} of {total} reviewed.")
        if retro.solution is not None:
            line = " ".join(san_line(chess.Board(retro.solution.fen_before),
                                     retro.solution.best_line, limit=8))
            st.text(f"The engine's choice was {retro.solution.best_san}: {line}")
        attempt = retro.attempt
        if attempt is not None and attempt.feedback is Feedback.WIN:
            st.success(plain(f"{attempt.move_san} is a good move."
                             + ("" if attempt.loss is None else " The engine agrees: it keeps "
                                "the advantage of the best move.")))
        current = ctrl.retro_current(retro.color)
        if current is None:
            st.success("No more mistakes to review.")
            st.button("Stop", key=K.RETRO_STOP, on_click=_on_retro_stop)
            return
        start = start_ply(chess.Board(session.analysis.start_fen if session.analysis
                                      else chess.STARTING_FEN))
        st.text(f"Move {move_label(current.ply, current.played_san, start=start)} was played "
                f"here. Find a better move for {_side(retro.color)}.")
        if attempt is not None and attempt.feedback is Feedback.PLAYED:
            st.info("That is the move played in the game. Try another.")
        elif attempt is not None and attempt.feedback is Feedback.FAIL:
            hint = retro_hint(current)
            st.error(plain(f"{attempt.move_san} is not good enough. Try again."
                           + (f" Hint: look for a {hint}." if hint else "")))
        with st.form(K.RETRO_FORM, clear_on_submit=True, border=False), \
                st.container(horizontal=True, vertical_alignment="bottom"):
            st.text_input("Your move (SAN)", key=K.RETRO_MOVE, placeholder="Nf3")
            st.form_submit_button("Try", key=K.RETRO_TRY, on_click=_on_retro_try,
                                  args=(session,),
                                  disabled=not _engine_status(session.settings.engine_path)
                                  .available)
        with st.container(horizontal=True):
            st.button("Show the solution", key=K.RETRO_SOLUTION, on_click=_on_retro_solution,
                      args=(session,))
            st.button("Skip", key=K.RETRO_SKIP, on_click=_on_retro_next, args=(session,),
                      kwargs={"skip": True})
            st.button("Next", key=K.RETRO_NEXT, on_click=_on_retro_next, args=(session,),
                      kwargs={"skip": False})
            st.button("Stop", key=K.RETRO_STOP, on_click=_on_retro_stop)


# --- Saved sessions ---------------------------------------------------------------------------


def _on_rename(session: AnalysisSession) -> None:
    name = str(st.session_state.get(K.RENAME) or "")
    try:
        assert session.session_id is not None
        _store().rename_session(session.session_id, name, owner=owner.current_owner())
        session.name = name.strip()
        state.push_analysis_flash("success", "Session renamed.")
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"Cannot rename: {exc}")


def _on_copy(session: AnalysisSession) -> None:
    copy = AnalysisSession(copy_game(session.game), session.settings,
                           session.analysis, name=f"{session.name} (copy)"[:200],
                           identity=session.identity,
                           variation_evals=dict(session.variation_evals))
    if not _save(copy):
        return
    _open(copy)
    state.push_analysis_flash("success", "Saved as a new session of your own.")


def _on_delete(session_id: str) -> None:
    try:
        _store().delete_session(session_id, owner=owner.current_owner())
    except ChessAppError as exc:
        state.push_analysis_flash("error", f"Cannot delete: {exc}")
        return
    jobs.JOBS.discard(jobs.main_line_key(session_id))
    jobs.JOBS.discard(jobs.variation_key(session_id))
    current = state.analysis_session()
    if current is not None and current.session_id == session_id:
        _on_close()
    state.push_analysis_flash("success", "Session deleted.")


def _on_close() -> None:
    state.set_analysis_session(None)
    state.set_analysis_line(())
    state.set_analysis_url_session(None)
    st.query_params.clear()


def _on_open(session_id: str) -> None:
    if _open_saved(session_id):
        state.push_analysis_flash("success", "Session resumed.")


def sessions_section(store: Store | None, session: AnalysisSession | None) -> None:
    st.subheader("Saved sessions")
    if session is not None and session.session_id is not None:
        read_only = _read_only(session)
        if read_only:
            st.caption("Someone else's session, shared by its link: read-only for you.")
        else:
            st.caption(f"This session is saved after every change. Share it (read-only for "
                       f"others): `?session={session.session_id}&ply=N`")
        if st.session_state.get(K.RENAME) is None:
            st.session_state[K.RENAME] = session.name
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.text_input("Session name", key=K.RENAME, max_chars=200, disabled=read_only)
            st.button("Rename", key=K.RENAME_BUTTON, on_click=_on_rename, args=(session,),
                      disabled=read_only,
                      help="Only the session's owner may rename it." if read_only else None)
            st.button("Save a copy", key=K.SAVE_COPY, on_click=_on_copy, args=(session,),
                      type="primary" if read_only else "secondary",
                      help="A session of your own, with everything shown here.")
            st.button("Close", key=K.CLOSE, on_click=_on_close)
    if store is None:
        return
    infos = store.list_sessions(owner.current_owner())
    if not infos:
        st.caption("No saved sessions of yours yet: load a game and it is saved here.")
        return
    st.caption(f"Your sessions ({len(infos)} of at most {MAX_SESSIONS_PER_OWNER:,}), "
               "newest first. Nobody else sees this list.")
    for info in infos[:50]:
        with st.container(horizontal=True, vertical_alignment="center"):
            current = session is not None and session.session_id == info.id
            mark = "▸ " if current else ""
            # st.text, never Markdown: a name is shown as typed (no links, no markup).
            st.text(f"{mark}{info.name}")
            st.caption(f"{info.updated:%Y-%m-%d %H:%M} UTC"
                       + (" · analysed" if info.has_analysis else ""))
            st.button("Open", key=K.open_session(info.id), on_click=_on_open,
                      args=(info.id,), disabled=current)
            st.button("Delete", key=K.delete_session(info.id), on_click=_on_delete,
                      args=(info.id,))


# --- The page -----------------------------------------------------------------------------------


def header_line(h: Mapping[str, str]) -> str:
    """Players with their ratings, event, date, time control and result, as plain text."""
    def player(colour: str) -> str:
        elo = h.get(f"{colour}Elo", "")
        return h.get(colour, "?") + (f" ({elo})" if elo and elo not in ("?", "-") else "")

    parts = [player("White"), player("Black"), h.get("Event", "?"), h.get("Date", "?")]
    control = h.get("TimeControl", "")
    if control and control not in ("?", "-"):
        parts.append(f"time control {control}")
    parts.append(h.get("Result", "*"))
    return " · ".join(plain(p) for p in parts)


def _show_flash() -> None:
    for kind, text in state.pop_analysis_flash():
        {"error": st.error, "warning": st.warning, "success": st.success,
         "info": st.info}.get(kind, st.info)(plain(text))


def main() -> None:
    owner.mount()
    owner.sign_in_controls()
    st.title("Analysis")
    store = store_or_none()
    if store is not None:
        _open_from_url()
    _show_flash()
    session = state.analysis_session()
    owner.current_owner()  # settles who this is (the browser's token may just have come)
    if state.pop_owner_arrived() and session is not None:
        _seed_settings(session.settings, force=True)
        st.session_state[K.RENAME] = session.name
    status = _engine_status(None if session is None else session.settings.engine_path)
    input_section(expanded=session is None)
    if session is None:
        st.info("Paste or upload a PGN, or set up a FEN, to start an analysis session.")
        if not status.available:
            st.warning(f"No chess engine is available: {status.message}")
        sessions_section(store, None)
        return

    _adopt_finished(session)
    h = session.game.headers
    st.subheader(plain(session.name), anchor=False)
    if _read_only(session):
        with st.container(key=K.COPY_NOTICE):
            st.info("This session belongs to someone else, so it is read-only for you: step "
                    "through it, explore and analyse as you like (nothing is saved), and use "
                    "\"Save a copy\" below to make it yours.")
    st.caption(header_line(h))
    line = _controller(session).line
    state.set_analysis_line(line)
    cursor = PlyCursor(state.ANALYSIS, len(line))
    cursor.sync_from_url(default=cursor.ply)

    with st.expander("Engine", expanded=session.analysis is None):
        engine_settings(session, status)
    st.fragment(board_panel)(session)
    st.fragment(position_probe)(session, status.available)
    # The live engine polls in a fragment of its own, beside the board's (not inside it:
    # fragment runs queue per session, and a nested one is re-made on every board step).
    if live_panel.live_toggle(state.ANALYSIS):
        st.fragment(live_panel.live_panel, run_every=live_panel.POLL_S)(
            state.ANALYSIS, lambda: _controller(session).board,
            lambda: jobs.pool_for(session.settings), _store(), session.settings.multipv)
    st.subheader("Results")
    results_tables(session)
    if session.analysis is not None:
        story_section(session)
        retro_section(session)
    st.subheader("Export")
    widgets.export_block(state.ANALYSIS, session.game, session.analysis,
                         offer=("evals", "judgements", "variations", "explored", "shapes",
                                "label_nags"),
                         analysis_key="" if session.analysis is None else ".analysed")
    sessions_section(store, session)


if __name__ == "__main__":
    main()
