"""PGN and FEN in: text or files to ``chess.pgn.Game`` objects, with precise errors.

python-chess's parser is forgiving by design: it never raises, it logs
problems into ``game.errors``, it silently stops a line at an illegal move,
it skips text it does not recognise, and it needs minutes and gigabytes on
deeply nested variations. This app takes files from strangers, so it reads
them in two steps:

1. A linear pre-scan (:class:`_Splitter`) cuts the text into games exactly
   where python-chess would, and checks every documented limit on the way:
   bytes, games, plies, moves, nesting, variations, comment and token length.
   It also rejects what python-chess would silently skip: unknown tokens,
   malformed tag pairs, unbalanced parentheses, an unclosed ``{``, moves
   after the result. It ignores parentheses inside ``{comments}`` and ``;``
   line comments, as the parser does. No game reaches python-chess before
   it passed this scan, so the parser's work is bounded.
2. python-chess parses each game with :class:`_Builder`, a ``GameBuilder``
   whose ``handle_error`` raises :class:`~chessapp.errors.BadInput` naming
   the game (1-based), the input line and the offending token, e.g.
   ``game 3, line 41, at 'Ke3': illegal move (White to play, move 2)``.

Chess960: a game with ``[Variant "Chess960"]`` (or a Shredder-FEN with
castling files such as ``HAha``) loads as a Chess960 game; python-chess and
Stockfish (``UCI_Chess960``) both support it. Other variants are rejected.

Every limit is a module constant below, so the README can cite it.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

import chess
import chess.pgn

from chessapp.errors import BadInput, LimitExceeded
from chessapp.settings import (
    MAX_COMMENT_CHARS,
    MAX_GAMES_PER_FILE,
    MAX_MOVES_PER_FILE,
    MAX_MOVES_PER_GAME,
    MAX_PGN_BYTES,
    MAX_PLIES,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TOKEN_CHARS,
    MAX_VARIATION_DEPTH,
    MAX_VARIATIONS,
)

log = logging.getLogger(__name__)

__all__ = [
    "MAX_COMMENT_CHARS",
    "MAX_GAMES_PER_FILE",
    "MAX_MOVES_PER_FILE",
    "MAX_MOVES_PER_GAME",
    "MAX_PGN_BYTES",
    "MAX_PLIES",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "MAX_TOKEN_CHARS",
    "MAX_VARIATIONS",
    "MAX_VARIATION_DEPTH",
    "GameInfo",
    "board_from_fen",
    "decode_pgn",
    "game_from_fen",
    "iter_games",
    "list_games",
    "read_game",
    "read_games",
    "read_pgn_file",
    "validate_text",
]

# Limits live in chessapp.settings (one home for every limit); re-exported here
# because every reader of this module checks against them.


# --- Decoding ------------------------------------------------------------------------

_NOT_PGN = "this is not a PGN text file"
# C0 controls other than tab, newline, vertical tab, form feed and carriage
# return, DEL, and the C1 controls a Latin-1 decode of binary data produces.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_LINES = re.compile(r"[^\n]*\n|[^\n]+")


def decode_pgn(data: bytes) -> str:
    """Bytes of an uploaded file to text with ``\\n`` line ends.

    UTF-8 with or without a BOM, UTF-16/UTF-32 with a BOM; anything else
    that is not UTF-8 is read as Windows-1252 (a superset of Latin-1 in
    practice), then Latin-1. NUL bytes, control characters and compressed
    files are refused as "not a PGN text file".
    """
    if len(data) > MAX_PGN_BYTES:
        raise LimitExceeded(f"the input is {len(data):,} bytes; the limit is {MAX_PGN_BYTES:,}")
    if data.startswith(b"\x1f\x8b") or data.startswith(b"PK\x03\x04") or data.startswith(b"BZh"):
        raise BadInput(f"{_NOT_PGN}: it is compressed; unpack it and upload the .pgn inside")
    text: str | None = None
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                       (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                       (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise BadInput(f"{_NOT_PGN}: it starts with a {codec.upper()} byte order mark "
                               f"but is not valid {codec.upper()} (byte {exc.start})") from None
            break
    if text is None:
        if b"\x00" in data:
            raise BadInput(f"{_NOT_PGN}: it contains NUL bytes (binary data, or UTF-16 "
                           "without a byte order mark)")
        for codec in ("utf-8", "cp1252", "latin-1"):
            try:
                text = data.decode(codec)
                break
            except UnicodeDecodeError:
                continue
        assert text is not None  # latin-1 decodes every byte
    return _normalise(text)


def _normalise(text: str) -> str:
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise BadInput(f"{_NOT_PGN}: control character U+{ord(bad.group()):04X} on line {line}")
    return text


# --- FEN -------------------------------------------------------------------------------

_STATUS_WORDS: tuple[tuple[chess.Status, str], ...] = (
    (chess.STATUS_TOO_MANY_WHITE_PAWNS, "White has more than 8 pawns"),
    (chess.STATUS_TOO_MANY_BLACK_PAWNS, "Black has more than 8 pawns"),
    (chess.STATUS_PAWNS_ON_BACKRANK, "a pawn stands on the first or last rank"),
    (chess.STATUS_TOO_MANY_WHITE_PIECES, "White has more than 16 pieces"),
    (chess.STATUS_TOO_MANY_BLACK_PIECES, "Black has more than 16 pieces"),
    (chess.STATUS_BAD_CASTLING_RIGHTS,
     "the castling rights do not match the position (a king or rook is not on its "
     "start square)"),
    (chess.STATUS_INVALID_EP_SQUARE,
     "the en-passant square is impossible (no pawn can just have passed it)"),
    (chess.STATUS_OPPOSITE_CHECK, "the side not to move is in check"),
    (chess.STATUS_TOO_MANY_CHECKERS, "the king is in check from more than two pieces"),
    (chess.STATUS_IMPOSSIBLE_CHECK, "the check could not have arisen from a legal move"),
)
_FEN_PIECES = frozenset("pnbrqkPNBRQK")
_SHREDDER_CASTLING = re.compile(r"[A-Ha-h]")


def _describe_status(board: chess.Board) -> list[str]:
    words = []
    for color, name in ((chess.WHITE, "White"), (chess.BLACK, "Black")):
        kings = len(board.pieces(chess.KING, color))
        if kings == 0:
            words.append(f"{name} has no king")
        elif kings > 1:
            words.append(f"{name} has {kings} kings")
    status = board.status()
    words += [text for flag, text in _STATUS_WORDS if status & flag]
    if not words and status:
        words.append(f"python-chess status {int(status):#x}")
    return words


def board_from_fen(fen: str, *, chess960: bool | None = None) -> chess.Board:
    """A strictly valid position from a FEN, or :class:`BadInput` saying what is wrong.

    ``chess960=None`` reads castling files (Shredder-FEN, ``HAha``) as
    Chess960; ``True`` forces Chess960 castling (X-FEN ``KQkq`` then means
    the outermost rooks).
    """
    text = " ".join(fen.split())
    if not text:
        raise BadInput("empty FEN")
    if len(text) > 120:
        raise BadInput("a FEN is at most about 90 characters; this is not a FEN",
                       token=text[:40])
    parts = text.split(" ")
    if len(parts) > 6:
        raise BadInput(f"bad FEN: {len(parts)} fields; a FEN has at most 6", token=text)
    ranks = parts[0].split("/")
    if len(ranks) != 8:
        raise BadInput(f"bad FEN: {len(ranks)} ranks; a board has 8", token=text)
    for number, rank in zip(range(8, 0, -1), ranks, strict=True):
        squares = 0
        for char in rank:
            if char in "12345678":
                squares += int(char)
            elif char in _FEN_PIECES:
                squares += 1
            else:
                raise BadInput(f"bad FEN: {char!r} on rank {number} is not a piece letter",
                               token=text)
        if squares != 8:
            raise BadInput(f"bad FEN: rank {number} has {squares} squares; a rank has 8",
                           token=text)
    if len(parts) > 1 and parts[1] not in ("w", "b"):
        raise BadInput(f"bad FEN: the side to move is {parts[1]!r}; it must be 'w' or 'b'",
                       token=text)
    if chess960 is None:
        chess960 = len(parts) > 2 and bool(_SHREDDER_CASTLING.search(parts[2]))
    try:
        board = chess.Board(text, chess960=chess960)
    except ValueError as exc:
        raise BadInput(f"bad FEN: {exc}", token=text) from None
    problems = _describe_status(board)
    if (problems and not chess960 and board.status() & chess.STATUS_BAD_CASTLING_RIGHTS
            and chess.Board(text, chess960=True).is_valid()):
        problems.append('for a Chess960 start, add [Variant "Chess960"]')
    if problems:
        raise BadInput("impossible position: " + "; ".join(problems), token=text)
    return board


def game_from_fen(fen: str) -> chess.pgn.Game:
    """A game without moves that starts from ``fen`` (``SetUp``/``FEN`` tags set)."""
    game = chess.pgn.Game()
    game.setup(board_from_fen(fen))
    return game


# --- The pre-scan ------------------------------------------------------------------------

#: python-chess's tag regex (chess.pgn.TAG_REGEX), so we split tags as it does.
_TAG = re.compile(r"^\[([A-Za-z0-9][A-Za-z0-9_+#=:-]*)\s+\"([^\r]*)\"\]\s*$")
_TAG_UNESCAPE = re.compile(r"\\([\"\\])")
#: One movetext token: whitespace, a delimiter, or a word up to the next delimiter.
_TOKEN = re.compile(r"\s+|[{};()]|[^\s{};()]+")
#: python-chess's move pattern (chess.pgn.MOVETEXT_REGEX, first group), so a
#: word we accept is one move token for the parser too.
_SAN = (r"(?:[NBKRQ]?[a-h]?[1-8]?[\-x]?[a-h][1-8](?:=?[nbrqkNBRQK])?"
        r"|P[a-h]?[1-8]?[\-x]?[a-h][1-8](?:=?[nbrqkNBRQK])?"
        r"|--|Z0|0000|@@@@|O-O(?:-O)?|0-0(?:-0)?)")
_MOVE_WORD = re.compile(rf"(?:\d+\.+)?(?P<san>{_SAN})[+#]{{0,2}}(?:[!?]{{1,2}})?")
_NAG_WORD = re.compile(r"\$(?P<nag>[0-9]+)")
_OTHER_WORD = re.compile(r"\d+\.*|\.\.\.|…|[!?]{1,2}")
#: Evaluation symbols and the like that python-chess skips silently; we accept
#: them (and they are lost on export), rather than refusing common files.
_SYMBOLS = frozenset({
    "+-", "-+", "+/-", "-/+", "+=", "=+", "=", "+/=", "=/+", "~", "=/~", "N", "D", "TN",
    "e.p.", "ep", "±", "∓", "⩲", "⩱", "∞", "□", "∆", "⨀", "○", "⇆", "⇄", "↑", "→", "⊥",
})
_RESULTS = frozenset({"1-0", "0-1", "1/2-1/2", "*"})
_LBRACE, _LPAREN, _SETUP = "{", "(", "SetUp"


@dataclass
class _Chunk:
    """One game's lines, exactly as python-chess's ``read_game`` would consume them."""

    number: int
    first_line: int
    lines: list[str] = field(default_factory=list)
    tags: dict[str, tuple[str, int]] = field(default_factory=dict)
    plies: int = 0
    moves: int = 0
    result: str | None = None
    size: int = 0

    def tag(self, name: str, default: str = "?") -> str:
        found = self.tags.get(name)
        return default if found is None else _TAG_UNESCAPE.sub(r"\1", found[0])


class _Splitter:
    """Cut PGN text into games where python-chess would, checking limits as it goes.

    It mirrors the line loop of ``chess.pgn.read_game`` (python-chess 1.11):
    leading blank/``%``/``;`` lines, the tag section (one blank line allowed
    inside it), then movetext until a blank line outside a comment. It is
    linear in the input and keeps at most one game in memory.
    """

    def __init__(self, readline: Callable[[], str]) -> None:
        self._readline = readline
        self.line_no = 0
        self.games = 0

    def _read(self, chunk: _Chunk | None) -> str:
        line = self._readline()
        if line and not line.endswith("\n") and len(line) > MAX_PGN_BYTES:
            raise LimitExceeded(f"a line longer than {MAX_PGN_BYTES:,} characters",
                                game=self.games + 1, line=self.line_no + 1)
        if line:
            self.line_no += 1
            if chunk is not None:
                chunk.lines.append(line)
                chunk.size += len(line)
                if chunk.size > MAX_PGN_BYTES:
                    raise LimitExceeded(f"a game longer than {MAX_PGN_BYTES:,} characters",
                                        game=chunk.number, line=self.line_no)
        return line

    def __iter__(self) -> Iterator[_Chunk]:
        while True:
            chunk = self._next()
            if chunk is None:
                return
            yield chunk

    def _next(self) -> _Chunk | None:
        line = self._read(None)
        while line.isspace() or line.startswith(("%", ";")):
            line = self._read(None)
        if not line:
            return None
        self.games += 1
        chunk = _Chunk(number=self.games, first_line=self.line_no, lines=[line], size=len(line))
        blank = 0
        while line:
            if line.startswith(("%", ";")):
                line = self._read(chunk)
                continue
            if blank < 1 and line.isspace():
                blank += 1
                line = self._read(chunk)
                continue
            if not line.startswith("["):
                break
            blank = 0
            self._tag(chunk, line)
            line = self._read(chunk)
        self._movetext(chunk, line)
        if not chunk.tags and chunk.moves == 0:
            raise BadInput("not a game: no tags and no moves", game=chunk.number,
                           line=chunk.first_line)
        if chunk.result is not None and "Result" in chunk.tags:
            tagged, tag_line = chunk.tags["Result"]
            if tagged != "*" and chunk.result != "*" and tagged != chunk.result:
                raise BadInput(f"the Result tag says {tagged} but the moves end with "
                               f"{chunk.result}", game=chunk.number, line=tag_line,
                               token=chunk.result)
        return chunk

    def _tag(self, chunk: _Chunk, line: str) -> None:
        match = _TAG.match(line)
        if match is None:
            raise BadInput('malformed tag pair; expected [Name "value"]', game=chunk.number,
                           line=self.line_no, token=line.strip())
        name, value = match.group(1), match.group(2)
        if len(value) > MAX_TAG_CHARS:
            raise LimitExceeded(f"the {name[:20]} tag is longer than {MAX_TAG_CHARS:,} "
                                "characters", game=chunk.number, line=self.line_no)
        if name not in chunk.tags and len(chunk.tags) >= MAX_TAGS:
            raise LimitExceeded(f"more than {MAX_TAGS} tags", game=chunk.number,
                                line=self.line_no, token=name)
        if name == "Result" and value not in _RESULTS:
            raise BadInput("the Result tag must be 1-0, 0-1, 1/2-1/2 or *", game=chunk.number,
                           line=self.line_no, token=value)
        chunk.tags[name] = (value, self.line_no)

    def _movetext(self, chunk: _Chunk, line: str) -> None:
        # Per open variation: moves seen in it so far (index 0 is the main line).
        levels = [0]
        variations = 0
        open_lines: list[int] = []
        fresh = True
        pos = 0
        while line:
            if fresh:
                if line.startswith(("%", ";")):
                    line = self._read(chunk)
                    continue
                if line.isspace():
                    break
                if line.startswith("["):
                    raise BadInput("a tag pair inside the moves (is a blank line missing "
                                   "before the next game?)", game=chunk.number,
                                   line=self.line_no, token=line.strip())
            fresh = True
            while pos < len(line):
                match = _TOKEN.match(line, pos)
                assert match is not None  # the pattern matches any character
                tok = match.group()
                start, pos = pos, match.end()
                if tok.isspace():
                    continue
                if tok == "{":
                    line, pos = self._comment(chunk, line, start)
                    continue
                if tok == ";":
                    break
                if tok == "}":
                    raise BadInput("'}' without an opening '{'", game=chunk.number,
                                   line=self.line_no, token=tok)
                if tok == "(":
                    if chunk.result is not None:
                        self._after_result(chunk, tok)
                    if levels[-1] == 0:
                        raise BadInput("a variation '(' before any move it could replace",
                                       game=chunk.number, line=self.line_no, token=tok)
                    if len(levels) > MAX_VARIATION_DEPTH:
                        raise LimitExceeded(f"variations nested deeper than "
                                            f"{MAX_VARIATION_DEPTH}", game=chunk.number,
                                            line=self.line_no, token=tok)
                    variations += 1
                    if variations > MAX_VARIATIONS:
                        raise LimitExceeded(f"more than {MAX_VARIATIONS:,} variations",
                                            game=chunk.number, line=self.line_no, token=tok)
                    levels.append(0)
                    open_lines.append(self.line_no)
                    continue
                if tok == ")":
                    if len(levels) == 1:
                        raise BadInput("')' without an opening '('", game=chunk.number,
                                       line=self.line_no, token=tok)
                    levels.pop()
                    open_lines.pop()
                    continue
                if tok in _RESULTS and open_lines:
                    raise BadInput(f"the game ends inside a variation: the variation '(' "
                                   f"opened on line {open_lines[-1]} is never closed",
                                   game=chunk.number, line=self.line_no, token=tok)
                self._word(chunk, tok, levels)
            line = self._read(chunk)
            pos = 0
        if open_lines:
            raise BadInput(f"the variation '(' opened on line {open_lines[-1]} is never "
                           "closed", game=chunk.number, line=open_lines[-1], token=_LPAREN)

    def _comment(self, chunk: _Chunk, line: str, start: int) -> tuple[str, int]:
        """Skip a ``{comment}`` starting at ``line[start]``; return where scanning resumes."""
        opened = self.line_no
        end = line.find("}", start + 1)
        length = (end if end >= 0 else len(line)) - start - 1
        blank = False
        while end < 0:
            if length > MAX_COMMENT_CHARS:
                break
            line = self._read(chunk)
            if not line:
                raise BadInput(f"the comment '{{' opened on line {opened} is never closed",
                               game=chunk.number, line=opened, token=_LBRACE)
            end = line.find("}")
            if end < 0 and blank and _TAG.match(line):
                raise BadInput(f"the comment '{{' opened on line {opened} runs into the "
                               f"next game on line {self.line_no}; is a '}}' missing?",
                               game=chunk.number, line=opened, token=_LBRACE)
            blank = line.isspace()
            length += end if end >= 0 else len(line)
        if length > MAX_COMMENT_CHARS:
            raise LimitExceeded(f"a comment longer than {MAX_COMMENT_CHARS:,} characters",
                                game=chunk.number, line=opened, token=_LBRACE)
        return line, end + 1

    def _after_result(self, chunk: _Chunk, token: str) -> None:
        raise BadInput(f"moves after the result {chunk.result}", game=chunk.number,
                       line=self.line_no, token=token)

    def _word(self, chunk: _Chunk, token: str, levels: list[int]) -> None:
        if len(token) > MAX_TOKEN_CHARS:
            raise LimitExceeded(f"a token longer than {MAX_TOKEN_CHARS} characters",
                                game=chunk.number, line=self.line_no, token=token)
        if token in _RESULTS:
            if chunk.result is None:
                chunk.result = token
            return
        if _MOVE_WORD.fullmatch(token):
            if chunk.result is not None and len(levels) == 1:
                self._after_result(chunk, token)
            levels[-1] += 1
            chunk.moves += 1
            if chunk.moves > MAX_MOVES_PER_GAME:
                raise LimitExceeded(f"more than {MAX_MOVES_PER_GAME:,} moves in one game "
                                    "(variations included)", game=chunk.number,
                                    line=self.line_no, token=token)
            if len(levels) == 1:
                chunk.plies += 1
                if chunk.plies > MAX_PLIES:
                    raise LimitExceeded(f"more than {MAX_PLIES:,} half-moves in the main line",
                                        game=chunk.number, line=self.line_no, token=token)
            return
        nag = _NAG_WORD.fullmatch(token)
        if nag is not None:
            if int(nag.group("nag")) > 255:
                raise BadInput("a NAG must be between $0 and $255", game=chunk.number,
                               line=self.line_no, token=token)
            return
        if _OTHER_WORD.fullmatch(token) or token in _SYMBOLS:
            return
        raise BadInput("not a move, move number, annotation or result", game=chunk.number,
                       line=self.line_no, token=token)


def _chunks(text: str) -> _Splitter:
    return _Splitter(io.StringIO(text).readline)


def _check_text(text: str) -> str:
    if len(text) > MAX_PGN_BYTES:
        raise LimitExceeded(f"the input is {len(text):,} characters; the limit is "
                            f"{MAX_PGN_BYTES:,}")
    return _normalise(text)


# --- Parsing one game ----------------------------------------------------------------------


class _LineReader(io.StringIO):
    """A StringIO that knows the input line number of the last line it handed out."""

    def __init__(self, text: str, first_line: int) -> None:
        super().__init__(text)
        self.line_no = first_line - 1

    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
        line = super().readline(size)
        if line:
            self.line_no += 1
        return line


class _Builder(chess.pgn.GameBuilder[chess.pgn.Game]):
    """python-chess's GameBuilder, raising :class:`BadInput` instead of logging errors."""

    def __init__(self, chunk: _Chunk, reader: _LineReader) -> None:
        super().__init__()
        self._chunk = chunk
        self._reader = reader
        self._board: chess.Board | None = None
        self._san: str | None = None

    def visit_header(self, tagname: str, tagvalue: str) -> None:
        # PGN escapes '"' and '\' in tag values with a backslash; python-chess keeps them.
        super().visit_header(tagname, _TAG_UNESCAPE.sub(r"\1", tagvalue))

    def end_headers(self) -> None:
        headers = self.game.headers
        number = self._chunk.number

        def where(tag: str) -> int:
            return self._chunk.tags.get(tag, ("", self._chunk.first_line))[1]

        variant = headers.get("Variant")
        if variant is not None:
            try:
                board_type = headers.variant()
            except ValueError:
                board_type = None
            if board_type is not chess.Board:
                raise BadInput(f"the variant {variant!r} is not supported (standard chess and "
                               "Chess960 are)", game=number, line=where("Variant"),
                               token=variant)
        fen = headers.get("FEN")
        if fen is None:
            if headers.get("SetUp") == "1":
                raise BadInput('SetUp "1" without a FEN tag', game=number, line=where("SetUp"),
                               token=_SETUP)
            return  # Chess960 without a FEN starts from the standard array (position 518)
        try:
            board_from_fen(fen, chess960=True if headers.is_chess960() else None)
        except BadInput as exc:
            raise BadInput(f"FEN tag: {exc.reason}", game=number, line=where("FEN"),
                           token=fen) from None

    def begin_parse_san(self, board: chess.Board, san: str) -> None:
        self._board, self._san = board, san

    def handle_error(self, error: Exception) -> None:
        board, san = self._board, self._san
        line = self._reader.line_no
        if board is None or san is None:
            raise BadInput(f"cannot read this game: {error}", game=self._chunk.number,
                           line=line) from error
        side = "White" if board.turn == chess.WHITE else "Black"
        if board.is_checkmate():
            reason = "a move after checkmate; the game is already over"
        elif board.is_stalemate():
            reason = "a move after stalemate; the game is already over"
        elif isinstance(error, chess.AmbiguousMoveError):
            reason = f"ambiguous move ({side} to play, move {board.fullmove_number}): " \
                     "more than one piece can go there"
        elif isinstance(error, chess.IllegalMoveError):
            reason = f"illegal move ({side} to play, move {board.fullmove_number})"
        else:
            reason = f"not a valid move ({side} to play, move {board.fullmove_number})"
        raise BadInput(reason, game=self._chunk.number, line=line, token=san) from error


