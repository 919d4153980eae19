"""Analysis sessions: a game with its variations, the engine settings and the analysis.

This is the model behind the "Analysis" page, kept free of Streamlit so it can
be tested on its own. A session is lichess's "study" in miniature:

* the game is a ``chess.pgn.Game``: its first child at every node is the main
  line and other children are variations (style habit 6: no second tree);
* a node is addressed by a :data:`NodePath`, the UCI moves from the start, so
  an address stays valid when other variations are added;
* the analysis is the flat, ply-keyed :class:`~chessapp.analysis.GameAnalysis`
  of the main line; explored variations get their own per-position evals,
  looked up by FEN;
* everything is saved in the :class:`~chessapp.store.Store` (SQLite): the
  game as PGN, the settings and the analysis as JSON. Every position the
  engine finishes goes into the Store's eval cache at once, so a closed tab
  or a dead server loses no engine work.

Analyses run in the background (:class:`AnalysisJob`), registered by a key in a
process-wide :class:`JobRegistry`, so a browser rerun, another tab or a page
switch finds the same job, its progress and its partial results.
"""

from __future__ import annotations

import enum
import io
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import chess
import chess.pgn

from chessapp.analysis import (
    EvalCache,
    Evaluator,
    GameAnalysis,
    Judgement,
    build_game_analysis,
    evaluate_positions,
    judge,
    main_line_boards,
    terminal_eval,
)
from chessapp.errors import BadInput, ChessAppError, SessionNotFound
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval

log = logging.getLogger(__name__)

#: A node of the game tree, as the UCI moves that lead to it from the start.
NodePath = tuple[str, ...]

# --- Settings -------------------------------------------------------------------------------


class LimitKind(enum.Enum):
    """How long the engine thinks about each position."""

    NODES = "nodes"
    DEPTH = "depth"
    MOVETIME = "movetime"

    @property
    def label(self) -> str:
        return {"nodes": "Nodes", "depth": "Depth", "movetime": "Time (ms)"}[self.value]

    @property
    def bounds(self) -> tuple[int, int]:
        """Inclusive bounds a person may choose (the UI uses them for its inputs)."""
        return LIMIT_BOUNDS[self]

    @property
    def default(self) -> int:
        return LIMIT_DEFAULTS[self]


#: Bounds of the per-position budget. The upper ends keep one shared server
#: usable: lichess itself uses 1,000,000 nodes for a requested analysis.
LIMIT_BOUNDS: dict[LimitKind, tuple[int, int]] = {
    LimitKind.NODES: (1_000, 5_000_000),
    LimitKind.DEPTH: (1, 30),
    LimitKind.MOVETIME: (50, 30_000),
}
LIMIT_DEFAULTS: dict[LimitKind, int] = {
    LimitKind.NODES: 200_000,
    LimitKind.DEPTH: 16,
    LimitKind.MOVETIME: 500,
}
MAX_MULTIPV = 5


def max_threads() -> int:
    """Threads per engine a person may ask for: never more than the machine's cores."""
    return max(1, os.cpu_count() or 1)


