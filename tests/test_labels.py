"""Move labels (chessapp.labels): Best, ! only move, !! brilliant; forced mates of any length."""

from __future__ import annotations

import io

import chess
import chess.pgn
import pytest

from chessapp import analysis, export, games, labels
from chessapp.analysis import Judgement, MateSequence
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.labels import MoveLabel

ENGINE, LIMIT = EngineIdentity("fixture"), SearchLimit(nodes=1)


def cp(v: int) -> WhiteEval:
    return WhiteEval(cp=v)


@pytest.mark.parametrize(
    ("name", "fen", "uci", "net"),
    [
        ("a free pawn", "4k3/8/8/4p3/8/5N2/8/4K3 w - - 0 1", "f3e5", 1),
        ("queen takes a defended pawn", "4k3/8/4p3/3p4/8/8/8/3QK3 w - - 0 1", "d1d5", 1 - 9),
        ("rook onto a pawn-guarded square", "6k1/2p2ppp/8/8/8/8/5PPP/3R2K1 w - - 0 1", "d1d6",
         -5),
        # Rxd5 Rxd5 Rxd5: the second rook behind the first recaptures through the x-ray
        ("doubled rooks win a pawn", "3r2k1/8/8/3p4/8/8/3R4/3R2K1 w - - 0 1", "d2d5", 1),
        ("en passant takes a pawn", "4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1", "e5d6", 1),
    ],
)
def test_static_exchange(name: str, fen: str, uci: str, net: int) -> None:
    assert labels.static_exchange(chess.Board(fen), chess.Move.from_uci(uci)) == net, name


SAC_FEN = "6k1/2p2ppp/8/8/8/8/5PPP/3R2K1 w - - 0 1"  # Rd6 gives the rook to c7xd6
QUIET_FEN = "6k1/5ppp/8/8/8/8/5PPP/3R2K1 w - - 0 1"  # Rd6 is safe here


def _lines(*entries: tuple[str, WhiteEval]) -> tuple[EngineLine, ...]:
    return tuple(EngineLine(ev, (chess.Move.from_uci(uci),)) for uci, ev in entries)


@pytest.mark.parametrize(
    ("name", "fen", "lines", "recapture", "label"),
    [
        ("not the engine's choice", QUIET_FEN, _lines(("d1d8", cp(900)), ("d1d6", cp(100))),
         False, None),
        ("the first choice, one line known", QUIET_FEN, _lines(("d1d6", cp(100))), False,
         MoveLabel.BEST),
        # wc(100) - wc(50) = 0.090: the second choice is nearly as good
        ("first choice, a close second", QUIET_FEN, _lines(("d1d6", cp(100)), ("d1e1", cp(50))),
         False, MoveLabel.BEST),
        # wc(100) - wc(-150) = 0.1820 + 0.2734 = 0.455 >= 0.3
        ("first choice, the second loses", QUIET_FEN,
         _lines(("d1d6", cp(100)), ("d1e1", cp(-150))), False, MoveLabel.ONLY),
        ("an only move that gives a rook", SAC_FEN,
         _lines(("d1d6", cp(100)), ("d1e1", cp(-150))), False, MoveLabel.BRILLIANT),
        ("the same, but a recapture", SAC_FEN,
         _lines(("d1d6", cp(100)), ("d1e1", cp(-150))), True, MoveLabel.ONLY),
        # mate in 2 = 1900 cp, mate in 6 = 1500 cp: 0.9982 - 0.9921, both win
        ("two forced mates of different length", QUIET_FEN,
         _lines(("d1d6", WhiteEval(mate=2)), ("d1e1", WhiteEval(mate=6))), False,
         MoveLabel.BEST),
        ("a mate where the rest only keeps +3", QUIET_FEN,
         _lines(("d1d6", WhiteEval(mate=3)), ("d1e1", cp(300))), False, MoveLabel.ONLY),
    ],
)
def test_label_move(name: str, fen: str, lines: tuple[EngineLine, ...], recapture: bool,
                    label: MoveLabel | None) -> None:
    board = chess.Board(fen)
    got = labels.label_move(board, chess.Move.from_uci("d1d6"), lines,
                            chances=analysis.winning_chances, recapture=recapture)
    assert got is label, name


def test_a_forced_move_is_best_not_only() -> None:
    board = chess.Board("7k/8/8/8/8/8/6q1/7K w - - 0 1")  # in check: only Kxg2
    assert board.legal_moves.count() == 1
    move = next(iter(board.legal_moves))
    lines = (EngineLine(cp(-2000), (move,)), EngineLine(cp(-2000), (move,)))
    assert labels.label_move(board, move, lines,
                             chances=analysis.winning_chances) is MoveLabel.BEST


