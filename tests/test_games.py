"""PGN and FEN in: exact error messages (game, line, token), encodings, limits, FEN checks."""

from __future__ import annotations

import io
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp import games
from chessapp.errors import BadInput, LimitExceeded
from chessapp.games import GameInfo

TAGS = '[Event "Café"]\n[White "Bronstein"]\n[Black "Regular"]\n'


def sans(game: chess.pgn.Game) -> list[str]:
    board = game.board()
    out = []
    for move in game.mainline_moves():
        out.append(board.san(move))
        board.push(move)
    return out


# --- Errors: the whole message, so game, line and token are all checked ----------------


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty", "", "no game found"),
        ("whitespace only", " \n\t\n\n", "no game found"),
        ("only escape and ; lines", "% exported by X\n; nothing\n", "no game found"),
        ("a comment is not a game", "{hello}\n",
         "game 1, line 1: not a game: no tags and no moves"),
        ("a bare result is not a game", "*\n",
         "game 1, line 1: not a game: no tags and no moves"),
        ("illegal move, first game", TAGS + "\n1. e4 e5 2. Ke3 *\n",
         "game 1, line 5, at 'Ke3': illegal move (White to play, move 2)"),
        ("not a move in game 3, line 20",
         (TAGS + "\n1. e4 e5 *\n\n") * 2 + TAGS + "\n1. e4 e5 2. Nf3 Nc6\n"
         "3. Bb5 a6 4. Ba4 Nf6\n5. O-O Be7\n6. Re1 b5 7. Bb3 d6 8. c3 O-O 9. h3 Na5 10. Nf9 *\n",
         "game 3, line 20, at 'Nf9': not a move, move number, annotation or result"),
        ("black's illegal move", TAGS + "\n1. e4 e5 2. Nf3 Ke3 *\n",
         "game 1, line 5, at 'Ke3': illegal move (Black to play, move 2)"),
        ("illegal move inside a variation", TAGS + "\n1. e4 e5 (1... Ke3) 2. Nf3 *\n",
         "game 1, line 5, at 'Ke3': illegal move (Black to play, move 1)"),
        ("ambiguous", '[FEN "R6R/8/8/4k3/8/8/8/4K3 w - - 0 1"]\n\n1. Rd8 *\n',
         "game 1, line 3, at 'Rd8': ambiguous move (White to play, move 1): more than one "
         "piece can go there"),
        ("after checkmate", "1. f3 e5 2. g4 Qh4# 3. a3 *\n",
         "game 1, line 1, at 'a3': a move after checkmate; the game is already over"),
        ("after stalemate", '[FEN "7k/5Q2/8/8/8/8/8/K7 w - - 0 1"]\n\n1. Qg6 Kg8 *\n',
         "game 1, line 3, at 'Kg8': a move after stalemate; the game is already over"),
        ("moves after the result", "1. e4 e5 1-0 2. Nf3 *\n",
         "game 1, line 1, at 'Nf3': moves after the result 1-0"),
        ("result tag disagrees", '[Result "1-0"]\n\n1. e4 0-1\n',
         "game 1, line 1, at '0-1': the Result tag says 1-0 but the moves end with 0-1"),
        ("bad result tag", '[Result "2-0"]\n\n1. e4 *\n',
         "game 1, line 1, at '2-0': the Result tag must be 1-0, 0-1, 1/2-1/2 or *"),
        ("malformed tag", '[Event "x"]\n[White Bronstein]\n\n1. e4 *\n',
         "game 1, line 2, at '[White Bronstein]': malformed tag pair; expected [Name \"value\"]"),
        ("tag inside moves", '[Event "a"]\n\n1. e4 *\n[Event "b"]\n\n1. d4 *\n',
         "game 1, line 4, at '[Event \"b\"]': a tag pair inside the moves (is a blank line "
         "missing before the next game?)"),
        ("unclosed comment", "1. e4 {never\n2. Nf3 Nc6 *\n",
         "game 1, line 1, at '{': the comment '{' opened on line 1 is never closed"),
        ("unclosed comment runs into the next game",
         '[Event "a"]\n\n1. e4 {oops *\n\n[Event "b"]\n\n1. d4 {ok} *\n',
         "game 1, line 3, at '{': the comment '{' opened on line 3 runs into the next game on "
         "line 5; is a '}' missing?"),
        ("stray }", "1. e4 } e5 *\n", "game 1, line 1, at '}': '}' without an opening '{'"),
        ("stray )", "1. e4 ) e5 *\n", "game 1, line 1, at ')': ')' without an opening '('"),
        ("( before any move", "( 1. e4 ) *\n",
         "game 1, line 1, at '(': a variation '(' before any move it could replace"),
        ("( right after (", "1. e4 (( 1. d4 ) ) *\n",
         "game 1, line 1, at '(': a variation '(' before any move it could replace"),
        ("variation open at the result", "1. e4 (1. d4\n*\n",
         "game 1, line 2, at '*': the game ends inside a variation: the variation '(' opened "
         "on line 1 is never closed"),
        ("variation open at the end", "1. e4 (1. d4\n",
         "game 1, line 1, at '(': the variation '(' opened on line 1 is never closed"),
        ("NAG out of range", "1. e4 $256 *\n",
         "game 1, line 1, at '$256': a NAG must be between $0 and $255"),
        ("SetUp without FEN", '[SetUp "1"]\n\n1. e4 *\n',
         "game 1, line 1, at 'SetUp': SetUp \"1\" without a FEN tag"),
        ("unsupported variant", '[Variant "Crazyhouse"]\n\n1. e4 *\n',
         "game 1, line 1, at 'Crazyhouse': the variant 'Crazyhouse' is not supported "
         "(standard chess and Chess960 are)"),
        ("unknown variant", '[Variant "Chess2"]\n\n1. e4 *\n',
         "game 1, line 1, at 'Chess2': the variant 'Chess2' is not supported "
         "(standard chess and Chess960 are)"),
        ("FEN tag names its line", '[Event "x"]\n[SetUp "1"]\n[FEN "8/8/8/8 w - - 0 1"]\n\n*\n',
         "game 1, line 3, at '8/8/8/8 w - - 0 1': FEN tag: bad FEN: 4 ranks; a board has 8"),
    ],
)
def test_bad_input_message(name: str, text: str, message: str) -> None:
    with pytest.raises(BadInput) as info:
        games.read_games(text)
    assert str(info.value) == message, name
    assert not isinstance(info.value, LimitExceeded), name


