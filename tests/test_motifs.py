"""The motif tagger on our own named positions: a positive and a negative case per motif.

Each case is a position (the attacker to move), a line in UCI and whether the motif
must be found. The comments say why, in chess terms. None of these is a lichess puzzle.
"""

from __future__ import annotations

import chess
import pytest

from chessapp.errors import BadInput
from chessapp.motifs import Motif, find_motifs, play_line, tag

M = Motif
BACK_RANK = "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"
LADDER = "8/8/8/8/4k3/R7/1R6/7K w - - 0 1"
LADDER_LINE = "b2b4 e4e5 a3a5 e5e6 b4b6 e6e7 a5a7 e7e8 b6b8"
#: The ladder after its first two and four plies.
LADDER_AFTER_2 = "8/8/8/4k3/1R6/R7/8/7K w - - 2 2"
LADDER_AFTER_4 = "8/8/4k3/R7/1R6/8/8/7K w - - 4 3"
LADDER_TAIL_7 = LADDER_LINE.split(" ", 2)[2]
LADDER_TAIL_5 = LADDER_LINE.split(" ", 4)[4]
LEGAL = "rn1qkbnr/ppp2p1p/3p2p1/4p3/2B1P1b1/2N2N2/PPPP1PPP/R1BQK2R w KQkq - 0 5"
GREEK_GIFT = "r1bq1rk1/pppn1ppp/4p3/3pP3/1b1P4/2NB1N2/PPP2PPP/R1BQK2R w KQ - 0 1"
GREEK_GIFT_LINE = "d3h7 g8h7 f3g5 h7g8 d1h5"
SMOTHER = "6rk/6pp/8/6N1/8/8/8/6K1 w - - 0 1"
CHECK_FILE = "4k3/8/8/8/8/8/4B3/4RK2 w - - 0 1"


def _mirror_line(fen: str, line: str) -> tuple[str, str]:
    """The same position and line reflected in the d/e axis (a-file <-> h-file)."""
    board = chess.Board(fen).transform(chess.flip_horizontal)
    board.castling_rights = chess.BB_EMPTY
    moves = []
    for uci in line.split():
        move = chess.Move.from_uci(uci)
        # A file flip keeps the rank and maps file f to 7 - f: the low three bits flip.
        moves.append(chess.Move(move.from_square ^ 7, move.to_square ^ 7, move.promotion).uci())
    return board.fen(), " ".join(moves)


QUEENSIDE, QUEENSIDE_LINE = _mirror_line(GREEK_GIFT, GREEK_GIFT_LINE)

