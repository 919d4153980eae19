"""What the chessground board element shows, as plain data: the game tree and its move list.

Python sends the whole game tree to the browser once per game, and the browser
steps through it with no server round trip (issue 10). Every node is addressed
by its *path*, the child indices from the root (the first child is the main
line, as in lichess's ``ui/lib/src/tree``), and carries what the board needs to
draw it at once: the FEN, the last move, the check square, chessground's legal
destinations, the comment, the glyphs, the clock and the shapes.

The move list is a rendering model after lichess's column view
(``ui/analyse/src/treeView/columnView.ts``): the main line in move pairs; a
comment or a variation interrupts the pair, and the variations are shown
indented, in parentheses, with move numbers, nested ones inline.

No Streamlit here: :mod:`chessapp.ui.board_element` sends :func:`tree_payload`
and parses what comes back with :func:`parse_board_event`.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import chess
import chess.pgn

from chessapp.shapes import Brush, Shape

#: A node's address: child indices from the root; ``()`` is the root.
Path = tuple[int, ...]

#: JSON of a tree payload.
Json = dict[str, Any]


def path_key(path: Path) -> str:
    """The path as the browser keys it: ``"0.0.1"``; the root is ``""``."""
    return ".".join(str(i) for i in path)


def parse_path_key(key: str) -> Path:
    """Inverse of :func:`path_key`. Raises ``ValueError`` on anything else."""
    if key == "":
        return ()
    parts = key.split(".")
    if not all(p.isdigit() and len(p) <= 4 for p in parts):
        raise ValueError(f"not a path: {key!r}")
    return tuple(int(p) for p in parts)


def main_line_path(ply: int) -> Path:
    """The path of the main-line node ``ply`` plies after the root."""
    return (0,) * ply


def node_path(node: chess.pgn.GameNode) -> Path:
    """The path of ``node`` from its game's root."""
    out: list[int] = []
    while isinstance(node, chess.pgn.ChildNode):
        out.append(node.parent.variations.index(node))
        node = node.parent
    return tuple(reversed(out))


#: NAG -> glyph, as lichess shows them (lila ``modules/tree/src/main/Glyph.scala``;
#: the numbers are the PGN standard's, section 10).
GLYPHS: Mapping[int, str] = {
    1: "!", 2: "?", 3: "!!", 4: "??", 5: "!?", 6: "?!", 7: "□", 10: "=", 13: "∞",
    14: "⩲", 15: "⩱", 16: "±", 17: "∓", 18: "+−", 19: "−+", 22: "⨀", 23: "⨀",
    32: "⟳", 33: "⟳", 36: "→", 37: "→", 40: "↑", 41: "↑", 132: "⇆", 133: "⇆",
    138: "⊕", 139: "⊕", 146: "N",
}

#: Move glyphs (1-7) come before position glyphs, as in lichess's move list.
_MOVE_NAGS = range(1, 8)

#: ``[%cmd ...]`` commands inside a comment (clk, eval, cal, csl, emt ...).
_COMMAND = re.compile(r"\[%[^\]]*\]")


def glyphs(nags: set[int]) -> tuple[str, ...]:
    """The glyphs of a node's NAGs, move glyphs first, unknown NAGs left out."""
    ordered = sorted(nags, key=lambda n: (n not in _MOVE_NAGS, n))
    return tuple(GLYPHS[n] for n in ordered if n in GLYPHS)


def comment_text(comment: str) -> str:
    """A comment as a person reads it: without ``[%...]`` commands, spaces collapsed."""
    return " ".join(_COMMAND.sub(" ", comment).split())


def clock_label(seconds: float | None) -> str:
    """``[%clk]`` as lichess shows it: ``1:02:03``, ``2:05``, ``0:09.5`` under ten seconds."""
    if seconds is None:
        return ""
    tenths = round(seconds * 10)
    hours, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    secs, tenth = divmod(rest, 10)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    if minutes == 0 and secs < 10:
        return f"0:{secs:02d}.{tenth}"
    return f"{minutes}:{secs:02d}"


#: chessground's brush names for our four lichess brushes.
BRUSH_NAMES: Mapping[Brush, str] = {
    Brush.GREEN: "green", Brush.RED: "red", Brush.BLUE: "blue", Brush.YELLOW: "yellow",
}
_BRUSH_BY_NAME = {name: brush for brush, name in BRUSH_NAMES.items()}
#: python-chess ``Arrow.color`` names for ``[%cal]``/``[%csl]`` letters.
_ARROW_COLOURS = {"green": Brush.GREEN, "red": Brush.RED, "blue": Brush.BLUE,
                  "yellow": Brush.YELLOW}


