"""A user's annotations survive the export (issue 11, section 7), by round trip.

A richly annotated game (tags, a game comment, NAGs, nested variations with
their own comments and NAGs, clocks, arrows) goes through an analysis and
back; everything of the user's must come back, the analysis's own NAGs after
the user's, and a re-export with another analysis must replace only what the
first analysis wrote.
"""

from __future__ import annotations

import io
import re

import chess
import chess.pgn

from chessapp import analysis, export, games
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval

RICH = """\
[Event "Club championship"]
[Site "Vienna"]
[Date "1913.03.02"]
[Round "4"]
[White "Lev"]
[Black "Regular"]
[Result "0-1"]
[WhiteElo "1900"]
[MyOwnTag "kept as it is"]

{ My notes on the game. } 1. e4 { [%clk 0:09:58] } 1... e5 { [%clk 0:09:55] }
2. Nf3 $1 { developing [%cal Gg1f3] } ( 2. Qh5 $2 { too early } ( 2. Bc4 $5 ) 2... Nc6 )
2... Nc6 3. Bc4 $14 { [%clk 0:09:40] } 3... Nd4 $3 { the Blackburne trap! } 4. Nxe5 $2
{ greedy } 4... Qg5 5. Nxf7 Qxg2 6. Rf1 Qxe4+ 7. Be2 Nf3# 0-1
"""

ENGINE, LIMIT = EngineIdentity("fixture 1.0"), SearchLimit(nodes=1)


def _analysis(game: chess.pgn.Game, drops: dict[int, int]) -> analysis.GameAnalysis:
    """Evals of +0.20 everywhere except ``drops`` (ply -> White's cp); another first choice."""
    boards = analysis.main_line_boards(game)
    positions = []
    for i, board in enumerate(boards):
        other = next(iter(board.legal_moves), None)
        ev = WhiteEval(cp=drops.get(i, 20)) if not board.is_checkmate() else \
            WhiteEval.checkmate(board.turn)
        pv = (other,) if other is not None else ()
        positions.append(PositionEval(board.fen(), (EngineLine(ev, pv),), ENGINE, LIMIT))
    return analysis.build_game_analysis(game, positions)


def _read(text: str) -> chess.pgn.Game:
    game = chess.pgn.read_game(io.StringIO(text))
    assert game is not None and not game.errors
    return game


def _user_view(game: chess.pgn.Game) -> dict[str, object]:
    """What belongs to the user: everything but the analysis's evals, NAGs, comments and
    engine lines (bare side lines; the user's all have words or glyphs, or are known)."""
    nodes = [game, *game.mainline()]
    users = {"Qh5", "Bc4"}
    return {
        "tags": {k: v for k, v in game.headers.items()},
        "game comment": game.comment,
        "clocks": [n.clock() for n in nodes[1:]],
        "arrows": [[a.pgn() for a in n.arrows()] for n in nodes[1:]],
        "sidelines": [[v.san() for v in n.variations[1:]
                       if v.san() in users or not export._is_bare_line(v)] for n in nodes],
        "engine lines": sum(1 for n in nodes for v in n.variations[1:]
                            if v.san() not in users and export._is_bare_line(v)),
        "sideline 2. Qh5": str(nodes[2].variations[1]),
    }


def test_every_user_annotation_survives_and_comes_first() -> None:
    game = games.read_game(RICH)
    # 3... Nd4 (ply 6) "loses" 2.50 for Black, 4. Nxe5 (ply 7) "loses" 3.50 for White
    first = _analysis(game, {6: 270, 7: -80})
    assert first.plies[5].judgement is not None and first.plies[6].judgement is not None
    text = export.export_pgn(game, first)
    back = _read(text)
    assert re.search(r"3\.\.\. Nd4 \$3 \$4\s", text)  # the user's glyph first, then ours
    assert re.search(r"4\. Nxe5 \$2 \$4\s", text)
    nodes = list(back.mainline())
    assert nodes[5].nags == {3, 4} and nodes[6].nags == {2, 4}
    assert nodes[2].nags == {1} and nodes[4].nags == {14}
    assert "the Blackburne trap!" in nodes[5].comment and "greedy" in nodes[6].comment
    original = _user_view(games.read_game(RICH))
    exported = _user_view(back)
    tags = exported.pop("tags")
    assert isinstance(tags, dict)
    for key, value in original.pop("tags").items():  # type: ignore[union-attr]
        assert tags[key] == value, key
    assert exported.pop("engine lines") == 3 and original.pop("engine lines") == 0
    assert exported == original


def test_re_export_replaces_only_the_analysis_s_own_annotations() -> None:
    game = games.read_game(RICH)
    once = export.export_pgn(game, _analysis(game, {6: 270, 7: -80}))
    # A second analysis sees it otherwise: 3... Nd4 fine, 2. Nf3 an error instead.
    reread = games.read_game(once)
    second = _analysis(reread, {3: -200})
    twice = export.export_pgn(reread, second)
    back = _read(twice)
    nodes = list(back.mainline())
    assert nodes[5].nags == {3}, "the first analysis's $4 is gone, the user's $3 stays"
    assert nodes[6].nags == {2}, "the user's $2 stays although the analysis no longer says it"
    nf3 = second.plies[2].judgement
    assert nf3 is not None and nodes[2].nags == {1, nf3.nag}
    assert "Blunder" not in nodes[5].comment and "the Blackburne trap!" in nodes[5].comment
    assert twice.count("[%eval") == once.count("[%eval")
    # only the second analysis's engine lines are left (one per move it judged; here
    # 2. Nf3 and 2... Nc6), beside the user's own lines; the first one's are gone
    judged = sum(p.judgement is not None for p in second.plies)
    assert judged == 2
    assert _user_view(back) | {"tags": None} == _user_view(games.read_game(RICH)) | {
        "tags": None, "engine lines": judged}
    # and the same analysis again changes nothing at all
    assert export.export_pgn(games.read_game(twice), second) == twice


def test_lichess_s_own_export_loses_only_lichess_s_judgements() -> None:
    lichess = ('[Event "x"]\n[Annotator "lichess.org"]\n\n1. e4 e5 2. Qh5?! '
               '{ (0.35 → -0.40) Inaccuracy. Nf3 was best. } { [%eval -0.4] } 2... Nc6 $14 *')
    game = games.read_game(lichess)
    text = export.export_pgn(game, _analysis(game, {}))
    back = _read(text)
    nodes = list(back.mainline())
    assert nodes[2].nags == set() and "Inaccuracy" not in nodes[2].comment
    assert nodes[3].nags == {14}
