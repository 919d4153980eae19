"""Annotated PGN out: exact output, every option, round trips, and pgn-extract's verdict.

The analysis is built by :func:`chessapp.analysis.build_game_analysis` from
hand-written PositionEvals, so no engine is needed here.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp import analysis, export, games, tree
from chessapp.analysis import GameAnalysis
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.export import ExportOptions
from chessapp.shapes import Brush, Shape

PGN_EXTRACT = "/usr/games/pgn-extract"
ENGINE = EngineIdentity("Stockfish 15.1")
LIMIT = SearchLimit(nodes=20000)
GAME_PGN = ('[Event "Café \\"Tarrasch\\""]\n[Site "Vienna"]\n[Date "1913.??.??"]\n[Round "1"]\n'
            '[White "Bronstein, D."]\n[Black "Regular"]\n[Result "1-0"]\n[TimeControl "600"]\n\n'
            "{A quick game} 1. e4 { [%clk 0:10:00] } 1... e5 2. Qh5 Nc6 3. Bc4 (3. d3 {explored}) "
            "3... Nf6 4. Qxf7# 1-0\n")
#: A 14-ply best line: only 12 plies may be written.
SHUFFLE = "g1f3 b8c6 f3g1 c6b8 " * 3 + "g1f3 b8c6"
#: (eval after the ply, engine line from that position), ply 0 first.
EVALS: list[tuple[WhiteEval, str]] = [
    (WhiteEval(cp=20), "e2e4 e7e5"),
    (WhiteEval(cp=30), "e7e5"),
    (WhiteEval(cp=35), SHUFFLE),
    (WhiteEval(cp=-40), "b8c6"),
    (WhiteEval(cp=-30), "f1c4"),
    (WhiteEval(cp=-20), "g7g6 h5f3 g8f6"),
    (WhiteEval(mate=1), "h5f7"),
    (WhiteEval.checkmate(chess.BLACK), ""),
]

DEFAULT_EXPORT = """\
[Event "Café \\"Tarrasch\\""]
[Site "Vienna"]
[Date "1913.??.??"]
[Round "1"]
[White "Bronstein, D."]
[Black "Regular"]
[Result "1-0"]
[TimeControl "600"]
[ECO "C20"]
[Opening "King's Pawn Game: Wayward Queen Attack"]
[Annotator "Café 1913 (chessapp) with Stockfish 15.1"]
[AnalysisEngine "Stockfish 15.1"]
[AnalysisLimit "nodes=20000"]
[AnalysisSettings "threads=1 hash=16 multipv=1"]
[AnalysisNags "3:6 6:4"]

