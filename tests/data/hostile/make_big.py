"""Generate the big hostile PGN inputs on the fly, so no megabytes are committed.

Each generator returns the bytes of one case. ``python tests/data/hostile/make_big.py``
writes them all to ``tests/data/hostile/generated/`` (gitignored) for tools
such as the CLI tests; the library tests call the generators directly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

HEADERS = '[Event "Hostile"]\n[Site "?"]\n[Date "1913.??.??"]\n[Round "?"]\n' \
          '[White "A"]\n[Black "B"]\n[Result "*"]\n\n'


def comment_5mb() -> bytes:
    """One comment of 5 MB (limit: MAX_COMMENT_CHARS)."""
    return (HEADERS + "1. e4 {" + "x" * 5_000_000 + "} e5 *\n").encode()


def comment_5mb_multiline() -> bytes:
    """A 5 MB comment spread over 100,000 lines."""
    return (HEADERS + "1. e4 {" + ("y" * 49 + "\n") * 100_000 + "} e5 *\n").encode()


def san_token_1mb() -> bytes:
    """A single 1 MB "move" (limit: MAX_TOKEN_CHARS)."""
    return (HEADERS + "1. e4 " + "N" * 1_000_000 + " *\n").encode()


def nested_variations_10000() -> bytes:
    """10,000 variations, each inside the previous (limit: MAX_VARIATION_DEPTH)."""
    return (HEADERS + "1. e4 e5 " + "(1... c5 " * 10_000 + ")" * 10_000 + " *\n").encode()


def sibling_variations_100000() -> bytes:
    """100,000 one-move alternatives to 1... e5 (limit: MAX_VARIATIONS)."""
    return (HEADERS + "1. e4 e5 " + "(1... c5) " * 100_000 + "*\n").encode()


def tiny_games_20000() -> bytes:
    """20,000 two-ply games (limit: MAX_GAMES_PER_FILE for in-memory reads)."""
    return "".join(f'[Event "tiny {i}"]\n\n1. e4 e5 *\n\n' for i in range(20_000)).encode()


BROKEN_GAME = 637  # 1-based number of the broken game in games_1000_one_broken


def games_1000_one_broken() -> bytes:
    """1,000 short games; game 637 has an illegal move (2. Ke3) on its third line."""
    games = []
    for i in range(1, 1001):
        second = "2. Ke3" if i == BROKEN_GAME else "2. Nf3"
        games.append(f'[Event "game {i}"]\n\n1. e4 e5\n{second} Nc6 *\n\n')
    return "".join(games).encode()


def plies_10000() -> bytes:
    """A legal 10,000-ply game: knights out and back (limit: MAX_PLIES)."""
    body = "\n".join(f"{4 * i + 1}. Nf3 Nf6 {4 * i + 2}. Ng1 Ng8 {4 * i + 3}. Nc3 Nc6 "
                     f"{4 * i + 4}. Nb1 Nb8" for i in range(1250))
    return (HEADERS + body + " *\n").encode()


def oversize_11mb() -> bytes:
    """A file over MAX_PGN_BYTES (legal games, 11 MiB)."""
    game = HEADERS.replace("Hostile", "big") + "1. e4 e5 2. Nf3 Nc6 *\n\n"
    return (game * (11 * 1024 * 1024 // len(game) + 1)).encode()


def long_line_no_newline() -> bytes:
    """Six megabytes of "e4 " with no newline at all (an illegal move early on)."""
    return (HEADERS + "e4 " * 2_000_000).encode()


def deep_parens_in_comments() -> bytes:
    """10,000 "(" inside a comment: not variations, so the game loads."""
    return (HEADERS + "1. e4 {" + "(" * 10_000 + "} e5 ; ((((((\n2. Nf3 *\n").encode()


GENERATORS: dict[str, Callable[[], bytes]] = {
    "comment-5mb.pgn": comment_5mb,
    "comment-5mb-multiline.pgn": comment_5mb_multiline,
    "san-token-1mb.pgn": san_token_1mb,
    "nested-variations-10000.pgn": nested_variations_10000,
    "sibling-variations-100000.pgn": sibling_variations_100000,
    "tiny-games-20000.pgn": tiny_games_20000,
    "games-1000-one-broken.pgn": games_1000_one_broken,
    "plies-10000.pgn": plies_10000,
    "oversize-11mb.pgn": oversize_11mb,
    "long-line-no-newline.pgn": long_line_no_newline,
    "parens-in-comments.pgn": deep_parens_in_comments,
}


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in GENERATORS.items():
        path = directory / name
        path.write_bytes(make())
        paths.append(path)
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "generated"
    for written in write_all(target):
        print(written)
