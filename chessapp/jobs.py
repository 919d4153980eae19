"""Evaluating positions in the background: :class:`AnalysisJob` and one :class:`JobRegistry`.

Analyses run on a server thread, registered by a key (a session id, or a café
visitor's key) in the process-wide :data:`JOBS`, so a browser rerun, another
tab or a page switch finds the same job, its progress and its partial results.
Both pages start their jobs here. Every position the engine finishes goes into
the Store's eval cache at once, so a closed tab or a dead server loses no
engine work.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import chess
import chess.pgn

from chessapp.analysis import (
    EvalCache,
    Evaluator,
    build_game_analysis,
    evaluate_positions,
    extend_best_lines,
)
from chessapp.engine import EngineConfig, EnginePool, shared_pool
from chessapp.errors import ChessAppError
from chessapp.evals import EngineIdentity, PositionEval, SearchLimit, terminal_eval
from chessapp.owners import LOCAL_OWNER, visitor_label
from chessapp.scheduler import Priority, Reservation, VisitorEvaluator, shared_scheduler
from chessapp.session import AnalysisSession, SessionStore
from chessapp.settings import AnalysisSettings
from chessapp.tree import NodePath, copy_game, main_line_boards, variation_boards

log = logging.getLogger(__name__)

__all__ = [
    "JOBS",
    "AnalysisJob",
    "JobProgress",
    "JobRegistry",
    "JobState",
    "cafe_key",
    "evaluate_position",
    "evaluator_for",
    "main_line_key",
    "pool_for",
    "start_game_job",
    "start_main_line_job",
    "start_variation_job",
    "variation_key",
]

_JOB_SEQ = itertools.count(1)


class JobState(enum.Enum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not JobState.RUNNING


@dataclass(frozen=True, slots=True)
class JobProgress:
    """A snapshot of a job for display: positions done out of total, and how it ended."""

    state: JobState
    done: int
    total: int
    error: str | None = None
    #: The visitor's place in the engine queue (1 is next, 0 being served), when known.
    queue_place: int | None = None

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else self.done / self.total


class _RecordingCache:
    """Passes through to the real cache and remembers every result, for partial display."""

    def __init__(self, inner: EvalCache | None, sink: Callable[[PositionEval], None]) -> None:
        self._inner = inner
        self._sink = sink

    def get_eval(self, fen: str, engine: EngineIdentity, limit: SearchLimit,
                 multipv: int) -> PositionEval | None:
        found = None if self._inner is None else self._inner.get_eval(fen, engine, limit, multipv)
        if found is not None:
            self._sink(found)
        return found

    def put_eval(self, result: PositionEval, multipv: int) -> None:
        if self._inner is not None:
            self._inner.put_eval(result, multipv)
        self._sink(result)


class AnalysisJob:
    """Evaluates a list of positions on a background thread.

    Each finished position goes to the cache (the Store) the moment it
    arrives, and into :meth:`partial` for display. ``on_done`` runs on the
    job's thread with all positions, in board order, when the job completes;
    the page uses it to autosave, so a result is kept even if nobody is
    looking when it finishes.
    """

    def __init__(
        self,
        boards: Sequence[chess.Board],
        evaluator: Evaluator,
        limit: SearchLimit,
        *,
        multipv: int = 1,
        cache: EvalCache | None = None,
        on_done: Callable[[list[PositionEval]], None] | None = None,
        finish: Callable[[list[PositionEval]], list[PositionEval]] | None = None,
        name: str = "analysis",
        reservation: Reservation | None = None,
    ) -> None:
        self.boards = [b.copy(stack=False) for b in boards]
        #: Positions held against the visitor's cap (chessapp.scheduler), freed at the end.
        self._reservation = reservation
        self.limit = limit
        self.multipv = multipv
        self._evaluator = evaluator
        self._cache = cache
        self._on_done = on_done
        #: A last step on the job's thread before the result is kept (longer best lines).
        self._last_step = finish
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._state = JobState.RUNNING
        self._done = 0
        self._error: str | None = None
        self._result: list[PositionEval] | None = None
        self._by_fen: dict[str, PositionEval] = {}
        #: Unique for the life of the process (unlike ``id()``, never reused), so a page
        #: knows which finished jobs it has already taken in.
        self.seq = next(_JOB_SEQ)
        self._thread = threading.Thread(target=self._run, name=f"chessapp-{name}", daemon=True)

    def start(self) -> AnalysisJob:
        self._thread.start()
        return self

    def _record(self, result: PositionEval) -> None:
        with self._lock:
            self._by_fen[result.fen] = result

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self._done = done

    def _run(self) -> None:
        cache = _RecordingCache(self._cache, self._record)
        for board in self.boards:
            found = terminal_eval(board, self._evaluator.identity, self.limit)
            if found is not None:
                self._record(found)
        try:
            positions = evaluate_positions(self.boards, self._evaluator, self.limit,
                                           multipv=self.multipv, cache=cache,
                                           progress=self._progress, cancel=self._cancel)
            if self._last_step is not None:
                positions = self._last_step(positions)
        except InterruptedError:
            self._finish(JobState.CANCELLED, None, None)
            return
        except ChessAppError as exc:
            log.warning("analysis job failed: %s", exc)
            self._finish(JobState.FAILED, None, str(exc))
            return
        except Exception as exc:
            log.exception("analysis job crashed")
            self._finish(JobState.FAILED, None, f"unexpected error: {exc!r}")
            return
        if self._on_done is not None:
            try:
                self._on_done(positions)
            except Exception as exc:  # the results are cached; only the autosave failed
                log.exception("saving a finished analysis failed")
                self._finish(JobState.FAILED, positions, f"could not save the result: {exc}")
                return
        self._finish(JobState.DONE, positions, None)

    def _finish(self, state: JobState, result: list[PositionEval] | None,
                error: str | None) -> None:
        if self._reservation is not None:
            self._reservation.release()
        with self._lock:
            self._state, self._result, self._error = state, result, error
            if result is not None:
                self._done = len(self.boards)

    def progress(self) -> JobProgress:
        place = None
        if isinstance(self._evaluator, VisitorEvaluator):
            place = self._evaluator.queue_place()
        with self._lock:
            return JobProgress(self._state, self._done, len(self.boards), self._error,
                               None if self._state.finished else place)

    @property
    def result(self) -> list[PositionEval] | None:
        with self._lock:
            return self._result

    def partial(self) -> list[PositionEval | None]:
        """What is known so far, by board index (``None`` where still to come)."""
        with self._lock:
            return [self._by_fen.get(b.fen()) for b in self.boards]

    def cancel(self) -> None:
        """Stop handing out positions; those being searched finish and are cached."""
        self._cancel.set()
        if self._reservation is not None:
            self._reservation.release()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


class JobRegistry:
    """Jobs by key (a session id), shared by every browser session of this server process.

    Finished jobs stay so that every tab showing a session can take in the
    result, but only the newest ``max_finished`` of them: the results are in
    the Store anyway, and a long-running server must not grow without bound.
    """

    def __init__(self, *, max_finished: int = 256) -> None:
        self._jobs: dict[str, AnalysisJob] = {}
        self._lock = threading.Lock()
        self._max_finished = max_finished

    def start(self, key: str, job: AnalysisJob) -> AnalysisJob:
        """Register and start ``job``, cancelling a running job under the same key."""
        with self._lock:
            old = self._jobs.pop(key, None)
            if old is not None and not old.progress().state.finished:
                old.cancel()
            self._jobs[key] = job  # newest last: dicts keep insertion order
            finished = [k for k, j in self._jobs.items() if j.progress().state.finished]
            for stale in finished[: max(0, len(finished) - self._max_finished)]:
                del self._jobs[stale]
        return job.start()

    def get(self, key: str) -> AnalysisJob | None:
        with self._lock:
            return self._jobs.get(key)

    def cancel(self, key: str) -> None:
        job = self.get(key)
        if job is not None:
            job.cancel()

    def discard(self, key: str) -> None:
        with self._lock:
            job = self._jobs.pop(key, None)
        if job is not None:
            job.cancel()

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._jobs)


#: The one registry of this process (Streamlit runs every session in one process).
JOBS = JobRegistry()


def evaluator_for(settings: AnalysisSettings, *, visitor: str | None = None,
                  priority: Priority = Priority.BACKGROUND) -> Evaluator:
    """The shared pool for a person's engine settings, through the fair scheduler.

    More threads per engine means fewer engines: the pool never uses more cores
    than it was sized for (and all shared pools draw on one process budget).
    With a ``visitor`` (:func:`chessapp.owners.visitor_label`) every call waits
    its turn in :func:`chessapp.scheduler.shared_scheduler`; without one (the
    CLI, scripts) the pool is used directly.
    """
    pool = pool_for(settings)
    if visitor is None:
        return pool
    base = EngineConfig.from_env(path=settings.engine_path)
    return VisitorEvaluator(pool, shared_scheduler(base.workers), visitor, priority,
                            cost=settings.threads)


def pool_for(settings: AnalysisSettings) -> EnginePool:
    """The shared pool itself for these settings (the live engine holds one of its slots;
    the scheduler keeps one engine free of background work for it)."""
    base = EngineConfig.from_env(path=settings.engine_path)
    workers = max(1, base.workers // settings.threads)
    return shared_pool(EngineConfig.from_env(path=settings.engine_path, workers=workers,
                                             threads=settings.threads))


def _reserve(evaluator: Evaluator, positions: int) -> Reservation | None:
    """Hold ``positions`` of the visitor's cap (raises QueueFull), when scheduled."""
    if isinstance(evaluator, VisitorEvaluator):
        return evaluator.reserve(positions)
    return None


