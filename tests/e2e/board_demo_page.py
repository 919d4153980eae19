"""A tiny Streamlit page around the board element, for its Chromium tests and benchmark.

    streamlit run tests/e2e/board_demo_page.py     (?game=promotion for a pawn about to queen)

It mounts the element on a PGN with variations and comments, shows the reported
path and the events as plain text, and applies the events to the game with
:func:`chessapp.tree_ops.apply_event`, as a page would.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import chess  # noqa: E402
import chess.pgn  # noqa: E402
import streamlit as st  # noqa: E402

from chessapp.errors import ChessAppError  # noqa: E402
from chessapp.shapes import Brush, Shape  # noqa: E402
from chessapp.tree_ops import apply_event, read_pgn  # noqa: E402
from chessapp.ui.board_element import board_element  # noqa: E402
from chessapp.view.board import BoardEvent, Path as NodePath, path_key, tree_payload  # noqa: E402

GAMES = {
    "main": """[Event "Board demo"]
[White "Lev"]
[Black "Regular"]

{The café game's opening, with side lines.} 1. e4 {The king's pawn.} e6 2. d4 d5
3. exd5 (3. e5 c5 4. c3 {The advance.}) (3. Nc3 Nf6) 3... exd5 4. Nc3 Nf6 $5 5. Bg5
Qe7+ $6 6. Be2 c6 7. Nf3 Bg4 8. O-O Nbd7 9. h3 Bf5 10. Re1 g6 $2 11. Nxd5 $1 Qxe2
12. Rxe2+ 1-0
""",
    "promotion": """[FEN "8/P6k/8/8/8/8/6pK/8 w - - 0 1"]
[SetUp "1"]

1. a8=Q g1=Q+ *
""",
}

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
        st.session_state.demo_events.append(f"rejected {event!r}: {exc}")
        return
    st.session_state.demo_events.append(f"{type(event).__name__} {path_key(event.path)}"
                                         f" -> {path_key(outcome.path)}")
    if outcome.pgn is not None:
        st.session_state.demo_copied = outcome.pgn
    st.session_state.demo_cursor = outcome.path
    st.session_state.demo_seq += 1


st.title("Board demo")
# A story arrow on the main line's 11.Nxd5 and an engine best move at the start.
story = {(0,) * 20: [Shape(chess.F3, chess.D4, Brush.YELLOW)]}
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
    st.text(str(game.accept(chess.pgn.StringExporter(headers=False))))
st.text_input("A text box (keys typed here must not step the board)", key="demo-input")
