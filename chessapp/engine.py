"""The engine service: find a UCI engine, start it, bound its time, restart it, pool it.

Everything that talks to an engine process goes through :class:`EnginePool`,
which implements the :class:`chessapp.analysis.Evaluator` protocol. The UCI
client itself is python-chess's (``chess.engine.SimpleEngine``); this module
adds what a long-running, many-user app needs on top of it:

* **A bounded pool.** At most ``workers`` engine processes, each used by one
  thread at a time. python-chess cancels a running command when a new one is
  sent, so an engine shared between threads without a lock would silently
  return the wrong position's result. Each engine lives in a *slot*; a thread
  takes a slot from a queue, uses its engine, and puts it back.
* **A deadline on every call.** ``SimpleEngine.analyse`` only bounds a search
  when ``Limit.time`` is set: in python-chess 1.11.2 ``_timeout_for(limit)``
  returns ``None`` unless ``limit.time`` is not ``None``, and then it is
  ``timeout + limit.time``. A search by nodes or depth on a hung engine would
  therefore block forever. We must not add ``time`` to the limit either (that
  would make results depend on machine speed), so the pool runs the same
  protocol coroutine ``SimpleEngine.analyse`` runs, under its own
  ``asyncio.wait_for`` deadline (:meth:`EngineConfig.deadline_for`).
* **Restart with backoff**, as lichess's fishnet does (``src/main.rs``): after a
  timeout or a crash the engine process is dropped, and the position is retried
  on a fresh one after a randomized backoff that starts at 100 ms, grows up to
  4x per failure, is capped, and resets after a success.
* **Its own session.** Engines start with ``setpgrp=True`` (python-chess passes
  ``start_new_session=True`` to ``subprocess``), so Ctrl+C in the terminal
  reaches the app, which then quits the engines cleanly, instead of killing
  them halfway through a line.
* **One budget for the whole server.** Every :func:`shared_pool` (one per
  configuration: the UI makes a pool per "threads per engine" setting) draws
  its engine processes from one process-wide budget of ``CHESSAPP_ENGINE_POOL``
  (default: CPU cores). A pool that needs a process when the budget is spent
  stops an idle engine of any shared pool, or waits for one to become idle,
  so the server never runs more engine processes than that, however many
  configurations are in use.
* **Engines die with the app.** On Linux each engine asks the kernel
  (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) to be killed when the thread that
  started it ends: python-chess starts each engine from a thread of its own
  that lives exactly as long as the engine, so when the app is killed with
  ``kill -9`` no engine is left behind, not even a hung one that would never
  read the end of its input.
* **Determinism.** Before each position the engine gets ``ucinewgame`` (a fresh
  ``game`` object) and the board without its move stack, so a result depends
  only on (FEN, engine, settings, limit), which is exactly the cache key of
  :class:`chessapp.store.Store`. With ``Threads=1`` and a node limit, Stockfish
  then gives identical results on every run and on every pool worker.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import ctypes
import logging
import os
import queue
import random
import shutil
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import chess
import chess.engine

from chessapp.errors import (
    BadInput,
    EngineCrashed,
    EngineTimeout,
    EngineUnavailable,
)
from chessapp.evals import (
    EngineIdentity,
    EngineLine,
    PositionEval,
    SearchLimit,
    WhiteEval,
    terminal_eval,
)

__all__ = [
    "EngineConfig",
    "EnginePool",
    "EngineStatus",
    "engine_status",
    "find_engine",
    "shared_pool",
]

log = logging.getLogger(__name__)

#: Where Debian and Ubuntu put the ``stockfish`` package (off root's PATH).
DEBIAN_STOCKFISH = "/usr/games/stockfish"
INSTALL_ADVICE = (
    "Install Stockfish (apt-get install stockfish), or set STOCKFISH_PATH "
    "to the path of any UCI engine."
)


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_engine(path: str | None = None) -> str:
    """The engine binary to run: ``path``, then ``$STOCKFISH_PATH``, then ``stockfish``
    on PATH, then Debian's ``/usr/games/stockfish``.

    An explicit path or ``STOCKFISH_PATH`` that does not point at an executable
    is an error in itself; we do not silently fall back to another engine,
    since results record which engine made them.
    """
    for source, given in (("the engine path", path),
                          ("STOCKFISH_PATH", os.environ.get("STOCKFISH_PATH") or None)):
        if given is None:
            continue
        if _is_executable(given):
            return given
        found = shutil.which(given)  # a bare command name such as "stockfish"
        if found is not None:
            return found
        raise EngineUnavailable(f"{source} {given!r} is not an executable file. {INSTALL_ADVICE}")
    on_path = shutil.which("stockfish")
    if on_path is not None:
        return on_path
    if _is_executable(DEBIAN_STOCKFISH):
        return DEBIAN_STOCKFISH
    raise EngineUnavailable(f"No chess engine found. {INSTALL_ADVICE}")


# --- Configuration ---------------------------------------------------------------------------


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"{name} must be a positive whole number, not {raw!r}") from None
    if value < 1:
        raise BadInput(f"{name} must be a positive whole number, not {raw!r}")
    return value


def _default_workers() -> int:
    return _env_int("CHESSAPP_ENGINE_POOL", os.cpu_count() or 1)


def _default_threads() -> int:
    return _env_int("CHESSAPP_ENGINE_THREADS", 1)


def _default_hash() -> int:
    return _env_int("CHESSAPP_ENGINE_HASH", 16)


@dataclass(frozen=True)
class EngineConfig:
    """How the pool runs its engines. Defaults come from the environment.

    ``workers`` (``CHESSAPP_ENGINE_POOL``, default: CPU cores) bounds the number
    of engine processes. ``threads`` (``CHESSAPP_ENGINE_THREADS``, default 1)
    and ``hash_mb`` (``CHESSAPP_ENGINE_HASH``, default 16) are UCI options of
    each engine; with one thread per engine results are reproducible.

    The deadline of one call is :meth:`deadline_for`; the other fields tune
    it and the restart policy.
    """

    path: str | None = None
    workers: int = field(default_factory=_default_workers)
    threads: int = field(default_factory=_default_threads)
    hash_mb: int = field(default_factory=_default_hash)
    #: A deliberately low estimate of one engine thread's speed. Stockfish 15.1
    #: searches ~0.5-1.5M nodes/s per thread on a desktop core; a busy shared
    #: 2-core box (our CI) can drop well below that, so we assume 200k.
    nodes_per_second: int = 200_000
    #: Multiplier on the estimated search time, for load spikes and slow disks.
    deadline_safety: float = 3.0
    #: Added to every deadline: ucinewgame (clears the hash), isready, process
    #: scheduling. python-chess itself allows 10 s beyond ``Limit.time``.
    deadline_base_s: float = 5.0
    #: No deadline exceeds this: a deadline exists to catch hung engines, and
    #: even a depth-30 search must end eventually.
    deadline_max_s: float = 3600.0
    #: How long an engine may take to start and answer ``uci``/``isready``.
    startup_timeout_s: float = 10.0
    #: How many times one position is retried on a fresh engine after a
    #: timeout or crash before the call fails (so at most 1 + max_restarts tries).
    max_restarts: int = 2
    #: fishnet's randomized backoff: the first pause, and the cap.
    backoff_start_s: float = 0.1
    backoff_cap_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("workers", "threads", "hash_mb", "nodes_per_second"):
            if getattr(self, name) < 1:
                raise BadInput(f"engine setting {name} must be at least 1")
        if self.max_restarts < 0:
            raise BadInput("engine setting max_restarts must not be negative")
        for name in ("deadline_safety", "deadline_base_s", "deadline_max_s", "startup_timeout_s"):
            if not getattr(self, name) > 0:
                raise BadInput(f"engine setting {name} must be positive")

    @classmethod
    def from_env(cls, **overrides: Any) -> EngineConfig:
        """The environment's settings, with ``overrides`` (keyword: value) on top."""
        return cls(**overrides)

    def deadline_for(self, limit: SearchLimit, multipv: int = 1) -> float:
        """Seconds one search may take before the engine counts as hung. Always finite.

        * nodes: ``nodes / nodes_per_second * safety``. The node count is the
          whole search's budget, so MultiPV does not change it.
        * depth: an estimate of the nodes that depth needs (Stockfish's
          effective branching factor is about 1.5-1.6 per ply; 5,000 x 1.6^d
          is generous), times ``multipv``, since each extra line is searched
          to the same depth; then as for nodes.
        * movetime: the move time itself (the engine stops on its own) times
          the safety factor.

        ``deadline_base_s`` is added, and the result capped at ``deadline_max_s``.
        """
        if limit.nodes is not None:
            search = limit.nodes / self.nodes_per_second * self.deadline_safety
        elif limit.depth is not None:
            estimated_nodes = 5_000 * 1.6 ** min(limit.depth, 60) * multipv
            search = estimated_nodes / self.nodes_per_second * self.deadline_safety
        else:
            assert limit.movetime_ms is not None
            search = limit.movetime_ms / 1000 * self.deadline_safety
        return min(self.deadline_max_s, self.deadline_base_s + search)


