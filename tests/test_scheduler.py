"""The fair scheduler (issue 15): interactive first, visitors round-robin, a per-visitor cap,
a place in the queue, and results that do not depend on the order.

The ordering tests are pure logic: a fake evaluator that records who it served, with
one engine slot held by a blocker until every request is queued, so the order of
grants is exactly the scheduler's choice. The integration test runs real Stockfish at
small node limits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import chess
import pytest

from chessapp import jobs
from chessapp.engine import EnginePool
from chessapp.errors import QueueFull
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.scheduler import FairScheduler, Priority, VisitorEvaluator
from chessapp.tree import main_line_boards
from tests.test_ownership import read

LIMIT = SearchLimit(nodes=1000)


class Recorder:
    """Records (visitor tag, fen) of each call in the order served; answers at once."""

    identity = EngineIdentity("Recorder 1")
    workers = 1

    def __init__(self) -> None:
        self.served: list[str] = []
        self.lock = threading.Lock()

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1
                 ) -> PositionEval:
        with self.lock:
            self.served.append(board.fen())
        move = next(iter(board.legal_moves))
        return PositionEval(board.fen(), (EngineLine(WhiteEval(cp=len(board.move_stack)),
                                                     (move,)),), self.identity, limit)


def _board(tag: int) -> chess.Board:
    """A distinct, legal position per tag (a knight shuffle of ``tag`` moves)."""
    board = chess.Board()
    for i in range(tag):
        board.push_uci(["g1f3", "g8f6", "f3g1", "f6g8"][i % 4])
    return chess.Board(board.fen())


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def run_in_order(scheduler: FairScheduler, requests: list[tuple[str, Priority]]
                 ) -> list[str]:
    """Queue ``requests`` one by one behind a held slot, release it, return who was served."""
    served: list[str] = []
    lock = threading.Lock()
    blocker = scheduler.acquire("blocker", Priority.INTERACTIVE, cost=scheduler.capacity)
    threads = []
    for n, (visitor, priority) in enumerate(requests):
        def work(visitor: str = visitor, priority: Priority = priority) -> None:
            request = scheduler.acquire(visitor, priority)
            with lock:
                served.append(visitor)
            scheduler.release(request)
        thread = threading.Thread(target=work)
        thread.start()
        threads.append(thread)
        _until(lambda n=n: scheduler.waiting() == n + 1)  # queued in exactly this order
    scheduler.release(blocker)
    for thread in threads:
        thread.join(10)
    return served


def test_visitors_are_served_round_robin_not_first_come() -> None:
    # A queues five positions before B and C ask for anything.
    order = [("A", Priority.BACKGROUND)] * 5 + [("B", Priority.BACKGROUND)] * 2 + [
        ("C", Priority.BACKGROUND)]
    served = run_in_order(FairScheduler(1, reserved=0), order)
    assert served == ["A", "B", "C", "A", "B", "A", "A", "A"]


def test_interactive_requests_go_ahead_of_background_ones() -> None:
    order = [("A", Priority.BACKGROUND)] * 3 + [("B", Priority.BACKGROUND)] * 2 + [
        ("C", Priority.INTERACTIVE), ("D", Priority.INTERACTIVE), ("C", Priority.INTERACTIVE)]
    served = run_in_order(FairScheduler(1, reserved=0), order)
    assert served == ["C", "D", "C", "A", "B", "A", "B", "A"]


def test_a_reserved_engine_never_takes_background_work() -> None:
    scheduler = FairScheduler(2, reserved=1)
    assert scheduler.background_capacity == 1
    first = scheduler.acquire("A", Priority.BACKGROUND)
    started = threading.Event()

    def second_background() -> None:
        request = scheduler.acquire("B", Priority.BACKGROUND)
        started.set()
        scheduler.release(request)

    thread = threading.Thread(target=second_background)
    thread.start()
    _until(lambda: scheduler.waiting() == 1)
    assert not started.wait(0.2)  # one engine is free, but it is kept for interactive work
    interactive = scheduler.acquire("C", Priority.INTERACTIVE)  # served at once
    assert scheduler.in_use() == 2
    scheduler.release(interactive)
    scheduler.release(first)
    thread.join(10)
    assert started.is_set()


@pytest.mark.parametrize(("capacity", "reserved", "background"), [
    pytest.param(1, 1, 1, id="one engine: nothing to reserve"),
    pytest.param(2, 1, 1, id="two engines"),
    pytest.param(8, 1, 7, id="eight engines"),
    pytest.param(4, 0, 4, id="no reserve"),
])
def test_background_capacity(capacity: int, reserved: int, background: int) -> None:
    assert FairScheduler(capacity, reserved=reserved).background_capacity == background


def test_a_waiting_visitor_knows_their_place() -> None:
    scheduler = FairScheduler(1, reserved=0)
    blocker = scheduler.acquire("blocker", Priority.BACKGROUND)
    assert scheduler.place("blocker") == 0  # being served
    assert scheduler.place("A") is None  # nothing queued
    held: list[object] = []
    threads = []
    for visitor, priority in (("A", Priority.BACKGROUND), ("A", Priority.BACKGROUND),
                              ("B", Priority.BACKGROUND), ("C", Priority.INTERACTIVE)):
        def work(visitor: str = visitor, priority: Priority = priority) -> None:
            request = scheduler.acquire(visitor, priority)
            held.append(request)
            scheduler.release(request)
        thread = threading.Thread(target=work)
        thread.start()
        threads.append(thread)
        queued = len(threads)
        _until(lambda queued=queued: scheduler.waiting() == queued)
    # C's interactive request is next; A and B follow in the rotation.
    assert (scheduler.place("C"), scheduler.place("A"), scheduler.place("B")) == (1, 2, 3)
    scheduler.release(blocker)
    for thread in threads:
        thread.join(10)
    assert [scheduler.place(v) for v in "ABC"] == [None, None, None]


def test_the_per_visitor_cap_refuses_with_a_clear_message_and_frees_on_release() -> None:
    scheduler = FairScheduler(2, max_queued=100)
    first = scheduler.reserve("A", 60)
    with pytest.raises(QueueFull, match=r"you already have 60 positions waiting for the "
                                        r"engines and this would add 41; one visitor may "
                                        r"have at most 100 at once"):
        scheduler.reserve("A", 41)
    scheduler.reserve("B", 100)  # another visitor has their own cap
    second = scheduler.reserve("A", 40)
    first.release()
    first.release()  # idempotent
    assert scheduler.reserved("A") == 40
    second.release()
    assert scheduler.reserved("A") == 0


def test_a_job_holds_its_positions_until_it_ends_and_a_second_is_refused() -> None:
    scheduler = FairScheduler(1, max_queued=5)
    gate = threading.Event()

    class Gated(Recorder):
        def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1
                     ) -> PositionEval:
            assert gate.wait(30)
            return super().evaluate(board, limit, multipv=multipv)

    ev = VisitorEvaluator(Gated(), scheduler, "A", Priority.BACKGROUND)
    game = read("1. e4 e5 2. Nf3 *")  # 4 positions
    registry = jobs.JobRegistry()

    class NoCache:
        def get_eval(self, *args: object) -> None:
            return None

        def put_eval(self, result: PositionEval, multipv: int) -> None:
            pass

    job = jobs.start_game_job("a", game, ev, LIMIT, NoCache(), registry=registry)
    assert scheduler.reserved("A") == 4
    _until(lambda: job.progress().queue_place == 0)  # being searched
    with pytest.raises(QueueFull):
        jobs.start_game_job("a2", read("1. d4 d5 *"), ev, LIMIT, NoCache(), registry=registry)
    gate.set()
    assert job.join(30) and job.progress().state is jobs.JobState.DONE
    assert job.progress().queue_place is None
    assert scheduler.reserved("A") == 0


def test_order_changes_nothing_in_the_results() -> None:
    boards = main_line_boards(read("1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 *"))
    alone = Recorder()
    expected = [alone.evaluate(b, LIMIT) for b in boards]
    scheduler = FairScheduler(2, reserved=1)
    inner = Recorder()
    results: dict[str, list[PositionEval]] = {}

    def visitor(name: str, priority: Priority) -> None:
        ev = VisitorEvaluator(inner, scheduler, name, priority)
        results[name] = [ev.evaluate(b, LIMIT) for b in reversed(boards)][::-1]

    threads = [threading.Thread(target=visitor, args=(f"v{i}", p))
               for i, p in enumerate([Priority.BACKGROUND, Priority.INTERACTIVE] * 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(r == expected for r in results.values())
    assert scheduler.in_use() == 0 and scheduler.waiting() == 0


@pytest.mark.engine
def test_real_stockfish_interactive_position_overtakes_two_background_games(
        engine_pool: EnginePool) -> None:
    """Two engines, two visitors analysing whole games in the background; a third asks
    about one position and is served before the background queue drains. Results are
    Stockfish's own, whatever the order."""
    scheduler = FairScheduler(engine_pool.workers, reserved=1)
    limit = SearchLimit(nodes=20_000)
    games = [read("1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 4. Ba4 Nf6 5. O-O Be7 *"),
             read("1. d4 d5 2. c4 e6 3. Nc3 Nf6 4. Bg5 Be7 5. e3 O-O *")]
    background = [jobs.AnalysisJob(main_line_boards(g),
                                   VisitorEvaluator(engine_pool, scheduler, f"bg{i}",
                                                    Priority.BACKGROUND), limit).start()
                  for i, g in enumerate(games)]
    _until(lambda: scheduler.waiting() >= 1, timeout=60)
    probe = chess.Board("r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3")
    ask = VisitorEvaluator(engine_pool, scheduler, "asker", Priority.INTERACTIVE)
    answer = ask.evaluate(probe, limit)
    remaining = sum(j.progress().total - j.progress().done for j in background)
    assert remaining > 0  # answered while the background games still had work queued
    for job in background:
        assert job.join(120) and job.progress().state is jobs.JobState.DONE
    # Same answer as the pool gives directly: order never changes a result.
    assert engine_pool.evaluate(probe, limit) == answer
    grants = list(scheduler.grants)
    assert ("asker", Priority.INTERACTIVE) in grants
    assert max(sum(1 for v, _ in grants if v == f"bg{i}") for i in range(2)) == 11
