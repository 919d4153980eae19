"""Engine results as plain records, with the point of view in the type.

An engine reports a score from the side to move; python-chess wraps it in a
``PovScore``. We convert it to White's view exactly once, at the engine
boundary (:meth:`WhiteEval.from_pov`), and from then on every eval in the
program is a :class:`WhiteEval`. Code that needs the mover's view asks for it
explicitly with :meth:`WhiteEval.for_side`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import chess
import chess.engine

__all__ = [
    "EngineIdentity",
    "EngineLine",
    "PositionEval",
    "SearchLimit",
    "WhiteEval",
    "terminal_eval",
]


@dataclass(frozen=True, slots=True)
class WhiteEval:
    """An evaluation from White's point of view: centipawns or moves to mate.

    ``mate`` > 0: White mates in that many moves; < 0: Black does. A position
    that is already checkmate holds ``mate == 0`` and ``mated`` names the
    side that is mated (python-chess's ``Mate(0)`` / ``MateGiven``).
    """

    cp: int | None = None
    mate: int | None = None
    mated: chess.Color | None = field(default=None, compare=True)

    def __post_init__(self) -> None:
        if (self.cp is None) == (self.mate is None):
            raise ValueError("a WhiteEval holds exactly one of cp and mate")
        if self.mate == 0 and self.mated is None:
            raise ValueError("mate == 0 (checkmate on the board) needs the mated side")

    @classmethod
    def from_pov(cls, score: chess.engine.PovScore) -> WhiteEval:
        white = score.white()
        mate = white.mate()
        if mate is None:
            cp = white.score()
            assert cp is not None
            return cls(cp=cp)
        if mate == 0:
            # Mate(0) is "White is mated"; MateGiven (-Mate(0)) is "Black is mated".
            return cls(mate=0, mated=chess.WHITE if white < chess.engine.Cp(0) else chess.BLACK)
        return cls(mate=mate)

    @classmethod
    def checkmate(cls, mated: chess.Color) -> WhiteEval:
        return cls(mate=0, mated=mated)

    def to_score(self) -> chess.engine.Score:
        """White's view as a python-chess ``Score``."""
        if self.cp is not None:
            return chess.engine.Cp(self.cp)
        assert self.mate is not None
        if self.mate == 0:
            return chess.engine.Mate(0) if self.mated == chess.WHITE else chess.engine.MateGiven
        return chess.engine.Mate(self.mate)

    def to_pov(self) -> chess.engine.PovScore:
        return chess.engine.PovScore(self.to_score(), chess.WHITE)

    def for_side(self, color: chess.Color) -> chess.engine.Score:
        """The same eval from ``color``'s point of view."""
        return self.to_pov().pov(color)

    def to_json(self) -> dict[str, int | None]:
        return {"cp": self.cp, "mate": self.mate}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, turn: chess.Color | None = None) -> WhiteEval:
        cp, mate = data.get("cp"), data.get("mate")
        if mate == 0:
            mated = data.get("mated")
            if mated is None:
                if turn is None:
                    raise ValueError("mate 0 needs the side to move")
                mated = turn
            return cls(mate=0, mated=bool(mated))
        return cls(cp=None if cp is None else int(cp), mate=None if mate is None else int(mate))

    def pgn(self) -> str:
        """lichess ``[%eval]`` syntax: ``0.35``, ``-1.20``, ``#3``, ``#-3``."""
        if self.mate is not None:
            if self.mate == 0:
                return "#0" if self.mated == chess.BLACK else "#-0"
            return f"#{self.mate}"
        assert self.cp is not None
        return f"{self.cp / 100:.2f}"

    def text(self) -> str:
        """For people: ``+0.35``, ``−1.20``, ``#3``, ``#-3``, ``1-0`` when mated."""
        if self.mate is not None:
            if self.mate == 0:
                return "1-0" if self.mated == chess.BLACK else "0-1"
            return f"#{self.mate}"
        assert self.cp is not None
        return f"{self.cp / 100:+.2f}"


