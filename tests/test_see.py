"""Static exchange evaluation on named positions; every figure worked out by hand.

Values: P 100, N 300, B 300, R 500, Q 900. In the comments, "gains" lists what each
capture in the exchange takes, and the result is what the mover keeps when both
sides may stop at any point.
"""

from __future__ import annotations

import chess
import pytest

from chessapp.errors import BadInput
from chessapp.see import defenders, is_hanging, see

CASES = [
    # Pawn takes an undefended knight: +300, nothing recaptures.
    ("pawn takes a free knight", "4k3/8/8/3n4/4P3/8/8/4K3 w - - 0 1", "e4d5", 300),
    # Rook takes a pawn the c6 pawn defends: +100, then cxd5 takes the rook: 100 - 500.
    ("rook takes a defended pawn", "4k3/8/2p5/3p4/8/8/8/3RK3 w - - 0 1", "d1d5", -400),
    # Rd2xd5 +100, Rd7xd5 -500, Rd1xd5 +500 (x-ray: Rd1 stood behind Rd2); black has
    # nothing left. 100 - 500 + 500 = +100.
    ("x-ray: the rook behind recaptures", "4k3/3r4/8/3p4/8/8/3R4/3RK3 w - - 0 1", "d2d5", 100),
    # As above with a second black rook on d8: after Rd1xd5, Rd8xd5. White can stop only
    # after the first recapture: 100 - 500 = -400 either way.
    ("x-ray on both sides", "3rk3/3r4/8/3p4/8/8/3R4/3RK3 w - - 0 1", "d2d5", -400),
    # Qc3xe5 +300, f6xe5 -900, Bb2xe5 (x-ray through c3) +100: white stops nowhere better
    # than 300 - 900 + 100 = -500.
    ("queen in front of the bishop loses", "4k3/8/5p2/4n3/8/2Q5/1B6/4K3 w - - 0 1",
     "c3e5", -500),
    # Bc3xe5 +300, f6xe5 -300, Qb2xe5 +100 (x-ray through c3): black's f-pawn may refuse to
    # recapture but then white keeps +300; recapturing gives 300 - 300 + 100 = +100.
    ("bishop in front of the queen wins a pawn", "4k3/8/5p2/4n3/8/2B5/1Q6/4K3 w - - 0 1",
     "c3e5", 100),
    # exd6 e.p. +100, nothing recaptures on d6.
    ("en passant wins a pawn", "4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1", "e5d6", 100),
    # exd6 e.p. +100, Rd8xd6 -100: even.
    ("en passant recaptured", "3rk3/8/8/3pP3/8/8/8/4K3 w - d6 0 1", "e5d6", 0),
    # exd6 e.p. +100 removes d5, so Rd1 now sees d6: Rd8xd6 -100, Rd1xd6 +500. Black stops
    # after exd6: +100.
    ("en passant opens the file behind", "3rk3/8/8/3pP3/8/8/8/3RK3 w - d6 0 1", "e5d6", 100),
    # cxd8=Q takes a rook (+500) and turns a pawn into a queen (+800); nothing recaptures.
    ("promotion with capture", "3r3k/2P5/8/8/8/8/8/4K3 w - - 0 1", "c7d8q", 1300),
    # c8=Q +800, Rd8xc8 takes the queen -900: -100.
    ("promotion into a recapture", "3r3k/2P5/8/8/8/8/8/K7 w - - 0 1", "c7c8q", -100),
    # c8=N +200 (knight minus pawn), Rd8xc8 -300: -100.
    ("underpromotion into a recapture", "3r3k/2P5/8/8/8/8/8/K7 w - - 0 1", "c7c8n", -100),
    # Qxe7+ +100; Ke8 cannot recapture because Re1 x-rays through e2 to e7.
    ("king may not recapture a defended piece", "4k3/4p3/8/8/8/8/4Q3/4R1K1 w - - 0 1",
     "e2e7", 100),
    # Same without the rook: Kxe7 takes the queen: 100 - 900.
    ("king recaptures an undefended queen", "4k3/4p3/8/8/8/8/4Q3/6K1 w - - 0 1",
     "e2e7", -800),
    # Rxd4 +100: the c6 knight is pinned to e8 by Bb5 and cannot recapture.
    ("pinned defender does not count", "4k3/8/2n5/1B6/3p4/8/8/3RK3 w - - 0 1", "d1d4", 100),
    # Same without the bishop: Nxd4 takes the rook: 100 - 500.
    ("free defender recaptures", "4k3/8/2n5/8/3p4/8/8/3RK3 w - - 0 1", "d1d4", -400),
    # Quiet Nc2-e3 steps where d4xe3 takes it for nothing: -300.
    ("quiet move into a pawn's capture", "4k3/8/8/8/3p4/8/2N5/4K3 w - - 0 1", "c2e3", -300),
    # Quiet Nc2-b4: nothing attacks b4: 0.
    ("safe quiet move", "4k3/8/8/8/3p4/8/2N5/4K3 w - - 0 1", "c2b4", 0),
    # Rd2xd7 +500, Rd8xd7 -500, Rd1xd7 +500, then Ke8xd7 -500: legal, since no white piece
    # is left attacking d7. Even whichever side stops: 0.
    ("equal trade down a file", "3rk3/3r4/8/8/8/8/3R4/3RK3 w - - 0 1", "d2d7", 0),
]


@pytest.mark.parametrize(("name", "fen", "uci", "expected"), CASES, ids=[c[0] for c in CASES])
def test_see_named_positions(name: str, fen: str, uci: str, expected: int) -> None:
    board = chess.Board(fen)
    assert see(board, chess.Move.from_uci(uci)) == expected


def test_see_leaves_the_board_untouched() -> None:
    board = chess.Board("4k3/3r4/8/3p4/8/8/3R4/3RK3 w - - 0 1")
    before = board.fen()
    see(board, chess.Move.from_uci("d2d5"))
    assert board.fen() == before


def test_illegal_move_is_bad_input() -> None:
    with pytest.raises(BadInput, match="illegal move e2e5"):
        see(chess.Board(), chess.Move.from_uci("e2e5"))


def test_hanging_and_defenders() -> None:
    free = chess.Board("4k3/8/8/3n4/4P3/8/8/4K3 w - - 0 1")
    assert is_hanging(free, chess.D5)
    guarded = chess.Board("4k3/8/2p5/3n4/4P3/8/8/4K3 w - - 0 1")
    assert not is_hanging(guarded, chess.D5)
    assert defenders(guarded, chess.D5) == chess.SquareSet([chess.C6])
    # x-ray defence: Ra4 attacks the a6 bishop; the black queen on a2 stands behind the
    # rook, so once Rxa6 vacates a4 she recaptures. The bishop is not hanging.
    xray = chess.Board("4k3/8/b7/8/R7/8/q7/4K3 w - - 0 1")
    assert defenders(xray, chess.A6) == chess.SquareSet([chess.A2])
    assert not is_hanging(xray, chess.A6)
    assert see(xray, chess.Move.from_uci("a4a6")) == 300 - 500
