"""Explanations of judged moves: every sentence stands on a claim that held.

Each case gives the position before the move, the move, the engine's best line and
its refutation (written by hand here; in the app they come from the analysis), and the
whole text expected.
"""

from __future__ import annotations

import chess
import pytest

from chessapp.coach import ClaimKind, explain_judged_move
from chessapp.errors import BadInput
from chessapp.motifs import Motif

NUMBERS = "(0.20 → 0.05) Inaccuracy. e4 was best."

CASES = [
    # Ke8 steps onto the knight's fork square: Nc7+ hits king and rook.
    ("walks into a fork", "r7/3k4/8/1N6/8/8/8/4K3 b - - 0 1", "d7e8", "a8a5 b5c3",
     "b5c7 e8e7 c7a8", "Ke8 allows Nc7+: Nc7+ forks the king and the rook on a8.",
     ClaimKind.ALLOWS_MOTIF),
    # g5 takes away the knight's only defender.
    ("leaves a piece hanging", "6k1/6p1/5n2/8/8/5Q2/8/6K1 b - - 0 1", "g7g5", "g8h7",
     "f3f6", "g5 leaves the knight on f6 hanging: Qxf6.", ClaimKind.LEAVES_HANGING),
    # The rook leaves the back rank; Ra8+ Rd8 Rxd8#.
    ("walks into mate", "3r2k1/5ppp/8/8/8/8/5PPP/R5K1 b - - 0 1", "d8d2", "h7h6",
     "a1a8 d2d8 a8d8", "Rd2 walks into mate in two: Ra8+ Rd8 Rxd8#.", ClaimKind.ALLOWS_MATE),
    # Scholar's mate.
    ("misses the defence of f7", "r1bqkbnr/pppp1ppp/2n5/4p2Q/2B1P3/8/PPPP1PPP/RNB1K1NR b KQkq - "
     "0 1", "g8f6", "g7g6", "h5f7", "Nf6 walks into mate in one: Qxf7#.",
     ClaimKind.ALLOWS_MATE),
    ("misses a mate", "6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", "a1a2", "a1a8", "g8f8",
     "Missed mate in one: Ra8#.", ClaimKind.MISSED_MATE),
    # The best line forks; the move played is harmless.
    ("misses a fork", "r3k3/8/8/1N6/8/8/8/4K3 w - - 0 1", "e1e2", "b5c7 e8e7 c7a8",
     "e8d7", "Missed Nc7+: Nc7+ forks the king and the rook on a8.", ClaimKind.MISSED_MOTIF),
]


@pytest.mark.parametrize(("name", "fen", "played", "best", "refutation", "text", "kind"),
                         CASES, ids=[c[0] for c in CASES])
def test_judged_move_text(name: str, fen: str, played: str, best: str, refutation: str,
                          text: str, kind: ClaimKind) -> None:
    result = explain_judged_move(chess.Board(fen), played, best.split(), refutation.split(),
                                 numbers=NUMBERS)
    assert result.text == text
    held = [c for c in result.claims if c.held]
    assert kind in {c.kind for c in held}
    # The text is the first held sentence of each group; no unheld claim has a sentence.
    assert text in {c.sentence for c in held}
    assert all(bool(c.sentence) is c.held for c in result.claims)


def test_no_claim_holds_so_only_the_numbers_are_said() -> None:
    result = explain_judged_move(chess.Board(), "a2a3", ["e2e4", "e7e5"], ["e7e5"],
                                 numbers=NUMBERS)
    assert result.text == NUMBERS
    assert not any(c.held for c in result.claims)
    assert {c.kind for c in result.claims} == set(ClaimKind)


def test_the_best_move_played_misses_nothing() -> None:
    result = explain_judged_move(chess.Board("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"), "a1a8",
                                 ["a1a8"], [])
    assert result.text == ""
    assert not any(c.held for c in result.claims if c.kind is ClaimKind.MISSED_MATE)


def test_material_claims_wait_for_a_quiet_end() -> None:
    # The refutation stops after Qxf6 while ...gxf6 would take the queen back: the balance
    # at the end is mid-exchange, so "loses material" does not hold.
    result = explain_judged_move(chess.Board("6k1/6p1/5n2/8/8/5Q2/8/6K1 b - - 0 1"), "g8h8",
                                 ["g8h7"], ["f3f6"])
    loses = next(c for c in result.claims if c.kind is ClaimKind.LOSES_MATERIAL)
    assert loses.figures["quiet_at_end"] is False
    assert loses.held is False
    hanging = next(c for c in result.claims if c.kind is ClaimKind.LEAVES_HANGING)
    assert hanging.held is False and hanging.figures["hanging"] is False


def test_motifs_of_both_lines_and_json() -> None:
    result = explain_judged_move(chess.Board("r3k3/8/8/1N6/8/8/8/4K3 w - - 0 1"), "e1e2",
                                 ["b5c7", "e8e7", "c7a8"], ["e8d7"])
    assert result.missed_motifs == (Motif.FORK,)
    assert result.motifs == ()
    data = result.to_json()
    assert data["missed_motifs"] == ["fork"]
    fork = next(c for c in data["claims"] if c["kind"] == "missed_motif")
    assert fork == {"kind": "missed_motif", "figures": {"motif": "fork", "ply": 0,
                                                        "squares": ["c7", "a8", "e8"]},
                    "held": True,
                    "sentence": "Missed Nc7+: Nc7+ forks the king and the rook on a8."}


def test_an_illegal_refutation_is_bad_input() -> None:
    with pytest.raises(BadInput, match="the refutation: at 'e2e4'"):
        explain_judged_move(chess.Board(), "e2e4", [], ["e2e4"])
