"""The board element's data: the tree payload, the move list model and the events."""

from __future__ import annotations

import chess
import chess.pgn
import pytest

from chessapp.errors import BadInput
from chessapp.shapes import Brush, Shape
from chessapp.view.board import (
    MainRow,
    MoveCell,
    MoveEvent,
    NodeAction,
    NodeMenuEvent,
    ShapesEvent,
    chessground_dests,
    clock_label,
    comment_text,
    glyphs,
    main_line_path,
    move_list,
    move_list_text,
    node_path,
    parse_board_event,
    parse_path_key,
    path_key,
    resolve_move,
    tree_payload,
)
from chessapp.view.board_edits import read_pgn

PGN = """[Event "Test"]

{Before the first move} 1. e4 {[%clk 0:03:00] The king's pawn [%cal Ge2e4,Rd1h5]
[%csl Yd5]} e5 $1 $14 (1... c5 {Sicilian} 2. Nf3 (2. c3 d5) 2... d6) (1... e6) 2. Nf3
Nc6 3. Bb5 a6 $6 4. Ba4 *
"""


@pytest.fixture
def game() -> chess.pgn.Game:
    return read_pgn(PGN)


def test_move_list_is_lichess_column_view(game: chess.pgn.Game) -> None:
    assert move_list_text(move_list(game)) == (
        "  {Before the first move}\n"
        "1. e4 [3:00]\n"
        "  {The king's pawn}\n"
        "1. ... e5!⩲\n"
        "  (1... c5 {Sicilian} 2. Nf3 (2. c3 d5) 2... d6)\n"
        "  (1... e6)\n"
        "2. Nf3 Nc6\n"
        "3. Bb5 a6?!\n"
        "4. Ba4"
    )


def test_move_list_cells_name_their_paths(game: chess.pgn.Game) -> None:
    items = move_list(game)
    rows = [i for i in items if isinstance(i, MainRow)]
    def ply(cell: MoveCell | None) -> int | None:
        return None if cell is None else len(parse_path_key(cell.key))

    assert [(r.number, ply(r.white), ply(r.black)) for r in rows] == [
        (1, 1, None), (1, None, 2), (2, 3, 4), (3, 5, 6), (4, 7, None)]
    assert {c.key for r in rows for c in (r.white, r.black) if c} == {
        path_key(main_line_path(n)) for n in range(1, 8)}
    interruptions = [i.to_json() for i in items if not isinstance(i, MainRow)]
    assert [len(i["variations"]) for i in interruptions] == [0, 0, 2]
    variation = interruptions[2]["variations"][0]
    assert [i.get("key") for i in variation["items"]] == ["0.1", "0.1.0", None, "0.1.0.0"]
    nested = variation["items"][2]
    assert nested["depth"] == 2
    assert [(c["number"], c["san"], c["key"]) for c in nested["items"]] == [
        ("2.", "c3", "0.1.1"), ("", "d5", "0.1.1.0")]


def test_black_first_game_and_a_variation_of_the_first_move() -> None:
    text = ('[FEN "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1"]\n'
            '[SetUp "1"]\n\n1... c5 (1... e5 2. Nf3) 2. Nf3 d6 *')
    assert move_list_text(move_list(read_pgn(text))) == (
        "1. ... c5\n  (1... e5 2. Nf3)\n2. Nf3 d6")


def test_tree_payload_nodes(game: chess.pgn.Game) -> None:
    payload = tree_payload(game, auto_shapes={(0,): [Shape(chess.D5, None, Brush.RED)]},
                           best_moves={(): "e2e4"}, delays_ms={(0,): 2500})
    nodes = payload["nodes"]
    assert len(nodes) == 14
    root = nodes[""]
    assert root["fen"] == chess.STARTING_FEN
    assert (root["ply"], root["san"], root["lastMove"], root["best"], root["delayMs"]) == (
        0, None, None, "e2e4", None)
    assert root["children"] == ["0"]
    assert sorted(root["dests"]["g1"]) == ["f3", "h3"]
    first = nodes["0"]
    assert first == {
        "path": [0], "fen": "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1",
        "turn": "black", "ply": 1, "san": "e4", "uci": "e2e4", "lastMove": ["e2", "e4"],
        "check": None, "number": "1.", "dests": first["dests"],
        "comment": "The king's pawn", "startingComment": "", "nags": [], "glyphs": [],
        "clock": 180.0, "clockLabel": "3:00",
        "shapes": [{"orig": "e2", "dest": "e4", "brush": "green"},
                   {"orig": "d1", "dest": "h5", "brush": "red"},
                   {"orig": "d5", "brush": "yellow"}],
        "autoShapes": [{"orig": "d5", "brush": "red"}], "best": None,
        "children": ["0.0", "0.1", "0.2"], "delayMs": 2500,
    }
    assert nodes["0.0"]["glyphs"] == ["!", "⩲"] and nodes["0.0"]["nags"] == [1, 14]
    assert nodes["0.1"]["number"] == "1..." and nodes["0.1"]["comment"] == "Sicilian"
    assert nodes["0.1.1.0"]["san"] == "d5" and nodes["0.1.1.0"]["ply"] == 4


