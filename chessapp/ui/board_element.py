"""The chessground board element: one components-v2 element for both pages (issue 10).

Python sends the game tree once per game (:func:`chessapp.view.board.tree_payload`);
the browser steps through it with no server round trip and reports back:

* the current node's path, 150 ms after the last step (a *state* value, so it
  survives reruns): :attr:`BoardReport.path`;
* each user action as a *trigger* value, parsed into a
  :data:`chessapp.view.board.BoardEvent`: a new move, the user's own shapes on
  a node, or a node-menu action. :func:`chessapp.view.board_edits.apply_event` applies it.

The JavaScript is vendored chessground (``board/vendor/chessground``, bundled
by ``script/vendor-chessground``) followed by ``board/board_element.js``, handed
to Streamlit as one inline module: inline components-v2 code cannot import
files, and nothing is fetched from a CDN. Mount it with a stable ``key`` so a
new ``data`` payload updates the element instead of re-mounting it
(streamlit#14710).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import chess
import streamlit as st

from chessapp.view.board import BoardEvent, Json, Path, parse_board_event, parse_path_key, path_key

log = logging.getLogger(__name__)

_HERE = FilePath(__file__).resolve().parent / "board"
_VENDOR = _HERE / "vendor" / "chessground"

#: How long after the last step the element reports the path (issue 10: "e.g. 150 ms").
REPORT_DEBOUNCE_MS = 150


def _read(path: FilePath) -> str:
    return path.read_text(encoding="utf-8")


def element_js() -> str:
    """The element's one inline module: chessground's bundle, then the element."""
    return _read(_VENDOR / "chessground.iife.js") + "\n" + _read(_HERE / "board_element.js")


def element_css() -> str:
    """chessground's base, board and piece CSS, then the element's own layout."""
    parts = ["chessground.base.css", "chessground.brown.css", "chessground.cburnett.css"]
    return "\n".join([*(_read(_VENDOR / p) for p in parts), _read(_HERE / "board_element.css")])


# isolate_styles=False: chessground measures and listens on the document (drag,
# right-drag drawing), which is simplest with the board in the page's own DOM;
# every rule of ours is scoped under .c13b and chessground's under .cg-wrap.
_component = st.components.v2.component(
    "chessapp_board", js=element_js(), css=element_css(), isolate_styles=False)


@dataclass(frozen=True, slots=True)
class BoardReport:
    """What the element reported on this run.

    ``path`` is the node the user is on (``None`` before the first report);
    ``event`` the action taken since the last run, if any.
    """

    path: Path | None
    event: BoardEvent | None


def board_data(
    tree: Json,
    *,
    cursor: Path = (),
    cursor_seq: int = 0,
    orientation: chess.Color = chess.WHITE,
    orientation_seq: int = 0,
    movable: bool = False,
    drawable: bool = True,
    autoplay: bool = False,
    autoplay_ms: int = 1500,
    show_best: bool = False,
    show_best_seq: int = 0,
    copied_pgn: str | None = None,
    copied_seq: int = 0,
    label: str = "Board",
    read_aloud: bool = False,
    eval_bar: bool = False,
    live_key: bool = False,
    move_label: bool = False,
    scroll_into_view: bool = False,
) -> Json:
    """The ``data`` the element's JavaScript receives (JSON).

    The browser acts on ``cursor``, ``orientation`` and ``show_best`` only when
    their ``*_seq`` changes, so a rerun that repeats them does not pull the
    user back from where they have stepped to.

    ``read_aloud`` speaks each node's ``speech`` text with the browser's Web
    Speech API (nothing leaves the browser), and autoplay then waits for the
    end of the utterance; ``eval_bar`` draws the nodes' ``bar`` beside the
    board, as tall as it; ``move_label`` shows the current move ("11. Nxd5")
    above the board; ``scroll_into_view`` brings the board into view when this
    run's ``cursor_seq`` is new (a click far down the page). These four are
    sent only when on, so a page that uses none sends what it sent before.
    """
    data: Json = {
        "tree": tree,
        "cursor": {"path": path_key(cursor), "seq": cursor_seq},
        "orientation": "white" if orientation == chess.WHITE else "black",
        "orientationSeq": orientation_seq,
        "movable": movable, "drawable": drawable,
        "autoplay": autoplay, "autoplayMs": autoplay_ms,
        "showBest": show_best, "showBestSeq": show_best_seq,
        "copied": None if copied_pgn is None else {"pgn": copied_pgn, "seq": copied_seq},
        "label": label, "debounceMs": REPORT_DEBOUNCE_MS,
    }
    extras = {"readAloud": read_aloud, "evalBar": eval_bar, "moveLabel": move_label,
              "liveKey": live_key,
              "scrollIntoView": scroll_into_view}
    data.update({name: True for name, on in extras.items() if on})
    return data


def reported_path(value: Any) -> Path | None:
    """The path in the element's ``path`` state, or ``None`` when absent or malformed."""
    if not isinstance(value, str):
        return None
    try:
        return parse_path_key(value)
    except ValueError:
        return None


def board_element(
    tree: Json,
    *,
    key: str,
    on_path: Callable[[Path], None] | None = None,
    on_event: Callable[[BoardEvent], None] | None = None,
    **options: Any,
) -> BoardReport:
    """Mount (or update) the board element under the stable ``key``.

    ``tree`` is :func:`chessapp.view.board.tree_payload` of the game; the
    keyword ``options`` are those of :func:`board_data`. ``on_path`` and
    ``on_event`` run as Streamlit callbacks, before the rerun's script, when
    the element reports a new path or an event.
    """
    data = board_data(tree, **options)

    def path_changed() -> None:
        state = st.session_state.get(key)
        path = reported_path(None if state is None else state.get("path"))
        if path is not None and on_path is not None:
            on_path(path)

    def event_changed() -> None:
        state = st.session_state.get(key)
        event = parse_board_event(None if state is None else state.get("event"))
        if event is not None and on_event is not None:
            on_event(event)

    result = _component(key=key, data=data, default={"path": path_key(options.get("cursor", ()))},
                        on_path_change=path_changed, on_event_change=event_changed,
                        width="stretch", height="content")
    return BoardReport(path=reported_path(result.get("path")),
                       event=parse_board_event(result.get("event")))
