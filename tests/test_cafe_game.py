"""The reconstructed 1913 café game is real chess and true to every beat the narrator describes.

The beats (issue 3) as precise predicates, checked on the moves of the
*shipped* file ``games/cafe-1913.pgn`` (plain or annotated, both read the
same). Definitions used here:

* "nearer the centre": Chebyshev (king-move) distance to the nearest of
  d4, e4, d5, e5 strictly decreases;
* "the c3–f6 block": files c..f and ranks 3..6;
* material: the 1/3/3/5/9 count, Lev's side minus the opponent's;
* "looks dangerous" (B3): Lev is behind in material, and the opponent attacks
  at least two squares of Lev's king zone (king square and neighbours) or at
  least one of Lev's pieces hangs (attacked, undefended).

These predicates are written out here on purpose, independently of
``chessapp.story``'s claims, so the two check each other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import chess
import chess.engine
import chess.pgn
import pytest

from chessapp import story
from chessapp.analysis import GameAnalysis, Judgement, analyse_game
from chessapp.engine import EngineConfig, EnginePool
from chessapp.evals import SearchLimit
from chessapp.export import read_evals

GAMES = Path(__file__).resolve().parent.parent / "games"
SHIPPED = GAMES / "cafe-1913.pgn"
SOURCE = GAMES / "cafe-1913.source.pgn"
LEV = "Bronstein, Lev (Leon Trotsky)"
VALUES = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9,
          chess.KING: 0}

#: The game as reconstructed (docs: the closing note of issue 3).
EXPECTED_SAN = [
    "e4", "e6", "d4", "d5", "exd5", "exd5", "Nc3", "Nf6", "Bg5", "Qe7+", "Be2", "c6",
    "Nf3", "Bg4", "O-O", "Nbd7", "h3", "Bf5", "Re1", "g6", "Nxd5", "Qxe2", "Rxe2+",
]
B1_PLY, B2_PLY, B4_PLY = 21, 22, 23


def _read(path: Path) -> chess.pgn.Game:
    with path.open(encoding="utf-8") as handle:
        game = chess.pgn.read_game(handle)
    assert game is not None, f"{path} holds no game"
    assert not game.errors, f"{path}: {game.errors}"
    return game


@pytest.fixture(scope="module")
def game() -> chess.pgn.Game:
    return _read(SHIPPED)


@pytest.fixture(scope="module")
def boards(game: chess.pgn.Game) -> list[chess.Board]:
    """boards[n] = the position at ply n (after n half-moves)."""
    board = game.board()
    out = [board.copy()]
    for move in game.mainline_moves():
        assert board.is_legal(move)
        board.push(move)
        out.append(board.copy())
    return out


@pytest.fixture(scope="module")
def lev(game: chess.pgn.Game) -> chess.Color:
    if game.headers["White"] == LEV:
        return chess.WHITE
    assert game.headers["Black"] == LEV
    return chess.BLACK


def move_at(boards: list[chess.Board], ply: int) -> chess.Move:
    return boards[ply].peek()


def centre_distance(square: chess.Square) -> int:
    f, r = chess.square_file(square), chess.square_rank(square)
    return max(max(0, 3 - f, f - 4), max(0, 3 - r, r - 4))


def in_block(square: chess.Square) -> bool:
    return 2 <= chess.square_file(square) <= 5 and 2 <= chess.square_rank(square) <= 5


def balance(board: chess.Board, color: chess.Color) -> int:
    return sum(VALUES[p.piece_type] * (1 if p.color == color else -1)
               for p in board.piece_map().values())


# --- The game itself -------------------------------------------------------------------


def test_the_shipped_moves_are_the_reconstruction(game: chess.pgn.Game) -> None:
    board = game.board()
    sans = []
    for move in game.mainline_moves():
        sans.append(board.san(move))
        board.push(move)
    assert sans == EXPECTED_SAN


def test_shipped_and_source_files_hold_the_same_moves() -> None:
    assert list(_read(SHIPPED).mainline_moves()) == list(_read(SOURCE).mainline_moves())


@pytest.mark.parametrize(("tag", "expected"), [
    ("Date", "1913.01.??"),
    ("Round", "-"),
    ("White", LEV),
    ("Black", "Café regular"),
    ("Result", "1-0"),
])
def test_tags(game: chess.pgn.Game, tag: str, expected: str) -> None:
    assert game.headers[tag] == expected


def test_tags_place_it_in_vienna_and_say_it_is_a_reconstruction(game: chess.pgn.Game) -> None:
    assert "Vienna" in game.headers["Site"]
    assert game.headers["Event"]
    note = game.headers.get("Comment", "") + game.headers.get("Annotator", "")
    assert "reconstruction" in note and "not a historical record" in note


def test_length_is_12_to_30_moves(boards: list[chess.Board]) -> None:
    plies = len(boards) - 1
    assert 12 <= (plies + 1) // 2 <= 30


def test_opening_is_a_french_exchange(boards: list[chess.Board]) -> None:
    # 1.e4 e6 2.d4 d5 3.exd5 exd5: a French Defence, played since the 1830s.
    assert boards[6].board_fen() == "rnbqkbnr/ppp2ppp/8/3p4/3P4/8/PPP2PPP/RNBQKBNR"


# --- The beats ---------------------------------------------------------------------------


def test_b1_knight_takes_a_pawn_toward_the_centre_and_attacks_the_queen(
        boards: list[chess.Board], lev: chess.Color) -> None:
    before, after = boards[B1_PLY - 1], boards[B1_PLY]
    move = move_at(boards, B1_PLY)
    assert before.turn == lev
    assert before.piece_type_at(move.from_square) == chess.KNIGHT
    assert before.piece_at(move.to_square) == chess.Piece(chess.PAWN, not lev)
    assert centre_distance(move.to_square) < centre_distance(move.from_square)
    assert in_block(move.to_square)
    queen = after.pieces(chess.QUEEN, not lev)
    assert queen & after.attacks(move.to_square)
    assert (chess.square_name(move.from_square), chess.square_name(move.to_square)) == ("c3", "d5")


def test_b2_queen_takes_a_bishop_out_of_the_knights_reach(
        boards: list[chess.Board], lev: chess.Color) -> None:
    before, after = boards[B2_PLY - 1], boards[B2_PLY]
    move = move_at(boards, B2_PLY)
    knight = move_at(boards, B1_PLY).to_square
    assert before.turn == (not lev)
    assert before.piece_type_at(move.from_square) == chess.QUEEN
    assert before.piece_at(move.to_square) == chess.Piece(chess.BISHOP, lev)
    assert after.piece_at(knight) == chess.Piece(chess.KNIGHT, lev)
    assert move.to_square not in after.attacks(knight)


def test_b3_lev_is_worse_off_than_before_b1_and_looks_in_danger(
        boards: list[chess.Board], lev: chess.Color) -> None:
    before_b1, after_b2 = boards[B1_PLY - 1], boards[B2_PLY]
    assert balance(after_b2, lev) < balance(before_b1, lev)
    assert (balance(before_b1, lev), balance(after_b2, lev)) == (0, -2)
    king = after_b2.king(lev)
    assert king is not None
    zone = chess.SquareSet(chess.BB_KING_ATTACKS[king] | chess.BB_SQUARES[king])
    hit = [sq for sq in zone if after_b2.is_attacked_by(not lev, sq)]
    hanging = [sq for sq, p in after_b2.piece_map().items()
               if p.color == lev and p.piece_type not in (chess.PAWN, chess.KING)
               and after_b2.is_attacked_by(not lev, sq) and not after_b2.is_attacked_by(lev, sq)]
    assert balance(after_b2, lev) < 0 and (len(hit) >= 2 or hanging)
    assert [chess.square_name(s) for s in hit] == ["f1", "f2"]


def test_b4_lev_answers_with_a_rook_move_that_gives_check(
        boards: list[chess.Board], lev: chess.Color) -> None:
    before, after = boards[B4_PLY - 1], boards[B4_PLY]
    move = move_at(boards, B4_PLY)
    assert before.turn == lev
    assert before.piece_type_at(move.from_square) == chess.ROOK
    assert not before.is_castling(move)
    assert after.is_check()
    assert after.checkers() == chess.SquareSet([move.to_square])


def test_b5_the_game_ends_with_the_check_and_lev_wins(
        game: chess.pgn.Game, boards: list[chess.Board], lev: chess.Color) -> None:
    assert len(boards) - 1 == B4_PLY  # no move after the rook check
    final = boards[-1]
    assert not final.is_game_over()  # not mate: the regular resigns
    assert game.headers["Result"] == ("1-0" if lev == chess.WHITE else "0-1")


@pytest.mark.engine
def test_b5_stockfish_at_depth_20_rates_the_final_position_decisive_for_lev(
        stockfish_path: str, boards: list[chess.Board], lev: chess.Color) -> None:
    engine = chess.engine.SimpleEngine.popen_uci(stockfish_path)
    try:
        engine.configure({"Threads": 1, "Hash": 16})
        info = engine.analyse(boards[-1], chess.engine.Limit(depth=20, time=60))
    finally:
        engine.quit()
    assert info.get("depth", 0) >= 20
    score = info["score"].pov(lev)
    decisive = (score.mate() or 0) > 0 if score.is_mate() else (score.score() or 0) >= 500
    assert decisive, score


# --- The shipped analysis ------------------------------------------------------------------


def _shipped_report() -> dict[str, Any]:
    report: dict[str, Any] = json.loads((GAMES / "cafe-1913.analysis.json")
                                        .read_text(encoding="utf-8"))
    return report


def test_shipped_pgn_records_how_it_was_analysed(game: chess.pgn.Game) -> None:
    assert game.headers["AnalysisEngine"].startswith("Stockfish")
    assert game.headers["AnalysisLimit"] == "nodes=200000"
    assert "threads=1" in game.headers["AnalysisSettings"]


def test_shipped_pgn_evals_match_the_shipped_report(game: chess.pgn.Game) -> None:
    analysis = GameAnalysis.from_json(_shipped_report()["games"][0])
    in_pgn = read_evals(game)
    assert in_pgn == [p.eval for p in analysis.plies]


#: The moves the story hangs on: Black's 20... g6 and 22... Qxe2, each at least a
#: mistake by any sound engine (Stockfish 15.1 at 200k nodes calls both blunders,
#: Stockfish 19 at 50k calls 22... Qxe2 a mistake).
DECISIVE_ERRORS = (20, 22)


@pytest.mark.engine
def test_a_rerun_with_the_recorded_settings_reproduces_the_shipped_evals(
        stockfish_path: str, game: chess.pgn.Game, capsys: pytest.CaptureFixture[str]) -> None:
    """Exact reproduction where the installed engine is the recorded one, else what any holds.

    The shipped analysis was made by Stockfish 15.1 (Debian 12). Another build
    (Debian 13's 17, Ubuntu 24.04's 16, the npm package's 19) gives other
    numbers, so there the test checks the engine-independent truths instead:
    Black's two decisive moves are errors, White never blunders, the final
    position is decisive for Lev, and every claim of the story holds. The
    output says which check ran.
    """
    report = _shipped_report()["games"][0]
    shipped = GameAnalysis.from_json(report)
    limit = SearchLimit.parse(game.headers["AnalysisLimit"])
    config = EngineConfig(path=stockfish_path, workers=1, threads=shipped.engine.threads,
                          hash_mb=shipped.engine.hash_mb)
    with EnginePool(config) as pool:
        installed = pool.identity.name
        exact = installed == shipped.engine.name
        # the exact check needs the recorded budget; the other only the story's truths
        fresh = analyse_game(game, pool, limit if exact else SearchLimit(nodes=50_000),
                             multipv=shipped.multipv)
    with capsys.disabled():
        print(f"\ncafé re-run: {'exact reproduction' if exact else 'engine-independent checks'}"
              f" ({installed}; shipped with {shipped.engine.name})")
    if exact:
        assert fresh.initial.eval == shipped.initial.eval
        assert [p.eval for p in fresh.plies] == [p.eval for p in shipped.plies]
        assert [p.best for p in fresh.plies] == [p.best for p in shipped.plies]
        return
    judged = {p.ply: p.judgement for p in fresh.plies}
    for ply in DECISIVE_ERRORS:
        assert judged[ply] in (Judgement.MISTAKE, Judgement.BLUNDER), (ply, judged[ply])
    assert all(p.judgement is not Judgement.BLUNDER for p in fresh.plies
               if p.mover == chess.WHITE)
    final = fresh.plies[-1].eval
    assert (final.mate or 0) > 0 or (final.cp or 0) >= 300, final
    track = story.load_track(GAMES / "cafe-1913.story.toml")
    failing = [(r.segment_id, r.claim, r.explanation)
               for r in story.check_track(track, game, fresh) if r.holds is not True]
    assert failing == []