def test_error_fields_are_set() -> None:
    with pytest.raises(BadInput) as info:
        games.read_games('[Event "a"]\n\n1. e4 *\n\n[Event "b"]\n\n1. e4 e5\n2. Ke3 *\n')
    assert (info.value.game, info.value.line, info.value.token) == (2, 8, "Ke3")
    assert info.value.reason == "illegal move (White to play, move 2)"


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("main line plies", "1. Nf3 Nf6 2. Ng1 Ng8 " * (games.MAX_PLIES // 4 + 1),
         f"more than {games.MAX_PLIES:,} half-moves in the main line"),
        ("nesting", "1. e4 " + "(1. d4 " * (games.MAX_VARIATION_DEPTH + 1),
         f"variations nested deeper than {games.MAX_VARIATION_DEPTH}"),
        ("variations", "1. e4 " + "(1. d4) " * (games.MAX_VARIATIONS + 1),
         f"more than {games.MAX_VARIATIONS:,} variations"),
        ("comment", "1. e4 {" + "x" * (games.MAX_COMMENT_CHARS + 1) + "} *",
         f"a comment longer than {games.MAX_COMMENT_CHARS:,} characters"),
        ("token", "1. e4 " + "a" * (games.MAX_TOKEN_CHARS + 1),
         f"a token longer than {games.MAX_TOKEN_CHARS} characters"),
        ("tag value", '[Event "' + "x" * (games.MAX_TAG_CHARS + 1) + '"]\n\n*',
         f"the Event tag is longer than {games.MAX_TAG_CHARS:,} characters"),
        ("tags", "".join(f'[T{i} "x"]\n' for i in range(games.MAX_TAGS + 1)) + "\n*",
         f"more than {games.MAX_TAGS} tags"),
        ("moves per game", "1. e4 e5 " + "(1... c5 2. Nf3 d6 3. Nc3 Nf6 4. d4) " * 1700 + "*",
         f"more than {games.MAX_MOVES_PER_GAME:,} moves in one game"),
        ("text size", " " * (games.MAX_PGN_BYTES + 1), "the limit is 10,485,760"),
    ],
)
def test_limits(name: str, text: str, fragment: str) -> None:
    with pytest.raises(LimitExceeded) as info:
        games.read_games(text + "\n")
    assert fragment in str(info.value), name


def test_limit_on_games_and_moves_per_file() -> None:
    text = '[Event "x"]\n\n1. e4 *\n\n' * 11
    assert len(games.read_games(text, max_games=11)) == 11
    with pytest.raises(LimitExceeded, match=r"^game 11, line 41: more than 10 games in one file$"):
        games.read_games(text, max_games=10)
    game = "1. Nf3 Nf6 2. Ng1 Ng8 " * 249 + "*\n\n"  # 996 plies
    count = games.MAX_MOVES_PER_FILE // 996 + 1
    with pytest.raises(LimitExceeded, match="moves in one file"):
        games.read_games(game * count)


