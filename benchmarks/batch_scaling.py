"""Row 6: CLI batch analysis of 1, 10 and 100 games: time per position and peak RSS.

The PGN is streamed (``analyze --all``); per-position time and peak memory
should stay flat (within ±10%) as the batch grows. Peak RSS comes from
``/usr/bin/time -v`` and covers the Python process (engines are separate
processes with their own fixed hash).

    .venv/bin/python benchmarks/batch_scaling.py [--nodes 5000]
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time

import chess
import chess.pgn
from _common import OUT, ROOT, machine, print_table

PLIES = 60


def make_games(count: int, seed: int = 1913) -> str:
    """Deterministic pseudo-random legal games of PLIES plies (no early endings)."""
    rng = random.Random(seed)
    parts = []
    for n in range(count):
        while True:
            board = chess.Board()
            for _ in range(PLIES):
                moves = list(board.legal_moves)
                if not moves:
                    break
                board.push(rng.choice(moves))
            if len(board.move_stack) == PLIES and not board.is_game_over():
                break
        game = chess.pgn.Game.from_board(board)
        game.headers.update({"Event": f"Batch {n + 1}", "White": "A", "Black": "B",
                             "Result": "*"})
        parts.append(str(game))
    return "\n\n".join(parts) + "\n"


def run(count: int, nodes: int) -> tuple[float, int, int]:
    OUT.mkdir(parents=True, exist_ok=True)
    src = OUT / f"batch-{count}.pgn"
    src.write_text(make_games(count), encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "chessapp", "analyze", str(src), "--all",
         "--nodes", str(nodes), "--no-cache", "-q", "-o", str(OUT / f"batch-{count}.out.pgn")],
        cwd=ROOT, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)[1])  # type: ignore[index]
    return elapsed, rss, count * (PLIES + 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5000)
    args = parser.parse_args()
    print(f"machine: {machine()}; {PLIES}-ply games; nodes per position: {args.nodes:,}")
    results = {n: run(n, args.nodes) for n in (1, 10, 100)}
    base_time = results[10][0] / results[10][2]
    base_rss = results[1][1]
    rows = [("games", "positions", "total (s)", "ms / position", "vs 10 games",
             "peak RSS (MB)", "vs 1 game")]
    for n, (elapsed, rss, positions) in results.items():
        per = elapsed / positions
        rows.append((str(n), str(positions), f"{elapsed:.1f}", f"{per * 1000:.2f}",
                     f"{per / base_time:.3f}", f"{rss / 1024:.1f}", f"{rss / base_rss:.3f}"))
    print_table("Batch scaling (CLI, streamed)", rows)
    print("\n(1 game pays the engine start-up once over few positions, so its"
          " per-position time is the least comparable; the target is flat from 10 to 100.)")


if __name__ == "__main__":
    main()
