"""Issue 6, "A dying engine": hung, crashing, killed and missing engines.

Hung and crashing engines are the fake in tests/fakes/fake_uci.py (a real
engine cannot be made to misbehave on cue), run two ways: in-process through
the pool's launch seam (tests/fakes/inprocess.py: no process, fast) and as a
real subprocess (which also proves the process is killed and reaped). The
kill -9 test uses the real Stockfish.
"""

from __future__ import annotations

import io
import os
import signal
import threading
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp import engine as engine_module
from chessapp.analysis import analyse_game
from chessapp.engine import EngineConfig, EnginePool, engine_status, find_engine
from chessapp.errors import EngineCrashed, EngineTimeout, EngineUnavailable
from chessapp.evals import SearchLimit, WhiteEval
from chessapp.store import Store
from tests.conftest import FakeEngine, engine_threads
from tests.fakes.inprocess import launch_fake

#: Deadlines and backoff shrunk so a hung engine is given up on in well under a second.
FAST = {"deadline_base_s": 0.3, "startup_timeout_s": 5.0, "backoff_start_s": 0.01,
        "backoff_cap_s": 0.05, "max_restarts": 2, "threads": 1, "hash_mb": 16}
LIMIT = SearchLimit(nodes=1_000)
CRASH_FEN = "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3"
OTHER_FEN = "rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2"

#: 40 plies of the closed Ruy Lopez (Breyer), for the kill -9 tests.
RUY_LOPEZ = """[Event "Kill test"]
[Result "*"]

1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 4. Ba4 Nf6 5. O-O Be7 6. Re1 b5 7. Bb3 d6 8. c3 O-O
9. h3 Nb8 10. d4 Nbd7 11. Nbd2 Bb7 12. Bc2 Re8 13. Nf1 Bf8 14. Ng3 g6 15. a4 c5
16. d5 c4 17. Bg5 h6 18. Be3 Nc5 19. Qd2 h5 20. Bg5 Be7 *
"""


HOW = pytest.mark.parametrize("how", ["in-process", "subprocess"])


def _fault_pool(how: str, fake_engine: FakeEngine, mode: str, **options: str) -> EnginePool:
    """A one-engine pool of the fake in ``mode``, in-process or as a subprocess."""
    if how == "in-process":
        return EnginePool(EngineConfig(path=f"in-process {mode} {sorted(options.items())}",
                                       workers=1, **FAST), launch=launch_fake(mode, **options))
    return EnginePool(EngineConfig(path=fake_engine(mode, **options), workers=1, **FAST))


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


def _ruy_lopez() -> chess.pgn.Game:
    game = chess.pgn.read_game(io.StringIO(RUY_LOPEZ))
    assert game is not None and not game.errors
    assert len(list(game.mainline_moves())) == 40
    return game


@pytest.mark.timeout(30)
@HOW
def test_a_hung_engine_hits_the_deadline_is_restarted_then_gives_a_clear_error(
    fake_engine: FakeEngine, how: str,
) -> None:
    pool = _fault_pool(how, fake_engine, "hang", name="Hung 1.0")
    board = chess.Board(OTHER_FEN)
    deadline = pool.config.deadline_for(LIMIT)
    assert deadline == pytest.approx(0.3 + 1_000 / 200_000 * 3)
    try:
        assert pool.identity.name == "Hung 1.0"
        first_pid = pool.alive_pids()
        with pytest.raises(EngineTimeout) as info:
            pool.evaluate(board, LIMIT)
        assert str(info.value) == (
            f"the engine did not answer within {deadline:.1f} s on position {OTHER_FEN} "
            "(3 tries, restarted each time)")
        assert pool.restarts == 3  # the first engine and two restarts, all dropped
        assert pool.calls == 0
        assert pool.running == 0
        assert pool.alive_pids() == []
        assert all(_gone(pid) for pid in first_pid)
    finally:
        pool.close()
    # python-chess's event-loop thread of each dropped engine has ended too.
    assert engine_threads() == []


@pytest.mark.timeout(30)
@HOW
def test_a_crash_on_one_position_names_it_and_other_positions_still_work(
    fake_engine: FakeEngine, how: str,
) -> None:
    with _fault_pool(how, fake_engine, "crash-on", fen=CRASH_FEN, name="Crashy 2.0") as pool:
        with pytest.raises(EngineCrashed) as info:
            pool.evaluate(chess.Board(CRASH_FEN), LIMIT)
        message = str(info.value)
        assert message.startswith(
            f"the engine failed on position {CRASH_FEN} 3 times in a row (3 crash(es), last: ")
        assert message.endswith("); that position was not analysed")
        assert pool.restarts == 3

        result = pool.evaluate(chess.Board(OTHER_FEN), LIMIT)
        assert result.eval == WhiteEval(cp=0)
        assert result.engine.name == "Crashy 2.0"
        assert len(result.best.pv) == 1
        assert pool.calls == 1
    assert engine_threads() == []


