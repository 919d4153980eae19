"""The click-click board: a Streamlit components-v2 component over the python-chess SVG.

Click a piece, then a square, to play a move. The board picture is the same
``chess.svg.board`` SVG as everywhere else, shown as an ``<img>`` with a data
URI; the component lays a transparent 8x8 grid of buttons over it and reports
the move (``{"uci": "e2e4", "fen": ...}``) to Python as a trigger value. The
legal destinations of each square come from python-chess, so the JavaScript
knows no chess rules and only highlights what Python allowed.

No CDN and no build step: the JavaScript and CSS are inline strings below.
Nothing here puts text into HTML: the JavaScript creates elements and sets
attributes and ``src`` only (never ``innerHTML``), and the only text on the
board is what python-chess draws itself.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from typing import Any

import chess
import chess.svg
import streamlit as st

from chessapp.tree import legal_moves_by_square
from chessapp.view.svg import board_svg

log = logging.getLogger(__name__)

#: chess.svg.board geometry (python-chess 1.11, coordinates on, borders off):
#: a 15-unit coordinate margin around 8 squares of 45 units.
_SVG_MARGIN = 15
_SVG_FULL = 2 * _SVG_MARGIN + 8 * 45

_JS = r"""
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return;
  let root = parentElement.querySelector(".xb");
  if (!root) {
    root = document.createElement("div");
    root.className = "xb";
    parentElement.appendChild(root);
  }
  root.replaceChildren();
  root.style.width = data.size + "px";
  root.style.height = data.size + "px";
  root.dataset.fen = data.fen;
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", data.label);

  const img = document.createElement("img");
  img.className = "xb-img";
  img.src = data.img;
  img.alt = data.label;
  img.draggable = false;
  root.appendChild(img);

  const grid = document.createElement("div");
  grid.className = "xb-grid";
  const inset = (data.inset * 100) + "%";
  grid.style.top = inset; grid.style.left = inset;
  grid.style.right = inset; grid.style.bottom = inset;
  root.appendChild(grid);

  const legal = data.legal || {};
  const has = (square) => Object.prototype.hasOwnProperty.call(legal, square);
  const files = "abcdefgh";
  const cells = new Map();
  for (let row = 0; row < 8; row++) {
    for (let col = 0; col < 8; col++) {
      const file = data.flipped ? 7 - col : col;
      const rank = data.flipped ? row : 7 - row;
      const name = files[file] + String(rank + 1);
      const cell = document.createElement("button");
      cell.type = "button";
      cell.className = "xb-sq";
      cell.dataset.square = name;
      cell.setAttribute("aria-label", name);
      grid.appendChild(cell);
      cells.set(name, cell);
    }
  }

  let selected = null;
  const paint = () => {
    const targets = selected === null ? [] : legal[selected];
    for (const [name, cell] of cells) {
      cell.classList.toggle("xb-selected", name === selected);
      cell.classList.toggle("xb-target", targets.includes(name));
      cell.classList.toggle("xb-movable", has(name));
    }
    root.dataset.selected = selected === null ? "" : selected;
  };

  grid.addEventListener("click", (event) => {
    const cell = event.target.closest("[data-square]");
    if (!cell) return;
    const square = cell.dataset.square;
    if (selected !== null && legal[selected].includes(square)) {
      const uci = selected + square;
      selected = null;
      paint();
      root.dataset.sent = uci;
      setTriggerValue("move", { uci: uci, fen: data.fen });
      return;
    }
    selected = square !== selected && has(square) ? square : null;
    paint();
  });
  paint();
}
"""

_CSS = """
.xb { position: relative; user-select: none; -webkit-user-select: none; }
.xb-img { display: block; width: 100%; height: 100%; }
.xb-grid {
  position: absolute;
  display: grid;
  grid-template-columns: repeat(8, 1fr);
  grid-template-rows: repeat(8, 1fr);
}
.xb-sq { background: transparent; border: 0; margin: 0; padding: 0; cursor: default; }
.xb-sq:focus-visible { outline: 2px solid #15781B; outline-offset: -2px; }
.xb-movable { cursor: pointer; }
.xb-selected { background: rgba(20, 85, 30, 0.5); }
.xb-target {
  cursor: pointer;
  background: radial-gradient(rgba(20, 85, 30, 0.55) 19%, rgba(0, 0, 0, 0) 20%);
}
.xb-target.xb-movable {
  background: radial-gradient(transparent 0%, transparent 79%, rgba(20, 85, 30, 0.4) 80%);
}
"""

_component = st.components.v2.component("chessapp_explore_board", css=_CSS, js=_JS)

def board_data(
    fen: str, *, lastmove: str | None = None, lines: Sequence[chess.Move] = (),
    flipped: bool = False, size: int = 440, label: str = "Board",
) -> dict[str, Any]:
    """What the component's JavaScript receives (JSON): the picture, the geometry, the moves."""
    board = chess.Board(fen)
    svg = board_svg(fen, lastmove=lastmove, check=board.king(board.turn) if board.is_check()
                    else None, lines=lines, flipped=flipped, size=size)
    return {
        "img": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii"),
        "fen": fen,
        "flipped": flipped,
        "legal": legal_moves_by_square(board),
        "inset": _SVG_MARGIN / _SVG_FULL,
        "size": size,
        "label": label,
    }


def clicked_move(value: Any, fen: str) -> str | None:
    """The UCI move in a trigger payload, if it was made on the board showing ``fen``.

    A click that raced a position change (another tab, a fragment rerun) is dropped.
    """
    if not isinstance(value, dict):
        return None
    uci, shown = value.get("uci"), value.get("fen")
    if not isinstance(uci, str) or shown != fen or not 4 <= len(uci) <= 5:
        return None
    return uci


def explore_board(
    fen: str,
    *,
    key: str,
    on_move: Callable[[str], None],
    lastmove: str | None = None,
    lines: Sequence[chess.Move] = (),
    flipped: bool = False,
    size: int = 440,
    label: str = "Board",
) -> None:
    """Draw the board; a click-click move calls ``on_move(uci)`` before the rerun."""
    data = board_data(fen, lastmove=lastmove, lines=lines, flipped=flipped, size=size,
                      label=label)

    def changed() -> None:
        state = st.session_state.get(key)
        uci = clicked_move(None if state is None else state.get("move"), fen)
        if uci is not None:
            on_move(uci)

    _component(key=key, data=data, on_move_change=changed, width="content", height="content")
