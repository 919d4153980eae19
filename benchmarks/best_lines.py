"""Best-line lengths of judged moves, as the search leaves them and after continuing them.

Issue 11, section 4: every judged move's line must hold at least 8 plies. The
samples are a 39-move human game lichess analysed (lichess.org/8y40iLEJ, read from
``../shared/data/lichess-analyses``; the repo's 40-move self-play sample has no
judged move at all, since every move in it is the engine's own first choice) and
the café game. Each is analysed once per node budget (default 200,000; one
worker); the script prints the median and minimum length of the judged moves'
lines before and after :func:`chessapp.analysis.extend_best_lines`, and how many
continuation searches it cost. Run:
``.venv/bin/python benchmarks/best_lines.py [NODES ...]``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import chess.pgn
from _common import CAFE, ROOT, machine, read_game

from chessapp import analysis, engine
from chessapp.evals import SearchLimit


def _shared() -> Path:
    for base in (ROOT / "..", *ROOT.parents):
        if (base / "shared" / "data").is_dir():
            return (base / "shared").resolve()
    raise FileNotFoundError("no shared/data beside the repository")


def _lichess_game(game_id: str) -> chess.pgn.Game:
    path = _shared() / "data" / "lichess-analyses" / "json" / f"{game_id}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    game = chess.pgn.Game()
    node: chess.pgn.GameNode = game
    for san in data["moves"].split():
        node = node.add_main_variation(node.board().parse_san(san))
    return game


def measure(label: str, game: chess.pgn.Game, limit: SearchLimit) -> None:
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
    print(f"| {label} | {name} | {limit.key()} | {len(judged)} | "
          f"{statistics.median(short):g} / {min(short)} | {statistics.median(long):g} / "
          f"{min(long)} | {extra} ({seconds:.1f} s) against {searched} |")


def main() -> None:
    nodes = [int(a) for a in sys.argv[1:]] or [200_000]
    print(f"machine: {machine()}; 1 worker, Threads=1, Hash=16; continuation searches at "
          f"{analysis.LINE_EXTENSION_NODES:,} nodes\n")
    print("| game | engine | limit | judged moves | search's line: median / min plies | "
          "continued: median / min plies | continuation searches |")
    print("|---|---|---|---|---|---|---|")
    games = [("lichess 8y40iLEJ (39 moves)", _lichess_game("8y40iLEJ")),
             ("café 1913 (12 moves)", read_game(CAFE))]
    for n in nodes:
        for label, game in games:
            measure(label, game, SearchLimit(nodes=n))


if __name__ == "__main__":
    main()
