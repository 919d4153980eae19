"""Issue 6, "engine processes never above the pool size", and engines that die with the app.

* Shared pools of two different configurations, used at once from four
  threads, never run more Stockfish processes together than
  ``CHESSAPP_ENGINE_POOL`` (sampled from the process table while they work),
  and both get their work done.
* An engine that hangs without ever reading its input again still dies when
  the process that started it is killed with ``kill -9`` (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import chess
import pytest

from chessapp import engine
from chessapp.engine import EngineConfig, EnginePool, shared_pool
from chessapp.evals import SearchLimit

ROOT = Path(__file__).resolve().parent.parent
CAP = 2


def _state_and_ppid(pid: str) -> tuple[str, int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def engine_children() -> list[int]:
    """Live (not zombie) Stockfish processes whose parent is this process."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        info = _state_and_ppid(entry.name)
        if info is None or info[1] != me or info[0] == "Z":
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0]
        except OSError:
            continue
        if argv0.endswith(b"stockfish"):
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    info = _state_and_ppid(str(pid))
    return info is not None and info[0] != "Z"


@pytest.fixture
def two_shared_pools(stockfish_path: str,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[EnginePool, EnginePool]]:
    monkeypatch.setenv("CHESSAPP_ENGINE_POOL", str(CAP))
    # Two configurations, as the analysis page makes for two "threads per engine"
    # settings; each alone may use the whole budget.
    a = shared_pool(EngineConfig(path=stockfish_path, workers=CAP, threads=1, hash_mb=16))
    b = shared_pool(EngineConfig(path=stockfish_path, workers=CAP, threads=1, hash_mb=8))
    assert a is not b
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def positions(n: int) -> list[chess.Board]:
    board, out = chess.Board(), []
    for i in range(n):
        move = sorted(board.legal_moves, key=lambda m: m.uci())[i % 3]
        board.push(move)
        out.append(board.copy(stack=False))
    return out


@pytest.mark.engine
@pytest.mark.timeout(120)
def test_shared_pools_of_two_configs_never_exceed_the_process_budget(
        two_shared_pools: tuple[EnginePool, EnginePool]) -> None:
    a, b = two_shared_pools
    boards = positions(12)
    results: dict[str, int] = {}
    errors: list[BaseException] = []
    samples: list[int] = []
    stop = threading.Event()

    def work(name: str, pool: EnginePool) -> None:
        try:
            done = 0
            for board in boards:
                result = pool.evaluate(board, SearchLimit(nodes=3_000))
                assert result.fen == board.fen() and result.lines
                done += 1
            results[name] = done
        except BaseException as exc:
            errors.append(exc)

    def sample() -> None:
        while not stop.is_set():
            samples.append(len(engine_children()))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    workers = [threading.Thread(target=work, args=(f"{name}{i}", pool))
               for i in range(2) for name, pool in (("a", a), ("b", b))]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    sampler.join()
    assert errors == []
    assert results == {"a0": 12, "a1": 12, "b0": 12, "b1": 12}
    assert a.calls > 0 and b.calls > 0
    assert max(samples) <= CAP, max(samples)
    assert max(samples) == CAP  # the budget was used, so the bound was actually tested
    assert len(a.alive_pids()) + len(b.alive_pids()) <= CAP
    print(f"\ncap: {len(samples)} samples of the process table, max {max(samples)} engine "
          f"processes for a budget of {CAP}; {a.calls + b.calls} searches")


@pytest.mark.engine
def test_a_pool_takes_an_idle_engine_from_another_instead_of_waiting(
        two_shared_pools: tuple[EnginePool, EnginePool]) -> None:
    a, b = two_shared_pools
    board = chess.Board()
    # Fill the budget with idle engines of pool a (two threads at once, so two engines).
    threads = [threading.Thread(target=a.evaluate, args=(board, SearchLimit(nodes=50_000)))
               for _ in range(CAP)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(a.alive_pids()) == CAP
    first = set(a.alive_pids())
    b.evaluate(board, SearchLimit(nodes=1_000))
    assert len(b.alive_pids()) == 1
    assert len(a.alive_pids()) == CAP - 1 and set(a.alive_pids()) < first
    assert engine._BUDGET.used == CAP
    assert len(engine_children()) == CAP


SLEEPER = """\
import os, sys, time
for line in sys.stdin:
    line = line.strip()
    if line == "uci":
        print("id name Sleeper 1.0"); print("uciok", flush=True)
    elif line == "isready":
        print("readyok", flush=True)
    elif line.startswith("go"):
        with open({marker!r}, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(3600)  # hung, and never reads stdin again: EOF will not stop it
"""


@pytest.mark.timeout(60)
def test_a_hung_engine_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    marker = tmp_path / "engine.pid"
    sleeper = tmp_path / "sleeper"
    sleeper.write_text(f"#!{sys.executable}\n" + SLEEPER.format(marker=str(marker)))
    sleeper.chmod(0o755)
    app = textwrap.dedent(f"""
        import chess
        from chessapp.engine import EngineConfig, EnginePool
        from chessapp.evals import SearchLimit
        pool = EnginePool(EngineConfig(path={str(sleeper)!r}, workers=1, deadline_base_s=600))
        pool.evaluate(chess.Board(), SearchLimit(nodes=1000))
    """)
    proc = subprocess.Popen([sys.executable, "-c", app], cwd=ROOT)
    engine_pid = None
    try:
        for _ in range(400):
            if marker.exists() and marker.read_text():
                engine_pid = int(marker.read_text())
                break
            time.sleep(0.05)
        assert engine_pid is not None, "the fake engine never got a search"
        assert alive(engine_pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        for _ in range(200):
            if not alive(engine_pid):
                break
            time.sleep(0.05)
        assert not alive(engine_pid), "a hung engine outlived the app that started it"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if engine_pid is not None and alive(engine_pid):
            os.kill(engine_pid, signal.SIGKILL)
