"""Big inputs for batch runs: compressed PGN streams, game filters, and skipped games.

A database is read game by game and never held whole: the file (or standard
input) is decompressed as a stream, decoded line by line, and cut into games
by :mod:`chessapp.games`' own pre-scan, so every per-game limit of
:func:`chessapp.games.iter_games` holds here too. Unlike ``iter_games``, a
broken game does not end the batch: it becomes a :class:`SkippedGame` (game
number, line, reason), the reader finds the start of the next game, and the
rest is read.

Compression is recognised by its magic bytes, not the file name, so ``-``
works for compressed standard input as well: gzip (``1f 8b``, RFC 1952),
bzip2 (``BZh``) and Zstandard (``28 b5 2f fd``, RFC 8878; lichess's monthly
dumps are ``.pgn.zst``).

Filters read the tags of the pre-scan, so a game that is filtered out is
never parsed (and a broken game that is filtered out is not reported).
"""

from __future__ import annotations

import bz2
import calendar
import datetime as dt
import enum
import gzip
import io
import logging
import re
import sys
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, cast

import chess.pgn

from chessapp.errors import BadInput
from chessapp.games import (
    _CONTROL,
    _LINES,
    _NOT_PGN,
    _TAG,
    MAX_PGN_BYTES,
    _Chunk,
    _parse,
    _Splitter,
)

log = logging.getLogger(__name__)

__all__ = [
    "Compression",
    "GameFilter",
    "GameRecord",
    "SkippedGame",
    "date_range",
    "iter_batch",
    "open_pgn_stream",
    "parse_filter_date",
    "write_errors",
]

# --- Opening a stream ----------------------------------------------------------------------


class Compression(enum.Enum):
    """How a PGN stream is packed, by its first bytes."""

    NONE = "none"
    GZIP = "gzip"
    BZIP2 = "bzip2"
    ZSTD = "zstd"


#: Magic numbers: gzip RFC 1952 section 2.3.1; bzip2 "BZh" + block size digit;
#: Zstandard frame magic 0xFD2FB528 little-endian, RFC 8878 section 3.1.1.
_MAGIC: tuple[tuple[bytes, Compression], ...] = (
    (b"\x1f\x8b", Compression.GZIP),
    (b"BZh", Compression.BZIP2),
    (b"\x28\xb5\x2f\xfd", Compression.ZSTD),
)
#: Zstandard window the reader accepts. The format allows up to 2 GiB (RFC 8878
#: 3.1.1.1.2); the library's default of 128 MiB refuses files written with
#: ``zstd --long=31``. Memory is only used if a frame asks for it.
ZSTD_MAX_WINDOW = 2**31


def detect_compression(head: bytes) -> Compression:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return Compression.NONE


def open_pgn_stream(source: str, stack: ExitStack) -> TextIO:
    """A text stream of the PGN in ``source`` (a path, or ``-`` for standard input).

    Compressed input is unpacked on the fly; the text is UTF-8 (a BOM is
    dropped, undecodable bytes become U+FFFD) with universal newlines, as the
    streaming ``--all`` reader has always read it. Everything opened is closed
    by ``stack``.
    """
    raw: io.BufferedReader
    if source == "-":
        raw = cast(io.BufferedReader, sys.stdin.buffer)
    else:
        path = Path(source)
        if path.is_dir():
            raise BadInput(f"{source} is not a file")
        try:
            raw = stack.enter_context(path.open("rb"))
        except OSError as exc:
            raise BadInput(f"cannot read {source}: {exc.strerror or exc}") from None
    kind = detect_compression(raw.peek(4)[:4])
    binary: io.BufferedIOBase
    if kind is Compression.GZIP:
        binary = gzip.GzipFile(fileobj=raw, mode="rb")
    elif kind is Compression.BZIP2:
        binary = bz2.BZ2File(raw, mode="rb")
    elif kind is Compression.ZSTD:
        import zstandard  # only needed for .zst input

        reader = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW).stream_reader(
            raw, read_across_frames=True, closefd=False)
        binary = io.BufferedReader(cast(io.RawIOBase, reader))
    else:
        binary = raw
    if binary is not raw:
        stack.callback(binary.close)
    log.info("reading %s (%s)", source, kind.value)
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline=None)
    if source == "-":
        stack.callback(text.detach)  # leave the process's stdin open
    else:
        stack.enter_context(text)
    return text