{ A quick game } 1. e4 { [%clk 0:10:00] [%eval 0.30] } 1... e5 { [%eval 0.35] }
2. Qh5 $6
@QH5_COMMENT@
( 2. Nf3 Nc6 3. Ng1 Nb8 4. Nf3 Nc6 5. Ng1 Nb8 6. Nf3 Nc6 7. Ng1 Nb8 ) 2... Nc6
{ [%eval -0.30] } 3. Bc4 { [%eval -0.20] } ( 3. d3 { explored } ) 3... Nf6 $4
{ (-0.20 → Mate in 1) Checkmate is now unavoidable. g6 was best. [%eval #1] } (
3... g6 4. Qf3 Nf6 ) 4. Qxf7# 1-0
""".replace("@QH5_COMMENT@",  # python-chess never breaks a comment, so this line is long
            "{ (0.35 → -0.40) Inaccuracy. Nf3 was best. C20 King's Pawn Game: Wayward Queen "
            "Attack [%eval -0.40] }")

BARE_EXPORT = """\
[Event "Café \\"Tarrasch\\""]
[Site "Vienna"]
[Date "1913.??.??"]
[Round "1"]
[White "Bronstein, D."]
[Black "Regular"]
[Result "1-0"]
[TimeControl "600"]
[ECO "C20"]
[Opening "King's Pawn Game: Wayward Queen Attack"]

{ A quick game } 1. e4 { [%clk 0:10:00] } 1... e5 2. Qh5 Nc6 3. Bc4 Nf6 4.
Qxf7# 1-0
"""


def make_analysis(game: chess.pgn.Game,
                  evals: list[tuple[WhiteEval, str]] = EVALS) -> GameAnalysis:
    boards = tree.main_line_boards(game)
    positions = [
        PositionEval(board.fen(), (EngineLine(ev, tuple(chess.Move.from_uci(u)
                                                        for u in line.split())),),
                     ENGINE, LIMIT)
        for board, (ev, line) in zip(boards, evals, strict=True)
    ]
    return analysis.build_game_analysis(game, positions)


@pytest.fixture
def game() -> chess.pgn.Game:
    return games.read_game(GAME_PGN)


def read_back(text: str) -> chess.pgn.Game:
    """python-chess's own reader, without our unescaping or checks."""
    parsed = chess.pgn.read_game(io.StringIO(text))
    assert parsed is not None and not parsed.errors
    return parsed


def pgn_extract(path: Path) -> subprocess.CompletedProcess[str]:
    """pgn-extract re-writes the games it accepts to stdout; it reports problems on stderr."""
    return subprocess.run([PGN_EXTRACT, "-s", "--nobadresults", str(path)],
                          capture_output=True, text=True, timeout=30, check=False)


# --- Exact output ---------------------------------------------------------------------------


def test_default_export_exactly(game: chess.pgn.Game) -> None:
    assert export.export_pgn(game, make_analysis(game)) == DEFAULT_EXPORT


def test_everything_off_exactly(game: chess.pgn.Game) -> None:
    options = ExportOptions(evals=False, judgements=False, variations=False, explored=False)
    assert export.export_pgn(game, make_analysis(game), options) == BARE_EXPORT


def test_export_leaves_the_game_alone(game: chess.pgn.Game) -> None:
    before = str(game)
    export.export_pgn(game, make_analysis(game),
                      ExportOptions(narration=True, shapes=True, explored=False),
                      narration={1: "words"}, shapes={1: [Shape(chess.E4)]})
    assert str(game) == before


# --- Each option, read back ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "evals", "nags", "engine_line", "explored"),
    [
        ("defaults", ExportOptions(), True, True, True, True),
        ("no evals", ExportOptions(evals=False), False, True, True, True),
        ("no judgements", ExportOptions(judgements=False), True, False, True, True),
        ("no engine lines", ExportOptions(variations=False), True, True, False, True),
        ("no explored lines", ExportOptions(explored=False), True, True, True, False),
        ("evals only", ExportOptions(judgements=False, variations=False, explored=False),
         True, False, False, False),
    ],
)
def test_each_option(game: chess.pgn.Game, name: str, options: ExportOptions, evals: bool,
                     nags: bool, engine_line: bool, explored: bool) -> None:
    back = read_back(export.export_pgn(game, make_analysis(game), options))
    nodes = [back, *back.mainline()]
    assert (export.read_evals(back)[0] is not None) == evals, name
    assert ([n.nags for n in nodes[1:]] == [set(), set(), {6}, set(), set(), {4}, set()]) == nags
    assert ("Inaccuracy. Nf3 was best." in nodes[3].comment) == nags, name
    assert ([v.san() for v in nodes[2].variations] == ["Qh5", "Nf3"]) == engine_line, name
    assert ([v.san() for v in nodes[4].variations] == ["Bc4", "d3"]) == explored, name
    assert [v.san() for v in nodes[5].variations] == (["Nf6", "g6"] if engine_line else ["Nf6"])


def test_round_trip_moves_evals_nags_comments_variations(game: chess.pgn.Game) -> None:
    result = make_analysis(game)
    back = read_back(export.export_pgn(game, result))
    assert list(back.mainline_moves()) == list(game.mainline_moves())
    # White's view after each move; the checkmate position carries no eval.
    assert export.read_evals(back) == [p.eval for p in result.plies[:-1]] + [None]
    for node, ply in zip(back.mainline(), result.plies, strict=True):
        assert node.nags == ({ply.judgement.nag} if ply.judgement else set())
        words = re.sub(r"\s*\[%(eval|clk) [^\]]*\]\s*", " ", node.comment).strip()
        opening = result.opening
        literate = [opening.opening.literate()] if opening and opening.ply == ply.ply else []
        assert words == " ".join([ply.comment(), *literate]).strip()
    line = back.next().next().variations[1]  # type: ignore[union-attr]
    assert [m.uci() for m in [line.move, *line.mainline_moves()]] == SHUFFLE.split()[:12]
    assert back.next().clock() == 600.0  # type: ignore[union-attr]


def test_no_depth_suffix_and_mate_syntax(game: chess.pgn.Game) -> None:
    evals = [(WhiteEval(cp=-5), "e2e4")] + [(WhiteEval(mate=-3), "")] * 6 \
        + [(WhiteEval.checkmate(chess.BLACK), "")]
    text = export.export_pgn(game, make_analysis(game, evals))
    assert re.findall(r"\[%eval [^\]]*\]", text) == ["[%eval #-3]"] * 6
    assert export.read_evals(read_back(text))[:6] == [WhiteEval(mate=-3)] * 6


