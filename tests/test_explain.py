"""``python -m chessapp explain``: the real command line, run as a subprocess.

The texts are asserted whole: each sentence names only what the tagger checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import chess
import pytest

from chessapp.explain import MAX_LINE_PLIES, explain_line
from chessapp.motifs import Motif

ROOT = Path(__file__).resolve().parent.parent
FORK = "r3k3/8/8/1N6/8/8/8/4K3 w - - 0 1"
BACK_RANK = "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"
DEFLECTION = "3qk3/8/8/8/7r/8/8/4KB1R w - - 0 1"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "chessapp", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, input=stdin, timeout=120)


def test_single_line_json() -> None:
    proc = run_cli("explain", "--fen", FORK, "--line", "b5c7", "e8e7", "c7a8", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"motifs": ["fork"],
                                       "text": "Nc7+ forks the king and the rook on a8."}
    assert proc.stderr == ""


def test_mate_text_names_the_line_and_the_pattern() -> None:
    proc = run_cli("explain", "--fen", BACK_RANK, "--line", "a1a8", "--json")
    assert json.loads(proc.stdout) == {
        "motifs": ["mateIn1", "mate", "backRankMate"],
        "text": "Ra8# is mate. It is a back-rank mate: the king on g8 is walled in by its "
                "own pieces."}


def test_plain_output_without_json() -> None:
    proc = run_cli("explain", "--fen", "4k3/8/8/3n4/8/8/8/3QK3 w - - 0 1", "--line", "d1d5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("Qxd5 takes the knight on d5, which nothing defends.\n"
                           "motifs: hangingPiece\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--fen", "rnbqkbnr/pppppppp/8/8 w - - 0 1", "--line", "e2e4"],
     "chessapp: bad input: at 'rnbqkbnr/pppppppp/8/8 w - - 0 1': bad FEN: 4 ranks; "
     "a board has 8\n"),
    (["--fen", chess.STARTING_FEN, "--line", "e2e4", "e2e4"],
     "chessapp: bad input: at 'e2e4': move 2 is illegal in "
     "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1\n"),
    (["--fen", chess.STARTING_FEN, "--line", "e9e4"],
     "chessapp: bad input: at 'e9e4': move 1 is not UCI\n"),
    (["--fen", chess.STARTING_FEN],
     "chessapp: bad input: --line is required with --fen\n"),
])
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    proc = run_cli("explain", *args, "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == message


def test_batch_writes_one_result_per_input_line_in_order() -> None:
    items = [{"fen": BACK_RANK, "line": ["a1a8"]},
             {"fen": DEFLECTION, "line": ["f1b5", "d8d7", "h1h4"]},
             {"fen": chess.STARTING_FEN, "line": ["e2e4", "e7e5"]}]
    proc = run_cli("explain", "--batch", "--json",
                   stdin="".join(json.dumps(item) + "\n" for item in items))
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(row) for row in proc.stdout.splitlines()]
    assert [r["motifs"] for r in results] == [["mateIn1", "mate", "backRankMate"],
                                              ["pin", "deflection"], []]
    assert results[1]["text"] == ("Bb5+ lures the queen on d8 away from h4. After Rxh4, the "
                                  "queen on d7 is pinned to its king.")
    assert results[2]["text"] == "No tactical motif found in e4 e5."


def test_batch_bad_lines_get_an_error_in_place_and_exit_2() -> None:
    stdin = "\n".join([
        json.dumps({"fen": BACK_RANK, "line": ["a1a8"]}),
        "not json",
        "",
        json.dumps({"fen": BACK_RANK, "line": ["a1a9"]}),
        json.dumps({"fen": BACK_RANK}),
        json.dumps({"fen": FORK, "line": ["b5c7"]}),
    ]) + "\n"
    proc = run_cli("explain", "--batch", "--json", stdin=stdin)
    assert proc.returncode == 2
    rows = [json.loads(row) for row in proc.stdout.splitlines()]
    assert len(rows) == 5  # the blank line is skipped
    assert rows[0]["motifs"] == ["mateIn1", "mate", "backRankMate"]
    assert rows[1] == {"error": "not JSON: Expecting value at column 1"}
    assert rows[2] == {"error": "at 'a1a9': move 1 is not UCI"}
    assert rows[3] == {"error": '"line" must be a list of UCI strings'}
    assert rows[4]["motifs"] == []  # a fork needs a follow-up: one move is only a check
    assert proc.stderr.splitlines() == [
        "chessapp: input line 2: not JSON: Expecting value at column 1",
        "chessapp: input line 4: at 'a1a9': move 1 is not UCI",
        'chessapp: input line 5: "line" must be a list of UCI strings',
    ]
    assert "Traceback" not in proc.stderr


def test_fen_and_batch_are_exclusive() -> None:
    proc = run_cli("explain", "--batch", "--fen", BACK_RANK, "--json", stdin="")
    assert proc.returncode == 2
    assert "not allowed with argument" in proc.stderr


def test_too_long_a_line_is_bad_input() -> None:
    moves = ["g1f3", "g8f6", "f3g1", "f6g8"] * (MAX_LINE_PLIES // 4 + 1)
    with pytest.raises(ValueError, match="the limit is 200"):
        explain_line(chess.Board(), moves)


def test_explain_line_returns_motifs_in_tagger_order() -> None:
    result = explain_line(chess.Board("8/4P3/8/8/8/8/k7/4K3 w - - 0 1"), ["e7e8n"])
    assert result.motifs == (Motif.PROMOTION, Motif.UNDER_PROMOTION, Motif.ADVANCED_PAWN)
    assert result.text == "e8=N promotes to a knight, not a queen."