def _parse(chunk: _Chunk) -> chess.pgn.Game:
    reader = _LineReader("".join(chunk.lines), chunk.first_line)
    try:
        game = chess.pgn.read_game(reader, Visitor=lambda: _Builder(chunk, reader))
    except BadInput:
        raise
    except Exception as exc:  # python-chess raises odd errors on some garbage
        log.exception("python-chess failed on game %d", chunk.number)
        raise BadInput(f"cannot read this game ({type(exc).__name__})", game=chunk.number,
                       line=reader.line_no) from exc
    rest = reader.read()
    if game is None or (rest and not rest.isspace()):
        # The pre-scan and python-chess disagree about where the game ends.
        log.error("game %d: split mismatch (rest %r)", chunk.number, rest[:80])
        raise BadInput("cannot tell where this game ends", game=chunk.number,
                       line=chunk.first_line)
    if game.errors:  # handle_error raises, so this is only a guard
        raise BadInput(f"cannot read this game: {game.errors[0]}", game=chunk.number)
    return game


# --- Public readers ---------------------------------------------------------------------------


def _within_file_limits(chunks: Iterable[_Chunk], max_games: int) -> Iterator[_Chunk]:
    """The chunks, raising :class:`LimitExceeded` once the file has too many games or moves."""
    moves = 0
    for chunk in chunks:
        if chunk.number > max_games:
            raise LimitExceeded(f"more than {max_games:,} games in one file",
                                game=chunk.number, line=chunk.first_line)
        moves += chunk.moves
        if moves > MAX_MOVES_PER_FILE:
            raise LimitExceeded(f"more than {MAX_MOVES_PER_FILE:,} moves in one file",
                                game=chunk.number, line=chunk.first_line)
        yield chunk