# --- Dates and filters ---------------------------------------------------------------------

_FILTER_DATE = re.compile(r"(\d{4})(?:[.\-/](\d{1,2})(?:[.\-/](\d{1,2}))?)?")
_PGN_DATE = re.compile(r"(\d{4}|\?{4})\.(\d{2}|\?{2})\.(\d{2}|\?{2})")


def _period(year: int, month: int | None, day: int | None) -> tuple[dt.date, dt.date]:
    if month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if day is None:
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day), dt.date(year, month, day)


def parse_filter_date(text: str) -> tuple[dt.date, dt.date]:
    """``2020``, ``2020.05`` or ``2020.05.17`` (also with ``-``): the first and last day meant."""
    match = _FILTER_DATE.fullmatch(text.strip())
    if match is None:
        raise BadInput(f"not a date: {text!r}; use YYYY, YYYY.MM or YYYY.MM.DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    try:
        return _period(year, month, day)
    except ValueError as exc:
        raise BadInput(f"not a date: {text!r} ({exc})") from None


def date_range(pgn_date: str) -> tuple[dt.date, dt.date] | None:
    """The days a PGN ``Date`` tag may mean: ``2020.??.??`` is all of 2020.

    ``None`` when the year is unknown or the tag is malformed. A known day
    under an unknown month (``2020.??.05``) is read as the whole year.
    """
    match = _PGN_DATE.fullmatch(pgn_date.strip())
    if match is None or match.group(1) == "????":
        return None
    year = int(match.group(1))
    month = None if match.group(2) == "??" else int(match.group(2))
    day = None if month is None or match.group(3) == "??" else int(match.group(3))
    try:
        return _period(year, month, day)
    except ValueError:
        return None


def _elo(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


@dataclass(frozen=True, slots=True)
class GameFilter:
    """Which games of a batch to analyse; an empty filter keeps every game.

    * ``player``: the White or Black tag equals it (case and spacing ignored).
    * ``since``/``until``: the game's date is *known* to lie in the period.
      A partial PGN date is the period it names (``2020.??.??`` is all of
      2020), so it passes only if that whole period does; a game without a
      year (``????.??.??``) never passes a date filter.
    * ``min_elo``: both WhiteElo and BlackElo are known and at least this.
    """

    player: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    min_elo: int | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise BadInput(f"--since {self.since} is after --until {self.until}")

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.player, self.since, self.until, self.min_elo))

    def matches(self, tags: Mapping[str, str]) -> bool:
        if self.player is not None and not any(
                _same_name(tags.get(side, ""), self.player) for side in ("White", "Black")):
            return False
        if self.since is not None or self.until is not None:
            period = date_range(tags.get("Date", "????.??.??"))
            if period is None:
                return False
            if self.since is not None and period[0] < self.since:
                return False
            if self.until is not None and period[1] > self.until:
                return False
        if self.min_elo is not None:
            ratings = [_elo(tags.get(f"{side}Elo")) for side in ("White", "Black")]
            if any(r is None or r < self.min_elo for r in ratings):
                return False
        return True


# --- The lenient reader ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GameRecord:
    """A game of the batch; ``number`` is its 1-based place in the input."""

    number: int
    game: chess.pgn.Game


@dataclass(frozen=True, slots=True)
class SkippedGame:
    """A broken game, left out of the batch. ``line`` is the input line, where known."""

    number: int
    line: int | None
    reason: str