def test_an_accepted_limit_is_just_under() -> None:
    text = "1. e4 " + "(1. d4 " * games.MAX_VARIATION_DEPTH + ")" * games.MAX_VARIATION_DEPTH
    (game,) = games.read_games(text + " *\n")
    assert sans(game) == ["e4"]


# --- Good input ---------------------------------------------------------------------------


def test_a_game_with_everything() -> None:
    text = ('[Event "Café \\"Tarrasch\\""]\n[Site "C:\\\\games"]\n[White "Bronstein"]\n'
            '[Black "Regular"]\n[Result "1-0"]\n\n'
            "{Start} 1. e4! e5 $2 {a (comment) with ; inside} 2.Nf3 (2. Qh5 Nc6 (2... g6)) "
            "2...Nc6 ; a line comment (\n3. Bb5 +- a6?! 4. Bxc6 dxc6 1-0\n")
    (game,) = games.read_games(text)
    assert game.headers["Event"] == 'Café "Tarrasch"'
    assert game.headers["Site"] == "C:\\games"
    assert game.headers["Result"] == "1-0"
    assert game.comment == "Start"
    assert sans(game) == ["e4", "e5", "Nf3", "Nc6", "Bb5", "a6", "Bxc6", "dxc6"]
    e4, e5, nf3 = list(game.mainline())[:3]
    assert e4.nags == {chess.pgn.NAG_GOOD_MOVE} and e5.nags == {chess.pgn.NAG_MISTAKE}
    assert e5.comment == "a (comment) with ; inside"
    assert [v.san() for v in e5.variations] == ["Nf3", "Qh5"]
    assert [v.san() for v in e5.variations[1].variations] == ["Nc6", "g6"]
    assert nf3.next() is not None and nf3.next().nags == set()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("ascii", b"1. e4 *", "1. e4 *"),
        ("utf-8", "[White \"Réti\"]".encode(), "[White \"Réti\"]"),
        ("utf-8 with BOM", b"\xef\xbb\xbf" + "[White \"Réti\"]".encode(), "[White \"Réti\"]"),
        ("utf-16 LE BOM", "[White \"Réti\"]\r\n".encode("utf-16-le").join([b"\xff\xfe", b""]),
         "[White \"Réti\"]\n"),
        ("utf-16 BE BOM", b"\xfe\xff" + "[White \"Grünfeld\"]".encode("utf-16-be"),
         "[White \"Grünfeld\"]"),
        ("latin-1", "[White \"Réti\"]".encode("latin-1"), "[White \"Réti\"]"),
        ("windows-1252 quotes", b"{\x93quoted\x94}", "{\u201cquoted\u201d}"),
        ("CRLF", b"1. e4\r\n2. Nf3\r\n", "1. e4\n2. Nf3\n"),
        ("lone CR", b"1. e4\r2. Nf3\r", "1. e4\n2. Nf3\n"),
    ],
)
def test_decode(name: str, data: bytes, expected: str) -> None:
    assert games.decode_pgn(data) == expected, name


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("NUL", b"1. e4\x00", "this is not a PGN text file: it contains NUL bytes (binary "
                              "data, or UTF-16 without a byte order mark)"),
        ("control character", b"1. e4\n\x01", "this is not a PGN text file: control character "
                                              "U+0001 on line 2"),
        ("gzip", b"\x1f\x8b\x08\x00rest", "this is not a PGN text file: it is compressed; unpack "
                                          "it and upload the .pgn inside"),
        ("zip", b"PK\x03\x04rest", "this is not a PGN text file: it is compressed; unpack it "
                                   "and upload the .pgn inside"),
        ("bad UTF-16", b"\xff\xfe\x00\xd8", "this is not a PGN text file: it starts with a UTF-16 "
                                            "byte order mark but is not valid UTF-16 (byte 2)"),
    ],
)
def test_decode_refuses(name: str, data: bytes, message: str) -> None:
    with pytest.raises(BadInput) as info:
        games.decode_pgn(data)
    assert str(info.value) == message, name


def test_decode_refuses_too_many_bytes() -> None:
    with pytest.raises(LimitExceeded, match="the limit is 10,485,760"):
        games.decode_pgn(b" " * (games.MAX_PGN_BYTES + 1))


