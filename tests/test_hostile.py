"""The hostile-input corpus: every case loads correctly or fails with a specific BadInput.

The cases and their expected outcomes live in ``tests/data/hostile/cases.json``
(shared with the CLI tests); small inputs are committed next to it, big ones
come from ``make_big.py``. Each case runs in-process under a 10 s
pytest-timeout, and its peak memory growth is bounded; the big ones also run
in a subprocess under an address-space limit.
"""

from __future__ import annotations

import importlib.util
import io
import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import chess
import pytest

from chessapp import errors, games

HOSTILE = Path(__file__).parent / "data" / "hostile"
CASES: list[dict[str, Any]] = json.loads((HOSTILE / "cases.json").read_text("utf-8"))["cases"]
#: Peak RSS may grow by at most this much while one case runs.
MAX_RSS_GROWTH_MB = 500


def _load_make_big() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_big", HOSTILE / "make_big.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_BIG = _load_make_big()
GENERATORS: dict[str, Callable[[], bytes]] = MAKE_BIG.GENERATORS


def case_bytes(case: dict[str, Any]) -> bytes:
    if case["generated"]:
        return GENERATORS[case["file"]]()
    return (HOSTILE / case["file"]).read_bytes()


def load(data: bytes) -> list[chess.pgn.Game]:
    return games.read_games(games.decode_pgn(data))


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def test_the_corpus_is_big_enough_and_complete() -> None:
    assert len(CASES) >= 30
    committed = {c["file"] for c in CASES if not c["generated"]}
    on_disk = {p.name for p in HOSTILE.iterdir() if p.is_file()} - {"cases.json", "make_big.py"}
    assert committed == on_disk
    assert {c["file"] for c in CASES if c["generated"]} == set(GENERATORS)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    data = case_bytes(case)
    before = max_rss_mb()
    if case["expect"] == "loads":
        loaded = load(data)
        assert len(loaded) == case["games"], case["what"]
        assert all(not g.errors for g in loaded)
    else:
        expected: type[errors.BadInput] = getattr(errors, case["error"])
        with pytest.raises(errors.BadInput) as info:
            load(data)
        assert type(info.value) is expected, (case["what"], info.value)
        assert case["fragment"] in str(info.value), case["what"]
        assert "\n" not in str(info.value)
    del data
    assert max_rss_mb() - before < MAX_RSS_GROWTH_MB


# --- What a correct load means, case by case ------------------------------------------


def read_case(name: str) -> list[chess.pgn.Game]:
    return load((HOSTILE / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "white", "black"),
    [
        ("utf16-bom.pgn", "Réti, Richard", "Tartakower"),
        ("utf8-bom.pgn", "Réti", "?"),
        ("latin1-names.pgn", "Réti, Richard", "Grünfeld, Ernst"),
    ],
)
def test_encodings_decode_names(name: str, white: str, black: str) -> None:
    (game,) = read_case(name)
    assert (game.headers["White"], game.headers["Black"]) == (white, black)
    assert next(iter(game.headers)) == "Event"  # no BOM glued to the first tag


def test_payloads_stay_plain_text() -> None:
    (game,) = read_case("script-in-headers.pgn")
    assert game.headers["Event"] == "<script>alert(1)</script>"
    assert game.headers["Site"] == "<img src=x onerror=alert(2)>"
    assert game.headers["White"] == "[Bronstein](javascript:alert(3))"
    (game,) = read_case("script-in-comments.pgn")
    assert game.comment == "<script>alert(1)</script>"
    first, second = list(game.mainline())
    assert first.comment == "<img src=x onerror=alert(2)>"
    assert second.comment == "[click](javascript:alert(3)) ![i](http://evil.example/x.png)"


def test_missing_result_is_an_unfinished_game() -> None:
    (game,) = read_case("missing-result.pgn")
    assert game.headers["Result"] == "*"
    assert [m.uci() for m in game.mainline_moves()] == ["e2e4", "e7e5", "g1f3"]


def test_chess960_loads_with_its_castling() -> None:
    (game,) = read_case("chess960-start.pgn")
    board = game.end().board()
    assert board.chess960
    assert board.fen() == "bqnbrrkn/pppppp1p/6p1/8/8/6P1/PPPPPP1P/BQNBRRKN w - - 0 3"


def test_crlf_games_read_like_lf() -> None:
    first, second = read_case("crlf.pgn")
    assert first.end().board().is_checkmate()
    assert second.next() is not None and second.next().comment == "a\ncomment over two lines"


def test_comment_parentheses_are_not_variations() -> None:
    (game,) = load(MAKE_BIG.deep_parens_in_comments())
    assert [m.uci() for m in game.mainline_moves()] == ["e2e4", "e7e5", "g1f3"]
    assert game.next() is not None and game.next().variations[0].comment == ""


@pytest.mark.timeout(10)
def test_streaming_reads_all_20000_tiny_games() -> None:
    text = MAKE_BIG.tiny_games_20000().decode()
    count = 0
    for count, game in enumerate(games.iter_games(io.StringIO(text)), start=1):
        assert game.headers["Event"] == f"tiny {count - 1}"
    assert count == 20_000


@pytest.mark.timeout(10)
def test_streaming_stops_at_the_broken_game_after_yielding_the_good_ones() -> None:
    text = MAKE_BIG.games_1000_one_broken().decode()
    seen: list[str] = []
    with pytest.raises(errors.BadInput, match=r"^game 637, line 3184, at 'Ke3': illegal move"):
        for game in games.iter_games(io.StringIO(text)):
            seen.append(game.headers["Event"])
    assert seen == [f"game {i}" for i in range(1, MAKE_BIG.BROKEN_GAME)]


@pytest.mark.timeout(10)
def test_validate_text_reports_each_bad_game() -> None:
    good = '[Event "ok"]\n\n1. e4 e5 *\n\n'
    text = good + '[Event "bad"]\n\n1. e4 e5 2. Ke3 *\n\n' + good + "1. d4 Nf9 *\n"
    problems = [str(p) for p in games.validate_text(text)]
    assert problems == [
        "game 2, line 7, at 'Ke3': illegal move (White to play, move 2)",
        "game 4, line 13, at 'Nf9': not a move, move number, annotation or result",
    ]


@pytest.mark.timeout(60)
def test_big_cases_in_a_subprocess_under_an_address_space_limit() -> None:
    """All generated cases in a child whose address space is capped at 1.5 GiB."""
    script = f"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))
import importlib.util
spec = importlib.util.spec_from_file_location("make_big", {str(HOSTILE / "make_big.py")!r})
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
from chessapp import games, errors
out = {{}}
for name, make in mod.GENERATORS.items():
    try:
        out[name] = ["loads", len(games.read_games(games.decode_pgn(make())))]
    except errors.BadInput as exc:
        out[name] = [type(exc).__name__, str(exc)]
print(json.dumps(out))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).parent.parent, check=False)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    for case in CASES:
        if not case["generated"]:
            continue
        kind, detail = results[case["file"]]
        if case["expect"] == "loads":
            assert (kind, detail) == ("loads", case["games"]), case["file"]
        else:
            assert kind == case["error"] and case["fragment"] in detail, (case["file"], detail)


def test_make_big_writes_the_generated_folder(tmp_path: Path) -> None:
    written = MAKE_BIG.write_all(tmp_path / "generated")
    assert sorted(p.name for p in written) == sorted(GENERATORS)
    assert all(p.stat().st_size > 0 for p in written)
