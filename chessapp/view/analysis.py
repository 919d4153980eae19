"""The analysis page's controller and tables, as plain data (after lila's ``ctrl.ts``).

One :class:`AnalysisController` holds the page's one cursor: the line shown
and the ply on it, so the node on the board is ``line[:ply]``, a path into
the game tree (:mod:`chessapp.tree`). Every action of the page goes through it
(jump, play, back to the main line, delete a variation, next mistake, take in
finished jobs), and the page only reads widgets, calls it and draws what it
says. No Streamlit here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import chess
import chess.pgn

from chessapp.analysis import GameAnalysis, Judgement
from chessapp.coach import TELLING, explanation_texts
from chessapp.divider import Phase
from chessapp.errors import ChessAppError
from chessapp.evals import PositionEval, WhiteEval
from chessapp.jobs import AnalysisJob, JobState
from chessapp.motifs import find_motifs, play_line
from chessapp.retro import Attempt, EvaluateAfter, Feedback, Mistake, RetroProgress, judge_attempt
from chessapp.retro import mistakes_of as retro_mistakes
from chessapp.session import AnalysisSession
from chessapp.shapes import Brush, Shape
from chessapp.tree import (
    NodePath,
    branch_ply,
    copy_game,
    current_line,
    delete_variation,
    is_mainline,
    linear_game,
    mainline_path,
    move_label,
    node_at,
    numbered_line,
    play,
    san_line,
    start_ply,
)
from chessapp.view.board import Path as BoardPath
from chessapp.view.replay import Replay, build_replay, clamp_ply

__all__ = [
    "JUDGED",
    "AnalysisController",
    "EngineLineRow",
    "engine_line_rows",
    "engine_shapes",
    "judged_copy",
    "move_rows",
    "next_judged_ply",
    "opening_names",
    "phase_rows",
    "retro_hint",
    "summary_rows",
]

JUDGED = (Judgement.INACCURACY, Judgement.MISTAKE, Judgement.BLUNDER)


@dataclass
class AnalysisController:
    """The cursor over one session: ``line`` (a whole line of the tree) and ``ply`` on it.

    Build one per run from the page's state; after an action, the page writes
    ``line`` and ``ply`` back. A line that no longer exists in the tree (another
    tab deleted it) falls back to the main line.
    """

    session: AnalysisSession
    line: NodePath = ()
    ply: int = 0
    _replay: Replay | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            self.line = current_line(self.session.game, self.line)
        except ChessAppError:
            self.line = mainline_path(self.session.game)
        self.ply = clamp_ply(self.ply, len(self.line))

    # -- where the cursor is --

    @property
    def path(self) -> NodePath:
        """The node on the board."""
        return self.line[: self.ply]

    @property
    def on_main_line(self) -> bool:
        return is_mainline(self.session.game, self.line)

    @property
    def branch(self) -> int:
        """The ply where the shown line leaves the main line (its length on the main line)."""
        return branch_ply(self.session.game, self.line)

    @property
    def board(self) -> chess.Board:
        return node_at(self.session.game, self.path).board()

    @property
    def replay(self) -> Replay:
        """The shown line, ready to step through, with its analysis when one is known."""
        if self._replay is None:
            game = self.session.game
            analysis = self.session.line_analysis(self.line)
            self._replay = build_replay(
                linear_game(game, self.line), analysis,
                explanations=None if analysis is None else explanation_texts(analysis))
        return self._replay

    def position_eval(self) -> PositionEval | None:
        return self.session.position_eval(self.path)

    def engine_lines(self) -> list[EngineLineRow]:
        return engine_line_rows(self.board, self.position_eval())

    def side_lines(self) -> list[tuple[str, NodePath]]:
        """Other moves from the node on the board than the shown line's, as (SAN, path)."""
        node = node_at(self.session.game, self.path)
        shown = self.line[self.ply] if len(self.line) > self.ply else None
        board = node.board()
        return [(board.san(child.move), (*self.path, child.move.uci()))
                for child in node.variations
                if child.move is not None and child.move.uci() != shown]

    # -- actions --

    def jump(self, path: NodePath) -> None:
        """Show the line through ``path`` with the cursor on ``path``."""
        self.line = current_line(self.session.game, path)
        self.ply = len(path)
        self._replay = None

    def play(self, move: chess.Move) -> NodePath:
        """Play ``move`` on the board (a new variation unless it exists) and go there."""
        path = play(self.session.game, self.path, move)
        self.jump(path)
        return path

    def back_to_main_line(self) -> None:
        self.jump(mainline_path(self.session.game, self.branch))

    def delete_variation(self) -> None:
        """Delete the shown side line; the cursor goes to where it branched off."""
        self.jump(delete_variation(self.session.game, self.line))

    def next_mistake(self, color: chess.Color) -> int | None:
        """The main-line ply of ``color``'s next judged move after the cursor, if any."""
        analysis = self.session.analysis
        if analysis is None:
            return None
        here = self.ply if self.on_main_line else self.branch
        return next_judged_ply(analysis, here, color)

    def jump_to_next_mistake(self, color: chess.Color) -> bool:
        target = self.next_mistake(color)
        if target is None:
            return False
        self.jump(mainline_path(self.session.game, target))
        return True

    def adopt_finished(self, main: AnalysisJob | None, variation: AnalysisJob | None) -> bool:
        """Fold finished jobs into the session, each once (by its sequence number).

        Returns True when something changed. Jobs stay registered, so another tab
        showing the same session takes them in too.
        """
        changed = False
        for job in (main, variation):
            if job is None or job.seq in self.session.adopted_jobs:
                continue
            result = job.result
            if result is None or job.progress().state is not JobState.DONE:
                continue
            self.session.adopted_jobs.add(job.seq)
            if job is main:
                self.session.adopt_main_line(result)
            else:
                self.session.adopt_variation(result)
            self._replay = None
            changed = True
        return changed


    # -- learn from your mistakes (lila's retrospect) --

    def retro_progress(self, color: chess.Color) -> RetroProgress:
        return self.session.retro.setdefault(color, RetroProgress(color))

    def retro_mistakes(self, color: chess.Color) -> list[Mistake]:
        return [] if self.session.analysis is None else retro_mistakes(self.session.analysis,
                                                                        color)

    def retro_current(self, color: chess.Color) -> Mistake | None:
        return self.retro_progress(color).next_mistake(self.retro_mistakes(color))

    def retro_show(self, color: chess.Color) -> Mistake | None:
        """Put the board on the position before ``color``'s next unsolved mistake."""
        mistake = self.retro_current(color)
        if mistake is not None:
            self.jump(mainline_path(self.session.game, mistake.ply - 1))
        return mistake

    def retro_try(self, color: chess.Color, move: chess.Move,
                  evaluate: EvaluateAfter) -> Attempt:
        """Judge a try at the current mistake; a good one counts it solved."""
        mistake = self.retro_current(color)
        if mistake is None:
            raise ChessAppError("there is no mistake left to try")
        attempt = judge_attempt(mistake, move, evaluate)
        if attempt.feedback is Feedback.WIN:
            self.retro_progress(color).solve(mistake)
        return attempt

    def retro_give_up(self, color: chess.Color) -> Mistake | None:
        """Skip the current mistake (or view its solution): it counts as done."""
        mistake = self.retro_current(color)
        if mistake is not None:
            self.retro_progress(color).solve(mistake)
        return mistake


