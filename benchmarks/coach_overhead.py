"""Issue 12: what explanations and the story add to a full-game analysis, side by side.

Analyses the Opera game (33 plies) with the real Stockfish at the default
200,000 nodes a position (one worker, no cache), then explains every judged
move (:func:`chessapp.coach.explain_analysis`) and generates its story
(:func:`chessapp.story.generate.generate_story`) from the lines already
searched, and prints both times and the ratio (target: explanations and story
together ≤ 10% of the analysis). Then it tags 1,000 lines of real lichess
puzzles with the motif tagger (target ≤ 2 s).

    .venv/bin/python benchmarks/coach_overhead.py [--nodes 200000]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import chess  # noqa: E402
import chess.pgn  # noqa: E402

from chessapp.analysis import analyse_game  # noqa: E402
from chessapp.coach import explain_analysis  # noqa: E402
from chessapp.engine import EngineConfig, EnginePool, find_engine  # noqa: E402
from chessapp.evals import SearchLimit  # noqa: E402
from chessapp.motifs import find_motifs, play_line  # noqa: E402
from chessapp.settings import DEFAULT_NODES  # noqa: E402
from chessapp.story.generate import generate_story  # noqa: E402

OPERA = ROOT / "games" / "samples" / "opera-1858.pgn"
PUZZLES = ROOT.parent / "shared" / "data" / "lichess-puzzles" / "puzzles.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=DEFAULT_NODES)
    args = parser.parse_args()
    game = chess.pgn.read_game(OPERA.open(encoding="utf-8"))
    assert game is not None
    with EnginePool(EngineConfig(path=find_engine(), workers=1, threads=1, hash_mb=16)) as pool:
        started = time.perf_counter()
        analysis = analyse_game(game, pool, SearchLimit(nodes=args.nodes))
        analysed_s = time.perf_counter() - started
    started = time.perf_counter()
    explained = explain_analysis(analysis)
    story = generate_story(game, analysis)
    coach_s = time.perf_counter() - started
    judged = sum(p.judgement is not None for p in analysis.plies)
    print(f"Opera game, {len(analysis.plies)} plies, {args.nodes:,} nodes a position, 1 worker")
    print(f"  analysis (engine):              {analysed_s:8.2f} s")
    print(f"  explanations ({len(explained)} of {judged} judged) + story "
          f"({len(story.track.segments)} segments, {len(story.claims)} claims): {coach_s:8.3f} s")
    ratio = coach_s / analysed_s
    print(f"  ratio: {ratio:.1%} (target <= 10%) {'OK' if ratio <= 0.10 else 'MISSED'}")
    if PUZZLES.exists():
        lines = []
        with PUZZLES.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                board = chess.Board(row["FEN"])
                moves = row["Moves"].split()
                board.push_uci(moves[0])
                lines.append((board, moves[1:]))
                if len(lines) == 1000:
                    break
        started = time.perf_counter()
        for board, moves in lines:
            find_motifs(play_line(board, moves))
        tag_s = time.perf_counter() - started
        print(f"  tagging {len(lines):,} puzzle lines: {tag_s:.2f} s (target <= 2 s) "
              f"{'OK' if tag_s <= 2 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
