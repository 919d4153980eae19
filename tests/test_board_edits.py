"""Tree edits for the board element's events: exact trees and cursor paths after each."""

from __future__ import annotations

import chess
import chess.pgn
import pytest

from chessapp.errors import BadInput
from chessapp.shapes import Brush, Shape
from chessapp.view.board import MoveEvent, NodeAction, NodeMenuEvent, ShapesEvent
from chessapp.view.board_edits import (
    EventOutcome,
    add_move,
    apply_event,
    delete,
    make_main_line,
    node_at,
    pgn_from,
    promote,
    read_pgn,
)

PGN = "1. e4 e5 (1... c5 2. Nf3 (2. c3) d6) (1... e6) 2. Nf3 *"


def moves(game: chess.pgn.Game) -> str:
    return str(game.accept(chess.pgn.StringExporter(headers=False, comments=True)))


@pytest.fixture
def game() -> chess.pgn.Game:
    return read_pgn(PGN)


def test_node_at(game: chess.pgn.Game) -> None:
    c3 = node_at(game, (0, 1, 1))
    assert isinstance(c3, chess.pgn.ChildNode) and c3.san() == "c3"
    with pytest.raises(BadInput, match=r"no node at path \[0, 5\] \(step 2\)"):
        node_at(game, (0, 5))


def test_add_move_appends_a_variation_or_reuses_the_child(game: chess.pgn.Game) -> None:
    assert add_move(game, (0,), chess.Move.from_uci("c7c5")) == (0, 1)
    assert add_move(game, (0,), chess.Move.from_uci("d7d5")) == (0, 3)
    assert moves(game) == "1. e4 e5 ( 1... c5 2. Nf3 ( 2. c3 ) 2... d6 ) ( 1... e6 ) " \
                          "( 1... d5 ) 2. Nf3 *"
    with pytest.raises(BadInput, match="illegal move e2e4"):
        add_move(game, (0,), chess.Move.from_uci("e2e4"))


def test_promote_moves_the_nearest_side_line_up(game: chess.pgn.Game) -> None:
    assert promote(game, (0, 2)) == (0, 1)
    assert moves(game) == "1. e4 e5 ( 1... e6 ) ( 1... c5 2. Nf3 ( 2. c3 ) 2... d6 ) 2. Nf3 *"
    # From deep inside a line: the line itself (its first step off the main line) goes up.
    assert promote(game, (0, 2, 0, 0)) == (0, 1, 0, 0)
    assert promote(game, (0, 1, 0, 0)) == (0, 0, 0, 0)
    assert moves(game) == "1. e4 c5 ( 1... e5 2. Nf3 ) ( 1... e6 ) 2. Nf3 ( 2. c3 ) 2... d6 *"
    assert promote(game, (0, 0, 0, 0)) == (0, 0, 0, 0)  # already the main line


def test_make_main_line_goes_all_the_way_up(game: chess.pgn.Game) -> None:
    assert make_main_line(game, (0, 1, 1)) == (0, 0, 0)
    assert moves(game) == "1. e4 c5 ( 1... e5 2. Nf3 ) ( 1... e6 ) 2. c3 ( 2. Nf3 d6 ) *"


def test_delete_returns_the_parent(game: chess.pgn.Game) -> None:
    assert delete(game, (0, 1)) == (0,)
    assert moves(game) == "1. e4 e5 ( 1... e6 ) 2. Nf3 *"
    with pytest.raises(BadInput, match="start position cannot be deleted"):
        delete(game, ())


def test_pgn_from_keeps_the_line_and_what_follows(game: chess.pgn.Game) -> None:
    game.headers["White"] = "Lev"
    text = pgn_from(game, (0, 1, 0))
    assert '[White "Lev"]' in text
    assert text.endswith("\n\n1. e4 c5 2. Nf3 d6 *")  # c3 is Nf3's sibling, not after it
    assert pgn_from(game, (0, 1)).endswith("\n\n1. e4 c5 2. Nf3 ( 2. c3 ) 2... d6 *")


def test_apply_event_move_shapes_and_menu(game: chess.pgn.Game) -> None:
    assert apply_event(game, MoveEvent((0, 0), "b1", "c3", None)) == EventOutcome((0, 0, 1), True)
    assert apply_event(game, MoveEvent((0, 0), "g1", "f3", None)) == EventOutcome((0, 0, 0), False)
    shapes = (Shape(chess.E2, chess.E4, Brush.BLUE), Shape(chess.D5, None, Brush.RED))
    assert apply_event(game, ShapesEvent((0,), shapes)) == EventOutcome((0,), True)
    assert node_at(game, (0,)).comment == "[%csl Rd5][%cal Be2e4]"
    assert apply_event(game, NodeMenuEvent((0, 0, 1), NodeAction.MAKE_MAIN)).path == (0, 0, 0)
    assert apply_event(game, NodeMenuEvent((0, 0, 1), NodeAction.DELETE)).path == (0, 0)
    outcome = apply_event(game, NodeMenuEvent((0, 0), NodeAction.COPY_PGN))
    assert (outcome.changed, outcome.pgn is not None) == (False, True)
    assert outcome.pgn is not None
    assert outcome.pgn.endswith("\n\n1. e4 { [%csl Rd5][%cal Be2e4] } 1... e5 2. Nc3 *")
    with pytest.raises(BadInput, match="no legal move e2e4"):
        apply_event(game, MoveEvent((0,), "e2", "e4", None))


def test_under_promotion_becomes_a_variation() -> None:
    game = read_pgn('[FEN "8/P6k/8/8/8/8/8/K7 w - - 0 1"]\n[SetUp "1"]\n\n1. a8=Q *')
    outcome = apply_event(game, MoveEvent((), "a7", "a8", chess.KNIGHT))
    assert outcome == EventOutcome((1,), True)
    assert moves(game) == "1. a8=Q ( 1. a8=N ) *"