def engine_choices(default: str | None) -> list[str]:
    """Engine binaries a person may pick: the one found, plus ``CHESSAPP_ENGINES``.

    A web page must not start any path a stranger types (that would run an
    arbitrary program on the server), so the choice is from a list the
    operator set: ``CHESSAPP_ENGINES`` holds paths separated by ``os.pathsep``.
    """
    out: list[str] = []
    for path in [default, *os.environ.get("CHESSAPP_ENGINES", "").split(os.pathsep)]:
        if path and path.strip() and path.strip() not in out:
            out.append(path.strip())
    return out


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """What a person chose for the engine: the budget per position, lines, binary, threads."""

    kind: LimitKind = LimitKind.NODES
    value: int = LIMIT_DEFAULTS[LimitKind.NODES]
    multipv: int = 3
    engine_path: str | None = None
    threads: int = 1

    def __post_init__(self) -> None:
        low, high = self.kind.bounds
        if not low <= self.value <= high:
            raise BadInput(f"{self.kind.label} must be between {low:,} and {high:,}",
                           token=str(self.value))
        if not 1 <= self.multipv <= MAX_MULTIPV:
            raise BadInput(f"engine lines must be between 1 and {MAX_MULTIPV}",
                           token=str(self.multipv))
        if not 1 <= self.threads <= max_threads():
            raise BadInput(f"threads must be between 1 and {max_threads()}",
                           token=str(self.threads))

    @property
    def limit(self) -> SearchLimit:
        if self.kind is LimitKind.NODES:
            return SearchLimit(nodes=self.value)
        if self.kind is LimitKind.DEPTH:
            return SearchLimit(depth=self.value)
        return SearchLimit(movetime_ms=self.value)

    def describe(self) -> str:
        return f"{self.limit.key()}, {self.multipv} line{'s' if self.multipv > 1 else ''}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "value": self.value, "multipv": self.multipv,
                "engine_path": self.engine_path, "threads": self.threads}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnalysisSettings:
        """Settings saved by :meth:`to_json`; junk becomes :class:`BadInput`."""
        try:
            kind = LimitKind(data.get("kind", LimitKind.NODES.value))
            path = data.get("engine_path")
            return cls(
                kind=kind,
                value=int(data.get("value", kind.default)),
                multipv=int(data.get("multipv", 3)),
                engine_path=None if path is None else str(path),
                threads=int(data.get("threads", 1)),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, BadInput):
                raise
            raise BadInput(f"saved engine settings are not readable: {exc}") from None


# --- The game tree ---------------------------------------------------------------------------


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


def mainline_path(game: chess.pgn.Game, ply: int) -> NodePath:
    """The first ``ply`` main-line moves, with ``ply`` clamped to the game."""
    moves = [m.uci() for m in game.mainline_moves()]
    return tuple(moves[: max(0, min(ply, len(moves)))])


def is_mainline(game: chess.pgn.Game, path: NodePath) -> bool:
    return path == mainline_path(game, len(path))


def current_line(game: chess.pgn.Game, path: NodePath) -> NodePath:
    """The whole line through ``path``: the path, then the first child onwards.

    On the main line this is the main line; inside a variation it is the
    variation played to its end. Navigation (First/Prev/Next/Last, the slider,
    the move list) walks this line by index, so the ply-based widgets of the
    café page work unchanged inside a variation.
    """
    node = node_at(game, path)
    tail: list[str] = []
    while node.variations:
        node = node.variations[0]
        assert node.move is not None
        tail.append(node.move.uci())
    return path + tuple(tail)


def line_sans(game: chess.pgn.Game, line: NodePath) -> list[str]:
    """SAN of each move of ``line`` (a path from the start)."""
    board = game.board()
    out: list[str] = []
    for uci in line:
        move = chess.Move.from_uci(uci)
        out.append(board.san(move))
        board.push(move)
    return out


def branch_ply(game: chess.pgn.Game, path: NodePath) -> int:
    """How many moves of ``path`` follow the main line (the ply where it branches off)."""
    main = mainline_path(game, len(path))
    n = 0
    while n < len(path) and n < len(main) and path[n] == main[n]:
        n += 1
    return n


def play(game: chess.pgn.Game, path: NodePath, move: chess.Move) -> NodePath:
    """Play ``move`` at ``path``: the existing child if there is one, else a new variation.

    A new move at a node that has no children extends that line (it becomes
    the first child); anywhere else it becomes a variation, never the main line.
    """
    node = node_at(game, path)
    board = node.board()
    if not board.is_legal(move):
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


def play_san(game: chess.pgn.Game, path: NodePath, text: str) -> NodePath:
    """The SAN text box: parse ``text`` in the position at ``path`` and play it."""
    return play(game, path, parse_move(node_at(game, path).board(), text))


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


def legal_moves_by_square(board: chess.Board) -> dict[str, list[str]]:
    """Each origin square's legal destinations, for the click-click board."""
    out: dict[str, list[str]] = {}
    for move in board.legal_moves:
        dest = chess.square_name(move.to_square)
        targets = out.setdefault(chess.square_name(move.from_square), [])
        if dest not in targets:
            targets.append(dest)
    return out


