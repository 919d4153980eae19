"""Board shapes (arrows and circles) in lichess colours, for the story, the UI and export."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import chess

#: lichess's blue (chessground's "blue" brush and its engine arrows).
LICHESS_BLUE = "#003088"


class Brush(enum.Enum):
    """lichess's four brushes; the value is the letter used in ``[%cal]``/``[%csl]``."""

    GREEN = "G"
    RED = "R"
    YELLOW = "Y"
    BLUE = "B"

    @property
    def css(self) -> str:
        # lichess chessground brush colours (ui/lib/src/chessground config).
        return {"G": "#15781B", "R": "#882020", "Y": "#e68f00", "B": LICHESS_BLUE}[self.value]


@dataclass(frozen=True, slots=True)
class Shape:
    """An arrow from ``orig`` to ``dest``, or a circle when ``dest`` is None or equal."""

    orig: chess.Square
    dest: chess.Square | None = None
    brush: Brush = Brush.GREEN

    @property
    def is_circle(self) -> bool:
        return self.dest is None or self.dest == self.orig

    def pgn(self) -> str:
        """``Ge2e4`` for an arrow, ``Rd5`` for a circle (lichess/ChessBase syntax)."""
        if self.is_circle:
            return f"{self.brush.value}{chess.square_name(self.orig)}"
        assert self.dest is not None
        return f"{self.brush.value}{chess.square_name(self.orig)}{chess.square_name(self.dest)}"

    @classmethod
    def parse(cls, text: str) -> Shape:
        """Inverse of :meth:`pgn`. Raises ``ValueError`` on anything else."""
        text = text.strip()
        if len(text) not in (3, 5):
            raise ValueError(f"not a shape: {text!r}")
        brush = Brush(text[0].upper())
        orig = chess.parse_square(text[1:3])
        dest = chess.parse_square(text[3:5]) if len(text) == 5 else None
        return cls(orig, dest, brush)

    def svg(self) -> chess.svg.Arrow:
        import chess.svg

        dest = self.orig if self.dest is None else self.dest
        return chess.svg.Arrow(self.orig, dest, color=self.brush.css)
