"""Property tests: the loader only ever raises BadInput; random games survive export and import."""

from __future__ import annotations

import io

import chess
import chess.pgn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chessapp import export, games
from chessapp.errors import BadInput

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

#: Bytes that look a little like PGN, so the scanner's deeper paths are reached too.
PGN_ALPHABET = [*b'[]{}()";%$!?*.-/=+#\n\r\t 0123456789abcdefghNBRQKOxPZ@\\',
                0xEF, 0xBB, 0xBF, 0xFF, 0xFE, 0x00]
pgnish_bytes = st.lists(st.sampled_from(PGN_ALPHABET), max_size=300).map(bytes)
FRAGMENTS = ['[Event "x"]\n', '[FEN "8/8/8/8/8/8/8/8 w - - 0 1"]\n', '[SetUp "1"]\n', "\n",
             "1. ", "e4 ", "e5 ", "Nf3 ", "Nc6 ", "Ke3 ", "(", ")", "{", "}", "; c\n", "% x\n",
             "1-0", "*", "$1 ", "O-O ", "2... ", "\r\n", "\ufeff"]
pgnish_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


def load(data: bytes) -> list[chess.pgn.Game]:
    return games.read_games(games.decode_pgn(data))


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_bad_input(data: bytes) -> None:
    try:
        loaded = load(data)
    except BadInput as exc:
        assert str(exc)
    else:
        assert loaded and all(not g.errors for g in loaded)


@SETTINGS
@given(pgnish_bytes)
def test_pgn_like_bytes_raise_only_bad_input(data: bytes) -> None:
    try:
        loaded = load(data)
    except BadInput as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert loaded and all(not g.errors for g in loaded)


@SETTINGS
@given(pgnish_text)
def test_accepted_text_splits_and_parses_as_python_chess_does(text: str) -> None:
    try:
        loaded = games.read_games(text)
    except BadInput:
        return
    handle = io.StringIO(games.decode_pgn(text.encode()))
    expected = []
    while (game := chess.pgn.read_game(handle)) is not None:
        expected.append(str(game))
    assert [str(g) for g in loaded] == expected
    assert len(games.list_games(text)) == len(loaded)


comment_text = st.lists(
    st.sampled_from([*"ab {}()\"'\\<>/&;%[]\n\t!?éß", "<script>", "</b>", "[%x]"]),
    max_size=20).map("".join)
# Move-assessment NAGs and a few positional ones; $0 is "no annotation" and is dropped.
nag_sets = st.sets(st.integers(min_value=1, max_value=255), max_size=3)


@st.composite
def random_games(draw: st.DrawFn) -> chess.pgn.Game:
    game = chess.pgn.Game()
    game.headers["White"] = draw(st.text(max_size=20))
    game.comment = draw(comment_text)
    board = chess.Board()
    node: chess.pgn.GameNode = game
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        moves = list(board.legal_moves)
        if not moves:
            break
        move = moves[draw(st.integers(min_value=0, max_value=len(moves) - 1))]
        node = node.add_variation(move, comment=draw(comment_text), nags=draw(nag_sets))
        board.push(move)
    outcome = board.outcome(claim_draw=False)
    game.headers["Result"] = outcome.result() if outcome else "*"
    return game


def comparable(text: str) -> str:
    return export.clean_comment(text)


@SETTINGS
@given(random_games())
def test_random_legal_games_survive_export_and_import(game: chess.pgn.Game) -> None:
    text = export.export_pgn(game)
    back = games.read_game(text)
    assert list(back.mainline_moves()) == list(game.mainline_moves())
    # Tags come back exactly, but for control characters (written as spaces).
    assert back.headers["White"] == "".join(
        " " if ch < " " or "\x7f" <= ch <= "\x9f" else ch for ch in game.headers["White"])
    assert back.comment == comparable(game.comment)
    for original, read in zip(game.mainline(), back.mainline(), strict=True):
        assert read.comment == comparable(original.comment)
        assert read.nags == original.nags
    # python-chess's own reader agrees on the moves.
    plain = chess.pgn.read_game(io.StringIO(text))
    assert plain is not None and not plain.errors
    assert list(plain.mainline_moves()) == list(game.mainline_moves())
