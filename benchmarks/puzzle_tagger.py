"""Issue 12, part 1: the motif tagger measured on 7,221 real lichess puzzles.

Reads ``../shared/data/lichess-puzzles/puzzles.csv`` relative to the repository root
(lichess puzzle database rows, CC0; see that folder's SOURCES.md) and never copies it.
In a row, FEN is the position before the opponent's blunder, the first move of Moves
is the blunder and the rest is the solution. The solution, played from the position
after the blunder, is tagged and compared with the row's Themes, counting only the
themes this tagger knows (:class:`chessapp.motifs.Motif`).

Two runs, side by side:

* **game**: the board remembers the blunder (as a game or a puzzle board does), so the
  tagger can tell a recapture from a hanging piece;
* **bare FEN**: the position after the blunder only, as ``explain --fen`` sees it.

Prints per-motif precision, recall and support, the micro figures, and the time to tag
1,000 lines (play the line and find every motif; best of three runs). Targets: micro
precision >= 0.95, recall >= 0.80, 1,000 lines <= 2 s.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/puzzle_tagger.py [--tagger-cases]

``--tagger-cases`` also reports agreement with lichess-puzzler's own test assertions
(``tagger_cases.csv``), for information: those are hand-picked edge cases.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import chess

from chessapp import motifs

ROOT = Path(__file__).resolve().parent.parent
#: ``../shared`` beside the clone; a git worktree kept one level deeper (``wt/<name>``)
#: finds the same folder one more level up.
DATA = next((base / "shared" / "data" / "lichess-puzzles"
             for base in (ROOT / "..", ROOT / ".." / "..")
             if (base / "shared" / "data" / "lichess-puzzles").is_dir()),
            ROOT / ".." / "shared" / "data" / "lichess-puzzles")
SCORED = frozenset(m.value for m in motifs.Motif)
PRECISION_TARGET, RECALL_TARGET, SECONDS_PER_1000_TARGET = 0.95, 0.80, 2.0


@dataclass(frozen=True)
class Puzzle:
    puzzle_id: str
    fen: str
    blunder: str
    solution: tuple[str, ...]
    themes: frozenset[str]


def read_puzzles(path: Path) -> list[Puzzle]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [Puzzle(row["PuzzleId"], row["FEN"], row["Moves"].split()[0],
                       tuple(row["Moves"].split()[1:]),
                       frozenset(row["Themes"].split()) & SCORED)
                for row in csv.DictReader(handle)]


def start_board(puzzle: Puzzle, *, remember_blunder: bool) -> chess.Board:
    board = chess.Board(puzzle.fen)
    board.push_uci(puzzle.blunder)
    return board if remember_blunder else chess.Board(board.fen())


@dataclass
class Score:
    true_pos: Counter[str]
    false_pos: Counter[str]
    false_neg: Counter[str]

    @classmethod
    def empty(cls) -> Score:
        return cls(Counter(), Counter(), Counter())

    def add(self, got: frozenset[str], want: frozenset[str]) -> None:
        self.true_pos.update(got & want)
        self.false_pos.update(got - want)
        self.false_neg.update(want - got)

    def micro(self) -> tuple[float, float]:
        tp = sum(self.true_pos.values())
        return (tp / max(1, tp + sum(self.false_pos.values())),
                tp / max(1, tp + sum(self.false_neg.values())))

    def per_motif(self, name: str) -> tuple[float, float, int]:
        tp, fp, fn = self.true_pos[name], self.false_pos[name], self.false_neg[name]
        return tp / max(1, tp + fp), tp / max(1, tp + fn), tp + fn


def score(puzzles: list[Puzzle], *, remember_blunder: bool) -> Score:
    result = Score.empty()
    for puzzle in puzzles:
        board = start_board(puzzle, remember_blunder=remember_blunder)
        got = frozenset(m.value for m in motifs.tag(board, puzzle.solution))
        result.add(got, puzzle.themes)
    return result


def seconds_per_1000(puzzles: list[Puzzle]) -> float:
    sample = puzzles[:1000]
    boards = [start_board(p, remember_blunder=True) for p in sample]
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for board, puzzle in zip(boards, sample, strict=True):
            motifs.find_motifs(motifs.play_line(board, puzzle.solution))
        best = min(best, time.perf_counter() - began)
    return best * 1000 / len(sample)


def tagger_cases(path: Path) -> tuple[int, int]:
    agree = total = 0
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Motif"] not in SCORED:
                continue
            moves = row["Moves"].split()
            board = chess.Board(row["FEN"])
            board.push_uci(moves[0])
            got = row["Motif"] in {m.value for m in motifs.tag(board, moves[1:])}
            agree += got == (row["Expected"] == "1")
            total += 1
    return agree, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tagger-cases", action="store_true",
                        help="also report agreement with lichess-puzzler's test assertions")
    args = parser.parse_args()
    puzzles = read_puzzles(DATA / "puzzles.csv")
    print(f"{len(puzzles):,} puzzles from {DATA.resolve()}; python {platform.python_version()}, "
          f"python-chess {chess.__version__}")
    game, bare = score(puzzles, remember_blunder=True), score(puzzles, remember_blunder=False)
    print(f"\n{'motif':<18} {'support':>7}  {'game P':>7} {'game R':>7}  "
          f"{'bare P':>7} {'bare R':>7}")
    for motif in motifs.Motif:
        gp, gr, support = game.per_motif(motif.value)
        bp, br, _ = bare.per_motif(motif.value)
        print(f"{motif.value:<18} {support:>7}  {gp:>7.3f} {gr:>7.3f}  {bp:>7.3f} {br:>7.3f}")
    ok = True
    for label, result in (("game (blunder known)", game), ("bare FEN", bare)):
        precision, recall = result.micro()
        met = precision >= PRECISION_TARGET and recall >= RECALL_TARGET
        ok &= met
        print(f"micro, {label:<21} precision {precision:.4f}  recall {recall:.4f}  "
              f"(targets {PRECISION_TARGET} / {RECALL_TARGET}: {'met' if met else 'NOT met'})")
    per_1000 = seconds_per_1000(puzzles)
    ok &= per_1000 <= SECONDS_PER_1000_TARGET
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"tagging 1,000 lines: {per_1000:.3f} s (target <= {SECONDS_PER_1000_TARGET} s; "
          f"{os.cpu_count()} cores, load average {load:.1f})")
    if args.tagger_cases:
        agree, total = tagger_cases(DATA / "tagger_cases.csv")
        print(f"lichess-puzzler tagger test assertions on scored motifs: {agree}/{total} agree "
              "(information only)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