def shape_json(shape: Shape) -> Json:
    """A chessground ``DrawShape``: ``{"orig": "e2", "dest": "e4", "brush": "green"}``."""
    out: Json = {"orig": chess.square_name(shape.orig), "brush": BRUSH_NAMES[shape.brush]}
    if not shape.is_circle:
        assert shape.dest is not None
        out["dest"] = chess.square_name(shape.dest)
    return out


def node_shapes(node: chess.pgn.GameNode) -> tuple[Shape, ...]:
    """The ``[%cal]``/``[%csl]`` shapes of a node's comment (other colours are left out)."""
    out = []
    for arrow in node.arrows():
        brush = _ARROW_COLOURS.get(arrow.color)
        if brush is not None:
            dest = None if arrow.head == arrow.tail else arrow.head
            out.append(Shape(arrow.tail, dest, brush))
    return tuple(out)


def chessground_dests(board: chess.Board) -> dict[str, list[str]]:
    """Legal destinations per origin square, as chessground's ``movable.dests`` wants them.

    Castling is offered both ways lichess offers it: the king's own target
    (``e1g1``) and the rook's square (``e1h1``); in Chess960 only the rook's
    square, which is the only unambiguous one. :func:`resolve_move` accepts both.
    """
    out: dict[str, list[str]] = {}
    for move in board.legal_moves:
        targets = out.setdefault(chess.square_name(move.from_square), [])
        names = [chess.square_name(move.to_square)]
        if board.is_castling(move) and not board.chess960:
            names.append(chess.square_name(_castling_rook(board, move)))
        for name in names:
            if name not in targets:
                targets.append(name)
    return out


def _castling_rook(board: chess.Board, move: chess.Move) -> chess.Square:
    """The square of the rook a castling move castles with.

    python-chess writes a Chess960 castling move as king-to-rook already, and
    a standard one as the king's two-square step (the rook is on the a or h file).
    """
    if board.chess960:
        return move.to_square
    king_side = chess.square_file(move.to_square) > chess.square_file(move.from_square)
    return chess.square(7 if king_side else 0, chess.square_rank(move.from_square))


def resolve_move(board: chess.Board, orig: str, dest: str,
                 promotion: chess.PieceType | None = None) -> chess.Move:
    """The legal move chessground reported as ``orig`` -> ``dest`` (+ the picked promotion).

    Raises :class:`chessapp.errors.BadInput` when there is no such legal move,
    or when a pawn reaches the last rank and no piece was picked.
    """
    from chessapp.errors import BadInput

    try:
        origin, target = chess.parse_square(orig), chess.parse_square(dest)
    except ValueError as exc:
        raise BadInput(f"not a square: {orig!r} or {dest!r}") from exc
    for move in board.legal_moves:
        if move.from_square != origin or move.promotion != promotion:
            continue
        if move.to_square == target:
            return move
        if board.is_castling(move) and _castling_rook(board, move) == target:
            return move
    raise BadInput(f"no legal move {orig}{dest}"
                   + ("" if promotion is None else f"={chess.piece_symbol(promotion).upper()}")
                   + f" in {board.fen()}")


# --- The tree payload ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoardNode:
    """One node of the tree, with everything the board and the move list draw for it."""

    path: Path
    fen: str
    turn: chess.Color
    ply: int
    san: str | None
    uci: str | None
    last_move: tuple[str, str] | None
    check: str | None
    number: str
    dests: dict[str, list[str]]
    comment: str
    starting_comment: str
    nags: tuple[int, ...]
    glyphs: tuple[str, ...]
    clock: float | None
    shapes: tuple[Shape, ...]
    auto_shapes: tuple[Shape, ...]
    best: str | None
    children: tuple[Path, ...]
    delay_ms: int | None = None
    speech: str | None = None  # what "Read aloud" speaks on arriving here (café narration)
    bar: EvalBar | None = None  # the eval bar's reading here, when the page shows one

    def to_json(self) -> Json:
        out: Json = {
            "path": list(self.path), "fen": self.fen,
            "turn": "white" if self.turn == chess.WHITE else "black",
            "ply": self.ply, "san": self.san, "uci": self.uci,
            "lastMove": None if self.last_move is None else list(self.last_move),
            "check": self.check, "number": self.number, "dests": self.dests,
            "comment": self.comment, "startingComment": self.starting_comment,
            "nags": list(self.nags), "glyphs": list(self.glyphs),
            "clock": self.clock, "clockLabel": clock_label(self.clock),
            "shapes": [shape_json(s) for s in self.shapes],
            "autoShapes": [shape_json(s) for s in self.auto_shapes],
            "best": self.best,
            "children": [path_key(c) for c in self.children],
            "delayMs": self.delay_ms,
        }
        # Only when given, so a page that uses neither sends what it sent before.
        if self.speech is not None:
            out["speech"] = self.speech
        if self.bar is not None:
            out["bar"] = self.bar.to_json()
        return out