def main_line_key(session_id: str, viewer: str | None = None) -> str:
    """The owner's main-line job of a session, or a read-only ``viewer``'s own one."""
    return f"{session_id}:main" if viewer is None else f"{session_id}:view:{viewer}:main"


def variation_key(session_id: str, viewer: str | None = None) -> str:
    return (f"{session_id}:variation" if viewer is None
            else f"{session_id}:view:{viewer}:variation")


def viewer_key(session: AnalysisSession, viewer: str | None,
               label: str | None = None) -> str | None:
    """None for the owner (jobs keyed by session alone); for a read-only viewer, ``label``
    (the page passes its tab's, which stays the same when the browser's owner token
    arrives a moment after the page opened) or the viewer's own."""
    if viewer is None or not session.read_only_for(viewer):
        return None
    return label if label is not None else visitor_label(viewer)


def cafe_key(visitor: str) -> str:
    """A café visitor's re-analysis of the shipped game (one per browser session)."""
    return f"cafe:{visitor}"


def start_game_job(
    key: str, game: chess.pgn.Game, evaluator: Evaluator, limit: SearchLimit, cache: EvalCache,
    *, multipv: int = 1, registry: JobRegistry | None = None,
) -> AnalysisJob:
    """Analyse ``game``'s main line in the background under ``key``.

    Every finished position goes to ``cache``; the page folds the result in
    with :func:`chessapp.analysis.build_game_analysis` when the job is done.
    """
    boards = main_line_boards(game)
    job = AnalysisJob(boards, evaluator, limit, multipv=multipv, cache=cache, name="game",
                      reservation=_reserve(evaluator, len(boards)))
    return (JOBS if registry is None else registry).start(key, job)


