"""Best-line lengths of judged moves, as the search leaves them and after continuing them.

Issue 11, section 4: every judged move's line must hold at least 8 plies. The
40-move sample is analysed once (default 200,000 nodes, one worker); the script
prints the median and minimum length of the judged moves' lines before and after
:func:`chessapp.analysis.extend_best_lines`, and how many continuation searches it
cost. Run: ``.venv/bin/python benchmarks/best_lines.py [NODES]``.
"""

from __future__ import annotations

import statistics
import sys
import time

from _common import SAMPLE_40, machine, read_game

from chessapp import analysis, engine
from chessapp.evals import SearchLimit


def main() -> None:
    nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    game = read_game(SAMPLE_40)
    limit = SearchLimit(nodes=nodes)
    config = engine.EngineConfig(workers=1, threads=1, hash_mb=16)
    with engine.EnginePool(config) as pool:
        boards = analysis.main_line_boards(game)
        positions = analysis.evaluate_positions(boards, pool, limit)
        searched = pool.calls
        t0 = time.perf_counter()
        extended = analysis.extend_best_lines(game, positions, pool, limit)
        seconds = time.perf_counter() - t0
        extra = pool.calls - searched
        name = pool.identity.name
    before = analysis.build_game_analysis(game, positions)
    after = analysis.build_game_analysis(game, extended)
    judged = [i for i, p in enumerate(before.plies) if p.judgement is not None]
    short = [len(before.plies[i].pv) for i in judged]
    long = [len(after.plies[i].pv) for i in judged]
    print(f"machine: {machine()}; engine: {name}; 40-move sample, {len(boards)} positions, "
          f"{nodes:,} nodes each, 1 worker\n")
    print("| best line of a judged move | judged moves | median plies | minimum plies |")
    print("|---|---|---|---|")
    print(f"| as the search left it | {len(judged)} | {statistics.median(short):g} | {min(short)} |")
    print(f"| continued (extend_best_lines) | {len(judged)} | {statistics.median(long):g} | "
          f"{min(long)} |")
    print(f"\ncontinuation searches: {extra} ({analysis.extension_limit(limit).key()} each), "
          f"{seconds:.1f} s, against {searched} position searches")


if __name__ == "__main__":
    main()