# --- Backoff -------------------------------------------------------------------------------


class RandomizedBackoff:
    """fishnet's ``RandomizedBackoff``: each pause is random in [start, min(cap, 4 x last)].

    Thread-safe; shared by the whole pool, so a broken engine binary slows
    every thread down rather than being restarted in a tight loop.
    """

    def __init__(self, start: float, cap: float, rng: random.Random | None = None) -> None:
        self._start = start
        self._cap = max(start, cap)
        self._last = 0.0
        self._lock = threading.Lock()
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not security

    def next(self) -> float:
        with self._lock:
            high = min(self._cap, max(self._start, 4 * self._last))
            self._last = self._rng.uniform(self._start, high)
            return self._last

    def reset(self) -> None:
        with self._lock:
            self._last = 0.0


# --- The pool ------------------------------------------------------------------------------


class _Slot:
    """A place for one engine process; whoever holds the slot owns the engine."""

    __slots__ = ("busy", "engine", "index")

    def __init__(self, index: int) -> None:
        self.index = index
        self.engine: chess.engine.SimpleEngine | None = None
        self.busy = False


def _pid_of(engine: chess.engine.SimpleEngine) -> int | None:
    pid = engine.transport.get_pid()
    return pid if isinstance(pid, int) else None


def _exit_code(engine: chess.engine.SimpleEngine) -> int | str:
    try:
        return engine.returncode.result(timeout=1)
    except Exception:
        return "unknown"