@dataclass(frozen=True, slots=True)
class SearchLimit:
    """How long the engine searches one position: nodes, depth or a move time.

    Exactly one is set. ``key()`` is a stable string for the analysis cache
    and the PGN tags that make an analysis reproducible.
    """

    nodes: int | None = None
    depth: int | None = None
    movetime_ms: int | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.nodes, self.depth, self.movetime_ms) if v is not None]
        if len(given) != 1:
            raise ValueError("a SearchLimit sets exactly one of nodes, depth and movetime_ms")
        if given[0] <= 0:
            raise ValueError("a SearchLimit must be positive")

    def key(self) -> str:
        if self.nodes is not None:
            return f"nodes={self.nodes}"
        if self.depth is not None:
            return f"depth={self.depth}"
        return f"movetime={self.movetime_ms}ms"

    @classmethod
    def parse(cls, key: str) -> SearchLimit:
        name, _, value = key.partition("=")
        number = int(value.removesuffix("ms"))
        if name == "nodes":
            return cls(nodes=number)
        if name == "depth":
            return cls(depth=number)
        if name == "movetime":
            return cls(movetime_ms=number)
        raise ValueError(f"not a search limit: {key!r}")

    def to_json(self) -> dict[str, int | None]:
        """The report's form: ``{"nodes": 200000, "depth": null, "movetime_ms": null}``."""
        return {"nodes": self.nodes, "depth": self.depth, "movetime_ms": self.movetime_ms}

    @classmethod
    def from_json(cls, data: Any) -> SearchLimit:
        """Inverse of :meth:`to_json`; ``ValueError`` on anything else."""
        if not isinstance(data, dict):
            raise ValueError(f"not a search limit: {data!r}")

        def number(name: str) -> int | None:
            value = data.get(name)
            return None if value is None else int(value)

        return cls(nodes=number("nodes"), depth=number("depth"),
                   movetime_ms=number("movetime_ms"))

    def to_engine(self) -> chess.engine.Limit:
        if self.nodes is not None:
            return chess.engine.Limit(nodes=self.nodes)
        if self.depth is not None:
            return chess.engine.Limit(depth=self.depth)
        assert self.movetime_ms is not None
        return chess.engine.Limit(time=self.movetime_ms / 1000)


@dataclass(frozen=True, slots=True)
class EngineIdentity:
    """Which engine, with which settings, produced a result (recorded with every result)."""

    name: str  # UCI "id name", e.g. "Stockfish 15.1"
    threads: int = 1
    hash_mb: int = 16

    def key(self) -> str:
        return f"{self.name}|threads={self.threads}|hash={self.hash_mb}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "threads": self.threads, "hash_mb": self.hash_mb}

    @classmethod
    def from_json(cls, data: Any) -> EngineIdentity:
        """Inverse of :meth:`to_json`; ``ValueError`` on anything else."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ValueError(f"not an engine identity: {data!r}")
        return cls(data["name"], int(data.get("threads", 1)), int(data.get("hash_mb", 16)))


@dataclass(frozen=True, slots=True)
class EngineLine:
    """One principal variation: its eval (White's view) and moves from the analysed position."""

    eval: WhiteEval
    pv: tuple[chess.Move, ...]
    depth: int | None = None
    nodes: int | None = None


@dataclass(frozen=True, slots=True)
class PositionEval:
    """Everything the engine said about one position: its best lines, best first.

    A position that is already over (checkmate, stalemate, insufficient
    material) never reaches the engine; it gets one line with an empty PV.
    """

    fen: str
    lines: tuple[EngineLine, ...]
    engine: EngineIdentity
    limit: SearchLimit
    #: Set when the engine kept crashing on this position: the eval is then a
    #: neighbour's, carried over so the rest of the game can be judged, and
    #: the moves on either side of it are not judged. Never cached.
    skipped: str | None = None

    @property
    def best(self) -> EngineLine:
        return self.lines[0]

    @property
    def eval(self) -> WhiteEval:
        return self.lines[0].eval

    @property
    def nodes(self) -> int | None:
        """Nodes the engine actually searched (python-chess ``info["nodes"]``; 0 when the
        position was over and needed no search; None when unknown, e.g. a skipped position)."""
        return self.lines[0].nodes


def terminal_eval(
    board: chess.Board, engine: EngineIdentity, limit: SearchLimit
) -> PositionEval | None:
    """A finished position needs no engine: checkmate is mate 0, a draw is 0.00."""
    if board.is_checkmate():
        ev = WhiteEval.checkmate(board.turn)
    elif board.is_stalemate() or board.is_insufficient_material():
        ev = WhiteEval(cp=0)
    else:
        return None
    return PositionEval(board.fen(), (EngineLine(ev, (), nodes=0),), engine, limit)
