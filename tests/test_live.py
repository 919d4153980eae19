"""The live engine (issue 10, part 3): streaming, stopping, determinism, deadlines, the cache."""

from __future__ import annotations

import time

import chess
import pytest

from chessapp.engine import EngineConfig, EnginePool
from chessapp.evals import SearchLimit, WhiteEval
from chessapp.live import LIVE_NODES_DEFAULT, LiveSearch, live_limit
from tests.fakes.inprocess import launch_fake

#: After 1. e4 e5 2. Qh5 Nc6 3. Bc4: White threatens Qxf7#.
THREAT = "r1bqkbnr/pppp1ppp/2n5/4p2Q/2B1P3/8/PPPP1PPP/RNB1K1NR b KQkq - 3 3"


def wait_done(search: LiveSearch, timeout_s: float = 60.0) -> None:
    ends = time.monotonic() + timeout_s
    while not search.snapshot().done:
        assert time.monotonic() < ends, "the live search did not finish"
        time.sleep(0.01)


def test_the_bound_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHESSAPP_LIVE_NODES", raising=False)
    assert live_limit() == SearchLimit(nodes=LIVE_NODES_DEFAULT)
    monkeypatch.setenv("CHESSAPP_LIVE_NODES", "50000")
    assert live_limit() == SearchLimit(nodes=50_000)
    monkeypatch.setenv("CHESSAPP_LIVE_NODES", "lots")
    assert live_limit() == SearchLimit(nodes=LIVE_NODES_DEFAULT)


@pytest.mark.engine
def test_a_live_search_streams_then_matches_a_batch_search(engine_pool: EnginePool) -> None:
    board = chess.Board(THREAT)
    limit = SearchLimit(nodes=40_000)
    kept = []
    search = LiveSearch(engine_pool, board, multipv=2, limit=limit, on_done=kept.append).start()
    wait_done(search)
    snap = search.snapshot()
    assert snap.error is None and snap.done
    assert snap.updates > 2  # it streamed, not one answer at the end
    assert snap.depth >= 5 and len(snap.lines) == 2
    assert all(line.pv for line in snap.lines)
    # Finished, it is the same result as a batch search at the same limit (hash cleared):
    # that is what makes it safe to cache.
    (result,) = kept
    batch = engine_pool.evaluate(board, limit, multipv=2)
    assert result.lines == batch.lines and result.limit == limit
    assert snap.lines == result.lines
    assert engine_pool.running <= engine_pool.workers


@pytest.mark.engine
def test_stopping_gives_the_engine_back_and_caches_nothing(engine_pool: EnginePool) -> None:
    kept = []
    search = LiveSearch(engine_pool, chess.Board(), multipv=1,
                        limit=SearchLimit(nodes=500_000_000), on_done=kept.append).start()
    ends = time.monotonic() + 30
    while not search.snapshot().lines:
        assert time.monotonic() < ends
        time.sleep(0.01)
    calls = engine_pool.calls
    search.stop()
    assert search.join(10)
    assert search.snapshot().done and kept == []  # a partial search is never a result
    assert engine_pool.calls == calls
    # The slot is free again: a normal search runs at once.
    assert engine_pool.evaluate(chess.Board(THREAT), SearchLimit(nodes=2_000)).eval is not None


@pytest.mark.engine
def test_a_finished_position_needs_no_engine(engine_pool: EnginePool) -> None:
    mate = chess.Board("r1bqkb1r/pppp1Qpp/2n2n2/4p3/2B1P3/8/PPPP1PPP/RNB1K1NR b KQkq - 0 4")
    calls = engine_pool.calls
    search = LiveSearch(engine_pool, mate, limit=SearchLimit(nodes=10_000)).start()
    wait_done(search)
    assert search.snapshot().lines[0].eval == WhiteEval.checkmate(chess.BLACK)
    assert engine_pool.calls == calls


def test_a_hung_engine_is_killed_at_the_deadline_and_the_panel_hears_why() -> None:
    config = EngineConfig(path="in-process live hang", workers=1, threads=1, hash_mb=16,
                          deadline_base_s=0.3, startup_timeout_s=5.0)
    with EnginePool(config, launch=launch_fake("hang")) as pool:
        search = LiveSearch(pool, chess.Board(), limit=SearchLimit(nodes=1_000)).start()
        wait_done(search, 20)
        snap = search.snapshot()
        assert snap.error is not None and "live search" in snap.error
        assert pool.running == 0 and pool.restarts == 1