def _signal_group(engine: chess.engine.SimpleEngine, signum: signal.Signals) -> None:
    """Signal the engine's process group (it leads its own session, so that is just the engine).

    An engine without a process id (an in-process fake) gets the signal through
    its transport.
    """
    if engine.returncode.done():
        return
    pid = _pid_of(engine)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if pid is None:
            engine.transport.send_signal(signum)
        else:
            os.killpg(pid, signum)


def _kill_engine(engine: chess.engine.SimpleEngine, *, graceful: bool) -> None:
    """Stop one engine process and wait until it is reaped; never raises.

    ``graceful``: send ``quit`` first (a healthy engine exits at once). A hung
    or crashed engine gets SIGKILL to its whole process group (it leads its own
    session, so the group is just the engine).
    """
    pid = _pid_of(engine)
    if graceful and not engine.returncode.done():
        try:
            engine.quit()
        except Exception as exc:  # a dead or hung engine cannot quit; kill it below
            log.debug("engine pid %s did not quit cleanly: %r", pid, exc)
    if not engine.returncode.done():
        _signal_group(engine, signal.SIGKILL)
    engine.close()
    try:
        engine.returncode.result(timeout=5)
    except Exception as exc:
        log.warning("engine pid %s was not reaped: %r", pid, exc)


def _pdeathsig_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel SIGKILL the child when its parent thread ends.

    Linux only (``PR_SET_PDEATHSIG`` = 1); elsewhere ``None``. The libc function
    is looked up here, before any fork: the child then only makes one system
    call, which is safe in a multi-threaded parent.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigkill = 1, int(signal.SIGKILL)

    def die_with_parent() -> None:
        prctl(pr_set_pdeathsig, sigkill, 0, 0, 0)

    return die_with_parent


_PREEXEC = _pdeathsig_preexec()


