"""``python -m chessapp explain``: the real command line, run as a subprocess.

The texts are asserted whole: each sentence names only what the tagger checked.
"""

from __future__ import annotations

import json
import os
import random
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


#: One case per sentence: the positive cases of tests/test_motifs.py, with the whole text.
SENTENCE_CASES: list[tuple[str, str, str, str]] = [
    ('back-rank rook mate',
     '6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1',
     'a1a8',
     'Ra8# is mate. It is a back-rank mate: the king on g8 is walled in by '
     'its own pieces.'),
    ('two-rook ladder in two',
     '6k1/8/8/8/8/8/R7/1R4K1 w - - 0 1',
     'a2a7 g8f8 b1b8',
     'Mate in two: Ra7 Kf8 Rb8#.'),
    ('ladder in three',
     '8/8/4k3/R7/1R6/8/8/7K w - - 4 3',
     'b4b6 e6e7 a5a7 e7e8 b6b8',
     'The king on e6 has no pawn shelter, and Ra7+ checks it. Mate in '
     'three: Rb6+ Ke7 Ra7+ Ke8 Rb8#.'),
    ('ladder in four',
     '8/8/8/4k3/1R6/R7/8/7K w - - 2 2',
     'a3a5 e5e6 b4b6 e6e7 a5a7 e7e8 b6b8',
     'Mate in four: Ra5+ Ke6 Rb6+ Ke7 Ra7+ Ke8 Rb8#.'),
    ('ladder in five',
     '8/8/8/8/4k3/R7/1R6/7K w - - 0 1',
     'b2b4 e4e5 a3a5 e5e6 b4b6 e6e7 a5a7 e7e8 b6b8',
     'Mate in five: Rb4+ Ke5 Ra5+ Ke6 Rb6+ Ke7 Ra7+ Ke8 Rb8#.'),
    ("Philidor's smothered mate",
     '6rk/6pp/8/6N1/8/8/8/6K1 w - - 0 1',
     'g5f7',
     'Nf7# is mate. It is a smothered mate: the king on h8 is boxed in by '
     'its own pieces.'),
    ('bishop leaves the file with check',
     '4k3/8/8/8/8/8/4B3/4RK2 w - - 0 1',
     'e2b5',
     'Bb5+ is a double check, by the rook on e1 and the bishop on b5.'),
    ('discovered check',
     '4k3/8/8/8/8/8/4B3/4RK2 w - - 0 1',
     'e2d3',
     'Bd3+ uncovers a check by the rook on e1.'),
    ('knight unmasks the rook on the queen',
     '3q2k1/8/8/8/3N4/8/8/3R2K1 w - - 0 1',
     'd4f5 g8h8 d1d8',
     'Nf5 opens the line of the rook on d1, which then takes on d8.'),
    ('royal knight fork',
     'r3k3/8/8/1N6/8/8/8/4K3 w - - 0 1',
     'b5c7 e8e7 c7a8',
     'Nc7+ forks the king and the rook on a8.'),
    ('bishop pins a rook',
     '4k3/8/2r5/8/8/8/8/4KB2 w - - 0 1',
     'f1b5',
     'After Bb5, the rook on c6 is pinned to its king.'),
    ('bishop skewers king and rook',
     '6r1/8/8/3k4/8/8/8/1B2K3 w - - 0 1',
     'b1a2 d5d6 a2g8',
     'The king on d5 steps off the line, and Bxg8 wins the rook on g8 '
     'behind it.'),
    ('queen takes a free knight',
     '4k3/8/8/3n4/8/8/8/3QK3 w - - 0 1',
     'd1d5',
     'Qxd5 takes the knight on d5, which nothing defends.'),
    ('knight trapped in the corner',
     '8/4k3/8/7R/8/8/P2K4/n7 w - - 0 1',
     'h5h1 e7e6 h1a1',
     'The knight on a1 has no safe square, and Rxa1 wins it.'),
    ("Legal's queen sacrifice",
     'rn1qkbnr/ppp2p1p/3p2p1/4p3/2B1P1b1/2N2N2/PPPP1PPP/R1BQK2R w KQkq - 0 5',
     'f3e5 g4d1 c4f7 e8e7 c3d5',
     'Nxe5 is a sacrifice: after Bxf7+, White has given up 7 pawns of '
     'material. Bxf7+ strikes at f7, beside the king still on e8. Mate in '
     'three: Nxe5 Bxd1 Bxf7+ Ke7 Nd5#.'),
    ('remove the guard, take the bishop',
     '6k1/6p1/5n2/3b2B1/8/8/8/3Q2K1 w - - 0 1',
     'g5f6 g7f6 d1d5',
     'Bxf6 removes the knight on f6, the defender of d5.'),
    ('check deflects the queen from the rook',
     '3qk3/8/8/8/7r/8/8/4KB1R w - - 0 1',
     'f1b5 d8d7 h1h4',
     'Bb5+ lures the queen on d8 away from h4. After Rxh4, the queen on d7 '
     'is pinned to its king.'),
    ('rook sacrifice draws the king to h8',
     '6k1/8/8/8/8/8/8/3Q2KR w - - 0 1',
     'h1h8 g8h8 d1h5',
     'Rh8+ draws the king to h8. Rh8+ is a sacrifice: after Qh5+, White '
     'has given up 5 pawns of material.'),
    ('queen checks a bare king',
     '6k1/8/8/8/8/8/8/2Q1R1K1 w - - 0 1',
     'c1c4 g8h8 c4h4 h8g8 e1e8',
     'The king on g8 has no pawn shelter, and Qh4+ checks it.'),
    ('pawn queens',
     '8/4P3/8/8/8/8/k7/4K3 w - - 0 1',
     'e7e8q',
     'e8=Q promotes a pawn.'),
    ('pawn becomes a knight',
     '8/4P3/8/8/8/8/k7/4K3 w - - 0 1',
     'e7e8n',
     'e8=N promotes to a knight, not a queen.'),
    ('exd6 en passant',
     '4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1',
     'e5d6',
     'exd6 takes en passant.'),
    ('short castling',
     '4k3/8/8/8/8/8/8/4K2R w K - 0 1',
     'e1g1',
     'O-O castles.'),
    ('pawn to the 7th',
     '8/8/4P3/8/8/8/k7/4K3 w - - 0 1',
     'e6e7',
     'e7 brings a pawn to the 7th rank.'),
    ('Bxf7+ against the uncastled king',
     'rnbqk2r/pppp1ppp/5n2/2b1p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 0 1',
     'c4f7 e8f7',
     'Bxf7+ strikes at f7, beside the king still on e8.'),
    ('Greek gift',
     'r1bq1rk1/pppn1ppp/4p3/3pP3/1b1P4/2NB1N2/PPP2PPP/R1BQK2R w KQ - 0 1',
     'd3h7 g8h7 f3g5 h7g8 d1h5',
     'Bxh7+ draws the king to h7. Bxh7+ is a sacrifice: after Ng5+, White '
     'has given up 2 pawns of material. The checks and captures are aimed '
     'at the king on g8, on the kingside.'),
    ('Greek gift on the queenside',
     '1kr1qb1r/ppp1nppp/3p4/3Pp3/4P1b1/2N1BN2/PPP2PPP/R2KQB1R w - - 0 1',
     'e3a7 b8a7 c3b5 a7b8 e1a5',
     'Bxa7+ draws the king to a7. Bxa7+ is a sacrifice: after Nb5+, White '
     'has given up 2 pawns of material. The checks and captures are aimed '
     'at the king on b8, on the queenside.'),
    ('rook recaptures through the recapturer',
     '6k1/3n4/8/1B6/3r4/8/8/3R2K1 w - - 0 1',
     'b5d7 d4d7 d1d7',
     'Rxd7 takes on d7 through the square the recapturing piece left: an '
     'x-ray.'),
]