@pytest.mark.timeout(30)
@HOW
def test_one_crash_is_survived_by_a_restart(fake_engine: FakeEngine, tmp_path: Path,
                                            how: str) -> None:
    with _fault_pool(how, fake_engine, "crash-once", marker=str(tmp_path / "crashed-once")) as pool:
        result = pool.evaluate(chess.Board(OTHER_FEN), LIMIT)
        assert result.eval == WhiteEval(cp=0)
        assert (pool.restarts, pool.calls) == (1, 1)
        assert (tmp_path / "crashed-once").read_text() == "crashed\n"


@pytest.mark.timeout(30)
def test_an_engine_that_is_not_uci_is_unavailable(tmp_path: Path) -> None:
    silent = tmp_path / "not-an-engine"
    silent.write_text("#!/bin/sh\nexit 0\n")
    silent.chmod(0o755)
    with (EnginePool(EngineConfig(path=str(silent), workers=1, **FAST)) as pool,
          pytest.raises(EngineUnavailable, match="did not start as a UCI engine")):
        pool.evaluate(chess.Board(OTHER_FEN), LIMIT)
    status = engine_status(str(silent))
    assert (status.available, status.path, status.name) == (False, str(silent), None)


def test_a_missing_engine_gives_install_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no stockfish here
    monkeypatch.setattr(engine_module, "DEBIAN_STOCKFISH", str(tmp_path / "no-stockfish"))
    monkeypatch.delenv("STOCKFISH_PATH", raising=False)
    advice = ("Install Stockfish (apt-get install stockfish), or set STOCKFISH_PATH to the path "
              "of any UCI engine.")
    with pytest.raises(EngineUnavailable) as info:
        EnginePool(EngineConfig(workers=1))
    assert str(info.value) == f"No chess engine found. {advice}"

    monkeypatch.setenv("STOCKFISH_PATH", "/nonexistent")
    with pytest.raises(EngineUnavailable) as info:
        find_engine()
    assert str(info.value) == f"STOCKFISH_PATH '/nonexistent' is not an executable file. {advice}"
    status = engine_status()
    assert (status.available, status.path, status.name, status.message) == (
        False, None, None, str(info.value))


def _kill_after(pool: EnginePool, calls: int, killed: list[int], done: threading.Event) -> None:
    """SIGKILL the pool's engine once it has finished ``calls`` searches (polling, ~1 ms)."""
    while not done.is_set():
        if pool.calls >= calls:
            pids = pool.alive_pids()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
        done.wait(0.001)


@pytest.mark.engine
@pytest.mark.timeout(120)
def test_kill_9_mid_analysis_the_analysis_completes_without_recomputing(
    stockfish_path: str, isolated_data_dir: Path
) -> None:
    game = _ruy_lopez()
    limit = SearchLimit(nodes=10_000)
    config = EngineConfig(path=stockfish_path, workers=1, threads=1, hash_mb=16)
    killed: list[int] = []
    done = threading.Event()
    with EnginePool(config) as pool, Store() as store:
        killer = threading.Thread(target=_kill_after, args=(pool, 8, killed, done))
        killer.start()
        try:
            analysis = analyse_game(game, pool, limit, cache=store, best_line_plies=0)
        finally:
            done.set()
            killer.join()
        assert len(killed) == 1
        assert _gone(killed[0])
        assert pool.alive_pids() and pool.alive_pids() != killed  # a fresh engine took over
        # Every position was searched successfully exactly once: the interrupted search
        # was retried, none that had finished was redone.
        assert pool.calls == 41
        assert store.cached_evals() == 41
        assert len(analysis.plies) == 40

    # The same settings on a clean pool agree with the run that survived the kill.
    with EnginePool(config) as clean:
        clean_analysis = analyse_game(game, clean, limit)
    assert [p.eval for p in clean_analysis.plies] == [p.eval for p in analysis.plies]


@pytest.mark.engine
@pytest.mark.timeout(120)
def test_an_analysis_stopped_by_a_dead_engine_resumes_from_the_cache(
    stockfish_path: str, isolated_data_dir: Path
) -> None:
    """A kill that ends the run (no restarts allowed); the rerun only computes what is missing."""
    game = _ruy_lopez()
    limit = SearchLimit(nodes=5_000)
    cancel = threading.Event()

    def stop_after_ten(done: int, total: int) -> None:
        if done >= 10:
            cancel.set()  # as if the server went down: nothing more is started

    with EnginePool(EngineConfig(path=stockfish_path, workers=1, max_restarts=0)) as pool:
        with Store() as store, pytest.raises(InterruptedError):
            analyse_game(game, pool, limit, cache=store, progress=stop_after_ten, cancel=cancel)
        first_calls = pool.calls
    assert first_calls == 10

    with EnginePool(EngineConfig(path=stockfish_path, workers=1)) as pool, Store() as store:
        assert store.cached_evals() == 10
        # best_line_plies=0: count the position searches only, not line continuations
        analysis = analyse_game(game, pool, limit, cache=store, best_line_plies=0)
        assert pool.calls == 41 - 10
        assert store.cached_evals() == 41
        assert len(analysis.plies) == 40