def test_judged_move_keeps_the_users_nags_first() -> None:
    # issue 11 section 7: a user's glyph is data; the analysis's comes after it.
    game = games.read_game("1. e4 e5 2. Qh5 $1 $14 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n")
    text = export.export_pgn(game, make_analysis(game))
    assert "2. Qh5 $1 $14 $6" in text
    back = read_back(text)
    assert back.next().next().next().nags == {1, 6, 14}  # type: ignore[union-attr]


def test_an_explored_best_move_is_not_written_twice() -> None:
    game = games.read_game("1. e4 e5 2. Qh5 (2. Nf3 {mine}) Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n")
    back = read_back(export.export_pgn(game, make_analysis(game)))
    after_e5 = back.next().next()  # type: ignore[union-attr]
    assert [v.san() for v in after_e5.variations] == ["Qh5", "Nf3"]  # type: ignore[union-attr]
    assert after_e5.variations[1].comment == "mine"  # type: ignore[union-attr]


def test_analysis_of_other_moves_is_refused(game: chess.pgn.Game) -> None:
    other = games.read_game("1. d4 d5 2. c4 *\n")
    evals = [(WhiteEval(cp=0), "")] * 4
    with pytest.raises(ValueError, match="differ at ply 1"):
        export.export_pgn(game, make_analysis(other, evals))


# --- Narration, shapes, comments, tags --------------------------------------------------------


def test_narration_and_shapes(game: chess.pgn.Game) -> None:
    options = ExportOptions(evals=False, judgements=False, variations=False, narration=True,
                            shapes=True)
    text = export.export_pgn(
        game, None, options,
        narration={0: "Vienna, {1913}.", 3: "The queen\ncomes out\n\n% early.", 99: "lost"},
        shapes={0: [Shape(chess.D4, brush=Brush.BLUE)],
                3: [Shape(chess.H5, chess.F7, Brush.RED), Shape(chess.F7, brush=Brush.RED),
                    Shape(chess.G1, chess.F3)]})
    assert '[Annotator "Café 1913 (chessapp)"]' in text and "AnalysisEngine" not in text
    back = read_back(text)
    assert back.comment == "A quick game Vienna, (1913). [%csl Bd4]"
    qh5 = back.next().next().next()  # type: ignore[union-attr]
    assert qh5 is not None
    assert qh5.comment == "The queen comes out % early. [%csl Rf7] [%cal Rh5f7,Gg1f3]"
    assert {(a.tail, a.head, a.color) for a in qh5.arrows()} == {
        (chess.H5, chess.F7, "red"), (chess.F7, chess.F7, "red"), (chess.G1, chess.F3, "green")}


def test_narration_and_shapes_are_off_by_default(game: chess.pgn.Game) -> None:
    text = export.export_pgn(game, None, narration={1: "words"}, shapes={1: [Shape(chess.E4)]})
    assert "words" not in text and "%csl" not in text and "Annotator" not in text


@pytest.mark.parametrize(
    ("name", "comment", "written"),
    [
        ("closing brace", "a } b", "a ) b"),
        ("both braces", "{x}", "(x)"),
        ("newlines", "one\ntwo\n\nthree", "one two three"),
        ("escape at line start", "x\n%y", "x %y"),
        ("tag-like line", "x\n\n[Event \"y\"]", 'x [Event "y"]'),
        ("html", "<script>alert('x')</script>", "<script>alert('x')</script>"),
    ],
)
def test_comments_never_break_pgn(name: str, comment: str, written: str) -> None:
    game = chess.pgn.Game()
    node = game.add_variation(chess.Move.from_uci("e2e4"))
    node.comment = comment
    node.add_variation(chess.Move.from_uci("e7e5"))
    text = export.export_pgn(game)
    back = games.read_game(text)
    assert back.next() is not None and back.next().comment == written, name  # type: ignore[union-attr]
    assert [m.uci() for m in back.mainline_moves()] == ["e2e4", "e7e5"], name


