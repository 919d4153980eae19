"""``analyze --all --cluster``: the positions of a database, spread over a Dask cluster.

Dask distributed does the distributing (scheduling, moving data, re-running
the tasks of a worker that died); this module only says what a task is:

* Each worker holds one Stockfish, started once by :class:`EnginePlugin` (a
  ``distributed.WorkerPlugin``) through an :class:`~chessapp.engine.EnginePool`
  of one engine, and closed at the worker's teardown.
* A task, :func:`evaluate_chunk`, evaluates a chunk of positions (from one
  game or several) and returns their :class:`~chessapp.evals.PositionEval`.
* The client (:class:`ClusterRun`) reads games in input order, asks its
  SQLite cache first, sends only the positions it lacks (each distinct
  position once, however many games reach it), caches each result as it
  returns, and builds each game's analysis with the same code as a local run
  (:func:`chessapp.analysis.analyse_game` over the returned evals). Games
  are handed on in input order.

The output equals a local run's byte for byte: every search starts from a
cleared hash (the pool sends ``ucinewgame`` before each position) with one
thread, so an eval depends only on the position and the settings, not on
which worker searched it, nor in which order.

Memory stays bounded: at most ``2 x threads`` tasks are in flight, and games
wait only until the positions they need are back.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import chess
from distributed import Client, Future, LocalCluster, WorkerPlugin, as_completed, get_worker

from chessapp import analysis, sources
from chessapp.analysis import EvalCache
from chessapp.batch import BatchItem, BatchOptions, BatchProgress
from chessapp.engine import EngineConfig, EnginePool
from chessapp.errors import BadInput, EngineCrashed, EngineUnavailable
from chessapp.evals import EngineIdentity, PositionEval, SearchLimit, terminal_eval
from chessapp.tree import main_line_boards

log = logging.getLogger(__name__)

__all__ = ["PLUGIN_NAME", "ClusterRun", "EnginePlugin", "Position", "evaluate_chunk"]

#: The name the engine plugin is registered under on every worker.
PLUGIN_NAME = "chessapp-engine"
#: Tasks in flight per worker thread: one running and one queued, so no
#: worker waits for the client between tasks.
TASKS_PER_THREAD = 2
#: How long to wait for the first worker of a remote scheduler.
WAIT_FOR_WORKERS_S = 60.0
_LOCAL = re.compile(r"local:(\d+)")
#: The search that starts a worker's engine at setup.
_WARM_UP = SearchLimit(nodes=1)


@dataclass(frozen=True, slots=True)
class Position:
    """What a worker needs to search one position: its FEN and the castling convention."""

    fen: str
    chess960: bool

    @classmethod
    def of(cls, board: chess.Board) -> Position:
        return cls(board.fen(), board.chess960)


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """A chunk's evals, in the order asked; a ``str`` is why the engine kept crashing."""

    worker: str
    identity: EngineIdentity
    evals: tuple[PositionEval | str, ...]


# --- The worker side ---------------------------------------------------------------------------


class EnginePlugin(WorkerPlugin):
    """One Stockfish per worker, started at setup and quit at teardown."""

    name = PLUGIN_NAME

    def __init__(self, config: EngineConfig) -> None:
        # One engine per single-threaded worker: Dask runs one task at a time there.
        self.config = replace(config, workers=1)
        self.pool: EnginePool | None = None

    def setup(self, worker: Any) -> None:
        self.pool = EnginePool(self.config)
        # A one-node search starts the engine now, not in the first task, and a worker
        # without a usable engine fails here. (``identity`` alone may start nothing: the
        # pool remembers engine names per binary.) The hash is cleared before every
        # position, so this search leaves no trace in later evals.
        self.pool.evaluate(chess.Board(), _WARM_UP)
        log.info("worker %s: %s ready", getattr(worker, "address", "?"),
                 self.pool.identity.name)

    def teardown(self, worker: Any) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def _worker_pool(worker: Any = None) -> EnginePool:
    if worker is None:
        worker = get_worker()
    plugin = worker.plugins.get(PLUGIN_NAME)
    pool = getattr(plugin, "pool", None)
    if not isinstance(pool, EnginePool):
        raise EngineUnavailable(f"worker {worker.address} has no chessapp engine plugin")
    return pool


def worker_identity(dask_worker: Any) -> EngineIdentity:
    """The engine this worker runs (``client.run`` asks every worker before work is sent;
    it passes the worker as ``dask_worker``)."""
    return _worker_pool(dask_worker).identity


