"""The claim table in plain English (chessapp.story.readable), on the café game."""

from __future__ import annotations

import json
from pathlib import Path

import chess.pgn
import pytest

from chessapp import story
from chessapp.analysis import GameAnalysis
from chessapp.story.readable import (
    ClaimTable,
    ReadableClaim,
    Verdict,
    claim_in_words,
    claim_table,
)

GAMES = Path(__file__).resolve().parent.parent / "games"


@pytest.fixture(scope="module")
def track() -> story.StoryTrack:
    return story.load_track(GAMES / "cafe-1913.story.toml")


@pytest.fixture(scope="module")
def game() -> chess.pgn.Game:
    with (GAMES / "cafe-1913.pgn").open(encoding="utf-8") as handle:
        found = chess.pgn.read_game(handle)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def shipped() -> GameAnalysis:
    report = json.loads((GAMES / "cafe-1913.analysis.json").read_text(encoding="utf-8"))
    return GameAnalysis.from_json(report["games"][0])


@pytest.fixture(scope="module")
def table(track: story.StoryTrack, game: chess.pgn.Game, shipped: GameAnalysis) -> ClaimTable:
    return claim_table(track, game, story.check_track(track, game, shipped), shipped)


def _row(table: ClaimTable, segment: str, claim_says: str) -> ReadableClaim:
    rows = [r for r in table.rows if r.segment_id == segment and r.claim_says == claim_says]
    assert len(rows) == 1, [r.claim_says for r in table.rows if r.segment_id == segment]
    return rows[0]


def test_one_row_per_claim_and_all_hold(table: ClaimTable, track: story.StoryTrack) -> None:
    assert len(table.rows) == sum(len(seg.claims) for seg in track.segments)
    assert table.summary == "61 of 61 claims hold."
    assert table.failing == ()


def test_a_row_reads_in_words(table: ClaimTable) -> None:
    row = _row(table, "b2", "nothing guards the piece on e2")
    assert (row.move, row.narrator_says, row.verdict, row.board_and_engine_say,
            row.figures_text) == (
        "11… Qxe2",
        "“the black queen stands undefended where his rook and his queen can take it”",
        Verdict.HOLDS,
        "After ply 22, the black queen on e2 has no defenders.",
        "guarded from none",
    )


def test_the_engine_verdict_row_carries_its_figures(table: ClaimTable) -> None:
    row = _row(table, "b2", "the position is decisive for Lev")
    assert row.narrator_says == ("“The engine is not fooled by the look: it rates the position "
                                 "decisive for Lev” … “the engine has Lev winning”")
    assert row.board_and_engine_say == ("The engine rates the position +8.72 (White's view): "
                                        "decisive for Lev.")
    assert row.figures == (("eval before (White's view)", "+3.92"),
                           ("eval after (White's view)", "+8.72"),
                           ("winning chances after", "96% for White"),
                           ("engine", "Stockfish 15.1, nodes=200000"))


def test_placeholders_in_the_narrators_words_are_filled(table: ClaimTable) -> None:
    row = _row(table, "pawn-g6", "the move is a blunder")
    assert row.narrator_says == ("“g6, a blunder by the engine's count” … “the costly error” … "
                                 "“judged blunder by lichess thresholds”")
    # A move that starts the sentence keeps its lower case.
    assert row.board_and_engine_say.startswith("g6 cost the mover 21 points")


def test_no_claim_ids_in_the_words(table: ClaimTable) -> None:
    for row in table.rows:
        for cell in (row.narrator_says, row.claim_says, row.board_and_engine_say):
            assert "_" not in cell and "(claim:" not in cell, cell
        assert "lev" not in row.board_and_engine_say.split()


def test_a_failing_claim_is_shown_as_failing(track: story.StoryTrack, game: chess.pgn.Game,
                                             shipped: GameAnalysis) -> None:
    results = story.check_track(track, game, shipped)
    wrong = story.check_claim(story.Claim.parse("in_danger(lev)"), game, 22, shipped, track,
                              segment_id="b2")
    table = claim_table(track, game, [*results, wrong], shipped)
    assert table.summary == "61 of 62 claims hold; 1 does not hold."
    (row,) = table.failing
    assert (row.claim_says, row.verdict.value, row.narrator_says) == (
        "Lev is in danger by the engine's count", "does not hold",
        "(not in the text) Lev is in danger by the engine's count")
    assert row.board_and_engine_say == (
        "The engine rates the position +8.72 (White's view): Lev is not in danger (a pawn or "
        "worse against it counts).")


def test_without_an_analysis_engine_claims_are_unchecked(track: story.StoryTrack,
                                                         game: chess.pgn.Game) -> None:
    table = claim_table(track, game, story.check_track(track, game, None))
    assert table.summary == "54 of 61 claims hold; 7 not checked (no engine analysis)."
    row = _row(table, "b1", "the move is no mistake")
    assert row.verdict is Verdict.UNCHECKED
    assert row.narrator_says == "“judged …”"


@pytest.mark.parametrize(("claim", "words"), [
    ("defenders(f6, d7 e7)", "the piece on f6 is guarded from d7 and e7 and nowhere else"),
    ("attackers(d5, none)", "nothing attacks the piece on d5"),
    ("pins(g5, f6, e7)", "the piece on g5 pins the piece on f6 to the one on e7"),
    ("opening(french_defence)", "the opening is the French Defence"),
    ("material_down(opponent, 20)",
     "the opponent has lost material, once any trade is complete (compared with ply 20)"),
    ("lined_up(e1 e2 e7 e8)", "e1, e2, e7 and e8 stand in one line with nothing between"),
    ("was_error", "the move is a mistake or a blunder"),
    ("decisive_for(lev)@22", "the position is decisive for Lev"),
])
def test_every_claim_kind_reads_in_words(track: story.StoryTrack, claim: str, words: str) -> None:
    assert claim_in_words(story.Claim.parse(claim), track) == words


def test_every_claim_kind_has_words() -> None:
    for kind, spec in story.CLAIM_SPECS.items():
        assert spec.says and "_" not in spec.says, kind