def test_tree_payload_id_changes_with_the_tree_only(game: chess.pgn.Game) -> None:
    first = tree_payload(game)["id"]
    assert tree_payload(read_pgn(PGN))["id"] == first
    game.end().add_variation(chess.Move.from_uci("g8f6"))
    assert tree_payload(game)["id"] != first


def test_check_square_and_castling_dests() -> None:
    check = read_pgn("1. e4 f5 2. Qh5+ *")
    assert tree_payload(check)["nodes"]["0.0.0"]["check"] == "e8"
    castle = chess.Board("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1")
    assert sorted(chessground_dests(castle)["e1"]) == [
        "a1", "c1", "d1", "d2", "e2", "f1", "f2", "g1", "h1"]
    assert resolve_move(castle, "e1", "h1") == chess.Move.from_uci("e1g1")
    assert resolve_move(castle, "e1", "c1") == chess.Move.from_uci("e1c1")


def test_chess960_castling_is_king_to_rook() -> None:
    board = chess.Board("1r2k1r1/pppppppp/8/8/8/8/PPPPPPPP/1R2K1R1 w GBgb - 0 1",
                        chess960=True)
    assert sorted(chessground_dests(board)["e1"]) == ["b1", "d1", "f1", "g1"]
    assert resolve_move(board, "e1", "g1") == chess.Move.from_uci("e1g1")
    assert board.is_castling(resolve_move(board, "e1", "b1"))


def test_resolve_move_promotions_and_errors() -> None:
    board = chess.Board("8/P6k/8/8/8/8/8/K7 w - - 0 1")
    assert resolve_move(board, "a7", "a8", chess.KNIGHT) == chess.Move.from_uci("a7a8n")
    with pytest.raises(BadInput, match="no legal move a7a8 "):
        resolve_move(board, "a7", "a8")
    with pytest.raises(BadInput, match="no legal move a1a3"):
        resolve_move(board, "a1", "a3")
    with pytest.raises(BadInput, match="not a square"):
        resolve_move(board, "z9", "a3")


@pytest.mark.parametrize(("seconds", "label"), [
    (None, ""), (180.0, "3:00"), (3723.0, "1:02:03"), (9.54, "0:09.5"), (65.0, "1:05"),
    (0.0, "0:00.0"),
])
def test_clock_label(seconds: float | None, label: str) -> None:
    assert clock_label(seconds) == label


def test_glyphs_and_comment_text() -> None:
    assert glyphs({14, 2, 999}) == ("?", "⩲")
    assert glyphs({4, 1}) == ("!", "??")
    assert comment_text("[%eval 0.3] good  [%clk 0:01:00]\nmove") == "good move"


def test_paths() -> None:
    assert path_key(()) == "" and path_key((0, 2, 1)) == "0.2.1"
    assert parse_path_key("0.2.1") == (0, 2, 1) and parse_path_key("") == ()
    for bad in ("a", "0..1", "-1", "1.x", "99999"):
        with pytest.raises(ValueError, match="not a path"):
            parse_path_key(bad)
    assert main_line_path(3) == (0, 0, 0)
    game = read_pgn(PGN)
    assert node_path(game.variations[0].variations[1].variations[1]) == (0, 1, 1)


@pytest.mark.parametrize(("value", "event"), [
    ({"kind": "move", "path": "0", "orig": "e7", "dest": "e5", "promotion": None},
     MoveEvent((0,), "e7", "e5", None)),
    ({"kind": "move", "path": "", "orig": "a7", "dest": "a8", "promotion": "rook"},
     MoveEvent((), "a7", "a8", chess.ROOK)),
    ({"kind": "shapes", "path": "0.1",
      "shapes": [{"orig": "e2", "dest": "e4", "brush": "blue"}, {"orig": "d5", "brush": "red"},
                 {"orig": "d5", "dest": "d5", "brush": "yellow"},
                 {"orig": "zz", "brush": "red"}, {"orig": "a1", "brush": "paleBlue"}]},
     ShapesEvent((0, 1), (Shape(chess.E2, chess.E4, Brush.BLUE), Shape(chess.D5, None, Brush.RED),
                          Shape(chess.D5, None, Brush.YELLOW)))),
    ({"kind": "menu", "path": "0.1", "action": "make_main"},
     NodeMenuEvent((0, 1), NodeAction.MAKE_MAIN)),
])
def test_parse_board_event(value: object, event: object) -> None:
    assert parse_board_event(value) == event


@pytest.mark.parametrize("value", [
    None, "move", {"kind": "move"}, {"kind": "move", "path": "x", "orig": "e2", "dest": "e4"},
    {"kind": "move", "path": "", "orig": "e2", "dest": "e4", "promotion": "king"},
    {"kind": "move", "path": "", "orig": 1, "dest": "e4"},
    {"kind": "menu", "path": "", "action": "explode"},
    {"kind": "shapes", "path": "", "shapes": "e2e4"},
    {"kind": "shapes", "path": "", "shapes": [{}] * 65},
    {"kind": "other", "path": ""},
])
def test_parse_board_event_drops_malformed_values(value: object) -> None:
    assert parse_board_event(value) is None