def test_crlf_text_reads_like_lf() -> None:
    lf = TAGS + "\n1. e4 {two\nlines} e5 *\n\n" + TAGS + "\n1. d4 *\n"
    a = games.read_games(lf)
    b = games.read_games(lf.replace("\n", "\r\n"))
    assert [str(g) for g in a] == [str(g) for g in b]
    assert len(a) == 2


SAMPLES = [
    "1. e4 e5 *",
    TAGS + "\n1. e4 *\n\n" + TAGS + "\n\n1. d4 *",  # the second game has two blank lines
    TAGS + "\n\n\n1. e4 *",  # headers, two blanks: python-chess makes that two games
    "; leading comment\n% escape\n" + TAGS + "% inside tags\n\n1. e4 {c\n\nstill c} e5 *\n\n1. d4",
    "1. e4 {\n\n} e5\n\n\n\n[Event \"x\"]\n1. d4 *",
    TAGS + "\n1. e4 ; comment {\n e5 *\n\n{pre} 1. c4 *",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_games_are_split_where_python_chess_splits_them(text: str) -> None:
    handle = io.StringIO(text)
    expected = []
    while (game := chess.pgn.read_game(handle)) is not None:
        expected.append(str(game))
    assert [str(g) for g in games.read_games(text)] == expected
    assert [str(g) for g in games.iter_games(io.StringIO(text))] == expected


def test_read_game_by_index_and_list_games() -> None:
    text = ('[Event "One"]\n[White "A"]\n[Black "B"]\n[Date "1913.05.01"]\n[Result "1-0"]\n\n'
            "1. e4 e5 (1... c5) 2. Qh5 1-0\n\n"
            '[Event "Two"]\n\n1. d4 d5 1/2-1/2\n\n'
            '[Event "Three \\"q\\""]\n\n1. c4 Ke3 *\n')
    assert games.list_games(text) == [
        GameInfo(1, "A", "B", "One", "1913.05.01", "1-0", 3),
        GameInfo(2, "?", "?", "Two", "????.??.??", "1/2-1/2", 2),
        GameInfo(3, "?", "?", 'Three "q"', "????.??.??", "*", 2),
    ]
    assert sans(games.read_game(text)) == ["e4", "e5", "Qh5"]
    assert sans(games.read_game(text, 1)) == ["d4", "d5"]
    with pytest.raises(BadInput, match=r"^game 3, line 15, at 'Ke3': illegal move"):
        games.read_game(text, 2)
    with pytest.raises(BadInput, match=r"^there is no game 4: the input holds 3$"):
        games.read_game(text, 3)
    with pytest.raises(BadInput, match="no game found"):
        games.read_game("\n\n")


def test_read_pgn_file(tmp_path: Path) -> None:
    path = tmp_path / "g.pgn"
    path.write_bytes('[White "Réti"]\n\n1. e4 *\n'.encode("latin-1"))
    (game,) = games.read_games(games.read_pgn_file(path))
    assert game.headers["White"] == "Réti"
    big = tmp_path / "big.pgn"
    with big.open("wb") as handle:
        handle.truncate(games.MAX_PGN_BYTES + 1)  # sparse: checked by size, never read
    with pytest.raises(LimitExceeded, match=r"^big.pgn is 10,485,761 bytes; the limit is "):
        games.read_pgn_file(big)
    with pytest.raises(BadInput, match=r"^cannot read nope\.pgn"):
        games.read_pgn_file(tmp_path / "nope.pgn")
    with pytest.raises(BadInput, match="is not a file"):
        games.read_pgn_file(tmp_path)


def test_iter_games_bounds_a_line_without_newline() -> None:
    stream = io.StringIO("1. e4 {" + "x" * (games.MAX_PGN_BYTES + 10))
    with pytest.raises(LimitExceeded, match="a line longer than 10,485,760 characters"):
        list(games.iter_games(stream))


def test_iter_games_empty_stream() -> None:
    with pytest.raises(BadInput, match=r"^no game found$"):
        list(games.iter_games(io.StringIO("")))


def test_validate_text_is_empty_for_good_input() -> None:
    assert games.validate_text(TAGS + "\n1. e4 *\n\n1. d4 *\n") == []
    assert [str(p) for p in games.validate_text("")] == ["no game found"]


# --- FEN -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fen", "message"),
    [
        ("empty", "  ", "empty FEN"),
        ("9 ranks", "8/8/8/8/8/8/8/8/8 w - - 0 1", "bad FEN: 9 ranks; a board has 8"),
        ("7 squares", "rnbqkbnr/ppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1",
         "bad FEN: rank 7 has 7 squares; a rank has 8"),
        ("bad piece", "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNX w - - 0 1",
         "bad FEN: 'X' on rank 1 is not a piece letter"),
        ("bad side", "4k3/8/8/8/8/8/8/4K3 x - - 0 1",
         "bad FEN: the side to move is 'x'; it must be 'w' or 'b'"),
        ("too many fields", "4k3/8/8/8/8/8/8/4K3 w - - 0 1 extra",
         "bad FEN: 7 fields; a FEN has at most 6"),
        ("bad castling field", "4k3/8/8/8/8/8/8/4K3 w XYZ - 0 1",
         "bad FEN: invalid castling part in fen: '4k3/8/8/8/8/8/8/4K3 w XYZ - 0 1'"),
        ("no kings", "8/8/8/8/8/8/8/8 w - - 0 1",
         "impossible position: White has no king; Black has no king"),
        ("two white kings", "4k3/8/8/8/8/8/8/3KK3 w - - 0 1",
         "impossible position: White has 2 kings"),
        ("side not to move in check", "4k3/8/8/8/8/8/4R3/4K3 w - - 0 1",
         "impossible position: the side not to move is in check"),
        ("impossible en passant", "4k3/8/8/8/8/8/8/4K3 w - e6 0 1",
         "impossible position: the en-passant square is impossible (no pawn can just have "
         "passed it)"),
        ("castling rights mismatch", "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQ1BNR w KQkq - 0 1",
         "impossible position: White has no king; the castling rights do not match the "
         "position (a king or rook is not on its start square)"),
        ("pawn on the back rank", "4k2P/8/8/8/8/8/8/4K3 w - - 0 1",
         "impossible position: a pawn stands on the first or last rank"),
        ("nine pawns", "4k3/8/8/8/8/8/PPPPPPPP/P3K3 w - - 0 1",
         "impossible position: White has more than 8 pawns; a pawn stands on the first or "
         "last rank"),
        ("triple check", "7k/8/8/8/1b6/3n4/4q3/4K3 w - - 0 1",
         "impossible position: the king is in check from more than two pieces; the check "
         "could not have arisen from a legal move"),
    ],
)
def test_board_from_fen_refuses(name: str, fen: str, message: str) -> None:
    with pytest.raises(BadInput) as info:
        games.board_from_fen(fen)
    assert info.value.reason == message, name


