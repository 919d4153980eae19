"""One home for limits, bounds and defaults: the CLI, both pages and the parsers read them here.

* what a person may choose for the engine (:class:`AnalysisSettings`, with the
  bounds and defaults of each :class:`LimitKind`);
* the input limits every PGN read is held to (documented in the README).

A value written in two places drifts; each of these is written once.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from typing import Any

from chessapp.errors import BadInput
from chessapp.evals import SearchLimit

# --- Input limits -----------------------------------------------------------------------

#: The upload cap: a PGN file (or text) larger than this is refused unread.
MAX_PGN_BYTES = 10 * 1024 * 1024
#: Games per file for in-memory reads (the upload box, ``read_games``);
#: the streaming :func:`iter_games` takes any number.
MAX_GAMES_PER_FILE = 5_000
#: Main-line half-moves per game. The longest tournament game has 538.
MAX_PLIES = 1_000
#: Moves per game, variations included.
MAX_MOVES_PER_GAME = 10_000
#: Moves per file, variations included, for in-memory reads: python-chess
#: parses roughly 80,000 moves a second, so this keeps a read to a few seconds.
MAX_MOVES_PER_FILE = 250_000
#: Nesting of variations, ``(`` inside ``(``.
MAX_VARIATION_DEPTH = 64
#: Variations per game, at every depth together.
MAX_VARIATIONS = 2_000
#: Characters in one ``{comment}``.
MAX_COMMENT_CHARS = 20_000
#: Characters in one token of movetext (a move is at most 7, e.g. ``exd8=Q+``).
MAX_TOKEN_CHARS = 256
#: Characters in one tag value; a FEN is under 100.
MAX_TAG_CHARS = 1_000
#: An uploaded story track (TOML); the café game's is about 20 KB.
MAX_STORY_BYTES = 1024 * 1024
#: Tag pairs per game.
MAX_TAGS = 200

# --- Per-visitor limits (issue 15; README, "Running it for a club") ----------------------

#: Saved sessions one owner (a browser or a signed-in user) may keep.
MAX_SESSIONS_PER_OWNER = 200
#: Positions one visitor may have waiting for the engines at once, over all their jobs.
#: A game at the ply limit is 1,001 positions; this fits one plus a long variation,
#: so nobody is refused a legal game, but nobody can stack several long ones either.
MAX_QUEUED_POSITIONS_PER_VISITOR = 1_200
#: Engines kept free of background (full-game) work while there are at least two, so a
#: visitor asking about one position never waits behind a long search (issue 15).
INTERACTIVE_RESERVED_ENGINES = 1

# --- Engine settings -----------------------------------------------------------------------

#: Nodes per position when nobody says otherwise. lichess's fishnet spends
#: 1,000,000 on a requested analysis; a fifth of that judges the same moves on
#: nearly every ply (BENCHMARKS.md) and keeps one shared server responsive.
DEFAULT_NODES = 200_000


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
    LimitKind.NODES: DEFAULT_NODES,
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


def positive_int(text: str) -> int:
    """A command-line count (nodes, workers, games): a whole number above zero."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value