def start_main_line_job(
    session: AnalysisSession, evaluator: Evaluator, store: SessionStore,
    registry: JobRegistry | None = None, *, viewer: str | None = None,
    viewer_label: str | None = None,
) -> AnalysisJob:
    """Analyse a session's main line in the background; when done, save it into the session.

    The job holds a copy of the game, so exploring while it runs is safe. For a
    ``viewer`` who does not own the session (a shared link) the job is the
    viewer's own, under its own key, and saves nothing: the page folds the
    result into the viewer's in-memory copy, and every eval is in the cache.
    """
    owner = viewer if viewer is not None else session.owner
    session_id = (session.session_id if session.session_id is not None
                  else session.save(store, owner=owner))
    owner = session.owner if owner is None else owner
    settings = session.settings
    game_copy = copy_game(session.game)
    boards = main_line_boards(game_copy)
    viewing = viewer_key(session, viewer, viewer_label)

    def on_done(positions: list[PositionEval]) -> None:
        analysis = build_game_analysis(game_copy, positions, multipv=settings.multipv)
        store.update_session(session_id, analysis=analysis.to_json(),
                             settings=settings_json(settings.to_json(), analysis.engine),
                             owner=owner or LOCAL_OWNER)

    def longer_lines(positions: list[PositionEval]) -> list[PositionEval]:
        # Every judged move's best line to 8 plies, from the engine (issue 11).
        return extend_best_lines(game_copy, positions, evaluator, settings.limit, cache=store)

    job = AnalysisJob(boards, evaluator, settings.limit, multipv=settings.multipv, cache=store,
                      on_done=None if viewing else on_done, finish=longer_lines,
                      name="main-line", reservation=_reserve(evaluator, len(boards)))
    return (JOBS if registry is None else registry).start(main_line_key(session_id, viewing),
                                                          job)