def test_thresholds_are_one_table_with_sources() -> None:
    names = [t.name for t in labels.THRESHOLDS]
    assert names == ["only_move_margin", "brilliant_min_sacrifice", "min_engine_lines"]
    assert all(len(t.source) > 40 for t in labels.THRESHOLDS)
    assert analysis.JUDGEMENT_THRESHOLDS[0][0] == labels.ONLY_MOVE_MARGIN  # the blunder step


# --- Forced mates of different length (lila #18262, #15616) -----------------------------

def _one_move(fen: str, uci: str, before: tuple[EngineLine, ...],
              after: WhiteEval) -> analysis.PlyAnalysis:
    """Black waits (Kh8), then White plays ``uci``: ply 2, judged from ``before``'s eval."""
    game = chess.pgn.Game()
    game.setup(fen)
    wait = chess.Move.from_uci("g8h8")
    game.add_main_variation(wait).add_main_variation(chess.Move.from_uci(uci))
    boards = analysis.main_line_boards(game)
    positions = [PositionEval(boards[0].fen(), (EngineLine(before[0].eval, (wait,)),),
                              ENGINE, LIMIT),
                 PositionEval(boards[1].fen(), before, ENGINE, LIMIT),
                 PositionEval(boards[2].fen(), (EngineLine(after, ()),), ENGINE, LIMIT)]
    return analysis.build_game_analysis(game, positions, multipv=len(before)).plies[1]


# A rook ending White wins by force; White's move is not the engine's first choice.
MATING_FEN = "6k1/5ppp/8/8/8/8/5PPP/3RR1K1 b - - 0 1"


def test_a_slower_forced_mate_is_not_judged_as_lichess_does() -> None:
    # lila MateAdvice: Mate(+2) -> Mate(+5) is MateDelayed, which carries no judgement.
    ply = _one_move(MATING_FEN, "e1e2", _lines(("d1d8", WhiteEval(mate=2))),
                    WhiteEval(mate=5))
    assert ply.judgement is None and ply.label is None


def test_a_lost_mate_is_judged_as_lichess_does() -> None:
    # lila: Mate(+6) -> +2.50 is MateLost, a blunder (the mover's cp is under 700)
    ply = _one_move(MATING_FEN, "e1e2", _lines(("d1d8", WhiteEval(mate=6))), cp(250))
    assert ply.judgement is Judgement.BLUNDER
    assert ply.verdict.mate_sequence is MateSequence.LOST


def test_a_mate_the_search_after_missed_is_not_a_lost_mate() -> None:
    # lila #18262: the played move still mates (its own multipv line says mate in 7),
    # but the search after it ran out of nodes before seeing it again.
    ply = _one_move(MATING_FEN, "e1e2",
                    _lines(("d1d8", WhiteEval(mate=6)), ("e1e2", WhiteEval(mate=7))), cp(250))
    assert ply.judgement is None and ply.label is None
    data = ply.to_json()
    assert data["alternatives"] == [{"uci": "e1e2", "eval": {"cp": None, "mate": 7}}]


# --- Labels in the report and the export --------------------------------------------------

GAME = "1. e4 e5 2. Nf3 Nc6 *"


def _analysed(multipv: int) -> tuple[chess.pgn.Game, analysis.GameAnalysis]:
    game = games.read_game(GAME)
    boards = analysis.main_line_boards(game)
    moves = list(game.mainline_moves())
    positions = []
    for i, board in enumerate(boards):
        if i < len(moves):
            other = next(m for m in board.legal_moves if m != moves[i])
            # the played move is the engine's first choice; the second loses a lot
            lines = ((EngineLine(cp(20), (moves[i],)), EngineLine(cp(-400 if i % 2 == 0
                                                                   else 400), (other,)))
                     [:multipv])
        else:
            lines = (EngineLine(cp(20), ()),)
        positions.append(PositionEval(board.fen(), lines, ENGINE, LIMIT))
    return game, analysis.build_game_analysis(game, positions, multipv=multipv)


def test_labels_need_two_lines_for_only_moves_and_round_trip() -> None:
    _, single = _analysed(1)
    assert [p.label for p in single.plies] == [MoveLabel.BEST] * 4
    _, double = _analysed(2)
    assert [p.label for p in double.plies] == [MoveLabel.ONLY] * 4
    data = double.to_json()
    assert [p["label"] for p in data["plies"]] == ["only"] * 4
    assert analysis.GameAnalysis.from_json(data).to_json() == data


def test_label_nags_only_when_asked_and_after_the_users() -> None:
    game, result = _analysed(2)
    assert "$1" not in export.export_pgn(game, result)
    game.next().nags.add(chess.pgn.NAG_SPECULATIVE_MOVE)  # type: ignore[union-attr]
    text = export.export_pgn(game, result, export.ExportOptions(label_nags=True))
    assert "1. e4 $5 $1 " in text
    back = chess.pgn.read_game(io.StringIO(text))
    assert back is not None and back.next().nags == {1, 5}  # type: ignore[union-attr]