def retro_hint(mistake: Mistake) -> str | None:
    """The tactical theme of the best line, in words ("fork", "discovered attack"), if any."""
    if not mistake.best_line:
        return None
    line = play_line(chess.Board(mistake.fen_before), mistake.best_line)
    found = {f.motif for f in find_motifs(line)}
    for motif in TELLING:
        if motif in found:
            return re.sub(r"(?<!^)(?=[A-Z])", " ", motif.value).lower()
    return None


# --- Tables for the page -----------------------------------------------------------------------


def next_judged_ply(analysis: GameAnalysis, after: int, color: chess.Color,
                    judgements: Sequence[Judgement] = JUDGED) -> int | None:
    """The first ply after ``after`` where ``color`` made a judged move ("Jump to next mistake")."""
    for p in analysis.plies:
        if p.ply > after and p.mover == color and p.judgement in judgements:
            return p.ply
    return None


_OPENINGS: dict[int, tuple[GameAnalysis, list[str | None]]] = {}


def opening_names(analysis: GameAnalysis) -> list[str | None]:
    """Per position (0 = the start): lichess's "ECO Name" reached so far, remembered per
    analysis object (the page asks on every step)."""
    found = _OPENINGS.get(id(analysis))
    if found is not None and found[0] is analysis:
        return found[1]
    names = [None if o is None else o.opening.literate() for o in analysis.opening_plies()]
    if len(_OPENINGS) > 64:
        _OPENINGS.clear()
    _OPENINGS[id(analysis)] = (analysis, names)
    return names