def start_variation_job(
    session: AnalysisSession, path: NodePath, evaluator: Evaluator, store: SessionStore,
    registry: JobRegistry | None = None, *, viewer: str | None = None,
    viewer_label: str | None = None,
) -> AnalysisJob:
    """Analyse the side line through ``path``, on demand, in the background.

    A read-only ``viewer``'s job is their own and saves nothing (as for the main line).
    """
    owner = viewer if viewer is not None else session.owner
    session_id = (session.session_id if session.session_id is not None
                  else session.save(store, owner=owner))
    owner = session.owner if owner is None else owner
    boards = variation_boards(session.game, path)
    settings = session.settings
    viewing = viewer_key(session, viewer, viewer_label)

    def on_done(positions: list[PositionEval]) -> None:
        # The evals are in the cache; the session must know which engine made them
        # to find them again when it is resumed.
        store.update_session(session_id,
                             settings=settings_json(settings.to_json(), positions[0].engine),
                             owner=owner or LOCAL_OWNER)

    job = AnalysisJob(boards, evaluator, settings.limit, multipv=settings.multipv, cache=store,
                      on_done=None if viewing else on_done, name="variation",
                      reservation=_reserve(evaluator, len(boards)))
    return (JOBS if registry is None else registry).start(variation_key(session_id, viewing),
                                                          job)


def evaluate_position(
    board: chess.Board, evaluator: Evaluator, settings: AnalysisSettings, cache: EvalCache,
) -> PositionEval:
    """One position, now: the cache, else the engine (an interactive request, so it goes
    ahead of full-game jobs in the scheduler), and into the cache.

    Counts against the visitor's cap while it runs (raises QueueFull beyond it).
    """
    found = terminal_eval(board, evaluator.identity, settings.limit) or cache.get_eval(
        board.fen(), evaluator.identity, settings.limit, settings.multipv)
    if found is not None:
        return found
    reservation = _reserve(evaluator, 1)
    try:
        result = evaluator.evaluate(board, settings.limit, multipv=settings.multipv)
    finally:
        if reservation is not None:
            reservation.release()
    cache.put_eval(result, settings.multipv)
    return result


def settings_json(settings: dict[str, object], engine: EngineIdentity) -> dict[str, object]:
    """Saved settings with the identity of the engine whose evals the session uses."""
    return {**settings, "engine_identity": engine.to_json()}
