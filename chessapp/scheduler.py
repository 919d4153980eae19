"""Fair sharing of the engines between visitors (issue 15).

One server, one bounded engine pool, many visitors. Without a scheduler the
pool serves whoever asks first, so one visitor's 60-position analysis at
5,000,000 nodes holds every engine while the others wait. The
:class:`FairScheduler` stands in front of the pool:

* every engine call is a request of a *visitor* (a browser or a signed-in
  user, :func:`chessapp.owners.visitor_label`) at a :class:`Priority`;
* interactive requests (one position, a variation; later the live engine and
  learn-from-mistakes checks) go before background ones (full games);
* within a priority, visitors are served round-robin: the visitor served
  longest ago goes next, whatever the number of requests each has queued;
* ``reserved`` engines (:data:`chessapp.settings.INTERACTIVE_RESERVED_ENGINES`)
  never take background work while there are at least two, so an interactive
  request does not wait behind a long search (no search is ever interrupted);
* each visitor may have at most ``max_queued`` positions in unfinished jobs
  (:meth:`reserve`; :data:`chessapp.settings.MAX_QUEUED_POSITIONS_PER_VISITOR`),
  and is refused with :class:`~chessapp.errors.QueueFull` beyond that;
* :meth:`place` tells a waiting visitor their place in the queue.

Scheduling changes the order in which positions are searched, never a result:
the pool clears the hash and sends the bare position before every search.

:class:`VisitorEvaluator` is one visitor's view of the pool through the
scheduler; it is an :class:`~chessapp.analysis.Evaluator`, so jobs and
``evaluate_positions`` use it unchanged.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import chess

from chessapp.analysis import Evaluator
from chessapp.errors import QueueFull
from chessapp.evals import EngineIdentity, PositionEval, SearchLimit
from chessapp.settings import INTERACTIVE_RESERVED_ENGINES, MAX_QUEUED_POSITIONS_PER_VISITOR

__all__ = [
    "FairScheduler",
    "Priority",
    "Reservation",
    "VisitorEvaluator",
    "shared_scheduler",
]

log = logging.getLogger(__name__)


class Priority(enum.IntEnum):
    """Lower goes first."""

    INTERACTIVE = 0
    BACKGROUND = 1


@dataclass(eq=False)
class _Request:
    visitor: str
    priority: Priority
    cost: int
    seq: int
    granted: bool = False


@dataclass(eq=False)
class Reservation:
    """Positions a visitor's job holds against the per-visitor cap; release once, at the end."""

    scheduler: FairScheduler
    visitor: str
    positions: int
    released: bool = field(default=False)

    def release(self) -> None:
        self.scheduler._unreserve(self)