@pytest.mark.parametrize(
    ("name", "fen", "chess960"),
    [
        ("start", chess.STARTING_FEN, False),
        ("without counters", "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq e3", False),
        ("extra spaces", "  4k3/8/8/8/8/8/8/4K3   w - - 0 1 ", False),
        ("shredder castling is Chess960",
         "bqnbrkrn/pppppppp/8/8/8/8/PPPPPPPP/BQNBRKRN w GEge - 0 1", True),
    ],
)
def test_board_from_fen_accepts(name: str, fen: str, chess960: bool) -> None:
    board = games.board_from_fen(fen)
    assert board.is_valid() and board.chess960 == chess960, name


def test_chess960_hint() -> None:
    fen = "bqnbrkrn/pppppppp/8/8/8/8/PPPPPPPP/BQNBRKRN w KQkq - 0 1"
    with pytest.raises(BadInput, match=r'add \[Variant "Chess960"\]$'):
        games.board_from_fen(fen)
    assert games.board_from_fen(fen, chess960=True).castling_rights == chess.BB_G1 | chess.BB_E1 \
        | chess.BB_G8 | chess.BB_E8


def test_game_from_fen() -> None:
    fen = "4k3/8/8/8/8/8/4P3/4K3 w - - 0 1"
    game = games.game_from_fen(fen)
    assert game.headers["SetUp"] == "1" and game.headers["FEN"] == fen
    assert game.board().fen() == fen
    assert "FEN" not in games.game_from_fen(chess.STARTING_FEN).headers
    with pytest.raises(BadInput, match="no king"):
        games.game_from_fen("8/8/8/8/8/8/8/8 w - - 0 1")


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_iter_games_on_a_stream_that_keeps_carriage_returns(newline: str) -> None:
    text = "\ufeff" + TAGS + "\n1. e4 {a\nb} e5 *\n\n" + TAGS + "\n1. d4 Ke3 *\n"
    stream = io.StringIO(text.replace("\n", newline), newline="")
    loaded = games.iter_games(stream)
    assert str(next(loaded)) == str(games.read_games(text.split("\n\n[")[0])[0])
    with pytest.raises(BadInput, match=r"^game 2, line 12, at 'Ke3': illegal move"):
        next(loaded)