def _scan_all(text: str, max_games: int) -> list[_Chunk]:
    chunks = list(_within_file_limits(_chunks(text), max_games))
    if not chunks:
        raise BadInput("no game found")
    return chunks


def read_games(text: str, *, max_games: int = MAX_GAMES_PER_FILE) -> list[chess.pgn.Game]:
    """Every game in ``text``, or :class:`BadInput` for the first problem.

    The whole text is pre-scanned (limits, structure) before any game is parsed.
    """
    chunks = _scan_all(_check_text(text), max_games)
    return [_parse(chunk) for chunk in chunks]


def read_game(text: str, index: int = 0) -> chess.pgn.Game:
    """The game at 0-based ``index`` (``GameInfo.index - 1``); earlier games are only scanned."""
    if index < 0:
        raise BadInput(f"there is no game {index + 1}")
    seen = 0
    for chunk in _chunks(_check_text(text)):
        seen = chunk.number
        if chunk.number == index + 1:
            return _parse(chunk)
    if seen == 0:
        raise BadInput("no game found")
    raise BadInput(f"there is no game {index + 1}: the input holds {seen}")


def iter_games(stream: TextIO) -> Iterator[chess.pgn.Game]:
    """Games one by one from a text stream, holding one game in memory at a time.

    For batch runs over big files: no limit on the number of games, every
    per-game limit still applies. Raises :class:`BadInput` at the first bad
    game (after yielding the good ones before it).
    """
    pending: deque[str] = deque()

    def readline() -> str:
        if pending:
            return pending.popleft()
        line = stream.readline(MAX_PGN_BYTES + 1)
        if "\r" in line or "\ufeff" in line:
            # A stream opened with newline="" keeps CR; split as decode_pgn would.
            text = line.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
            pending.extend(_LINES.findall(text))
            line = pending.popleft() if pending else ""
            if not line:  # the line was a lone BOM
                return readline()
        bad = _CONTROL.search(line)
        if bad is not None:
            raise BadInput(f"{_NOT_PGN}: control character U+{ord(bad.group()):04X}",
                           line=splitter.line_no + 1)
        return line

    splitter = _Splitter(readline)
    found = False
    for chunk in splitter:
        found = True
        yield _parse(chunk)
    if not found:
        raise BadInput("no game found")