#: How a pool starts one engine: ``launch(path, startup_timeout_s)``. The default
#: starts a real process; tests pass an in-process fake (tests/fakes/inprocess.py).
Launch = Callable[[str, float], chess.engine.SimpleEngine]


def _popen_uci(path: str, timeout: float) -> chess.engine.SimpleEngine:
    """Start a UCI engine in its own session that dies with this process (see the module doc)."""
    extra: dict[str, Any] = {} if _PREEXEC is None else {"preexec_fn": _PREEXEC}
    return chess.engine.SimpleEngine.popen_uci([path], timeout=timeout, setpgrp=True, **extra)


class _ProcessBudget:
    """At most :func:`_default_workers` engine processes across all shared pools.

    A pool calls :meth:`acquire` before it starts a process and :meth:`release`
    after one is gone. When the budget is spent, ``acquire`` takes an idle
    engine away from a registered pool (its permit passes to the caller once
    the process is reaped), or waits until a permit or an idle engine appears.
    Read the limit on every call, so a changed environment (tests) applies.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._used = 0
        self._pools: weakref.WeakSet[EnginePool] = weakref.WeakSet()

    @property
    def used(self) -> int:
        with self._cond:
            return self._used

    def register(self, pool: EnginePool) -> None:
        with self._cond:
            self._pools.add(pool)

    def acquire(self, requester: EnginePool) -> None:
        while True:
            with self._cond:
                if self._used < _default_workers():
                    self._used += 1
                    return
                victim = None
                for pool in list(self._pools):
                    victim = pool._take_idle_engine()
                    if victim is not None:
                        break
                if victim is None:
                    # Every engine is searching: one will be released or become idle.
                    self._cond.wait(timeout=0.25)
                    continue
            log.info("engine budget spent: stopping an idle engine (pid %s) for %r",
                     _pid_of(victim), requester)
            _kill_engine(victim, graceful=True)
            return  # the victim's permit is ours now

    def release(self) -> None:
        with self._cond:
            self._used = max(0, self._used - 1)
            self._cond.notify()

    def idle_changed(self) -> None:
        """A slot was given back: a waiting ``acquire`` may now find an idle engine."""
        with self._cond:
            self._cond.notify()


_BUDGET = _ProcessBudget()


#: UCI ``id name`` by binary (see :func:`_binary_key`), learnt from engines started.
_KNOWN_NAMES: dict[tuple[str, int, int], str] = {}


def _binary_key(path: str) -> tuple[str, int, int]:
    """A binary's identity: its real path, size and mtime (a replaced binary is a new key)."""
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        return (path, -1, -1)
    return (real, st.st_size, st.st_mtime_ns)