def move_from_click(board: chess.Board, uci: str) -> chess.Move:
    """A move the board reported as ``from`` + ``to`` (+ promotion piece).

    A pawn reaching the last rank without a piece is promoted to a queen;
    the SAN box plays under-promotions.
    """
    try:
        move = chess.Move.from_uci(uci)
    except ValueError:
        raise BadInput("not a move", token=uci) from None
    piece = board.piece_at(move.from_square)
    if (move.promotion is None and piece is not None and piece.piece_type == chess.PAWN
            and chess.square_rank(move.to_square) in (0, 7)):
        move = chess.Move(move.from_square, move.to_square, promotion=chess.QUEEN)
    if not board.is_legal(move):
        raise BadInput("illegal move in this position", token=uci)
    return move


def game_to_pgn(game: chess.pgn.Game) -> str:
    """The whole tree as PGN (headers, comments, NAGs, variations): how sessions are saved."""
    exporter = chess.pgn.StringExporter(headers=True, variations=True, comments=True)
    return game.accept(exporter)


def default_name(game: chess.pgn.Game) -> str:
    """``White – Black, Date`` from the headers, for the session list."""
    h = game.headers
    white, black = h.get("White", "?"), h.get("Black", "?")
    if white in ("?", "") and black in ("?", ""):
        name = "Position" if "FEN" in h else "Game"
    else:
        name = f"{white} – {black}"
    date = h.get("Date", "????.??.??")
    if date and not date.startswith("????"):
        name += f", {date.replace('.??', '')}"
    return name[:120]


# --- Variation analysis ----------------------------------------------------------------------


def line_boards(game: chess.pgn.Game, line: NodePath) -> list[chess.Board]:
    """The start position, then the position after each move of ``line``."""
    board = game.board()
    boards = [board.copy(stack=False)]
    for uci in line:
        board.push(chess.Move.from_uci(uci))
        boards.append(board.copy(stack=False))
    return boards


def variation_boards(game: chess.pgn.Game, path: NodePath) -> list[chess.Board]:
    """The positions a variation analysis needs: from the branch point to the line's end.

    The position before the first side-line move is included, since judging
    that move needs the eval before it.
    """
    line = current_line(game, path)
    start = branch_ply(game, line)
    return line_boards(game, line)[start:]


@dataclass(frozen=True, slots=True)
class MoveEval:
    """One move of any line with the evals around it (for variations and the main line alike)."""

    ply: int
    san: str
    eval_before: WhiteEval | None
    eval: WhiteEval | None
    judgement: Judgement | None
    best_san: str | None


def judge_line(
    game: chess.pgn.Game, line: NodePath, evals: dict[str, PositionEval]
) -> list[MoveEval]:
    """Evals and judgements along ``line``, from per-FEN evals (missing evals give ``None``)."""
    boards = line_boards(game, line)
    out: list[MoveEval] = []
    for i, uci in enumerate(line):
        before, after = boards[i], boards[i + 1]
        pe_before, pe_after = evals.get(before.fen()), evals.get(after.fen())
        ev_b = None if pe_before is None else pe_before.eval
        ev_a = None if pe_after is None else pe_after.eval
        verdict = None if ev_b is None or ev_a is None else judge(ev_b, ev_a, before.turn)
        best = None
        if pe_before is not None and pe_before.best.pv and before.is_legal(pe_before.best.pv[0]):
            best = before.san(pe_before.best.pv[0])
        out.append(MoveEval(i + 1, before.san(chess.Move.from_uci(uci)), ev_b, ev_a,
                            None if verdict is None else verdict.judgement, best))
    return out


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


# --- Tables for the page (pure data) ---------------------------------------------------------

JUDGED = (Judgement.INACCURACY, Judgement.MISTAKE, Judgement.BLUNDER)


def next_judged_ply(analysis: GameAnalysis, after: int, color: chess.Color,
                    judgements: Sequence[Judgement] = JUDGED) -> int | None:
    """The first ply after ``after`` where ``color`` made a judged move ("Jump to next mistake")."""
    for p in analysis.plies:
        if p.ply > after and p.mover == color and p.judgement in judgements:
            return p.ply
    return None