@dataclass(frozen=True, slots=True)
class EvalBar:
    """The eval bar at a node: White's win % (lichess WinPercent), ``None`` when unknown.

    ``text`` is what the bar says beside it, ``"+0.35"``, ``"#-2"``, or ``"?"``
    for a position no engine has seen: drawn as unknown, never as 50 %.
    """

    white_win: float | None
    text: str

    def to_json(self) -> Json:
        return {"win": None if self.white_win is None else round(self.white_win, 1),
                "text": self.text}


def move_number(board_before: chess.Board) -> str:
    """``"12."`` before a White move, ``"12..."`` before a Black move."""
    dots = "." if board_before.turn == chess.WHITE else "..."
    return f"{board_before.fullmove_number}{dots}"


def board_nodes(
    game: chess.pgn.Game,
    *,
    auto_shapes: Mapping[Path, Sequence[Shape]] | None = None,
    best_moves: Mapping[Path, str] | None = None,
    delays_ms: Mapping[Path, int] | None = None,
    speech: Mapping[Path, str] | None = None,
    bars: Mapping[Path, EvalBar] | None = None,
) -> list[BoardNode]:
    """Every node of ``game``, depth first (a node before its children, main line first).

    ``auto_shapes`` are the story's or engine's shapes per path (drawn, not
    editable); ``best_moves`` the engine's best move (UCI) per path, shown as
    an arrow when the user turns it on; ``delays_ms`` how long autoplay stays
    on a node (the café page waits longer on longer narration); ``speech``
    the text "Read aloud" speaks there; ``bars`` the eval bar's reading per
    path (a path left out, or a bar with no win %, is drawn as unknown).
    """
    speech = speech or {}
    bars = bars or {}
    auto_shapes = auto_shapes or {}
    best_moves = best_moves or {}
    delays_ms = delays_ms or {}
    out: list[BoardNode] = []
    start = game.board()
    start_ply = start.ply()
    # Each entry carries its position and its parent's, so no node replays the game.
    stack: list[tuple[chess.pgn.GameNode, Path, chess.Board, chess.Board | None]] = [
        (game, (), start, None)]
    while stack:
        node, path, board, before = stack.pop()
        san, number, last = None, "", None
        if isinstance(node, chess.pgn.ChildNode) and before is not None:
            san, number = before.san(node.move), move_number(before)
            last = (chess.square_name(node.move.from_square),
                    chess.square_name(node.move.to_square))
        king = board.king(board.turn)
        out.append(BoardNode(
            path=path, fen=board.fen(), turn=board.turn, ply=board.ply() - start_ply,
            san=san, uci=None if node.move is None else node.move.uci(), last_move=last,
            check=chess.square_name(king) if board.is_check() and king is not None else None,
            number=number, dests=chessground_dests(board),
            comment=comment_text(node.comment),
            starting_comment=comment_text(node.starting_comment) if node.move else "",
            nags=tuple(sorted(node.nags)), glyphs=glyphs(node.nags), clock=node.clock(),
            shapes=node_shapes(node), auto_shapes=tuple(auto_shapes.get(path, ())),
            best=best_moves.get(path),
            children=tuple((*path, i) for i in range(len(node.variations))),
            delay_ms=delays_ms.get(path), speech=speech.get(path), bar=bars.get(path),
        ))
        for i in reversed(range(len(node.variations))):
            child = node.variations[i]
            after = board.copy(stack=False)
            after.push(child.move)
            stack.append((child, (*path, i), after, board))
    return out


