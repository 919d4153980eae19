"""Row 1: the project's full-game analysis against a raw UCI session.

Same positions, same nodes, one engine, Threads=1. Target: time ratio <= 1.05.

    .venv/bin/python benchmarks/engine_overhead.py [--nodes 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse

from _common import (CAFE, SAMPLE_40, machine, median_time, print_table, raw_uci_session,
                     read_game, searched_positions)

from chessapp import analysis, engine
from chessapp.evals import SearchLimit


def project_run(path_game: object, nodes: int) -> None:
    with engine.EnginePool(engine.EngineConfig(workers=1, threads=1, hash_mb=16)) as pool:
        analysis.analyse_game(path_game, pool, SearchLimit(nodes=nodes))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}; nodes per position: {args.nodes:,}; "
          f"median of {args.repeat} runs each, interleaved")
    rows = [("game", "positions", "project (s)", "raw UCI (s)", "ratio", "target")]
    for name, path in (("café 1913", CAFE), ("40-move sample", SAMPLE_40)):
        game = read_game(path)
        boards = searched_positions(game)
        project_times: list[float] = []
        raw_times: list[float] = []
        for _ in range(args.repeat):  # interleave so drift hits both alike
            project_times.append(median_time(lambda: project_run(game, args.nodes), 1)[0])
            raw_times.append(median_time(lambda: raw_uci_session(boards, args.nodes), 1)[0])
        p, r = sorted(project_times)[len(project_times) // 2], sorted(raw_times)[len(raw_times) // 2]
        rows.append((name, str(len(boards)), f"{p:.2f}", f"{r:.2f}", f"{p / r:.3f}", "<= 1.05"))
    print_table("Engine overhead (1 worker, Threads=1)", rows)


if __name__ == "__main__":
    main()
