"""Big inputs: compressed streams and stdin, PGN dates, game filters, skipping broken games."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
import zstandard

from chessapp import sources
from chessapp.errors import BadInput
from chessapp.sources import GameFilter, GameRecord, SkippedGame

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "data" / "hostile"


def game(white: str, black: str, date: str, white_elo: str = "2000", black_elo: str = "2000",
         moves: str = "1. e4 e5 *") -> str:
    return (f'[White "{white}"]\n[Black "{black}"]\n[Date "{date}"]\n'
            f'[WhiteElo "{white_elo}"]\n[BlackElo "{black_elo}"]\n\n{moves}\n\n')


TEXT = (game("Alice", "Bob", "2020.05.17") + game("Carol", "alice", "2020.??.??")
        + game("Bob", "Carol", "????.??.??", white_elo="?") + game("Dan", "Bob", "2021.02.??"))


def read(stream: io.TextIOBase | io.TextIOWrapper, **kwargs: object) -> list[tuple[int, str]]:
    out = []
    for item in sources.iter_batch(stream, **kwargs):  # type: ignore[arg-type]
        if isinstance(item, GameRecord):
            out.append((item.number, item.game.headers["White"]))
        else:
            out.append((item.number, f"skipped line {item.line}: {item.reason}"))
    return out


PACKERS = {
    "pgn": lambda data: data,
    "pgn.gz": gzip.compress,
    "pgn.bz2": bz2.compress,
    "pgn.zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


@pytest.mark.parametrize("suffix", list(PACKERS))
def test_every_format_streams_the_same_games(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"db.{suffix}"
    path.write_bytes(PACKERS[suffix](TEXT.encode("utf-8")))
    with ExitStack() as stack:
        got = read(sources.open_pgn_stream(str(path), stack))
    assert got == [(1, "Alice"), (2, "Carol"), (3, "Bob"), (4, "Dan")]


def test_compression_is_known_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    path = tmp_path / "misnamed.pgn"
    path.write_bytes(gzip.compress(TEXT.encode()))
    with ExitStack() as stack:
        assert len(read(sources.open_pgn_stream(str(path), stack))) == 4


def test_zstd_with_several_frames_and_a_long_window(tmp_path: Path) -> None:
    # lichess-style dumps: long-window frames; pzstd-style files: several frames.
    packer = zstandard.ZstdCompressor(compression_params=zstandard.ZstdCompressionParameters(
        window_log=27, enable_ldm=True))
    data = TEXT.encode()
    path = tmp_path / "db.pgn.zst"
    path.write_bytes(packer.compress(data[:200]) + packer.compress(data[200:]))
    with ExitStack() as stack:
        assert [n for n, _ in read(sources.open_pgn_stream(str(path), stack))] == [1, 2, 3, 4]


@pytest.mark.parametrize("suffix", ["pgn", "pgn.zst"])
def test_standard_input_plain_and_compressed(suffix: str) -> None:
    code = ("import sys; from contextlib import ExitStack; from chessapp import sources\n"
            "with ExitStack() as s:\n"
            "    print(sum(1 for _ in sources.iter_batch(sources.open_pgn_stream('-', s))))\n")
    proc = subprocess.run([sys.executable, "-c", code], input=PACKERS[suffix](TEXT.encode()),
                          capture_output=True, cwd=ROOT, timeout=60, check=True)
    assert proc.stdout.strip() == b"4"


def test_a_stream_is_read_game_by_game_not_whole() -> None:
    class Counting(io.StringIO):
        read_chars = 0

        def readline(self, size: int | None = -1, /) -> str:
            line = super().readline(size)
            Counting.read_chars += len(line)
            return line

    stream = Counting(TEXT * 50)
    first = next(sources.iter_batch(stream))
    assert isinstance(first, GameRecord)
    assert Counting.read_chars < 2 * len(game("Alice", "Bob", "2020.05.17"))


@pytest.mark.parametrize(("pgn_date", "expected"), [
    ("2020.05.17", (dt.date(2020, 5, 17), dt.date(2020, 5, 17))),
    ("2020.02.??", (dt.date(2020, 2, 1), dt.date(2020, 2, 29))),
    ("2020.??.??", (dt.date(2020, 1, 1), dt.date(2020, 12, 31))),
    ("2020.??.05", (dt.date(2020, 1, 1), dt.date(2020, 12, 31))),
    ("????.??.??", None),
    ("2020.13.01", None),
    ("17 May 2020", None),
])
def test_pgn_dates_mean_periods(pgn_date: str, expected: object) -> None:
    assert sources.date_range(pgn_date) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2020", (dt.date(2020, 1, 1), dt.date(2020, 12, 31))),
    ("2020.06", (dt.date(2020, 6, 1), dt.date(2020, 6, 30))),
    ("2020-06-15", (dt.date(2020, 6, 15), dt.date(2020, 6, 15))),
])
def test_filter_dates(text: str, expected: object) -> None:
    assert sources.parse_filter_date(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2020.02.30", "20"])
def test_bad_filter_dates_say_so(text: str) -> None:
    with pytest.raises(BadInput, match="not a date"):
        sources.parse_filter_date(text)


@pytest.mark.parametrize(("name", "game_filter", "whites"), [
    ("no filter", GameFilter(), ["Alice", "Carol", "Bob", "Dan"]),
    ("player either colour, any case", GameFilter(player="ALICE"), ["Alice", "Carol"]),
    ("since a day: a partial date must lie wholly after it",
     GameFilter(since=dt.date(2020, 5, 1)), ["Alice", "Dan"]),
    ("until the end of 2020 keeps 2020.??.??",
     GameFilter(until=dt.date(2020, 12, 31)), ["Alice", "Carol"]),
    ("since 2021", GameFilter(since=dt.date(2021, 1, 1)), ["Dan"]),
    ("a date filter drops undated games",
     GameFilter(since=dt.date(1000, 1, 1)), ["Alice", "Carol", "Dan"]),
    ("min elo needs both ratings known", GameFilter(min_elo=1500), ["Alice", "Carol", "Dan"]),
    ("min elo above both", GameFilter(min_elo=2001), []),
    ("filters combine", GameFilter(player="bob", since=dt.date(2021, 1, 1)), ["Dan"]),
])
def test_filters(name: str, game_filter: GameFilter, whites: list[str]) -> None:
    assert [w for _, w in read(io.StringIO(TEXT), game_filter=game_filter)] == whites, name


def test_max_games_counts_games_kept() -> None:
    got = read(io.StringIO(TEXT), game_filter=GameFilter(player="bob"), max_games=2)
    assert got == [(1, "Alice"), (3, "Bob")]


def test_since_after_until_is_refused() -> None:
    with pytest.raises(BadInput, match="after --until"):
        GameFilter(since=dt.date(2021, 1, 1), until=dt.date(2020, 1, 1))


def test_broken_games_are_skipped_with_number_line_and_reason() -> None:
    parts = [
        game("A", "x", "2020.01.01"),
        game("B", "x", "2020.01.01", moves="1. e4 e5 2. Ke3 *"),                 # illegal
        '[White "C"]\n[Black "x"\n\n1. e4 *\n\n',                                # bad tag
        game("D", "x", "2020.01.01", moves="1. e4 {unclosed\n"),                 # into next
        game("E", "x", "2020.01.01"),
        game("F", "x", "2020.01.01", moves="1. e4 e5 *")[:-1],                   # no blank
        game("G", "x", "2020.01.01"),
        game("H", "x", "2020.01.01", moves="1. e4 e\x005 *"),                    # NUL
        game("I", "x", "2020.01.01"),
    ]
    got = read(io.StringIO("".join(parts)))
    assert [n for n, _ in got] == list(range(1, 10))
    kept = [w for _, w in got if not w.startswith("skipped")]
    assert kept == ["A", "E", "G", "I"]
    skipped = dict(got)
    assert skipped[2] == "skipped line 15: at 'Ke3': illegal move (White to play, move 2)"
    assert "malformed tag pair" in skipped[3] and "line 18" in skipped[3]
    assert "runs into the next game" in skipped[4]
    assert "tag pair inside the moves" in skipped[6]
    assert "control character U+0000" in skipped[8]


@pytest.mark.parametrize("name", ["three-games.pgn", "unclosed-comment-into-next-game.pgn",
                                  "missing-blank-line-between-games.pgn", "crlf.pgn",
                                  "latin1-names.pgn"])
def test_hostile_files_read_as_many_games_as_they_start(name: str) -> None:
    text = (HOSTILE / name).read_bytes().decode("utf-8", "replace")
    starts = sum(1 for line in text.splitlines() if line.startswith("[Event "))
    assert len(read(io.StringIO(text, newline=None))) == starts


def test_an_input_without_games_is_bad_input() -> None:
    with pytest.raises(BadInput, match="no game found"):
        list(sources.iter_batch(io.StringIO("\n\n% nothing\n")))


def test_the_errors_file(tmp_path: Path) -> None:
    path = tmp_path / "errors.tsv"
    sources.write_errors(str(path), [SkippedGame(3, 41, "at 'Ke3': illegal\nmove"),
                                     SkippedGame(7, None, "no game")])
    assert path.read_text() == ("game\tline\treason\n3\t41\tat 'Ke3': illegal move\n"
                                "7\t\tno game\n")


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    with ExitStack() as stack, pytest.raises(BadInput, match="cannot read"):
        sources.open_pgn_stream(str(tmp_path / "nope.pgn.zst"), stack)
