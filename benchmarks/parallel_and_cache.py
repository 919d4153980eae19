"""Rows 2 and 3: parallel speed-up of the pool, and re-analysis from the cache.

Row 2: the same game with 2 workers against 1 worker, cold cache. Target <= 0.55.
Row 3: re-analysis with the same settings and a warm SQLite cache.
       Target: 0 engine searches, time <= 1% of the first run.

    .venv/bin/python benchmarks/parallel_and_cache.py [--nodes 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import (
    CAFE,
    SAMPLE_40,
    machine,
    print_table,
    raw_uci_session,
    read_game,
    searched_positions,
)

from chessapp import analysis, engine, store
from chessapp.evals import SearchLimit


def timed_analysis(game: object, workers: int, nodes: int,
                   cache: store.Store | None) -> tuple[float, int]:
    start = time.perf_counter()
    with engine.EnginePool(engine.EngineConfig(workers=workers)) as pool:
        analysis.analyse_game(game, pool, SearchLimit(nodes=nodes), cache=cache)  # type: ignore[arg-type]
        calls = pool.calls
    return time.perf_counter() - start, calls


def raw_parallel(boards: list, nodes: int, workers: int) -> float:  # type: ignore[type-arg]
    """The physical limit: ``workers`` raw UCI sessions sharing the positions."""
    shares = [boards[i::workers] for i in range(workers)]
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda share: raw_uci_session(share, nodes), shares))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}; nodes per position: {args.nodes:,}; median of {args.repeat}")

    rows = [("game", "1 worker (s)", "2 workers (s)", "ratio", "target",
             "raw UCI: 1 / 2 processes (s)", "raw ratio")]
    for name, path in (("café 1913", CAFE), ("40-move sample", SAMPLE_40)):
        game = read_game(path)
        boards = searched_positions(game)
        one, two, raw1, raw2 = [], [], [], []
        for _ in range(args.repeat):
            one.append(timed_analysis(game, 1, args.nodes, None)[0])
            two.append(timed_analysis(game, 2, args.nodes, None)[0])
            raw1.append(raw_parallel(boards, args.nodes, 1))
            raw2.append(raw_parallel(boards, args.nodes, 2))
        t1, t2 = statistics.median(one), statistics.median(two)
        r1, r2 = statistics.median(raw1), statistics.median(raw2)
        rows.append((name, f"{t1:.2f}", f"{t2:.2f}", f"{t2 / t1:.3f}", "<= 0.55",
                     f"{r1:.2f} / {r2:.2f}", f"{r2 / r1:.3f}"))
    print_table("Parallel speed-up (cold cache)", rows)

    rows = [("game", "first run (s)", "engine searches", "re-run (s)", "engine searches",
             "ratio", "target")]
    for name, path in (("café 1913", CAFE), ("40-move sample", SAMPLE_40)):
        game = read_game(path)
        with tempfile.TemporaryDirectory() as tmp:
            cache = store.Store(Path(tmp) / "bench.sqlite3")
            first, calls1 = timed_analysis(game, 2, args.nodes, cache)
            reruns = [timed_analysis(game, 2, args.nodes, cache) for _ in range(args.repeat)]
            again = statistics.median(t for t, _ in reruns)
            calls2 = max(c for _, c in reruns)
        rows.append((name, f"{first:.2f}", str(calls1), f"{again:.3f}", str(calls2),
                     f"{again / first:.2%}", "0 searches, <= 1%"))
    print_table("Cache: re-analysis with the same settings", rows)


if __name__ == "__main__":
    main()