def move_rows(analysis: GameAnalysis) -> list[dict[str, Any]]:
    """The move table: one row per ply (move, eval, best move, judgement or label, accuracy,
    book, why)."""
    start = start_ply(chess.Board(analysis.start_fen))
    why = explanation_texts(analysis)
    opening = analysis.opening
    book = 0 if opening is None else opening.ply
    return [{
        "Ply": p.ply,
        "Move": move_label(p.ply, p.san, start=start) + (
            p.judgement.glyph if p.judgement is not None
            else p.label.glyph if p.label is not None else ""),
        "Eval": p.eval.text(),
        "Best move": "" if p.best_san is None or p.best_san == p.san else p.best_san,
        "Judgement": (p.judgement.title if p.judgement is not None
                      else p.label.title if p.label is not None else ""),
        "Accuracy": None if p.accuracy is None else round(p.accuracy, 1),
        "Book": "book" if p.ply <= book else "",
        "Why": why.get(p.ply, ""),
    } for p in analysis.plies]


def phase_rows(analysis: GameAnalysis) -> list[dict[str, Any]]:
    """Accuracy and ACPL per side and phase (lichess's Divider); "not reached" when absent."""
    summary = analysis.summary()
    rows = []
    for phase in Phase:
        row: dict[str, Any] = {"Phase": phase.value.capitalize()}
        for color, side in ((chess.WHITE, "White"), (chess.BLACK, "Black")):
            found = summary[color].phases.get(phase)
            row[f"{side} accuracy"] = ("not reached" if found is None or found.accuracy is None
                                       else f"{found.accuracy:.1f}%")
            row[f"{side} ACPL"] = ("not reached" if found is None or found.acpl is None
                                   else f"{found.acpl:.0f}")
        rows.append(row)
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
    numbered: str = ""  # with move numbers, as lichess writes a line: "24. Rxd4 cxd4 25. Re7+"

    @property
    def text(self) -> str:
        return " ".join(self.san)


def engine_line_rows(board: chess.Board, position: PositionEval | None,
                     *, max_moves: int = 10) -> list[EngineLineRow]:
    """The top lines of ``position`` (multipv order), each with up to ``max_moves`` SAN moves."""
    if position is None:
        return []
    rows = []
    for i, line in enumerate(position.lines, start=1):
        sans = tuple(san_line(board, line.pv, limit=max_moves))
        rows.append(EngineLineRow(i, line.eval, line.pv[0] if line.pv else None, sans,
                                  numbered_line(board, sans)))
    return rows


def judged_copy(game: chess.pgn.Game, analysis: GameAnalysis | None) -> chess.pgn.Game:
    """A copy of ``game`` whose main-line moves carry the analysis's glyphs as NAGs, so the
    board's move list shows ?!, ? and ?? beside the user's own glyphs (paths are unchanged)."""
    out = copy_game(game)
    if analysis is None:
        return out
    nodes = list(out.mainline())
    for p in analysis.plies:
        if p.judgement is not None and p.ply <= len(nodes):
            nodes[p.ply - 1].nags.add(p.judgement.nag)
    return out


def engine_shapes(game: chess.pgn.Game, evals: Mapping[str, PositionEval]
                  ) -> tuple[dict[BoardPath, list[Shape]], dict[BoardPath, str]]:
    """The board element's auto-shapes and best moves, per node of the whole tree.

    Where the engine has looked at a node's position: an arrow for the first move
    of each of its lines (the best in lichess blue, the others yellow), and the
    best move for the element's best-move toggle.
    """
    shapes: dict[BoardPath, list[Shape]] = {}
    best: dict[BoardPath, str] = {}
    stack: list[tuple[chess.pgn.GameNode, BoardPath, chess.Board]] = [(game, (), game.board())]
    while stack:
        node, path, board = stack.pop()
        found = evals.get(board.fen())
        if found is not None:
            firsts = [line.pv[0] for line in found.lines if line.pv]
            if firsts:
                best[path] = firsts[0].uci()
                shapes[path] = [Shape(m.from_square, m.to_square,
                                      Brush.BLUE if i == 0 else Brush.YELLOW)
                                for i, m in enumerate(firsts)]
        for i, child in enumerate(node.variations):
            after = board.copy(stack=False)
            after.push(child.move)
            stack.append((child, (*path, i), after))
    return shapes, best