class FairScheduler:
    """Grants engine slots: interactive first, then visitors round-robin (see the module).

    ``capacity`` is the number of engine slots behind it (the pool's process
    budget); a request costs its engine's thread count, so a visitor running
    2-thread engines uses two slots per search.
    """

    def __init__(self, capacity: int, *, reserved: int = INTERACTIVE_RESERVED_ENGINES,
                 max_queued: int = MAX_QUEUED_POSITIONS_PER_VISITOR) -> None:
        if capacity < 1:
            raise ValueError("a scheduler needs at least one engine slot")
        self.capacity = capacity
        #: Slots background work may use: all but ``reserved``, and never fewer than one.
        self.background_capacity = max(1, capacity - max(0, reserved)) if capacity >= 2 else 1
        self.max_queued = max_queued
        self._cond = threading.Condition()
        self._waiting: dict[Priority, dict[str, deque[_Request]]] = {p: {} for p in Priority}
        #: Visitors by when they were last served: the front was served longest ago.
        self._rotation: deque[str] = deque()
        self._running: dict[str, int] = {}
        self._in_use = 0
        self._background_in_use = 0
        self._reserved: dict[str, int] = {}
        self._seq = itertools.count()
        #: (visitor, priority) of every grant, in order, for tests and diagnostics (bounded).
        self.grants: deque[tuple[str, Priority]] = deque(maxlen=10_000)

    # -- the per-visitor cap --

    def reserve(self, visitor: str, positions: int) -> Reservation:
        """Hold ``positions`` of ``visitor``'s cap for a job, or raise :class:`QueueFull`."""
        with self._cond:
            held = self._reserved.get(visitor, 0)
            if held + positions > self.max_queued:
                raise QueueFull(
                    f"you already have {held:,} positions waiting for the engines and this "
                    f"would add {positions:,}; one visitor may have at most "
                    f"{self.max_queued:,} at once. Wait for an analysis to finish, or "
                    "cancel one, and try again")
            self._reserved[visitor] = held + positions
            return Reservation(self, visitor, positions)

    def _unreserve(self, reservation: Reservation) -> None:
        with self._cond:
            if reservation.released:
                return
            reservation.released = True
            left = self._reserved.get(reservation.visitor, 0) - reservation.positions
            if left > 0:
                self._reserved[reservation.visitor] = left
            else:
                self._reserved.pop(reservation.visitor, None)

    def reserved(self, visitor: str) -> int:
        """Positions ``visitor`` holds in unfinished jobs."""
        with self._cond:
            return self._reserved.get(visitor, 0)

    # -- slots --

    def acquire(self, visitor: str, priority: Priority, *, cost: int = 1) -> _Request:
        """Wait for a slot; the caller must :meth:`release` the returned request."""
        request = _Request(visitor, priority, max(1, min(cost, self.capacity)), next(self._seq))
        with self._cond:
            self._waiting[priority].setdefault(visitor, deque()).append(request)
            if visitor not in self._rotation:
                self._rotation.append(visitor)
            self._dispatch()
            while not request.granted:
                self._cond.wait()
        return request

    def release(self, request: _Request) -> None:
        with self._cond:
            self._in_use -= request.cost
            if request.priority is Priority.BACKGROUND:
                self._background_in_use -= request.cost
            running = self._running.get(request.visitor, 0) - 1
            if running > 0:
                self._running[request.visitor] = running
            else:
                self._running.pop(request.visitor, None)
            self._dispatch()
            self._forget_idle(request.visitor)

    def _forget_idle(self, visitor: str) -> None:
        if visitor in self._running or any(visitor in w for w in self._waiting.values()):
            return
        with contextlib.suppress(ValueError):
            self._rotation.remove(visitor)

    def _dispatch(self) -> None:
        """Grant as many waiting requests as the free slots allow (lock held)."""
        granted = False
        while (request := self._pick()) is not None:
            request.granted = True
            self._in_use += request.cost
            if request.priority is Priority.BACKGROUND:
                self._background_in_use += request.cost
            self._running[request.visitor] = self._running.get(request.visitor, 0) + 1
            self.grants.append((request.visitor, request.priority))
            granted = True
        if granted:
            self._cond.notify_all()

    def _pick(self) -> _Request | None:
        for priority in Priority:
            queues = self._waiting[priority]
            if not queues:
                continue
            for visitor in list(self._rotation):
                queue = queues.get(visitor)
                if not queue:
                    continue
                request = queue[0]
                if self._in_use + request.cost > self.capacity:
                    return None
                if priority is Priority.BACKGROUND and (
                        self._background_in_use + request.cost > self.background_capacity):
                    return None
                queue.popleft()
                if not queue:
                    del queues[visitor]
                # Served now: to the back of the rotation.
                self._rotation.remove(visitor)
                self._rotation.append(visitor)
                return request
        return None

    # -- what a waiting visitor is told --

    def place(self, visitor: str) -> int | None:
        """``visitor``'s place in the queue: 1 is next; 0 means being served and nothing
        waiting; None when the visitor has nothing queued or running.

        Counted as the visitors served before this one's first waiting request if
        nothing new arrived: everyone with interactive work ahead of background work,
        then those ahead of it in the round-robin rotation at its priority.
        """
        with self._cond:
            for priority in Priority:
                if visitor in self._waiting[priority]:
                    ahead: set[str] = set()
                    for higher in Priority:
                        if higher >= priority:
                            break
                        ahead.update(self._waiting[higher])
                    for other in self._rotation:
                        if other == visitor:
                            break
                        if other in self._waiting[priority]:
                            ahead.add(other)
                    ahead.discard(visitor)
                    return len(ahead) + 1
            return 0 if visitor in self._running else None

    def waiting(self) -> int:
        """Requests waiting for a slot, over all visitors."""
        with self._cond:
            return sum(len(q) for w in self._waiting.values() for q in w.values())

    def in_use(self) -> int:
        with self._cond:
            return self._in_use


class VisitorEvaluator:
    """One visitor's way to the engines: an :class:`~chessapp.analysis.Evaluator`
    whose every call waits its turn in a :class:`FairScheduler`."""

    def __init__(self, inner: Evaluator, scheduler: FairScheduler, visitor: str,
                 priority: Priority, *, cost: int = 1) -> None:
        self.inner = inner
        self.scheduler = scheduler
        self.visitor = visitor
        self.priority = priority
        self.cost = cost

    @property
    def identity(self) -> EngineIdentity:
        return self.inner.identity

    @property
    def workers(self) -> int:
        return self.inner.workers

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        asked = time.perf_counter()
        request = self.scheduler.acquire(self.visitor, self.priority, cost=self.cost)
        granted = time.perf_counter()
        try:
            return self.inner.evaluate(board, limit, multipv=multipv)
        finally:
            self.scheduler.release(request)
            # The load test reads these lines (CHESSAPP_LOG_LEVEL=DEBUG).
            log.debug("%s request of %s: waited %.1f ms, searched %.1f ms",
                      self.priority.name.lower(), self.visitor, (granted - asked) * 1000,
                      (time.perf_counter() - granted) * 1000)

    def queue_place(self) -> int | None:
        return self.scheduler.place(self.visitor)

    def reserve(self, positions: int) -> Reservation:
        return self.scheduler.reserve(self.visitor, positions)


_shared: FairScheduler | None = None
_shared_lock = threading.Lock()


def shared_scheduler(capacity: int) -> FairScheduler:
    """The process's scheduler (every page's jobs go through it), sized on first use.

    ``capacity`` is the engine process budget (``CHESSAPP_ENGINE_POOL``); a later
    call with another value resizes it (the budget is read from the environment).
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FairScheduler(capacity)
        elif _shared.capacity != capacity:
            with _shared._cond:
                _shared.capacity = capacity
                _shared.background_capacity = (
                    max(1, capacity - INTERACTIVE_RESERVED_ENGINES) if capacity >= 2 else 1)
                _shared._dispatch()
        return _shared
