"""The live engine: stream Stockfish's view of the position on the board (issue 10, part 3).

A :class:`LiveSearch` borrows one engine from an :class:`~chessapp.engine.EnginePool`
(one slot, like any search, so the pool's bound on processes holds), runs
python-chess's ``SimpleEngine.analysis`` on a background thread and keeps the
latest depth, speed and lines, which a page polls (:meth:`LiveSearch.snapshot`).

* It is bounded: by :data:`LIVE_LIMIT` nodes (a setting) and by the pool's own
  deadline for that many nodes, after which a silent engine is killed, as in any
  search. It gives the engine back when it finishes, is stopped, or the page stops
  asking (:meth:`stop`).
* It is deterministic when it finishes: the hash is cleared first (a fresh
  ``game``), so a completed live search is the same result as a batch search at
  the same limit, and it is written to the eval cache under that limit: going back
  to the position shows it at once.
* Evals are White's view, converted once, as everywhere (:class:`WhiteEval`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import chess
import chess.engine

from chessapp.engine import EnginePool
from chessapp.errors import ChessAppError
from chessapp.evals import EngineLine, PositionEval, SearchLimit, WhiteEval, terminal_eval

__all__ = ["LIVE_LIMIT", "LiveSearch", "LiveSnapshot", "live_limit"]

log = logging.getLogger(__name__)

#: How far a live search goes at most: lichess's browser engine stops at depth ~22-25;
#: 2,000,000 nodes is a couple of seconds of Stockfish on one core. CHESSAPP_LIVE_NODES.
LIVE_NODES_DEFAULT = 2_000_000


def live_limit() -> SearchLimit:
    """The live engine's bound, from ``CHESSAPP_LIVE_NODES`` (default 2,000,000)."""
    raw = os.environ.get("CHESSAPP_LIVE_NODES", "")
    nodes = int(raw) if raw.strip().isdigit() and int(raw) > 0 else LIVE_NODES_DEFAULT
    return SearchLimit(nodes=nodes)


LIVE_LIMIT = live_limit()


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """What the engine says so far about ``fen``: best lines first (White's view)."""

    fen: str
    depth: int
    nodes: int
    nps: int
    lines: tuple[EngineLine, ...]
    updates: int  # how many info lines have arrived (a page shows a new one when it grows)
    done: bool
    error: str | None = None
    elapsed_s: float = 0.0  # how long the search has run


class LiveSearch:
    """One streaming search of one position; start it, poll it, stop it."""

    def __init__(self, pool: EnginePool, board: chess.Board, *, multipv: int = 3,
                 limit: SearchLimit | None = None,
                 on_done: Callable[[PositionEval], None] | None = None) -> None:
        self.board = board.copy(stack=False)
        self.fen = self.board.fen()
        self.multipv = multipv
        self.limit = limit if limit is not None else live_limit()
        self._pool = pool
        self._on_done = on_done
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._lines: dict[int, EngineLine] = {}
        self._depth = self._nodes = self._nps = self._updates = 0
        self._done = False
        self._error: str | None = None
        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="chessapp-live", daemon=True)

    def start(self) -> LiveSearch:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the engine to stop; the slot is given back as soon as it answers."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            lines = tuple(self._lines[k] for k in sorted(self._lines))
            return LiveSnapshot(self.fen, self._depth, self._nodes, self._nps, lines,
                                self._updates, self._done, self._error,
                                time.monotonic() - self.started_at)

    def wait_for_lines(self, timeout_s: float) -> bool:
        """Wait at most ``timeout_s`` for the first line (or the end); True if there is one."""
        ends = time.monotonic() + timeout_s
        while time.monotonic() < ends:
            snap = self.snapshot()
            if snap.lines or snap.done:
                return bool(snap.lines)
            time.sleep(0.005)
        return False

    # -- the search thread --

    def _run(self) -> None:
        try:
            final = terminal_eval(self.board, self._pool.identity, self.limit)
            if final is None:
                final = self._pool.stream(self.board, self.limit, self._take,
                                          multipv=self.multipv, stop=self._stop)
            if final is not None and self._on_done is not None and not self._stop.is_set():
                self._on_done(final)
            if final is not None:
                with self._lock:
                    self._lines = dict(enumerate(final.lines, start=1))
        except ChessAppError as exc:
            log.warning("live search of %s failed: %s", self.fen, exc)
            with self._lock:
                self._error = str(exc)
        except Exception as exc:  # a live view must never take the page down
            log.exception("live search crashed")
            with self._lock:
                self._error = f"unexpected error: {exc!r}"
        finally:
            with self._lock:
                self._done = True

    def _take(self, info: chess.engine.InfoDict) -> None:
        score = info.get("score")
        pv = info.get("pv")
        with self._lock:
            self._updates += 1
            self._depth = max(self._depth, int(info.get("depth", 0) or 0))
            self._nodes = int(info.get("nodes", self._nodes) or self._nodes)
            self._nps = int(info.get("nps", self._nps) or self._nps)
            if score is not None and pv:
                rank = int(info.get("multipv", 1) or 1)
                self._lines[rank] = EngineLine(WhiteEval.from_pov(score), tuple(pv),
                                               depth=info.get("depth"), nodes=info.get("nodes"))