def move_rows(analysis: GameAnalysis) -> list[dict[str, Any]]:
    """The move table: one row per ply (move, eval, best move, judgement, accuracy)."""
    start = chess.Board(analysis.start_fen)
    start_ply = (start.fullmove_number - 1) * 2 + (0 if start.turn == chess.WHITE else 1)
    rows = []
    for p in analysis.plies:
        absolute = start_ply + p.ply
        number = (absolute + 1) // 2
        label = f"{number}. {p.san}" if absolute % 2 == 1 else f"{number}… {p.san}"
        rows.append({
            "Ply": p.ply,
            "Move": label + ("" if p.judgement is None else p.judgement.glyph),
            "Eval": p.eval.text(),
            "Best move": "" if p.best_san is None or p.best_san == p.san else p.best_san,
            "Judgement": "" if p.judgement is None else p.judgement.title,
            "Accuracy": None if p.accuracy is None else round(p.accuracy, 1),
        })
    return rows


def summary_rows(analysis: GameAnalysis) -> list[dict[str, Any]]:
    """Per side: accuracy, ACPL and the counts of inaccuracies, mistakes and blunders."""
    summary = analysis.summary()
    names = {chess.WHITE: analysis.headers.get("White", "?"),
             chess.BLACK: analysis.headers.get("Black", "?")}
    rows = []
    for color in (chess.WHITE, chess.BLACK):
        side = summary[color]
        rows.append({
            "Side": "White" if color == chess.WHITE else "Black",
            "Player": names[color],
            "Accuracy": None if side.accuracy is None else round(side.accuracy, 1),
            "ACPL": side.acpl,
            "Inaccuracies": side.inaccuracies,
            "Mistakes": side.mistakes,
            "Blunders": side.blunders,
        })
    return rows


@dataclass(frozen=True, slots=True)
class EngineLineRow:
    """One engine line of a position, for people: rank, eval, moves in SAN."""

    rank: int
    eval: WhiteEval
    first: chess.Move | None
    san: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.san)


def engine_line_rows(board: chess.Board, position: PositionEval | None,
                     *, max_moves: int = 10) -> list[EngineLineRow]:
    """The top lines of ``position`` (multipv order), each with up to ``max_moves`` SAN moves."""
    if position is None:
        return []
    rows: list[EngineLineRow] = []
    for i, line in enumerate(position.lines, start=1):
        b = board.copy(stack=False)
        sans: list[str] = []
        for move in line.pv[:max_moves]:
            if not b.is_legal(move):
                break
            sans.append(b.san(move))
            b.push(move)
        rows.append(EngineLineRow(i, line.eval, line.pv[0] if line.pv else None, tuple(sans)))
    return rows


# --- The session ------------------------------------------------------------------------------


