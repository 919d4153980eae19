"""The one exception hierarchy of chessapp.

Every error the app shows a person is a :class:`ChessAppError`. Pages catch it
and show its message; the CLI turns it into an exit code (2 for bad input,
3 for engine trouble). Input errors are also :class:`ValueError`, as
python-chess's own ``IllegalMoveError`` is.
"""

from __future__ import annotations


class ChessAppError(Exception):
    """Base class of every error chessapp raises on purpose."""


class BadInput(ChessAppError, ValueError):
    """Input that cannot be used: malformed PGN or FEN, an illegal move, a limit exceeded.

    ``game`` is 1-based, ``line`` is the 1-based line in the input text and
    ``token`` the offending text, each where known. ``str()`` names them.
    """

    def __init__(
        self,
        reason: str,
        *,
        game: int | None = None,
        line: int | None = None,
        token: str | None = None,
    ) -> None:
        self.reason = reason
        self.game = game
        self.line = line
        self.token = token
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.game is not None:
            where.append(f"game {self.game}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.token is not None:
            shown = self.token if len(self.token) <= 40 else self.token[:37] + "..."
            where.append(f"at {shown!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class LimitExceeded(BadInput):
    """Input larger than a documented limit (bytes, games, plies, nesting, comment length)."""


class StoryError(BadInput):
    """A malformed story track; the message names the field, e.g. ``segments[2].plies``."""


class EngineError(ChessAppError):
    """The engine could not give an answer."""


class EngineUnavailable(EngineError):
    """No engine binary was found, or it could not be started."""


class EngineTimeout(EngineError):
    """The engine did not answer within its deadline."""


class EngineCrashed(EngineError):
    """The engine process died while working on a position."""


class StoreError(ChessAppError):
    """The data directory or the SQLite file cannot be used."""


class SessionNotFound(StoreError, KeyError):
    """No saved session has that id."""


class NotYourSession(StoreError):
    """The session belongs to someone else (or to nobody): it may be read, not changed."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__("this session belongs to someone else, so it is read-only for you: "
                         "use \"Save a copy\" to make one of your own")


class StoreFull(StoreError):
    """A write did not fit: the disk is full or the store reached its size cap."""


class QueueFull(EngineError):
    """A visitor asked for more engine work than the per-visitor cap allows."""