def tree_payload(
    game: chess.pgn.Game,
    *,
    auto_shapes: Mapping[Path, Sequence[Shape]] | None = None,
    best_moves: Mapping[Path, str] | None = None,
    delays_ms: Mapping[Path, int] | None = None,
    speech: Mapping[Path, str] | None = None,
    bars: Mapping[Path, EvalBar] | None = None,
) -> Json:
    """The JSON the element receives once per game (and again when the tree changes).

    ``{"id": ..., "orientation": "white", "nodes": {path_key: node}, "moveList": [...]}``;
    ``id`` is a hash of the rest, so the browser rebuilds only when the tree changed.
    """
    nodes = board_nodes(game, auto_shapes=auto_shapes, best_moves=best_moves,
                        delays_ms=delays_ms, speech=speech, bars=bars)
    body: Json = {
        "nodes": {path_key(n.path): n.to_json() for n in nodes},
        "moveList": [item.to_json() for item in move_list(game)],
        "rootComment": comment_text(game.comment),
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return {"id": digest, **body}


# --- The move list ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoveCell:
    """One move in the list: where it goes, its number (when shown), SAN, glyphs, comment."""

    key: str
    number: str
    san: str
    glyphs: tuple[str, ...]
    comment: str
    starting_comment: str
    clock: str

    def to_json(self) -> Json:
        return {"kind": "move", "key": self.key, "number": self.number, "san": self.san,
                "glyphs": list(self.glyphs), "comment": self.comment,
                "startingComment": self.starting_comment, "clock": self.clock}

    def text(self) -> str:
        parts = [f"{{{self.starting_comment}}}"] if self.starting_comment else []
        parts.append(f"{self.number} {self.san}" if self.number else self.san)
        parts[-1] += "".join(self.glyphs)
        if self.clock:
            parts.append(f"[{self.clock}]")
        if self.comment:
            parts.append(f"{{{self.comment}}}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Variation:
    """A side line: its moves, with its own side lines nested inline."""

    depth: int
    items: tuple[MoveCell | Variation, ...]

    def to_json(self) -> Json:
        return {"kind": "variation", "depth": self.depth,
                "items": [i.to_json() for i in self.items]}

    def text(self) -> str:
        return "(" + " ".join(i.text() for i in self.items) + ")"


@dataclass(frozen=True, slots=True)
class MainRow:
    """A main-line move pair; ``None`` on one side where a comment or variation broke it."""

    number: int
    white: MoveCell | None
    black: MoveCell | None

    def to_json(self) -> Json:
        return {"kind": "row", "number": self.number,
                "white": None if self.white is None else self.white.to_json(),
                "black": None if self.black is None else self.black.to_json()}

    def text(self) -> str:
        white = "..." if self.white is None else _bare(self.white)
        black = "" if self.black is None else " " + _bare(self.black)
        return f"{self.number}. {white}{black}"


@dataclass(frozen=True, slots=True)
class Interruption:
    """What follows a main-line move before the next one: its comment and side lines."""

    comment: str
    variations: tuple[Variation, ...]

    def to_json(self) -> Json:
        return {"kind": "interrupt", "comment": self.comment,
                "variations": [v.to_json() for v in self.variations]}

    def text(self) -> str:
        lines = [f"  {{{self.comment}}}"] if self.comment else []
        lines += ["  " + v.text() for v in self.variations]
        return "\n".join(lines)


MoveListItem = MainRow | Interruption


def _bare(cell: MoveCell) -> str:
    """A main-line cell inside its row: SAN, glyphs and clock (the row shows the number)."""
    text = cell.san + "".join(cell.glyphs)
    return f"{text} [{cell.clock}]" if cell.clock else text


def _cell(node: chess.pgn.ChildNode, path: Path, parent: chess.Board, *,
          number: bool) -> MoveCell:
    """The cell of ``node``, played from the position ``parent``."""
    shown = number or parent.turn == chess.WHITE
    return MoveCell(
        key=path_key(path), number=move_number(parent) if shown else "",
        san=parent.san(node.move), glyphs=glyphs(node.nags), comment=comment_text(node.comment),
        starting_comment=comment_text(node.starting_comment), clock=clock_label(node.clock()),
    )


def _variation(node: chess.pgn.ChildNode, path: Path, depth: int,
               parent: chess.Board) -> Variation:
    """The line that starts with ``node``: its main continuation, its own side lines nested.

    A move number is shown on the line's first move, on every White move, and
    on a Black move after a comment or a nested side line (as PGN writes it).
    """
    items: list[MoveCell | Variation] = []
    need_number = True
    current: chess.pgn.ChildNode | None = node
    current_path = path
    board = parent.copy(stack=False)
    while current is not None:
        cell = _cell(current, current_path, board, number=need_number)
        items.append(cell)
        need_number = bool(cell.comment)
        if current is not node:
            parent_path = current_path[:-1]
            for i, side in enumerate(current.parent.variations[1:], start=1):
                items.append(_variation(side, (*parent_path, i), depth + 1, board))
                need_number = True
        board.push(current.move)
        current = current.variations[0] if current.variations else None
        current_path = (*current_path, 0)
    return Variation(depth, tuple(items))


def move_list(game: chess.pgn.Game) -> tuple[MoveListItem, ...]:
    """The move list after lichess's column view (see the module docstring).

    A main-line move's comment, and the side lines played *instead of* it,
    follow that move and interrupt the pair; the pair resumes as ``N. ... move``.
    """
    items: list[MoveListItem] = []
    if game.comment:
        items.append(Interruption(comment_text(game.comment), ()))
    row: MainRow | None = None
    node: chess.pgn.GameNode = game
    path: Path = ()
    before = game.board()
    while node.variations:
        child = node.variations[0]
        child_path = (*path, 0)
        cell = _cell(child, child_path, before, number=False)
        if before.turn == chess.WHITE:
            if row is not None:
                items.append(row)
            row = MainRow(before.fullmove_number, cell, None)
        else:
            if row is not None and row.number == before.fullmove_number:
                row = MainRow(row.number, row.white, cell)
            else:
                if row is not None:
                    items.append(row)
                row = MainRow(before.fullmove_number, None, cell)
        sides = tuple(_variation(side, (*path, i), 1, before)
                      for i, side in enumerate(node.variations[1:], start=1))
        if cell.comment or sides:
            items.append(row)
            row = None
            items.append(Interruption(cell.comment, sides))
        elif row.black is not None:
            items.append(row)
            row = None
        before.push(child.move)
        node, path = child, child_path
    if row is not None:
        items.append(row)
    return tuple(items)


def move_list_text(items: Sequence[MoveListItem]) -> str:
    """The move list as plain text, one row or interruption per line (for tests and logs)."""
    return "\n".join(item.text() for item in items)


# --- What comes back from the browser -----------------------------------------------------


class NodeAction(enum.Enum):
    """The node menu's actions (lichess ``ui/analyse/src/treeView/contextMenu.ts``)."""

    PROMOTE = "promote"
    MAKE_MAIN = "make_main"
    DELETE = "delete"
    COPY_PGN = "copy_pgn"


@dataclass(frozen=True, slots=True)
class MoveEvent:
    """A move made on the board at ``path``: chessground's squares and the picked promotion."""

    path: Path
    orig: str
    dest: str
    promotion: chess.PieceType | None


@dataclass(frozen=True, slots=True)
class ShapesEvent:
    """The user's own drawing at ``path`` changed (right-drag arrows and circles)."""

    path: Path
    shapes: tuple[Shape, ...]


@dataclass(frozen=True, slots=True)
class NodeMenuEvent:
    """A node menu action on the node at ``path``."""

    path: Path
    action: NodeAction


@dataclass(frozen=True, slots=True)
class LiveToggleEvent:
    """The ``l`` key: turn the page's live engine on or off (on the node ``path``)."""

    path: Path


BoardEvent = MoveEvent | ShapesEvent | NodeMenuEvent | LiveToggleEvent

_PROMOTIONS = {"queen": chess.QUEEN, "rook": chess.ROOK, "bishop": chess.BISHOP,
               "knight": chess.KNIGHT}


def _shape_from_json(value: Any) -> Shape | None:
    if not isinstance(value, dict):
        return None
    brush = _BRUSH_BY_NAME.get(str(value.get("brush")))
    try:
        orig = chess.parse_square(str(value.get("orig")))
        dest_name = value.get("dest")
        dest = None if dest_name is None else chess.parse_square(str(dest_name))
    except ValueError:
        return None
    if brush is None:
        return None
    return Shape(orig, None if dest == orig else dest, brush)


def parse_board_event(value: Any) -> BoardEvent | None:
    """The event in the element's trigger value, or ``None`` when it is not one.

    Whatever the browser sends is untrusted: anything malformed is dropped.
    """
    if not isinstance(value, dict) or not isinstance(value.get("path"), str):
        return None
    try:
        path = parse_path_key(value["path"])
    except ValueError:
        return None
    kind = value.get("kind")
    if kind == "move":
        orig, dest, promo = value.get("orig"), value.get("dest"), value.get("promotion")
        if not (isinstance(orig, str) and isinstance(dest, str)):
            return None
        if promo is not None and promo not in _PROMOTIONS:
            return None
        return MoveEvent(path, orig, dest, None if promo is None else _PROMOTIONS[promo])
    if kind == "shapes":
        raw = value.get("shapes")
        if not isinstance(raw, list) or len(raw) > 64:
            return None
        shapes = [_shape_from_json(s) for s in raw]
        return ShapesEvent(path, tuple(s for s in shapes if s is not None))
    if kind == "menu":
        try:
            return NodeMenuEvent(path, NodeAction(value.get("action")))
        except ValueError:
            return None
    if kind == "live":
        return LiveToggleEvent(path)
    return None