class EnginePool:
    """A bounded, thread-safe pool of UCI engine processes (a ``chessapp.analysis.Evaluator``).

    Engines start lazily, on the first call that needs one. ``close()`` (or
    leaving the ``with`` block) quits them all and kills any that do not quit.
    """

    def __init__(self, config: EngineConfig | None = None, *,
                 budget: _ProcessBudget | None = None, launch: Launch | None = None) -> None:
        self._config = config if config is not None else EngineConfig.from_env()
        self._launch: Launch = _popen_uci if launch is None else launch
        #: The process-wide budget of shared pools (None: bounded by ``workers`` only).
        self._budget = budget
        # A launch seam starts what it likes: the path is its business, not a file to find.
        self._path = find_engine(self._config.path) if launch is None else (
            self._config.path or "in-process")
        self._slots: queue.LifoQueue[_Slot] = queue.LifoQueue()
        self._all_slots = [_Slot(i) for i in range(self._config.workers)]
        for slot in reversed(self._all_slots):
            self._slots.put(slot)
        self._lock = threading.Lock()
        self._closed = False
        self._calls = 0
        self._restarts = 0
        self._name: str | None = None
        self._backoff = RandomizedBackoff(self._config.backoff_start_s,
                                          self._config.backoff_cap_s)
        if budget is not None:
            budget.register(self)

    # -- public properties --

    @property
    def config(self) -> EngineConfig:
        return self._config

    @property
    def path(self) -> str:
        return self._path

    @property
    def workers(self) -> int:
        return self._config.workers

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def calls(self) -> int:
        """Engine searches actually run (cache hits and finished positions cost none)."""
        with self._lock:
            return self._calls

    @property
    def restarts(self) -> int:
        """Engine processes dropped after a timeout or crash."""
        with self._lock:
            return self._restarts

    @property
    def identity(self) -> EngineIdentity:
        """The engine's UCI ``id name`` and our settings.

        The name is remembered per binary (path, size, mtime) for the life of
        the process, so a new pool on a known binary answers without starting
        an engine: a re-analysis served wholly from the cache then starts no
        process at all. Otherwise one engine is started to ask.
        """
        if self._name is None:
            known = _KNOWN_NAMES.get(_binary_key(self._path))
            if known is not None:
                return EngineIdentity(known, threads=self._config.threads,
                                      hash_mb=self._config.hash_mb)
            with self._slot() as slot:
                self._ensure_engine(slot)
        assert self._name is not None
        return EngineIdentity(self._name, threads=self._config.threads,
                              hash_mb=self._config.hash_mb)

    @property
    def running(self) -> int:
        """How many of this pool's engines are running (process or not)."""
        return sum(1 for slot in self._all_slots
                   if slot.engine is not None and not slot.engine.returncode.done())

    def alive_pids(self) -> list[int]:
        """The process ids of this pool's running engines (for tests and status pages)."""
        pids = []
        for slot in self._all_slots:
            engine = slot.engine
            if engine is not None and not engine.returncode.done():
                pid = _pid_of(engine)
                if pid is not None:
                    pids.append(pid)
        return pids

    # -- slots and processes --

    @contextlib.contextmanager
    def _slot(self) -> Iterator[_Slot]:
        if self._closed:
            raise EngineUnavailable("the engine pool is closed")
        slot = self._slots.get()
        try:
            if self._closed:
                raise EngineUnavailable("the engine pool is closed")
            slot.busy = True
            yield slot
        finally:
            slot.busy = False
            self._slots.put(slot)
            if self._budget is not None and slot.engine is not None:
                self._budget.idle_changed()

    def _take_idle_engine(self) -> chess.engine.SimpleEngine | None:
        """Remove and return one idle engine (for the budget to stop), or None; never blocks.

        Taking every free slot off the queue makes sure no thread starts using
        the engine meanwhile; the slots go straight back, the chosen one empty.
        """
        free: list[_Slot] = []
        try:
            while True:
                free.append(self._slots.get_nowait())
        except queue.Empty:
            pass
        taken = None
        for slot in free:
            # A dead engine counts too: it still holds a permit until it is reaped.
            if taken is None and slot.engine is not None:
                taken, slot.engine = slot.engine, None
        for slot in reversed(free):
            self._slots.put(slot)
        return taken

    def _start(self) -> chess.engine.SimpleEngine:
        if self._budget is None:
            return self._start_process()
        self._budget.acquire(self)
        try:
            return self._start_process()
        except BaseException:
            self._budget.release()
            raise

    def _stopped(self, engine: chess.engine.SimpleEngine, *, graceful: bool) -> None:
        """Stop an engine this pool owned and give its place in the budget back."""
        _kill_engine(engine, graceful=graceful)
        if self._budget is not None:
            self._budget.release()

    def _start_process(self) -> chess.engine.SimpleEngine:
        try:
            engine = self._launch(self._path, self._config.startup_timeout_s)
        except OSError as exc:  # not found, not executable, wrong format
            raise EngineUnavailable(
                f"cannot start the engine {self._path!r}: {exc}. {INSTALL_ADVICE}") from exc
        except (TimeoutError, chess.engine.EngineError) as exc:  # exited or silent during `uci`
            raise EngineUnavailable(
                f"the engine {self._path!r} did not start as a UCI engine within "
                f"{self._config.startup_timeout_s:g} s: {exc!r}") from exc
        try:
            options = {name: value for name, value in
                       (("Threads", self._config.threads), ("Hash", self._config.hash_mb))
                       if name in engine.options}
            if options:
                engine.configure(options)
            name = engine.id.get("name", "").strip() or os.path.basename(self._path)
        except BaseException:
            _kill_engine(engine, graceful=False)
            raise
        with self._lock:
            if self._name is None:
                self._name = name
        _KNOWN_NAMES[_binary_key(self._path)] = name
        log.info("started engine %r (pid %s)", name, _pid_of(engine))
        return engine

    def _ensure_engine(self, slot: _Slot) -> chess.engine.SimpleEngine:
        engine = slot.engine
        if engine is not None and engine.returncode.done():
            log.warning("engine pid %s had exited (code %s); restarting it",
                        _pid_of(engine), engine.returncode.result())
            self._drop(slot)
            engine = None
        if engine is None:
            engine = self._start()
            slot.engine = engine
            if self._closed:  # close() ran while we were starting it
                self._drop(slot)
                raise EngineUnavailable("the engine pool is closed")
        return engine

    def _drop(self, slot: _Slot) -> None:
        engine, slot.engine = slot.engine, None
        if engine is not None:
            self._stopped(engine, graceful=False)

    # -- evaluation --

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        """Search one position; every eval in the result is from White's view.

        Raises :class:`BadInput` for an invalid position (before any engine
        sees it), :class:`EngineTimeout` or :class:`EngineCrashed` (naming the
        FEN) when every try failed, and :class:`EngineUnavailable` when no
        engine can be started.
        """
        if not 1 <= multipv <= 500:
            raise BadInput(f"multipv must be at least 1, not {multipv}")
        status = board.status()
        if status != chess.STATUS_VALID:
            # Stockfish 15.1 segfaults on some invalid positions (no king).
            reasons = ", ".join(str(flag.name).lower().replace("_", " ")
                                for flag in chess.Status if flag and flag in status)
            raise BadInput(f"invalid position: {reasons}", token=board.fen())
        position = board.copy(stack=False)
        identity = self.identity
        finished = terminal_eval(position, identity, limit)
        if finished is not None:
            return finished
        deadline = self._config.deadline_for(limit, multipv)
        fen = position.fen()
        failures: list[BaseException] = []
        while True:
            try:
                with self._slot() as slot:
                    engine = self._ensure_engine(slot)
                    try:
                        infos = self._search(engine, position, limit, multipv, deadline)
                    except (TimeoutError, chess.engine.EngineError) as exc:
                        with self._lock:
                            self._restarts += 1
                        log.warning("engine pid %s failed on %s: %r; dropping it",
                                    _pid_of(engine), fen, exc)
                        self._drop(slot)
                        raise
            except (TimeoutError, chess.engine.EngineError) as exc:
                if self._closed:
                    raise EngineUnavailable("the engine pool was closed") from exc
                failures.append(exc)
                if len(failures) > self._config.max_restarts:
                    raise self._failure(fen, deadline, failures) from exc
                pause = self._backoff.next()
                log.info("retrying %s in %.2f s (try %d)", fen, pause, len(failures) + 1)
                time.sleep(pause)
                continue
            self._backoff.reset()
            with self._lock:
                self._calls += 1
            return self._to_position_eval(fen, infos, identity, limit)

    def stream(self, board: chess.Board, limit: SearchLimit,
               on_info: Callable[[chess.engine.InfoDict], None], *, multipv: int = 1,
               stop: threading.Event | None = None) -> PositionEval | None:
        """Search one position and pass every ``info`` line to ``on_info`` as it arrives.

        Holds one slot for the whole search (the pool's bound holds). Returns the
        finished result, or ``None`` when ``stop`` was set first (a partial search is
        never returned as a result, so it never reaches a cache). A silent engine is
        killed at the pool's deadline for ``limit`` and the search raises
        :class:`EngineCrashed`. No retry: a live view just starts again.
        """
        if not 1 <= multipv <= 500:
            raise BadInput(f"multipv must be at least 1, not {multipv}")
        if board.status() != chess.STATUS_VALID:
            raise BadInput("invalid position", token=board.fen())
        position = board.copy(stack=False)
        identity = self.identity
        deadline = self._config.deadline_for(limit, multipv)
        with self._slot() as slot:
            engine = self._ensure_engine(slot)
            try:
                infos = self._stream_search(engine, position, limit, multipv, deadline,
                                            on_info, stop)
            except (TimeoutError, chess.engine.EngineError) as exc:
                with self._lock:
                    self._restarts += 1
                self._drop(slot)
                raise EngineCrashed(f"the live search of {position.fen()} failed: {exc}") from exc
        if infos is None:
            return None
        with self._lock:
            self._calls += 1
        return self._to_position_eval(position.fen(), infos, identity, limit)

    @staticmethod
    def _stream_search(engine: chess.engine.SimpleEngine, board: chess.Board,
                       limit: SearchLimit, multipv: int, deadline: float,
                       on_info: Callable[[chess.engine.InfoDict], None],
                       stop: threading.Event | None) -> list[chess.engine.InfoDict] | None:
        """``SimpleEngine.analysis`` with a watcher: ``stop`` sends UCI ``stop``; a search
        past ``deadline`` gets its engine killed (see :meth:`_search` for why not cancel)."""
        with engine.analysis(board, limit.to_engine(), multipv=multipv, game=object(),
                             info=chess.engine.INFO_ALL) as result:
            finished = threading.Event()
            stopped = threading.Event()

            def watch() -> None:
                ends = time.monotonic() + deadline
                while not finished.wait(0.02):
                    if stop is not None and stop.is_set():
                        stopped.set()
                        with contextlib.suppress(Exception):
                            result.stop()
                        return
                    if time.monotonic() > ends:
                        _signal_group(engine, signal.SIGKILL)
                        return

            watcher = threading.Thread(target=watch, name="chessapp-live-watch", daemon=True)
            watcher.start()
            try:
                for info in result:
                    on_info(info)
            finally:
                finished.set()
                watcher.join()
            if stopped.is_set():
                return None
            return list(result.multipv)

    def _search(self, engine: chess.engine.SimpleEngine, board: chess.Board, limit: SearchLimit,
                multipv: int, deadline: float) -> list[chess.engine.InfoDict]:
        """``SimpleEngine.analyse`` with a deadline that also holds for nodes and depth.

        python-chess runs the protocol on its own event-loop thread;
        ``SimpleEngine.analyse`` wraps ``protocol.analyse`` in
        ``asyncio.wait_for(..., _timeout_for(limit))``, which is ``None`` (no
        bound) unless ``limit.time`` is set. We schedule the same coroutine and
        wait for it at most ``deadline`` seconds.

        On a timeout we do *not* cancel the coroutine: in python-chess 1.11.2 a
        cancelled analysis makes ``connection_lost`` fail later with
        ``InvalidStateError`` (it sets an exception on the cancelled
        ``AnalysisResult``) before it resolves ``returncode``, which leaks the
        engine's event-loop thread. Instead we kill the process; the command
        then ends normally with ``EngineTerminatedError`` and everything is
        cleaned up.
        """
        coro = engine.protocol.analyse(board, limit.to_engine(), multipv=multipv, game=object(),
                                       info=chess.engine.INFO_ALL)
        try:
            future = asyncio.run_coroutine_threadsafe(coro, engine.protocol.loop)
        except RuntimeError as exc:  # the engine's event loop is closed
            coro.close()
            raise chess.engine.EngineTerminatedError(f"engine event loop dead: {exc}") from exc
        try:
            return future.result(timeout=deadline)
        except concurrent.futures.TimeoutError:
            _signal_group(engine, signal.SIGKILL)
            try:
                future.result(timeout=5)  # ends with EngineTerminatedError once the kill lands
            except (Exception, concurrent.futures.CancelledError) as exc:
                log.debug("hung engine search ended with %r", exc)
            if not future.done():  # the event loop itself is stuck: last resort
                future.cancel()
            raise TimeoutError(f"no answer within {deadline:.1f} s") from None
        except concurrent.futures.CancelledError as exc:
            # When the process dies, python-chess ends its event loop, which cancels
            # every task still pending on it, ours included: that is a crash too.
            raise chess.engine.EngineTerminatedError(
                f"engine process died (exit code: {_exit_code(engine)})") from exc

    def _failure(self, fen: str, deadline: float, failures: list[BaseException]) -> Exception:
        tries = len(failures)
        crashes = [f for f in failures if not isinstance(f, TimeoutError)]
        if crashes:
            return EngineCrashed(
                f"the engine failed on position {fen} {tries} times in a row "
                f"({len(crashes)} crash(es), last: {crashes[-1]}); that position was not analysed")
        return EngineTimeout(
            f"the engine did not answer within {deadline:.1f} s on position {fen} "
            f"({tries} tries, restarted each time)")

    @staticmethod
    def _to_position_eval(fen: str, infos: list[chess.engine.InfoDict],
                          identity: EngineIdentity, limit: SearchLimit) -> PositionEval:
        lines = []
        for info in infos:
            score = info.get("score")
            if score is None:
                continue
            lines.append(EngineLine(
                eval=WhiteEval.from_pov(score),  # the one place a PovScore is converted
                pv=tuple(info.get("pv", ())),
                depth=info.get("depth"),
                nodes=info.get("nodes"),
            ))
        if not lines:
            raise EngineCrashed(f"the engine gave no evaluation for position {fen}")
        return PositionEval(fen, tuple(lines), identity, limit)

    # -- shutdown --

    def close(self) -> None:
        """Quit every engine, kill the ones that will not quit; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for slot in self._all_slots:
            engine, slot.engine = slot.engine, None
            if engine is not None:
                # An idle engine is asked to quit. One in use is killed instead (a new
                # command would cancel its search, see _search); its holder then sees
                # EngineTerminatedError, then _closed, and raises EngineUnavailable.
                self._stopped(engine, graceful=not slot.busy)

    def __enter__(self) -> EnginePool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<EnginePool {self._path!r} workers={self.workers} pids={self.alive_pids()}>"


# --- One pool per process --------------------------------------------------------------------

_shared: dict[EngineConfig, EnginePool] = {}
_shared_lock = threading.Lock()


def shared_pool(config: EngineConfig | None = None) -> EnginePool:
    """The process-wide pool for ``config`` (default: from the environment).

    Every Streamlit session shares it, so the pool size bounds the engine
    processes of the whole server. Pools are closed at interpreter exit.
    """
    config = config if config is not None else EngineConfig.from_env()
    with _shared_lock:
        pool = _shared.get(config)
        if pool is None or pool.closed:
            pool = EnginePool(config, budget=_BUDGET)
            _shared[config] = pool
        return pool


@atexit.register
def _close_shared_pools() -> None:
    with _shared_lock:
        pools = list(_shared.values())
        _shared.clear()
    for pool in pools:
        pool.close()


# --- Status for the UI ------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineStatus:
    """Whether an engine can be used, for display. ``message`` is for people."""

    available: bool
    path: str | None
    name: str | None
    message: str


#: The one engine-status cache: (binary, mtime) -> (status, when probed).
_status_cache: dict[tuple[str, float], tuple[EngineStatus, float]] = {}
_status_lock = threading.Lock()
#: A binary that failed to start is probed again after this long (it may be fixed);
#: one that works is trusted until the file changes.
STATUS_RETRY_S = 60.0


def engine_status(path: str | None = None) -> EngineStatus:
    """Find and briefly start the engine to learn its name; never raises.

    Results are cached per binary (path and modification time), so a page can
    call this on every render without starting a process each time.
    """
    try:
        found = find_engine(path)
    except EngineUnavailable as exc:
        return EngineStatus(False, None, None, str(exc))
    try:
        key = (found, Path(found).stat().st_mtime)
    except OSError as exc:
        return EngineStatus(False, found, None, f"cannot read {found!r}: {exc}")
    with _status_lock:
        cached = _status_cache.get(key)
        now = time.monotonic()
        if cached is not None and (cached[0].available or now - cached[1] < STATUS_RETRY_S):
            return cached[0]
        status = _probe(found)
        _status_cache[key] = (status, now)
        return status


def _probe(found: str) -> EngineStatus:
    try:
        engine = _popen_uci(found, 10)
    except Exception as exc:
        return EngineStatus(False, found, None,
                            f"the engine {found!r} did not start: {exc!r}. {INSTALL_ADVICE}")
    try:
        name = engine.id.get("name", "").strip() or os.path.basename(found)
    finally:
        _kill_engine(engine, graceful=True)
    return EngineStatus(True, found, name, f"{name} ({found})")
