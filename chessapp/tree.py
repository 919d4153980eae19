"""The game tree, addressed by path: pure helpers over ``chess.pgn.Game``, no side effects
beyond the one tree they are asked to change.

There is no second tree (style habit 6): ``chess.pgn.Game`` is the tree, its first
child at every node is the main line, and other children are variations. A node
is addressed by a :data:`NodePath`, the UCI moves that lead to it from the start
(lila's ``TreePath`` idea, ``ui/lib/src/tree/path.ts``), so an address stays valid
when other variations are added around it.

Plies follow the rest of the app: ply 0 is the start, ply *n* the position after
the *n*-th half-move of a line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import chess
import chess.pgn

from chessapp.errors import BadInput

__all__ = [
    "NodePath",
    "branch_ply",
    "copy_game",
    "current_line",
    "delete_variation",
    "game_to_pgn",
    "index_path",
    "is_mainline",
    "line_boards",
    "linear_game",
    "main_line_boards",
    "mainline_path",
    "move_label",
    "node_at",
    "numbered_line",
    "parse_move",
    "path_of",
    "play",
    "san_line",
    "start_ply",
    "uci_path",
    "variation_boards",
]

#: A node of the game tree, as the UCI moves that lead to it from the start.
NodePath = tuple[str, ...]


# --- Addressing ------------------------------------------------------------------------------


def node_at(game: chess.pgn.Game, path: NodePath) -> chess.pgn.GameNode:
    """The node that ``path`` leads to; :class:`BadInput` if the tree has no such node."""
    node: chess.pgn.GameNode = game
    for i, uci in enumerate(path):
        try:
            move = chess.Move.from_uci(uci)
        except ValueError:
            raise BadInput("not a move", token=uci) from None
        child = node.variation(move) if node.has_variation(move) else None
        if child is None:
            raise BadInput(f"the game has no such line at ply {i + 1}", token=uci)
        node = child
    return node


def path_of(node: chess.pgn.GameNode) -> NodePath:
    """The inverse of :func:`node_at`."""
    moves: list[str] = []
    current: chess.pgn.GameNode | None = node
    while current is not None and current.move is not None:
        moves.append(current.move.uci())
        current = current.parent
    return tuple(reversed(moves))


def mainline_path(game: chess.pgn.Game, ply: int | None = None) -> NodePath:
    """The first ``ply`` main-line moves (all of them when ``ply`` is None), clamped."""
    moves = [m.uci() for m in game.mainline_moves()]
    return tuple(moves if ply is None else moves[: max(0, min(ply, len(moves)))])


def is_mainline(game: chess.pgn.Game, path: NodePath) -> bool:
    return path == mainline_path(game, len(path))


def current_line(game: chess.pgn.Game, path: NodePath) -> NodePath:
    """The whole line through ``path``: the path, then the first child onwards.

    On the main line this is the main line; inside a variation it is the
    variation played to its end.
    """
    node = node_at(game, path)
    tail: list[str] = []
    while node.variations:
        node = node.variations[0]
        assert node.move is not None
        tail.append(node.move.uci())
    return path + tuple(tail)


def branch_ply(game: chess.pgn.Game, path: NodePath) -> int:
    """How many moves of ``path`` follow the main line (the ply where it branches off)."""
    main = mainline_path(game, len(path))
    n = 0
    while n < len(path) and n < len(main) and path[n] == main[n]:
        n += 1
    return n


def index_path(game: chess.pgn.Game, path: NodePath) -> tuple[int, ...]:
    """``path`` as child indices from the root (the board element's wire format)."""
    node: chess.pgn.GameNode = game
    out: list[int] = []
    for i, uci in enumerate(path):
        found = next((k for k, child in enumerate(node.variations)
                      if child.move is not None and child.move.uci() == uci), None)
        if found is None:
            raise BadInput(f"the game has no such line at ply {i + 1}", token=uci)
        out.append(found)
        node = node.variations[found]
    return tuple(out)


def uci_path(game: chess.pgn.Game, index: Sequence[int]) -> NodePath:
    """The inverse of :func:`index_path`; :class:`BadInput` for a path the tree lacks."""
    node: chess.pgn.GameNode = game
    for i, child in enumerate(index):
        if not 0 <= child < len(node.variations):
            raise BadInput(f"the game has no such line at ply {i + 1}", token=str(child))
        node = node.variations[child]
    return path_of(node)


# --- Positions along a line ------------------------------------------------------------------


def line_boards(game: chess.pgn.Game, line: Iterable[str | chess.Move]) -> list[chess.Board]:
    """The start position, then the position after each move of ``line`` (UCI or moves)."""
    board = game.board()
    boards = [board.copy(stack=False)]
    for move in line:
        board.push(chess.Move.from_uci(move) if isinstance(move, str) else move)
        boards.append(board.copy(stack=False))
    return boards


def main_line_boards(game: chess.pgn.Game) -> list[chess.Board]:
    """The start position, then the position after each main-line move."""
    return line_boards(game, game.mainline_moves())


def variation_boards(game: chess.pgn.Game, path: NodePath) -> list[chess.Board]:
    """The positions a variation analysis needs: from the branch point to the line's end.

    The position before the first side-line move is included, since judging
    that move needs the eval before it.
    """
    line = current_line(game, path)
    return line_boards(game, line)[branch_ply(game, line):]


def start_ply(board: chess.Board) -> int:
    """Half-moves before ``board`` as python-chess counts them (for games set up from a FEN)."""
    return (board.fullmove_number - 1) * 2 + (0 if board.turn == chess.WHITE else 1)


def move_label(ply: int, san: str, *, start: int = 0) -> str:
    """``1. e4`` for White's move, ``1… e5`` for Black's; ``start`` is :func:`start_ply`."""
    absolute = start + ply  # half-moves since the standard start
    number = (absolute + 1) // 2
    return f"{number}. {san}" if absolute % 2 == 1 else f"{number}… {san}"


def numbered_line(board: chess.Board, sans: Sequence[str]) -> str:
    """SAN moves from ``board`` as lichess writes a line: ``24. Rxd4 cxd4 25. Re7+``,
    or ``24… cxd4 25. Re7+`` when Black moves first."""
    start = start_ply(board)
    words = []
    for i, san in enumerate(sans):
        white = (start + i) % 2 == 0
        words.append(move_label(i + 1, san, start=start) if white or i == 0 else san)
    return " ".join(words)


def san_line(board: chess.Board, moves: Sequence[chess.Move], *,
             limit: int | None = None) -> list[str]:
    """SAN of ``moves`` played from ``board``, stopping at the first illegal one."""
    b = board.copy(stack=False)
    out: list[str] = []
    for move in moves[:limit]:
        if not b.is_legal(move):
            break
        out.append(b.san(move))
        b.push(move)
    return out


# --- Changing the tree -----------------------------------------------------------------------


def play(game: chess.pgn.Game, path: NodePath, move: chess.Move) -> NodePath:
    """Play ``move`` at ``path``: the existing child if there is one, else a new variation.

    A new move at a node that has no children extends that line (it becomes
    the first child); anywhere else it becomes a variation, never the main line.
    """
    node = node_at(game, path)
    if not node.board().is_legal(move):
        raise BadInput("illegal move in this position", token=move.uci())
    if not node.has_variation(move):
        node.add_variation(move)
    return (*path, move.uci())


def parse_move(board: chess.Board, text: str) -> chess.Move:
    """A move typed by a person: SAN (``Nf3``, ``exd5``, ``e8=Q``) or UCI (``g1f3``)."""
    token = text.strip()
    if not token:
        raise BadInput("type a move, such as Nf3 or e4")
    if len(token) > 10:
        raise BadInput("not a move", token=token)
    try:
        return board.parse_san(token)
    except ValueError:
        pass
    try:
        move = chess.Move.from_uci(token.lower())
    except ValueError:
        move = None
    if move is not None and board.is_legal(move):
        return move
    raise BadInput(f"not a legal move for {'White' if board.turn else 'Black'} here",
                   token=token)


def delete_variation(game: chess.pgn.Game, path: NodePath) -> NodePath:
    """Remove the side line that ends at ``path`` (from its branch point); the main line stays.

    Returns the path of the branch point's parent position, where the cursor goes.
    """
    start = branch_ply(game, path)
    if start >= len(path):
        raise BadInput("the main line cannot be deleted")
    parent = node_at(game, path[:start])
    parent.remove_variation(chess.Move.from_uci(path[start]))
    return path[:start]


# --- Whole games -----------------------------------------------------------------------------


def copy_game(game: chess.pgn.Game) -> chess.pgn.Game:
    """An independent copy of the whole tree (python-chess's builder replaying it)."""
    return game.accept(chess.pgn.GameBuilder())


def linear_game(game: chess.pgn.Game, line: NodePath) -> chess.pgn.Game:
    """``line`` as a game of its own (same headers and start), for the ply-based replay."""
    out = chess.pgn.Game()
    out.headers.clear()
    for key, value in game.headers.items():
        out.headers[key] = value
    out.setup(game.board())
    node: chess.pgn.GameNode = out
    for uci in line:
        node = node.add_main_variation(chess.Move.from_uci(uci))
    return out


def game_to_pgn(game: chess.pgn.Game) -> str:
    """The whole tree as PGN (headers, comments, NAGs, variations): how sessions are saved."""
    exporter = chess.pgn.StringExporter(headers=True, variations=True, comments=True)
    return game.accept(exporter)