def evaluate_chunk(positions: tuple[Position, ...], limit: SearchLimit,
                   multipv: int) -> ChunkResult:
    """A Dask task: search each position on this worker's engine."""
    pool = _worker_pool()
    out: list[PositionEval | str] = []
    for position in positions:
        board = chess.Board(position.fen, chess960=position.chess960)
        try:
            out.append(pool.evaluate(board, limit, multipv=multipv))
        except EngineCrashed as exc:
            # As in a local run: the position is skipped and noted, the game goes on.
            out.append(str(exc))
    return ChunkResult(get_worker().address, pool.identity, tuple(out))


# --- The client side ---------------------------------------------------------------------------


class _ReturnedEvals:
    """An :class:`~chessapp.analysis.Evaluator` that answers from the cluster's results
    (and the cache, for positions found there before sending); it never searches."""

    workers = 1

    def __init__(self, identity: EngineIdentity, results: dict[Position, PositionEval | str],
                 cache: EvalCache | None, multipv: int) -> None:
        self.identity = identity
        self._results = results
        self._cache = cache
        self._multipv = multipv

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        found = self._results.get(Position.of(board))
        if isinstance(found, str):
            raise EngineCrashed(found)
        if found is None and self._cache is not None:
            found = self._cache.get_eval(board.fen(), self.identity, limit, multipv)
        if found is None:  # a bug, not bad luck: every needed position was sent
            raise EngineUnavailable(f"no result came back for {board.fen()}")
        return found


@dataclass
class _PendingGame:
    record: sources.GameRecord
    needed: set[Position]
    positions: int


@dataclass(frozen=True, slots=True)
class ClusterStats:
    tasks_sent: int
    positions_sent: int
    workers_lost: tuple[str, ...]