class SavedSessionLike(Protocol):
    """What :meth:`chessapp.store.Store.load_session` returns."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def pgn(self) -> str: ...
    @property
    def settings(self) -> dict[str, Any]: ...
    @property
    def analysis(self) -> dict[str, Any] | None: ...


class SessionStore(EvalCache, Protocol):
    """The part of :class:`chessapp.store.Store` a session needs: sessions plus the eval cache."""

    def save_session(self, name: str, pgn: str, settings: dict[str, Any],
                     analysis: dict[str, Any] | None) -> str: ...

    def update_session(self, session_id: str, *, pgn: str | None = None,
                       settings: dict[str, Any] | None = None,
                       analysis: dict[str, Any] | None = None,
                       name: str | None = None) -> None: ...

    def load_session(self, session_id: str) -> SavedSessionLike: ...


def _identity_json(identity: EngineIdentity) -> dict[str, Any]:
    return {"name": identity.name, "threads": identity.threads, "hash_mb": identity.hash_mb}


def _identity_from_json(data: Any) -> EngineIdentity | None:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    return EngineIdentity(data["name"], int(data.get("threads", 1)), int(data.get("hash_mb", 16)))


@dataclass
class AnalysisSession:
    """One game being studied: mutable, saved after every change.

    ``variation_evals`` (FEN -> eval) holds what the engine said about
    explored positions; it is not saved as such, but rebuilt from the Store's
    eval cache with ``identity`` and the settings when a session is resumed.
    """

    game: chess.pgn.Game
    settings: AnalysisSettings = field(default_factory=AnalysisSettings)
    analysis: GameAnalysis | None = None
    session_id: str | None = None
    name: str = ""
    identity: EngineIdentity | None = None
    variation_evals: dict[str, PositionEval] = field(default_factory=dict)
    #: ``id()`` of the background jobs whose results this object already took in.
    adopted_jobs: set[int] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = default_name(self.game)

    # -- persistence --

    def settings_json(self) -> dict[str, Any]:
        data = self.settings.to_json()
        if self.identity is not None:
            data["engine_identity"] = _identity_json(self.identity)
        return data

    def save(self, store: SessionStore) -> str:
        """Create the saved session, or update it: the autosave after every change."""
        pgn = game_to_pgn(self.game)
        analysis = None if self.analysis is None else self.analysis.to_json()
        if self.session_id is None:
            self.session_id = store.save_session(self.name, pgn, self.settings_json(), analysis)
            log.info("saved new session %s", self.session_id)
        else:
            store.update_session(self.session_id, pgn=pgn, settings=self.settings_json(),
                                 analysis=analysis, name=self.name)
        return self.session_id

    @classmethod
    def load(cls, store: SessionStore, session_id: str,
             read_game: Callable[[str], chess.pgn.Game]) -> AnalysisSession:
        """Resume a saved session; ``read_game`` is :func:`chessapp.games.read_game`.

        Raises :class:`SessionNotFound` for an unknown id and :class:`BadInput`
        when the saved game cannot be read any more.
        """
        saved = store.load_session(session_id)
        game = read_game(saved.pgn)
        try:
            settings = AnalysisSettings.from_json(dict(saved.settings or {}))
        except BadInput as exc:
            log.warning("session %s: settings reset to defaults: %s", session_id, exc)
            settings = AnalysisSettings()
        identity = _identity_from_json((saved.settings or {}).get("engine_identity"))
        session = cls(game=game, settings=settings, session_id=saved.id, name=saved.name,
                      identity=identity)
        if saved.analysis:
            session.analysis = restore_analysis(game, saved.analysis, store)
            if session.analysis is not None and session.identity is None:
                session.identity = session.analysis.engine
        session.refresh_variation_evals(store)
        return session

    # -- the tree --

    def play(self, path: NodePath, move: chess.Move) -> NodePath:
        return play(self.game, path, move)

    def play_san(self, path: NodePath, text: str) -> NodePath:
        return play_san(self.game, path, text)

    def explored_lines(self) -> list[NodePath]:
        """Every side line, as the path to its last move (for listing and variation evals)."""
        main_end = mainline_path(self.game, 10**9)
        out: list[NodePath] = []
        stack: list[chess.pgn.GameNode] = [self.game]
        while stack:
            node = stack.pop()
            if not node.variations:
                path = path_of(node)
                if path != main_end:
                    out.append(path)
            stack.extend(reversed(node.variations))
        return out

    # -- engine results --

    def evals_by_fen(self) -> dict[str, PositionEval]:
        """Every eval this session knows: the main-line analysis, then explored positions."""
        out: dict[str, PositionEval] = {}
        if self.analysis is not None:
            out[self.analysis.initial.fen] = self.analysis.initial
            for ply in self.analysis.plies:
                out[ply.fen] = PositionEval(ply.fen, ply.lines_after or (EngineLine(ply.eval, ()),),
                                            self.analysis.engine, self.analysis.limit)
        out.update(self.variation_evals)
        return out

    def position_eval(self, path: NodePath) -> PositionEval | None:
        return self.evals_by_fen().get(node_at(self.game, path).board().fen())

    def line_analysis(self, line: NodePath) -> GameAnalysis | None:
        """An analysis of ``line``: the main analysis on the main line; for a side line,
        one built from per-position evals once every position of it is known."""
        if self.analysis is not None and is_mainline(self.game, line) and len(line) == len(
                self.analysis.plies):
            return self.analysis
        evals = self.evals_by_fen()
        positions = []
        for board in line_boards(self.game, line):
            found = evals.get(board.fen())
            if found is None:
                return None
            positions.append(found)
        multipv = max(len(p.lines) for p in positions)
        return build_game_analysis(linear_game(self.game, line), positions, multipv=multipv)

    def adopt_main_line(self, positions: Sequence[PositionEval]) -> GameAnalysis:
        """Fold a finished main-line job into the session."""
        self.analysis = build_game_analysis(self.game, positions, multipv=self.settings.multipv)
        self.identity = self.analysis.engine
        return self.analysis

    def adopt_variation(self, positions: Sequence[PositionEval]) -> None:
        for pe in positions:
            self.variation_evals[pe.fen] = pe
        if positions:
            self.identity = positions[0].engine

    def refresh_variation_evals(self, cache: EvalCache) -> int:
        """Look up every explored position in the eval cache; returns how many were found."""
        if self.identity is None:
            return 0
        found = 0
        main = {b.fen() for b in main_line_boards(self.game)}
        for line in self.explored_lines():
            for board in line_boards(self.game, line):
                fen = board.fen()
                if fen in main or fen in self.variation_evals:
                    continue
                pe = terminal_eval(board, self.identity, self.settings.limit) or cache.get_eval(
                    fen, self.identity, self.settings.limit, self.settings.multipv)
                if pe is not None:
                    self.variation_evals[fen] = pe
                    found += 1
        return found


def restore_analysis(
    game: chess.pgn.Game, data: dict[str, Any], cache: EvalCache | None
) -> GameAnalysis | None:
    """A saved analysis, as complete as possible.

    The saved JSON holds one line per position; the eval cache holds all of
    the engine's lines (multipv). So the cache is tried first, and the JSON
    (``GameAnalysis.from_json``) is the fallback when the cache was cleared.
    An analysis that no longer fits the game gives ``None`` (re-analyse).
    """
    try:
        eng, lim = data["engine"], data["limit"]
        identity = EngineIdentity(str(eng["name"]), int(eng.get("threads", 1)),
                                  int(eng.get("hash_mb", 16)))
        limit = SearchLimit(nodes=lim.get("nodes"), depth=lim.get("depth"),
                            movetime_ms=lim.get("movetime_ms"))
        multipv = int(data.get("multipv", 1))
    except (KeyError, TypeError, ValueError, AttributeError):
        log.warning("saved analysis has no readable engine or limit; ignored")
        return None
    boards = main_line_boards(game)
    if cache is not None:
        positions: list[PositionEval] = []
        for board in boards:
            pe = terminal_eval(board, identity, limit) or cache.get_eval(
                board.fen(), identity, limit, multipv)
            if pe is None:
                break
            positions.append(pe)
        if len(positions) == len(boards):
            return build_game_analysis(game, positions, multipv=multipv)
    try:
        analysis = GameAnalysis.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError, ChessAppError) as exc:
        log.warning("saved analysis is not readable (%s); ignored", exc)
        return None
    if len(analysis.plies) != len(boards) - 1:
        return None
    return analysis


# --- Background jobs ------------------------------------------------------------------------------


class JobState(enum.Enum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not JobState.RUNNING


@dataclass(frozen=True, slots=True)
class JobProgress:
    """A snapshot of a job for display: positions done out of total, and how it ended."""

    state: JobState
    done: int
    total: int
    error: str | None = None

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else self.done / self.total


class _RecordingCache:
    """Passes through to the real cache and remembers every result, for partial display."""

    def __init__(self, inner: EvalCache | None, sink: Callable[[PositionEval], None]) -> None:
        self._inner = inner
        self._sink = sink

    def get_eval(self, fen: str, engine: EngineIdentity, limit: SearchLimit,
                 multipv: int) -> PositionEval | None:
        found = None if self._inner is None else self._inner.get_eval(fen, engine, limit, multipv)
        if found is not None:
            self._sink(found)
        return found

    def put_eval(self, result: PositionEval, multipv: int) -> None:
        if self._inner is not None:
            self._inner.put_eval(result, multipv)
        self._sink(result)


class AnalysisJob:
    """Evaluates a list of positions on a background thread.

    Each finished position goes to the cache (the Store) the moment it
    arrives, and into :meth:`partial` for display. ``on_done`` runs on the
    job's thread with all positions, in board order, when the job completes;
    the page uses it to autosave, so a result is kept even if nobody is
    looking when it finishes.
    """

    def __init__(
        self,
        boards: Sequence[chess.Board],
        evaluator: Evaluator,
        limit: SearchLimit,
        *,
        multipv: int = 1,
        cache: EvalCache | None = None,
        on_done: Callable[[list[PositionEval]], None] | None = None,
        name: str = "analysis",
    ) -> None:
        self.boards = [b.copy(stack=False) for b in boards]
        self.limit = limit
        self.multipv = multipv
        self._evaluator = evaluator
        self._cache = cache
        self._on_done = on_done
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._state = JobState.RUNNING
        self._done = 0
        self._error: str | None = None
        self._result: list[PositionEval] | None = None
        self._by_fen: dict[str, PositionEval] = {}
        self._thread = threading.Thread(target=self._run, name=f"chessapp-{name}", daemon=True)

    def start(self) -> AnalysisJob:
        self._thread.start()
        return self

    def _record(self, result: PositionEval) -> None:
        with self._lock:
            self._by_fen[result.fen] = result

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self._done = done

    def _run(self) -> None:
        cache = _RecordingCache(self._cache, self._record)
        for board in self.boards:
            found = terminal_eval(board, self._evaluator.identity, self.limit)
            if found is not None:
                self._record(found)
        try:
            positions = evaluate_positions(self.boards, self._evaluator, self.limit,
                                           multipv=self.multipv, cache=cache,
                                           progress=self._progress, cancel=self._cancel)
        except InterruptedError:
            self._finish(JobState.CANCELLED, None, None)
            return
        except ChessAppError as exc:
            log.warning("analysis job failed: %s", exc)
            self._finish(JobState.FAILED, None, str(exc))
            return
        except Exception as exc:
            log.exception("analysis job crashed")
            self._finish(JobState.FAILED, None, f"unexpected error: {exc!r}")
            return
        if self._on_done is not None:
            try:
                self._on_done(positions)
            except Exception as exc:  # the results are cached; only the autosave failed
                log.exception("saving a finished analysis failed")
                self._finish(JobState.FAILED, positions, f"could not save the result: {exc}")
                return
        self._finish(JobState.DONE, positions, None)

    def _finish(self, state: JobState, result: list[PositionEval] | None,
                error: str | None) -> None:
        with self._lock:
            self._state, self._result, self._error = state, result, error
            if result is not None:
                self._done = len(self.boards)

    def progress(self) -> JobProgress:
        with self._lock:
            return JobProgress(self._state, self._done, len(self.boards), self._error)

    @property
    def result(self) -> list[PositionEval] | None:
        with self._lock:
            return self._result

    def partial(self) -> list[PositionEval | None]:
        """What is known so far, by board index (``None`` where still to come)."""
        with self._lock:
            return [self._by_fen.get(b.fen()) for b in self.boards]

    def cancel(self) -> None:
        """Stop handing out positions; those being searched finish and are cached."""
        self._cancel.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


class JobRegistry:
    """Jobs by key (a session id), shared by every browser session of this server process.

    Finished jobs stay so that every tab showing a session can take in the
    result, but only the newest ``max_finished`` of them: the results are in
    the Store anyway, and a long-running server must not grow without bound.
    """

    def __init__(self, *, max_finished: int = 256) -> None:
        self._jobs: dict[str, AnalysisJob] = {}
        self._lock = threading.Lock()
        self._max_finished = max_finished

    def start(self, key: str, job: AnalysisJob) -> AnalysisJob:
        """Register and start ``job``, cancelling a running job under the same key."""
        with self._lock:
            old = self._jobs.pop(key, None)
            if old is not None and not old.progress().state.finished:
                old.cancel()
            self._jobs[key] = job  # newest last: dicts keep insertion order
            finished = [k for k, j in self._jobs.items() if j.progress().state.finished]
            for stale in finished[: max(0, len(finished) - self._max_finished)]:
                del self._jobs[stale]
        return job.start()

    def get(self, key: str) -> AnalysisJob | None:
        with self._lock:
            return self._jobs.get(key)

    def cancel(self, key: str) -> None:
        job = self.get(key)
        if job is not None:
            job.cancel()

    def discard(self, key: str) -> None:
        with self._lock:
            job = self._jobs.pop(key, None)
        if job is not None:
            job.cancel()

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._jobs)


#: The one registry of this process (Streamlit runs every session in one process).
JOBS = JobRegistry()


def main_line_key(session_id: str) -> str:
    return f"{session_id}:main"


def variation_key(session_id: str) -> str:
    return f"{session_id}:variation"


def start_main_line_job(
    session: AnalysisSession, evaluator: Evaluator, store: SessionStore,
    registry: JobRegistry = JOBS,
) -> AnalysisJob:
    """Analyse the main line in the background; when done, save it into the stored session.

    The session must have been saved (it needs an id to be found again).
    The job holds a copy of the game, so exploring while it runs is safe.
    """
    session_id = session.session_id if session.session_id is not None else session.save(store)
    settings = session.settings
    game_copy = read_pgn_copy(session.game)

    def on_done(positions: list[PositionEval]) -> None:
        analysis = build_game_analysis(game_copy, positions, multipv=settings.multipv)
        data = settings.to_json()
        data["engine_identity"] = _identity_json(analysis.engine)
        store.update_session(session_id, analysis=analysis.to_json(), settings=data)

    job = AnalysisJob(main_line_boards(game_copy), evaluator, settings.limit,
                      multipv=settings.multipv, cache=store, on_done=on_done, name="main-line")
    return registry.start(main_line_key(session_id), job)


def start_variation_job(
    session: AnalysisSession, path: NodePath, evaluator: Evaluator, store: SessionStore,
    registry: JobRegistry = JOBS,
) -> AnalysisJob:
    """Analyse the side line through ``path``, on demand, in the background."""
    session_id = session.session_id if session.session_id is not None else session.save(store)
    boards = variation_boards(session.game, path)
    settings = session.settings

    def on_done(positions: list[PositionEval]) -> None:
        # The evals are in the cache; the session must know which engine made them
        # to find them again when it is resumed.
        data = settings.to_json()
        data["engine_identity"] = _identity_json(positions[0].engine)
        store.update_session(session_id, settings=data)

    job = AnalysisJob(boards, evaluator, settings.limit, multipv=settings.multipv, cache=store,
                      on_done=on_done, name="variation")
    return registry.start(variation_key(session_id), job)


def read_pgn_copy(game: chess.pgn.Game) -> chess.pgn.Game:
    """An independent copy of a game tree (via its PGN)."""
    copy = chess.pgn.read_game(io.StringIO(game_to_pgn(game)))
    assert copy is not None
    return copy


__all__ = [
    "JOBS",
    "AnalysisJob",
    "AnalysisSession",
    "AnalysisSettings",
    "JobProgress",
    "JobRegistry",
    "JobState",
    "LimitKind",
    "MoveEval",
    "NodePath",
    "SessionNotFound",
    "SessionStore",
    "branch_ply",
    "current_line",
    "default_name",
    "delete_variation",
    "engine_choices",
    "game_to_pgn",
    "is_mainline",
    "judge_line",
    "legal_moves_by_square",
    "line_boards",
    "line_sans",
    "main_line_key",
    "mainline_path",
    "move_from_click",
    "node_at",
    "parse_move",
    "path_of",
    "play",
    "play_san",
    "restore_analysis",
    "start_main_line_job",
    "start_variation_job",
    "variation_boards",
    "variation_key",
]