@pytest.mark.parametrize(("name", "fen", "line", "text"), SENTENCE_CASES,
                         ids=[c[0] for c in SENTENCE_CASES])
def test_whole_text(name: str, fen: str, line: str, text: str) -> None:
    assert explain_line(chess.Board(fen), line.split()).text == text


def test_intermezzo_text_needs_the_capture_on_the_board() -> None:
    board = chess.Board("6k1/1b4pp/8/8/4N3/8/8/4RBK1 b - - 0 1")
    board.push_uci("b7e4")
    result = explain_line(board, ["f1c4", "g8h8", "e1e4"])
    assert result.text == "Bc4+ comes first, and the recapture on e4 waits."


def test_random_lines_explain_without_error() -> None:
    # 300 seeded random lines from varied positions: every sentence builder must cope with
    # whatever the tagger finds (a crash here would be a traceback in the CLI).
    rng = random.Random(12)
    starts = [chess.Board(), chess.Board(SENTENCE_CASES[-1][1]),
              chess.Board("r1bq1rk1/pppn1ppp/4p3/3pP3/1b1P4/2NB1N2/PPP2PPP/R1BQK2R w KQ - 0 1"),
              chess.Board("8/4P3/8/8/8/8/k7/4K3 w - - 0 1")]
    explained = 0
    for index in range(300):
        board = starts[index % len(starts)].copy()
        for _ in range(rng.randrange(0, 12)):  # wander away from the start first
            moves = list(board.legal_moves)
            if not moves:
                break
            board.push(rng.choice(moves))
        line, probe = [], board.copy()
        for _ in range(rng.randrange(1, 10)):
            moves = list(probe.legal_moves)
            if not moves:
                break
            move = rng.choice(moves)
            line.append(move)
            probe.push(move)
        result = explain_line(board, line)
        assert result.text
        explained += 1
    assert explained == 300


def test_batch_without_json_is_one_tab_separated_line_per_input() -> None:
    stdin = "\n".join([json.dumps({"fen": BACK_RANK, "line": ["a1a8"]}),
                       json.dumps({"fen": chess.STARTING_FEN, "line": ["e2e5"]}),
                       json.dumps({"fen": chess.STARTING_FEN, "line": ["e2e4"]})]) + "\n"
    proc = run_cli("explain", "--batch", stdin=stdin)
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        "mateIn1,mate,backRankMate\tRa8# is mate. It is a back-rank mate: the king on g8 is "
        "walled in by its own pieces.",
        "error\tat 'e2e5': move 1 is illegal in " + chess.STARTING_FEN,
        "-\tNo tactical motif found in e4.",
    ]


def test_batch_survives_undecodable_bytes_and_a_huge_line() -> None:
    huge = json.dumps({"fen": BACK_RANK, "line": ["a1a8"] * 40_000})  # about 320 kB
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    data = b"\xff\xfe{\n" + huge.encode() + b"\n" + json.dumps(
        {"fen": BACK_RANK, "line": ["a1a8"]}).encode() + b"\n"
    proc = subprocess.run([sys.executable, "-m", "chessapp", "explain", "--batch", "--json"],
                          cwd=ROOT, env=env, capture_output=True, input=data, timeout=120)
    assert proc.returncode == 2
    rows = [json.loads(row) for row in proc.stdout.decode().splitlines()]
    assert rows[0] == {"error": "not JSON: Expecting value at column 1"}
    assert rows[1] == {"error": "the JSON line is longer than 65,536 characters"}
    assert rows[2]["motifs"] == ["mateIn1", "mate", "backRankMate"]
    assert b"Traceback" not in proc.stderr
