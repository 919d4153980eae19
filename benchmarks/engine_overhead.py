"""Row 1: the project's full-game analysis against a raw UCI session.

Same positions, same nodes, one engine, Threads=1. Target: time ratio <= 1.05.
Both clear the hash before each position (the project does, so that an eval
depends only on the position and the settings); a third column shows the raw
session with a warm hash, to price that choice.

    .venv/bin/python benchmarks/engine_overhead.py [--nodes 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import chess.pgn
from _common import (
    CAFE,
    SAMPLE_40,
    machine,
    print_table,
    raw_uci_session,
    read_game,
    searched_positions,
)

from chessapp import analysis, engine
from chessapp.evals import SearchLimit


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def project_run(game: chess.pgn.Game, nodes: int) -> None:
    with engine.EnginePool(engine.EngineConfig(workers=1, threads=1, hash_mb=16)) as pool:
        analysis.analyse_game(game, pool, SearchLimit(nodes=nodes))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}; nodes per position: {args.nodes:,}; "
          f"median of {args.repeat} runs each, interleaved")
    rows = [("game", "positions", "project (s)", "raw UCI (s)", "ratio", "target",
             "raw, warm hash (s)")]
    for name, path in (("café 1913", CAFE), ("40-move sample", SAMPLE_40)):
        game = read_game(path)
        boards = searched_positions(game)
        project, raw, warm = [], [], []
        for _ in range(args.repeat):  # interleave so drift hits all alike
            project.append(timed(project_run, game, args.nodes))
            raw.append(timed(raw_uci_session, boards, args.nodes))
            warm.append(timed(raw_uci_session, boards, args.nodes, newgame=False))
        p, r, w = (statistics.median(x) for x in (project, raw, warm))
        rows.append((name, str(len(boards)), f"{p:.2f}", f"{r:.2f}", f"{p / r:.3f}", "<= 1.05",
                     f"{w:.2f}"))
    print_table("Engine overhead (1 worker, Threads=1)", rows)


if __name__ == "__main__":
    main()
