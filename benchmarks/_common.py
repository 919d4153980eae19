"""Shared helpers for the benchmarks: medians, sample games and a raw UCI baseline.

Every benchmark prints the figures it measured side by side in one run, as
ratios, because these machines are shared and noisy: an absolute time means
little, a ratio of two things measured back to back means more.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import chess
import chess.pgn

from chessapp import engine, tree

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
CAFE = ROOT / "games" / "cafe-1913.pgn"
SAMPLE_40 = ROOT / "games" / "samples" / "selfplay-40.pgn"


def read_game(path: Path) -> chess.pgn.Game:
    with path.open(encoding="utf-8") as handle:
        game = chess.pgn.read_game(handle)
    assert game is not None, path
    return game


def searched_positions(game: chess.pgn.Game) -> list[chess.Board]:
    """The positions an analysis sends to the engine (finished positions are not)."""
    return [b for b in tree.main_line_boards(game) if not b.is_game_over()]


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def engine_name() -> str:
    with engine.EnginePool(engine.EngineConfig(workers=1)) as pool:
        return pool.identity.name


def raw_uci_session(boards: list[chess.Board], nodes: int, *, newgame: bool = True) -> None:
    """The physical limit: Stockfish fed by a pipe, ``position fen`` / ``go nodes``.

    With ``newgame`` it clears the hash before each position as the project
    does (for reproducible evals), so both do the same search work.
    """
    proc = subprocess.Popen([engine.find_engine()], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def until(prefix: str) -> None:
        for line in stdout:
            if line.startswith(prefix):
                return
        raise RuntimeError("engine closed its output")

    stdin.write("uci\n")
    until("uciok")
    stdin.write("setoption name Threads value 1\nsetoption name Hash value 16\nisready\n")
    until("readyok")
    for board in boards:
        if newgame:
            stdin.write("ucinewgame\nisready\n")
            until("readyok")
        stdin.write(f"position fen {board.fen()}\ngo nodes {nodes}\n")
        until("bestmove")
    stdin.write("quit\n")
    proc.wait(timeout=10)


def print_table(title: str, rows: list[tuple[str, ...]]) -> None:
    print(f"\n## {title}\n")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