def test_tag_values_are_escaped_and_read_back(tmp_path: Path) -> None:
    game = chess.pgn.Game()
    game.headers["White"] = 'Ro "the Rook" \\ Bishop'
    game.headers["Black"] = "back\\slash\\"
    game.headers["Event"] = "line\nbreak"
    game.add_variation(chess.Move.from_uci("d2d4"))
    text = export.export_pgn(game)
    assert '[White "Ro \\"the Rook\\" \\\\ Bishop"]' in text
    assert '[Black "back\\\\slash\\\\"]' in text
    assert '[Event "line break"]' in text
    back = games.read_game(text)
    assert back.headers["White"] == 'Ro "the Rook" \\ Bishop'
    assert back.headers["Black"] == "back\\slash\\"
    path = tmp_path / "tags.pgn"
    path.write_text(text, encoding="utf-8")
    proc = pgn_extract(path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert '[White "Ro \\"the Rook\\" \\\\ Bishop"]' in proc.stdout


def test_seven_tag_roster_always_in_order() -> None:
    game = chess.pgn.Game.without_tag_roster()
    game.headers["ECO"] = "C20"
    game.add_variation(chess.Move.from_uci("e2e4"))
    text = export.export_pgn(game)
    tags = re.findall(r"^\[(\w+) ", text, flags=re.MULTILINE)
    assert tags == ["Event", "Site", "Date", "Round", "White", "Black", "Result", "ECO"]


def test_annotator_can_be_given(game: chess.pgn.Game) -> None:
    text = export.export_pgn(game, make_analysis(game), annotator="Tarrasch")
    assert '[Annotator "Tarrasch"]' in text and '[AnalysisEngine "Stockfish 15.1"]' in text


# --- pgn-extract ----------------------------------------------------------------------------


@pytest.mark.parametrize("options", [ExportOptions(), ExportOptions(narration=True, shapes=True)],
                         ids=["defaults", "narration and shapes"])
def test_pgn_extract_accepts_the_export(tmp_path: Path, game: chess.pgn.Game,
                                        options: ExportOptions) -> None:
    text = export.export_pgn(game, make_analysis(game), options,
                             narration={0: "Start {of} it", 6: "Oh\n\nno }"},
                             shapes={6: [Shape(chess.F7, chess.H5, Brush.YELLOW)]})
    path = tmp_path / "out.pgn"
    path.write_text(text + "\n" + text, encoding="utf-8")  # two games in one file
    proc = pgn_extract(path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    assert not re.search(r"error|illegal|unknown|unmatched", proc.stderr, re.IGNORECASE)
    assert proc.stdout.count("[Event ") == 2 and proc.stdout.count("Qxf7#") == 2


def test_pgn_extract_does_report_broken_pgn(tmp_path: Path) -> None:
    """The acceptance check above can fail: pgn-extract complains on stderr."""
    path = tmp_path / "bad.pgn"
    path.write_text('[White "a "quoted" name"]\n\n1. e4 e5 2. Ke3 *\n', encoding="utf-8")
    assert pgn_extract(path).stderr != ""


# --- File names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "headers", "filename"),
    [
        ("the café game", {"White": "Bronstein", "Black": "Regular", "Date": "1913.??.??"},
         "Bronstein_vs_Regular_1913.pgn"),
        ("surname first", {"White": "Réti, Richard", "Black": "Grünfeld, Ernst",
                           "Date": "1923.05.01"}, "Reti_vs_Grunfeld_1923.pgn"),
        ("unknowns", {"White": "?", "Black": "", "Date": "????.??.??"}, "White_vs_Black.pgn"),
        ("nothing", {}, "White_vs_Black.pgn"),
        ("traversal", {"White": "../../etc/passwd", "Black": "..\\..\\boot.ini"},
         "etc_passwd_vs_boot_ini.pgn"),
        ("html", {"White": "<script>alert(1)</script>", "Black": "a/b"},
         "script_alert_1_script_vs_a_b.pgn"),
        ("only symbols", {"White": "♔♕", "Black": "..."}, "White_vs_Black.pgn"),
        ("long", {"White": "x" * 500, "Black": "y" * 500, "Date": "2024"},
         "x" * 40 + "_vs_" + "y" * 40 + "_2024.pgn"),
        ("control chars", {"White": "a\x00b\nc", "Black": "d", "Date": "19x3"}, "a_b_c_vs_d.pgn"),
    ],
)
def test_filename_for(name: str, headers: dict[str, str], filename: str) -> None:
    result = export.filename_for(headers)
    assert result == filename, name
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_]*\.pgn", result) and len(result) <= 100


def test_read_evals_without_evals() -> None:
    assert export.read_evals(games.read_game("1. e4 { [%eval 0.17] } e5 *\n")) == [
        WhiteEval(cp=17), None]
