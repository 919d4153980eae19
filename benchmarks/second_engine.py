"""The second test engine's speed against the native one (issue 11, section 6).

Both engines search the café game's positions at the same node budget, one
thread, 16 MB hash, through python-chess's plain UCI client, interleaved; the
script prints each engine's wall time, nodes per second, start-up time and the
ratios. Run: ``.venv/bin/python benchmarks/second_engine.py [NODES]``.
"""

from __future__ import annotations

import statistics
import sys
import time

import chess
import chess.engine
from _common import CAFE, ROOT, machine, read_game, searched_positions

from chessapp.engine import find_engine

NPM_ENGINE = ROOT / "script" / "stockfish-npm"


def run(path: str, boards: list[chess.Board], nodes: int) -> tuple[str, float, float, int]:
    """(engine name, start-up s, search s, nodes searched) for one pass over ``boards``."""
    start = time.perf_counter()
    engine = chess.engine.SimpleEngine.popen_uci(path)
    try:
        engine.configure({"Threads": 1, "Hash": 16})
        engine.ping()
        started = time.perf_counter() - start
        name = engine.id.get("name", path)
        searched = 0
        t0 = time.perf_counter()
        for board in boards:
            info = engine.analyse(board, chess.engine.Limit(nodes=nodes))
            searched += int(info.get("nodes", 0))
        return name, started, time.perf_counter() - t0, searched
    finally:
        engine.quit()


def main() -> None:
    nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    boards = searched_positions(read_game(CAFE))
    engines = {"native": find_engine(), "npm": str(NPM_ENGINE)}
    results: dict[str, list[tuple[str, float, float, int]]] = {k: [] for k in engines}
    for _ in range(3):  # interleaved, median taken
        for key, path in engines.items():
            results[key].append(run(path, boards, nodes))
    print(f"machine: {machine()}; café game, {len(boards)} positions, {nodes:,} nodes each, "
          "Threads=1, Hash=16; median of 3 interleaved runs\n")
    print("| engine | start-up (s) | search (s) | nodes/s |")
    print("|---|---|---|---|")
    summary = {}
    for key, runs in results.items():
        name = runs[0][0]
        startup = statistics.median(r[1] for r in runs)
        search = statistics.median(r[2] for r in runs)
        nps = statistics.median(r[3] / r[2] for r in runs)
        summary[key] = (startup, search, nps)
        print(f"| {name} ({key}) | {startup:.2f} | {search:.2f} | {nps:,.0f} |")
    ratio = summary["npm"][1] / summary["native"][1]
    print(f"\nsearch time npm / native: {ratio:.2f}x; nodes/s native / npm: "
          f"{summary['native'][2] / summary['npm'][2]:.2f}x")


if __name__ == "__main__":
    main()
