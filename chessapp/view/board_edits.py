"""Edits of a game tree addressed by path, for the board element's events.

The tree is python-chess's own ``chess.pgn.Game`` (house style: no second
tree). Each function changes the game in place and returns the path the
cursor should go to afterwards, as lichess's analysis board does after the
same action (``ui/analyse/src/ctrl.ts``: promote, deleteNode, userJump).

:func:`apply_event` is the one entry point a page needs: it takes a parsed
:data:`chessapp.view.board.BoardEvent` and returns an :class:`EventOutcome`.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import chess
import chess.pgn

from chessapp.errors import BadInput
from chessapp.shapes import Shape
from chessapp.view.board import (
    BRUSH_NAMES,
    BoardEvent,
    MoveEvent,
    NodeAction,
    NodeMenuEvent,
    Path,
    ShapesEvent,
    node_path,
    resolve_move,
)

log = logging.getLogger(__name__)


def node_at(game: chess.pgn.Game, path: Path) -> chess.pgn.GameNode:
    """The node at ``path``. Raises :class:`BadInput` when the path leads nowhere."""
    node: chess.pgn.GameNode = game
    for depth, index in enumerate(path):
        if not 0 <= index < len(node.variations):
            raise BadInput(f"no node at path {list(path)} (step {depth + 1})")
        node = node.variations[index]
    return node


def add_move(game: chess.pgn.Game, path: Path, move: chess.Move) -> Path:
    """Play ``move`` after the node at ``path``; an existing child with it is reused.

    A new move becomes the last variation (lichess appends, it does not
    promote). Raises :class:`BadInput` for an illegal move.
    """
    node = node_at(game, path)
    board = node.board()
    if not board.is_legal(move):
        raise BadInput(f"illegal move {move.uci()} in {board.fen()}")
    for index, child in enumerate(node.variations):
        if child.move == move:
            return (*path, index)
    node.add_variation(move)
    return (*path, len(node.variations) - 1)


def promote(game: chess.pgn.Game, path: Path) -> Path:
    """Move the variation holding ``path`` one place up among its siblings.

    The line that is promoted is the nearest one, counting from ``path``
    towards the root, that is not already its parent's first child.
    """
    node = node_at(game, path)
    cursor = node
    while cursor.parent is not None and cursor.parent.variations[0] is cursor:
        cursor = cursor.parent
    if cursor.parent is None:
        return path
    cursor.parent.promote(cursor)
    return node_path(node)


def make_main_line(game: chess.pgn.Game, path: Path) -> Path:
    """Make the line through ``path`` the main line, all the way up to the root."""
    node = node_at(game, path)
    cursor = node
    while cursor.parent is not None:
        cursor.parent.promote_to_main(cursor)
        cursor = cursor.parent
    return node_path(node)


def delete(game: chess.pgn.Game, path: Path) -> Path:
    """Delete the node at ``path`` and everything after it; returns its parent's path."""
    if not path:
        raise BadInput("the start position cannot be deleted")
    node = node_at(game, path)
    assert node.parent is not None
    node.parent.remove_variation(node)
    return path[:-1]


def set_shapes(game: chess.pgn.Game, path: Path, shapes: tuple[Shape, ...]) -> Path:
    """Store the user's arrows and circles on the node (exported as ``[%cal]``/``[%csl]``)."""
    import chess.svg

    node = node_at(game, path)
    # python-chess names the [%cal] letter from the colour *name* (Arrow.pgn).
    node.set_arrows(chess.svg.Arrow(s.orig, s.orig if s.dest is None else s.dest,
                                    color=BRUSH_NAMES[s.brush]) for s in shapes)
    return path


def pgn_from(game: chess.pgn.Game, path: Path) -> str:
    """The PGN of the line to ``path`` and everything after it (lichess "Copy PGN").

    The game's headers and set-up position are kept; the moves before the
    node are its line only, the moves after it keep their variations.
    """
    node = node_at(game, path)
    copy = chess.pgn.Game()
    for name, value in game.headers.items():
        copy.headers[name] = value
    copy.comment = game.comment
    line = reversed([n for n in _ancestors(node) if isinstance(n, chess.pgn.ChildNode)])
    target: chess.pgn.GameNode = copy
    for step in line:
        target = target.add_variation(step.move, comment=step.comment, nags=step.nags)
    _copy_children(node, target)
    exporter = chess.pgn.StringExporter(headers=True, variations=True, comments=True)
    return str(copy.accept(exporter))


def _ancestors(node: chess.pgn.GameNode) -> list[chess.pgn.GameNode]:
    out: list[chess.pgn.GameNode] = []
    current: chess.pgn.GameNode | None = node
    while current is not None:
        out.append(current)
        current = current.parent
    return out


def _copy_children(source: chess.pgn.GameNode, target: chess.pgn.GameNode) -> None:
    stack = [(source, target)]
    while stack:
        src, dst = stack.pop()
        for child in src.variations:
            assert isinstance(child, chess.pgn.ChildNode)
            added = dst.add_variation(child.move, comment=child.comment,
                                      starting_comment=child.starting_comment,
                                      nags=child.nags)
            stack.append((child, added))


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What applying a board event did: where the cursor goes, and what changed.

    ``changed`` is true when the tree was edited (send a new payload);
    ``pgn`` is set for :attr:`NodeAction.COPY_PGN`.
    """

    path: Path
    changed: bool
    pgn: str | None = None


def apply_event(game: chess.pgn.Game, event: BoardEvent) -> EventOutcome:
    """Apply one event from the board element to ``game``.

    Raises :class:`BadInput` when the event does not fit the game (a stale
    path, an illegal move): the page shows it and keeps the tree as it was.
    """
    if isinstance(event, MoveEvent):
        board = node_at(game, event.path).board()
        move = resolve_move(board, event.orig, event.dest, event.promotion)
        before = len(node_at(game, event.path).variations)
        new_path = add_move(game, event.path, move)
        return EventOutcome(new_path, len(node_at(game, event.path).variations) != before)
    if isinstance(event, ShapesEvent):
        return EventOutcome(set_shapes(game, event.path, event.shapes), True)
    if isinstance(event, NodeMenuEvent):
        if event.action is NodeAction.PROMOTE:
            return EventOutcome(promote(game, event.path), True)
        if event.action is NodeAction.MAKE_MAIN:
            return EventOutcome(make_main_line(game, event.path), True)
        if event.action is NodeAction.DELETE:
            return EventOutcome(delete(game, event.path), True)
        return EventOutcome(event.path, False, pgn_from(game, event.path))
    raise BadInput(f"not a board event: {event!r}")  # pragma: no cover - exhaustive above


def read_pgn(text: str) -> chess.pgn.Game:
    """A game from PGN text, for tests and the demo page. Raises :class:`BadInput`."""
    game = chess.pgn.read_game(io.StringIO(text))
    if game is None or game.errors:
        raise BadInput("unreadable PGN" if game is None else str(game.errors[0]))
    return game