class ClusterRun:
    """A Dask client (and, for ``local:N``, its LocalCluster) for one batch."""

    def __init__(self, address: str, config: EngineConfig, options: BatchOptions, *,
                 cache: EvalCache | None, notice: Callable[[str], None],
                 warn: Callable[[str], None] | None = None) -> None:
        self._address = address
        self._config = config
        self._options = options
        self._cache = cache
        self._notice = notice
        #: For what a person must see even with -q: a worker that died.
        self._warn = warn if warn is not None else notice
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._lock = threading.Lock()
        self._lost: list[str] = []
        self._tasks_sent = 0
        self._positions_sent = 0
        self.identity: EngineIdentity | None = None

    # -- connecting --

    def __enter__(self) -> ClusterRun:
        try:
            self._connect()
        except BaseException:
            self.close()
            raise
        return self

    def _connect(self) -> None:
        if not log.isEnabledFor(logging.INFO):
            # Dask logs every start, stop and connection at INFO on its own handler; what
            # matters to a person (a lost worker) this module says itself.
            logging.getLogger("distributed").setLevel(logging.ERROR)
        local = _LOCAL.fullmatch(self._address)
        if local is not None:
            workers = int(local.group(1))
            if not 1 <= workers <= 512:
                raise BadInput(f"--cluster local:N needs 1 <= N <= 512, not {workers}")
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None,
                                         silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        elif "://" in self._address:
            try:
                self._client = Client(self._address, timeout=30)
            except OSError as exc:
                raise EngineUnavailable(f"cannot reach the Dask scheduler at "
                                        f"{self._address}: {exc}") from exc
            self._client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
        else:
            raise BadInput(f"--cluster takes local:N or tcp://HOST:PORT, not {self._address!r}")
        client = self._client
        client.subscribe_topic("all", self._on_event)
        client.register_plugin(EnginePlugin(self._config), name=PLUGIN_NAME)
        identities = set(client.run(worker_identity).values())
        if len(identities) != 1:
            raise EngineUnavailable("the workers run different engines or settings: "
                                    + "; ".join(sorted(i.key() for i in identities)))
        self.identity = identities.pop()
        self._notice(f"cluster: {len(client.nthreads())} workers running {self.identity.name}")

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        """Scheduler events (on the client's event-loop thread): report lost workers."""
        message = event[1] if len(event) > 1 else {}
        if message.get("action") != "remove-worker" or message.get("expected"):
            return
        worker = str(message.get("worker", "?"))
        running = len(message.get("processing-tasks", ()))
        with self._lock:
            self._lost.append(worker)
        self._warn(f"cluster: worker {worker} died with {running} task(s) running; "
                     "Dask runs them again elsewhere")

    @property
    def client(self) -> Client:
        if self._client is None:
            raise EngineUnavailable("the cluster is not connected")
        return self._client

    def total_threads(self) -> int:
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    @property
    def stats(self) -> ClusterStats:
        with self._lock:
            return ClusterStats(self._tasks_sent, self._positions_sent, tuple(self._lost))

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.unsubscribe_topic("all")
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the batch --

    def analyses(self, records: Iterable[sources.GameRecord | sources.SkippedGame], *,
                 progress: BatchProgress | None = None) -> Iterator[BatchItem]:
        """Every game analysed on the cluster, handed on in input order."""
        assert self.identity is not None
        identity, options, cache = self.identity, self._options, self._cache
        limit, multipv = options.limit, options.multipv
        client = self.client
        results: dict[Position, PositionEval | str] = {}
        wanted_by: dict[Position, int] = {}  # position -> pending games needing it
        in_flight: set[Position] = set()
        to_send: list[Position] = []
        queue: deque[_PendingGame | sources.SkippedGame] = deque()
        tasks: dict[Future[ChunkResult], tuple[Position, ...]] = {}
        finished = as_completed()
        counts = {"games_done": 0, "games_seen": 0, "done": 0, "total": 0}
        max_tasks = TASKS_PER_THREAD * self.total_threads()

        def report() -> None:
            if progress is not None:
                label = f"cluster: {counts['games_done']}/{counts['games_seen']} games"
                progress(counts["games_done"], counts["games_seen"], counts["done"],
                         counts["total"], label)

        def send(chunk: list[Position]) -> None:
            future = client.submit(evaluate_chunk, tuple(chunk), limit, multipv, pure=False)
            tasks[future] = tuple(chunk)
            finished.add(future)
            with self._lock:
                self._tasks_sent += 1
                self._positions_sent += len(chunk)

        def receive(future: Future[ChunkResult]) -> None:
            asked = tasks.pop(future)
            answer: ChunkResult = future.result()
            future.release()
            if answer.identity != identity:
                raise EngineUnavailable(f"worker {answer.worker} runs {answer.identity.key()}, "
                                        f"not {identity.key()}")
            for position, result in zip(asked, answer.evals, strict=True):
                in_flight.discard(position)
                results[position] = result
                if isinstance(result, PositionEval) and cache is not None:
                    cache.put_eval(result, multipv)  # kept even if the run stops now
                counts["done"] += wanted_by.get(position, 0)
            report()

        def ready() -> Iterator[BatchItem]:
            while queue:
                head = queue[0]
                if isinstance(head, sources.SkippedGame):
                    queue.popleft()
                    yield head
                    continue
                if any(p not in results for p in head.needed):
                    return
                queue.popleft()
                evaluator = _ReturnedEvals(identity, results, cache, multipv)
                result = analysis.analyse_game(head.record.game, evaluator, limit,
                                               multipv=multipv, best_line_plies=0)  # as batch
                for position in head.needed:
                    wanted_by[position] -= 1
                    if wanted_by[position] == 0:
                        del wanted_by[position]
                        results.pop(position, None)
                counts["games_done"] += 1
                report()
                yield head.record, result

        for record in records:
            if isinstance(record, sources.SkippedGame):
                queue.append(record)
            else:
                boards = main_line_boards(record.game)
                needed: set[Position] = set()
                for board in boards:
                    if terminal_eval(board, identity, limit) is not None:
                        continue
                    if cache is not None and cache.get_eval(board.fen(), identity, limit,
                                                            multipv) is not None:
                        continue
                    needed.add(Position.of(board))
                for position in needed:
                    wanted_by[position] = wanted_by.get(position, 0) + 1
                    if position not in results and position not in in_flight:
                        in_flight.add(position)
                        to_send.append(position)
                counts["games_seen"] += 1
                counts["total"] += len(boards)
                counts["done"] += len(boards) - len(needed) + sum(
                    1 for p in needed if p in results)
                queue.append(_PendingGame(record, needed, len(boards)))
                report()
            while len(to_send) >= options.chunk_positions:
                send(to_send[:options.chunk_positions])
                del to_send[:options.chunk_positions]
                while len(tasks) >= max_tasks:
                    receive(next(finished))
                    yield from ready()
            yield from ready()
        if to_send:
            send(to_send)
            to_send.clear()
        while tasks:
            receive(next(finished))
            yield from ready()
        yield from ready()
        assert not queue, "every game was handed on"

    def summary_line(self) -> str:
        stats = self.stats
        return (f"cluster: {stats.positions_sent} positions sent in {stats.tasks_sent} tasks, "
                f"{len(stats.workers_lost)} worker(s) lost")