CASES: list[tuple[str, Motif, str, str, bool]] = [
    # --- mates ---
    ("back-rank rook mate", M.MATE_IN_1, BACK_RANK, "a1a8", True),
    ("rook to the 7th is no mate", M.MATE_IN_1, BACK_RANK, "a1a7", False),
    ("back-rank mate is a mate", M.MATE, BACK_RANK, "a1a8", True),
    ("a check that is not mate", M.MATE, "6k1/8/8/8/8/8/8/R5K1 w - - 0 1", "a1a8", False),
    # Ra7 cuts the 7th rank, Kf8, Rb8#: two attacker moves.
    ("two-rook ladder in two", M.MATE_IN_2, "6k1/8/8/8/8/8/R7/1R4K1 w - - 0 1",
     "a2a7 g8f8 b1b8", True),
    ("mate in one is not mate in two", M.MATE_IN_2, BACK_RANK, "a1a8", False),
    # The ladder: rooks alternate checks from the 4th rank up to the 8th. From its middle
    # it is a mate in three or four; from the start in five.
    ("ladder in three", M.MATE_IN_3, LADDER_AFTER_4, LADDER_TAIL_5, True),
    ("ladder in four is not in three", M.MATE_IN_3, LADDER_AFTER_2, LADDER_TAIL_7, False),
    ("ladder in four", M.MATE_IN_4, LADDER_AFTER_2, LADDER_TAIL_7, True),
    ("ladder in five is not in four", M.MATE_IN_4, LADDER, LADDER_LINE, False),
    ("ladder in five", M.MATE_IN_5, LADDER, LADDER_LINE, True),
    ("ladder stopped before the mate", M.MATE_IN_5, LADDER, LADDER_LINE.rsplit(" ", 1)[0],
     False),
    # Nf7#: h8 king boxed in by its own rook and pawns.
    ("Philidor's smothered mate", M.SMOTHERED_MATE, SMOTHER, "g5f7", True),
    # Nf7# too, but g8 is empty and covered by the e7 knight: not smothered.
    ("knight mate with a covered flight square", M.SMOTHERED_MATE,
     "7k/4N1pp/8/6N1/8/8/8/6K1 w - - 0 1", "g5f7", False),
    ("back-rank mate behind three pawns", M.BACK_RANK_MATE, BACK_RANK, "a1a8", True),
    # Ra8# with the white king on g6 covering the 7th rank: the king is not walled in by
    # its own pieces.
    ("king-and-rook mate on the edge", M.BACK_RANK_MATE, "6k1/8/6K1/8/8/8/8/R7 w - - 0 1",
     "a1a8", False),
    # --- checks and lines ---
    # Bb5+ checks from b5 and unmasks the e1 rook.
    ("bishop leaves the file with check", M.DOUBLE_CHECK, CHECK_FILE, "e2b5", True),
    ("discovered check by the rook only", M.DOUBLE_CHECK, CHECK_FILE, "e2d3", False),
    ("discovered check", M.DISCOVERED_ATTACK, CHECK_FILE, "e2d3", True),
    # Nd4 leaves the d-file; after ...Kh8 the rook takes the queen along the opened file.
    ("knight unmasks the rook on the queen", M.DISCOVERED_ATTACK,
     "3q2k1/8/8/8/3N4/8/8/3R2K1 w - - 0 1", "d4f5 g8h8 d1d8", True),
    ("rook takes the queen on an open file", M.DISCOVERED_ATTACK,
     "3q2k1/8/8/8/8/8/5N2/3R2K1 w - - 0 1", "f2e4 g8h8 d1d8", False),
    # Nc7+ attacks the e8 king and the a8 rook; nothing can take the knight.
    ("royal knight fork", M.FORK, "r3k3/8/8/1N6/8/8/8/4K3 w - - 0 1", "b5c7 e8e7 c7a8", True),
    ("knight attacks king and a pawn", M.FORK, "4k3/8/p7/1N6/8/8/8/4K3 w - - 0 1",
     "b5c7 e8d7 c7a6", False),
    # Bb5 pins the c6 rook to the e8 king, and the rook is worth more than the bishop.
    ("bishop pins a rook", M.PIN, "4k3/8/2r5/8/8/8/8/4KB2 w - - 0 1", "f1b5", True),
    # Bb5 pins a knight that the b7 pawn defends: bishop for knight is no gain.
    ("pin on a defended knight of equal value", M.PIN, "4k3/1p6/2n5/8/8/8/8/4KB2 w - - 0 1",
     "f1b5", False),
    # Ba2+ checks along a2-g8, the king steps off the diagonal, Bxg8.
    ("bishop skewers king and rook", M.SKEWER, "6r1/8/8/3k4/8/8/8/1B2K3 w - - 0 1",
     "b1a2 d5d6 a2g8", True),
    # The bishop attacks a knight with the rook behind; the knight is worth less.
    ("the front piece is worth less", M.SKEWER, "6r1/8/8/3n4/8/8/8/1B2K3 w - - 0 1",
     "b1a2 d5b4 a2g8", False),
    # --- material ---
    ("queen takes a free knight", M.HANGING_PIECE, "4k3/8/8/3n4/8/8/8/3QK3 w - - 0 1",
     "d1d5", True),
    ("queen takes a pawn-defended knight", M.HANGING_PIECE,
     "4k3/8/2p5/3n4/8/8/8/3QK3 w - - 0 1", "d1d5 c6d5", False),
    # The a1 knight's only squares, b3 and c2, are covered by the a2 pawn and the d2
    # king; Rh1 attacks it and it is lost.
    ("knight trapped in the corner", M.TRAPPED_PIECE, "8/4k3/8/7R/8/8/P2K4/n7 w - - 0 1",
     "h5h1 e7e6 h1a1", True),
    ("the knight had b3", M.TRAPPED_PIECE, "8/4k3/8/7R/8/8/3K4/n7 w - - 0 1",
     "h5h1 e7e6 h1a1", False),
    # Legal's mate: Nxe5 gives the queen, Bxf7+ Ke7 Nd5#.
    ("Legal's queen sacrifice", M.SACRIFICE, LEGAL, "f3e5 g4d1 c4f7 e8e7 c3d5", True),
    ("an even rook trade", M.SACRIFICE, "3rk3/8/8/8/8/8/8/3RK3 w - - 0 1",
     "d1d8 e8d8 e1e2", False),
    # Bxf6 removes the knight that guarded d5; after gxf6 the d5 bishop hangs.
    ("remove the guard, take the bishop", M.CAPTURING_DEFENDER,
     "6k1/6p1/5n2/3b2B1/8/8/8/3Q2K1 w - - 0 1", "g5f6 g7f6 d1d5", True),
    ("the bishop had a second guard", M.CAPTURING_DEFENDER,
     "6k1/6p1/2p2n2/3b2B1/8/8/8/3Q2K1 w - - 0 1", "g5f6 g7f6 d1d5", False),
    # Bb5+ forces ...Qd7, and the queen no longer guards the h4 rook: Rxh4.
    ("check deflects the queen from the rook", M.DEFLECTION,
     "3qk3/8/8/8/7r/8/8/4KB1R w - - 0 1", "f1b5 d8d7 h1h4", True),
    ("the queen never guarded h5", M.DEFLECTION, "3qk3/8/8/7r/8/8/8/4KB1R w - - 0 1",
     "f1b5 d8d7 h1h5", False),
    # Rh8+ Kxh8 and Qh5+ checks the king on the square it was drawn to.
    ("rook sacrifice draws the king to h8", M.ATTRACTION,
     "6k1/8/8/8/8/8/8/3Q2KR w - - 0 1", "h1h8 g8h8 d1h5", True),
    ("the king takes and is left alone", M.ATTRACTION, "6k1/8/8/8/8/8/8/3Q2KR w - - 0 1",
     "h1h8 g8h8 d1d7", False),
    # --- kings and pawns ---
    # No pawn near the g8 king; the second queen move checks again.
    ("queen checks a bare king", M.EXPOSED_KING, "6k1/8/8/8/8/8/8/2Q1R1K1 w - - 0 1",
     "c1c4 g8h8 c4h4 h8g8 e1e8", True),
    ("checks against a king behind its pawns", M.EXPOSED_KING,
     "6k1/5ppp/8/8/8/8/8/2Q1R1K1 w - - 0 1", "c1c3 h7h6 c3c8 g8h7 e1e7", False),
    ("pawn queens", M.PROMOTION, "8/4P3/8/8/8/8/k7/4K3 w - - 0 1", "e7e8q", True),
    ("pawn reaches the 7th", M.PROMOTION, "8/8/4P3/8/8/8/k7/4K3 w - - 0 1", "e6e7", False),
    ("pawn becomes a knight", M.UNDER_PROMOTION, "8/4P3/8/8/8/8/k7/4K3 w - - 0 1", "e7e8n",
     True),
    ("pawn becomes a queen", M.UNDER_PROMOTION, "8/4P3/8/8/8/8/k7/4K3 w - - 0 1", "e7e8q",
     False),
    ("exd6 en passant", M.EN_PASSANT, "4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1", "e5d6", True),
    ("the pawn pushes past", M.EN_PASSANT, "4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1", "e5e6",
     False),
    ("short castling", M.CASTLING, "4k3/8/8/8/8/8/8/4K2R w K - 0 1", "e1g1", True),
    ("the king walks", M.CASTLING, "4k3/8/8/8/8/8/8/4K2R w K - 0 1", "e1f1", False),
    ("pawn to the 7th", M.ADVANCED_PAWN, "8/8/4P3/8/8/8/k7/4K3 w - - 0 1", "e6e7", True),
    ("pawn to the 6th", M.ADVANCED_PAWN, "8/8/8/4P3/8/8/k7/4K3 w - - 0 1", "e5e6", False),
    ("Bxf7+ against the uncastled king", M.ATTACKING_F2_F7,
     "rnbqk2r/pppp1ppp/5n2/2b1p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 0 1", "c4f7 e8f7", True),
    ("Bxf7+ after the king has castled", M.ATTACKING_F2_F7,
     "rnbq1rk1/pppp1ppp/5n2/2b1p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQ - 0 1", "c4f7 f8f7", False),
    # The Greek gift: Bxh7+ Kxh7 Ng5+ Kg8 Qh5, all on the castled king's wing.
    ("Greek gift", M.KINGSIDE_ATTACK, GREEK_GIFT, GREEK_GIFT_LINE, True),
    ("opening moves", M.KINGSIDE_ATTACK, chess.STARTING_FEN, "e2e4 e7e5 g1f3", False),
    # The Greek gift reflected onto the queenside (king on b8).
    ("Greek gift on the queenside", M.QUEENSIDE_ATTACK, QUEENSIDE, QUEENSIDE_LINE, True),
    ("the kingside Greek gift", M.QUEENSIDE_ATTACK, GREEK_GIFT, GREEK_GIFT_LINE, False),
    # Bxd7 Rxd7 Rxd7: the d1 rook takes on d7 through the square the d4 rook left.
    ("rook recaptures through the recapturer", M.X_RAY_ATTACK,
     "6k1/3n4/8/1B6/3r4/8/8/3R2K1 w - - 0 1", "b5d7 d4d7 d1d7", True),
    # The recapture comes from a7, off the d-file: a plain exchange.
    ("recapture from the side", M.X_RAY_ATTACK, "6k1/r2n4/8/1B6/8/8/8/3R2K1 w - - 0 1",
     "b5d7 a7d7 d1d7", False),
]