class _Lines:
    """Lines of a text stream for the pre-scan, normalised as ``iter_games`` does,
    with one line of push-back and the last two lines remembered for resyncing."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending: deque[str] = deque()
        self.line_no = 0
        self.recent: deque[str] = deque(maxlen=2)
        #: The line number where the game being read began (its first non-blank line).
        self.game_start: int | None = None

    def mark(self) -> None:
        """A new game is about to be read."""
        self.game_start = None

    def readline(self) -> str:
        if self._pending:
            line = self._pending.popleft()
        else:
            line = self._stream.readline(MAX_PGN_BYTES + 1)
            if "\r" in line or "\ufeff" in line:
                text = line.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
                self._pending.extend(_LINES.findall(text))
                line = self._pending.popleft() if self._pending else ""
                if not line:  # the line was a lone BOM
                    return self.readline()
        if line:
            self.line_no += 1
            self.recent.append(line)
            if self.game_start is None and not line.isspace():
                self.game_start = self.line_no
        bad = _CONTROL.search(line)
        if bad is not None:
            raise BadInput(f"{_NOT_PGN}: control character U+{ord(bad.group()):04X}",
                           line=self.line_no)
        return line

    def push_back(self, line: str) -> None:
        self._pending.appendleft(line)
        self.line_no -= 1

    def skip_to_next_game(self) -> None:
        """Drop lines up to the next tag line that starts a game, and leave it unread.

        A tag line just read after movetext or a blank line (the error was
        "a tag pair inside the moves" or "a comment runs into the next game")
        already starts the next game, unless it is where the failed game began.
        """
        if len(self.recent) == 2 and self.game_start is not None \
                and self.line_no > self.game_start:
            before, last = self.recent
            if _TAG.match(last) and not before.startswith("["):
                self.push_back(last)
                return
        blank = False
        while True:
            line = self._stream.readline(MAX_PGN_BYTES + 1) if not self._pending \
                else self._pending.popleft()
            if not line:
                return
            line = line.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
            if blank and line.startswith("["):
                self._pending.appendleft(line)
                return
            self.line_no += 1
            blank = line.isspace()


def iter_batch(stream: TextIO, *, game_filter: GameFilter | None = None,
               max_games: int | None = None) -> Iterator[GameRecord | SkippedGame]:
    """Every game of ``stream`` that passes ``game_filter``, in input order, and the broken ones.

    At most ``max_games`` games are yielded (skipped games do not count).
    Raises :class:`BadInput` only if the input holds no game at all.
    """
    wanted = game_filter if game_filter is not None else GameFilter()
    lines = _Lines(stream)
    splitter = _Splitter(lines.readline)
    yielded = 0
    seen_any = False
    while max_games is None or yielded < max_games:
        games_before = splitter.games
        lines.mark()
        try:
            chunk: _Chunk | None = splitter._next()
        except BadInput as exc:
            seen_any = True
            if splitter.games == games_before:  # failed before the game's first line counted
                splitter.games += 1
            number = exc.game if exc.game is not None else splitter.games
            yield SkippedGame(number, exc.line, _reason(exc))
            lines.skip_to_next_game()
            splitter.line_no = lines.line_no
            continue
        if chunk is None:
            break
        seen_any = True
        if not wanted.matches({name: chunk.tag(name) for name in chunk.tags}):
            continue
        try:
            game = _parse(chunk)
        except BadInput as exc:
            yield SkippedGame(chunk.number, exc.line, _reason(exc))
            continue
        yielded += 1
        yield GameRecord(chunk.number, game)
    if not seen_any:
        raise BadInput("no game found")


def _reason(exc: BadInput) -> str:
    return exc.reason if exc.token is None else f"at {exc.token[:40]!r}: {exc.reason}"


def write_errors(path: str, skipped: list[SkippedGame]) -> None:
    """The ``--errors`` file: a header, then one tab-separated line per skipped game."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("game\tline\treason\n")
        for item in skipped:
            reason = " ".join(item.reason.split())  # one line per game, whatever the PGN held
            out.write(f"{item.number}\t{'' if item.line is None else item.line}\t{reason}\n")
