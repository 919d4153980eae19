"""A tiny Streamlit page around the board element, for its Chromium tests and benchmark.

    streamlit run tests/e2e/board_demo_page.py     (?game=promotion for a pawn about to queen)

It mounts the element on a PGN with variations and comments, shows the reported
path and the events as plain text, and applies the events to the game with
:func:`chessapp.view.board_edits.apply_event`, as a page would.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import chess
import chess.pgn
import streamlit as st

from chessapp.errors import ChessAppError
from chessapp.shapes import Brush, Shape
from chessapp.ui.board_element import board_element
from chessapp.view.board import BoardEvent, path_key, tree_payload
from chessapp.view.board import Path as NodePath
from chessapp.view.board_edits import apply_event, read_pgn
from tests.e2e.board_demo_games import GAMES

st.set_page_config(page_title="Board demo", layout="wide")
choice = st.query_params.get("game", "main")
if st.session_state.get("demo_game_name") != choice:
    st.session_state.demo_game_name = choice
    st.session_state.demo_game = read_pgn(GAMES.get(choice, GAMES["main"]))
    st.session_state.demo_cursor = ()
    st.session_state.demo_seq = 0
    st.session_state.demo_events = []
    st.session_state.demo_path = ()
    st.session_state.demo_copied = None
game: chess.pgn.Game = st.session_state.demo_game


def on_path(path: NodePath) -> None:
    st.session_state.demo_path = path


def on_event(event: BoardEvent) -> None:
    try:
        outcome = apply_event(game, event)
    except ChessAppError as exc:
        st.session_state.demo_events.append(f"rejected {event!r}: {exc};")
        st.session_state.demo_cursor = event.path  # put the board back where it was
        st.session_state.demo_seq += 1
        return
    number = len(st.session_state.demo_events) + 1
    st.session_state.demo_events.append(f"#{number} {type(event).__name__} "
                                         f"{path_key(event.path)} -> {path_key(outcome.path)};")
    if outcome.pgn is not None:
        st.session_state.demo_copied = outcome.pgn
    st.session_state.demo_cursor = outcome.path
    st.session_state.demo_seq += 1


st.title("Board demo")
# A story arrow on the main line's 11.Nxd5 and an engine best move at the start.
story: dict[NodePath, list[Shape]] = {(0,) * 20: [Shape(chess.F3, chess.D4, Brush.YELLOW)]}
tree = tree_payload(game, auto_shapes=story, best_moves={(): "e2e4", (0,) * 20: "c3d5"})
report = board_element(
    tree, key="demo-board", on_path=on_path, on_event=on_event,
    cursor=st.session_state.demo_cursor, cursor_seq=st.session_state.demo_seq,
    movable=True, drawable=True, autoplay=st.query_params.get("autoplay") == "1",
    autoplay_ms=400, copied_pgn=st.session_state.demo_copied,
    copied_seq=st.session_state.demo_seq, label="Demo board",
)
with st.container(key="demo-path"):
    st.text(f"path: {path_key(st.session_state.demo_path)}")
with st.container(key="demo-events"):
    st.text("events: " + " | ".join(st.session_state.demo_events))
with st.container(key="demo-pgn"):
    st.text(str(game.accept(chess.pgn.StringExporter(headers=False, columns=None))))
st.text_input("A text box (keys typed here must not step the board)", key="demo-input")