#: Cases that need the move that led to the start (a game or puzzle board remembers it):
#: (name, motif, FEN before that move, that move, line, expected).
HISTORY_CASES: list[tuple[str, Motif, str, str, str, bool]] = [
    # ...Bxe4 took the knight; Bc4+ first, and only after ...Kh8 does Rxe4 take back.
    ("check before recapturing", M.INTERMEZZO, "6k1/1b4pp/8/8/4N3/8/8/4RBK1 b - - 0 1",
     "b7e4", "f1c4 g8h8 e1e4", True),
    ("recapture at once", M.INTERMEZZO, "6k1/1b4pp/8/8/4N3/8/8/4RBK1 b - - 0 1",
     "b7e4", "e1e4 g8f8 f1c4", False),
]


@pytest.mark.parametrize(("name", "motif", "fen", "line", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_named_case(name: str, motif: Motif, fen: str, line: str, expected: bool) -> None:
    found = tag(chess.Board(fen), line.split())
    assert (motif in found) is expected, sorted(m.value for m in found)


@pytest.mark.parametrize(("name", "motif", "fen", "previous", "line", "expected"),
                         HISTORY_CASES, ids=[c[0] for c in HISTORY_CASES])
def test_named_case_with_history(name: str, motif: Motif, fen: str, previous: str, line: str,
                                 expected: bool) -> None:
    board = chess.Board(fen)
    board.push_uci(previous)
    found = tag(board, line.split())
    assert (motif in found) is expected, sorted(m.value for m in found)


def test_an_intermezzo_needs_the_capture_that_led_to_the_start() -> None:
    board = chess.Board("6k1/1b4pp/8/8/4N3/8/8/4RBK1 b - - 0 1")
    board.push_uci("b7e4")
    assert Motif.INTERMEZZO not in tag(chess.Board(board.fen()), ["f1c4", "g8h8", "e1e4"])


def test_every_motif_has_a_positive_and_a_negative_case() -> None:
    table = [(motif, expected) for _, motif, _, _, expected in CASES] + [
        (motif, expected) for _, motif, _, _, _, expected in HISTORY_CASES]
    positives = {motif for motif, expected in table if expected}
    negatives = {motif for motif, expected in table if not expected}
    assert positives == set(Motif)
    assert negatives == set(Motif)


def test_a_recapture_is_not_a_hanging_piece_when_the_capture_is_known() -> None:
    # Black's knight has just taken the d5 knight; Qxd5 takes it back. With the capture on
    # the board's move stack this is a trade; from a bare FEN the knight simply hangs.
    board = chess.Board("4k3/8/5n2/3N4/8/8/8/3QK3 b - - 0 1")
    board.push_uci("f6d5")
    assert Motif.HANGING_PIECE not in tag(board, ["d1d5"])
    assert Motif.HANGING_PIECE in tag(chess.Board(board.fen()), ["d1d5"])


def test_findings_name_the_squares_they_rest_on() -> None:
    findings = find_motifs(play_line(chess.Board("r3k3/8/8/1N6/8/8/8/4K3 w - - 0 1"),
                                     ["b5c7", "e8e7", "c7a8"]))
    fork = next(f for f in findings if f.motif is Motif.FORK)
    assert fork.ply == 0
    assert fork.squares == (chess.C7, chess.A8, chess.E8)  # the forker, then its targets


def test_play_line_leaves_the_board_alone_and_records_san() -> None:
    board = chess.Board()
    line = play_line(board, ["e2e4", chess.Move.from_uci("e7e5")])
    assert board.fen() == chess.STARTING_FEN
    assert [p.san for p in line.plies] == ["e4", "e5"]
    assert line.attacker == chess.WHITE
    assert line.end.fen() == "rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2"


@pytest.mark.parametrize(("moves", "message"), [
    (["e2e5"], "move 1 is illegal"),
    (["e2e4", "e2e4"], "move 2 is illegal"),
    (["zz"], "move 1 is not UCI"),
])
def test_bad_moves_are_bad_input(moves: list[str], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        play_line(chess.Board(), moves)


def test_an_empty_line_has_no_motifs() -> None:
    assert tag(chess.Board(), []) == frozenset()