def read_pgn_file(source: str | os.PathLike[str], *, stdin: BinaryIO | None = None) -> str:
    """A PGN file's text (``-`` reads ``stdin``), its size checked before it is read."""
    if str(source) == "-":
        if stdin is None:
            raise BadInput("no standard input to read")
        data = stdin.read(MAX_PGN_BYTES + 1)
        if len(data) > MAX_PGN_BYTES:
            raise LimitExceeded(f"the input is larger than {MAX_PGN_BYTES:,} bytes")
        return decode_pgn(data)
    path = Path(source)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise BadInput(f"{path.name} is not a file")
        if size > MAX_PGN_BYTES:
            raise LimitExceeded(f"{path.name} is {size:,} bytes; the limit is {MAX_PGN_BYTES:,}")
        with path.open("rb") as handle:
            data = handle.read(MAX_PGN_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"cannot read {path.name}: {exc.strerror or exc}") from None
    return decode_pgn(data)


@dataclass(frozen=True, slots=True)
class GameInfo:
    """One line of the game picker; ``index`` is 1-based."""

    index: int
    white: str
    black: str
    event: str
    date: str
    result: str
    plies: int


def list_games(text: str) -> list[GameInfo]:
    """The games in ``text``, from the pre-scan only (fast; moves are not replayed).

    Structure and limits are checked; whether each move is legal is checked
    when the game is read with :func:`read_game`.
    """
    return [
        GameInfo(index=c.number, white=c.tag("White"), black=c.tag("Black"),
                 event=c.tag("Event"), date=c.tag("Date", "????.??.??"),
                 result=_result(c), plies=c.plies)
        for c in _scan_all(_check_text(text), MAX_GAMES_PER_FILE)
    ]


def _result(chunk: _Chunk) -> str:
    tagged = chunk.tag("Result", "*")
    return tagged if tagged != "*" else (chunk.result or "*")


def validate_text(text: str) -> list[BadInput]:
    """Every problem in ``text``: one per bad game, and the structural error that stops the scan.

    An empty list means :func:`read_games` will succeed.
    """
    problems: list[BadInput] = []
    try:
        splitter = _chunks(_check_text(text))
        for chunk in _within_file_limits(splitter, MAX_GAMES_PER_FILE):
            try:
                _parse(chunk)
            except BadInput as exc:
                problems.append(exc)
        if splitter.games == 0:
            problems.append(BadInput("no game found"))
    except BadInput as exc:
        problems.append(exc)
    return problems
