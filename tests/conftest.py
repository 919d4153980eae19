"""Shared fixtures. Keep each one small and documented; add new ones below the existing."""

from __future__ import annotations

import os
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chessapp.engine import EngineConfig, EnginePool, find_engine

FAKES = Path(__file__).parent / "fakes"


@pytest.fixture(scope="session")
def stockfish_path() -> str:
    """The real engine (STOCKFISH_PATH, PATH, /usr/games/stockfish); errors if there is none."""
    return find_engine()


@pytest.fixture
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CHESSAPP_DATA_DIR set to a fresh folder, so no test touches the user's data."""
    path = tmp_path / "data"
    monkeypatch.setenv("CHESSAPP_DATA_DIR", str(path))
    return path


@pytest.fixture
def engine_pool(stockfish_path: str) -> Iterator[EnginePool]:
    """A two-engine Stockfish pool (Threads=1, Hash=16), closed after the test."""
    with EnginePool(EngineConfig(path=stockfish_path, workers=2, threads=1, hash_mb=16)) as pool:
        yield pool


#: fake_engine(mode, **options) -> path of an executable that runs tests/fakes/fake_uci.py.
FakeEngine = Callable[..., str]


@pytest.fixture
def fake_engine(tmp_path: Path) -> FakeEngine:
    """Write a wrapper script that starts the misbehaving fake UCI engine in ``mode``.

    Options become flags: ``fake_engine("crash-on", fen=FEN)`` runs
    ``fake_uci.py --mode crash-on --fen FEN``. The wrapper uses this test run's
    interpreter, which has python-chess.
    """
    counter = 0

    def make(mode: str = "ok", **options: str) -> str:
        nonlocal counter
        counter += 1
        argv = [sys.executable, str(FAKES / "fake_uci.py"), "--mode", mode]
        for key, value in options.items():
            argv += [f"--{key}", value]
        script = tmp_path / f"fake-engine-{counter}"
        script.write_text(f"#!/bin/sh\nexec {shlex.join(argv)}\n")
        script.chmod(0o755)
        return str(script)

    return make


# --- Helpers (plain functions) for tests that check no engine is left behind ---------------


def engine_children(comm: str = "stockfish") -> list[int]:
    """Live child processes of this test process named ``comm``, read from /proc."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
        if int(ppid) == me and name == comm and state != "Z":
            found.append(int(entry))
    return found


def engine_threads() -> list[str]:
    """python-chess's engine event-loop threads still running.

    Each ends a moment after its process is reaped, so this polls (up to 5 s)
    before answering.
    """
    names: list[str] = []
    for _ in range(500):
        names = [t.name for t in threading.enumerate() if t.name.startswith("SimpleEngine")]
        if not names:
            break
        time.sleep(0.01)
    return names
