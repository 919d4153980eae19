"""Analysis sessions: a game with its variations, the engine settings and the analysis.

This is the model behind the "Analysis" page, kept free of Streamlit so it can
be tested on its own. A session is lichess's "study" in miniature:

* the game is a ``chess.pgn.Game`` addressed by path (:mod:`chessapp.tree`);
* the analysis is the flat, ply-keyed :class:`~chessapp.analysis.GameAnalysis`
  of the main line; explored variations get their own per-position evals,
  looked up by FEN;
* everything is saved in the :class:`~chessapp.store.Store` (SQLite): the
  game as PGN, the settings and the analysis as JSON.

Background analysis is :mod:`chessapp.jobs`; what the page shows is
:mod:`chessapp.view.analysis`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import chess
import chess.pgn

from chessapp.analysis import EvalCache, GameAnalysis, build_game_analysis
from chessapp.errors import BadInput, ChessAppError, SessionNotFound
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, terminal_eval
from chessapp.owners import LOCAL_OWNER
from chessapp.retro import RetroProgress
from chessapp.settings import AnalysisSettings
from chessapp.tree import (
    NodePath,
    game_to_pgn,
    is_mainline,
    line_boards,
    linear_game,
    main_line_boards,
    mainline_path,
    node_at,
    path_of,
)

log = logging.getLogger(__name__)

__all__ = [
    "AnalysisSession",
    "SavedSessionLike",
    "SessionNotFound",
    "SessionStore",
    "default_name",
    "restore_analysis",
]


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
    @property
    def owner(self) -> str | None: ...


class SessionStore(EvalCache, Protocol):
    """The part of :class:`chessapp.store.Store` a session needs: sessions plus the eval cache."""

    def save_session(self, name: str, pgn: str, settings: dict[str, Any],
                     analysis: dict[str, Any] | None = None, *, owner: str = ...) -> str: ...

    def update_session(self, session_id: str, *, pgn: str | None = None,
                       settings: dict[str, Any] | None = None,
                       analysis: dict[str, Any] | None = None,
                       name: str | None = None, owner: str = ...) -> None: ...

    def load_session(self, session_id: str) -> SavedSessionLike: ...


def _identity_from_json(data: Any) -> EngineIdentity | None:
    try:
        return EngineIdentity.from_json(data)
    except (TypeError, ValueError):
        return None


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
    #: Learn-from-your-mistakes progress, per colour (saved with the settings).
    retro: dict[chess.Color, RetroProgress] = field(default_factory=dict)
    #: ``AnalysisJob.seq`` of the background jobs whose results this object already took in.
    adopted_jobs: set[int] = field(default_factory=set, repr=False, compare=False)
    #: Who may change the saved session (``chessapp.owners``); None before it is saved,
    #: and for a session from before owners (nobody's).
    owner: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            self.name = default_name(self.game)

    # -- persistence --

    def settings_json(self) -> dict[str, Any]:
        data = self.settings.to_json()
        if self.identity is not None:
            data["engine_identity"] = self.identity.to_json()
        if self.retro:
            # Learn-from-your-mistakes progress; a new analysis starts it afresh.
            data["retro"] = [progress.to_json() for progress in self.retro.values()]
        return data

    def read_only_for(self, viewer: str | None) -> bool:
        """True when ``viewer`` may look at this saved session but not change it."""
        return self.session_id is not None and (self.owner is None or self.owner != viewer)

    def save(self, store: SessionStore, *, owner: str | None = None) -> str:
        """Create the saved session (owned by ``owner``), or update it: the autosave.

        ``owner`` defaults to the session's own (``local`` for a new one made outside
        the page). The store refuses an update by anyone but the owner.
        """
        pgn = game_to_pgn(self.game)
        analysis = None if self.analysis is None else self.analysis.to_json()
        who = owner if owner is not None else (self.owner or LOCAL_OWNER)
        if self.session_id is None:
            self.session_id = store.save_session(self.name, pgn, self.settings_json(), analysis,
                                                 owner=who)
            self.owner = who
            log.info("saved new session %s", self.session_id)
        else:
            store.update_session(self.session_id, pgn=pgn, settings=self.settings_json(),
                                 analysis=analysis, name=self.name, owner=who)
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
                      identity=identity, owner=saved.owner)
        for item in (saved.settings or {}).get("retro") or []:
            try:
                progress = RetroProgress.from_json(item)
            except ValueError as exc:
                log.warning("session %s: retrospect progress dropped: %s", session_id, exc)
                continue
            session.retro[progress.color] = progress
        if saved.analysis:
            session.analysis = restore_analysis(game, saved.analysis, store)
            if session.analysis is not None and session.identity is None:
                session.identity = session.analysis.engine
        session.refresh_variation_evals(store)
        return session

    # -- the tree --

    def explored_lines(self) -> list[NodePath]:
        """Every side line, as the path to its last move (for listing and variation evals)."""
        main_end = mainline_path(self.game)
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
        self.retro.clear()  # new evals, new mistakes: the retrospect starts afresh
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


def _saved_best_lines(positions: list[PositionEval],
                      data: dict[str, Any]) -> list[PositionEval]:
    """The cache holds each search's own line; the saved analysis may hold it continued to
    8 plies (:func:`chessapp.analysis.extend_best_lines`). Keep the saved one where it is
    that same line, longer."""
    out = list(positions)
    for i, ply in enumerate(data.get("plies", [])):
        if i >= len(out) or not isinstance(ply, dict):
            break
        try:
            saved = tuple(chess.Move.from_uci(u) for u in ply.get("pv") or [])
        except (TypeError, ValueError):
            continue
        before = out[i]
        best = before.best
        if len(saved) > len(best.pv) and saved[: len(best.pv)] == best.pv and best.pv:
            out[i] = PositionEval(before.fen, (EngineLine(best.eval, saved, best.depth,
                                                          best.nodes), *before.lines[1:]),
                                  before.engine, before.limit, before.skipped)
    return out


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
        identity = EngineIdentity.from_json(data["engine"])
        limit = SearchLimit.from_json(data["limit"])
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
            return build_game_analysis(game, _saved_best_lines(positions, data),
                                       multipv=multipv)
    try:
        analysis = GameAnalysis.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError, ChessAppError) as exc:
        log.warning("saved analysis is not readable (%s); ignored", exc)
        return None
    if len(analysis.plies) != len(boards) - 1:
        return None
    return analysis
