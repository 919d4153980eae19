"""A story for any game (issue 12, part 3): generated, checked, downloadable, loadable.

The games: lichess's own published analyses (``../shared/data/lichess-analyses``,
fed as evals, no engine), which hold miniatures, long endgames, games decided by
one blunder and clean games; plus a few composed games analysed by the real
Stockfish at a small node limit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import chess
import chess.pgn
import pytest

from chessapp import story
from chessapp.analysis import GameAnalysis, Judgement, analyse_game, build_game_analysis
from chessapp.engine import EnginePool
from chessapp.errors import StoryError
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.story.generate import generate_story
from chessapp.tree import main_line_boards
from tests.lichess_oracle import all_oracle_games

LICHESS_ENGINE = EngineIdentity("lichess server analysis")
LIMIT = SearchLimit(nodes=1)


def lichess_games() -> Iterator[tuple[str, chess.pgn.Game, GameAnalysis]]:
    """lichess's published games and evals (tests/lichess_oracle.py), standard chess only."""
    for oracle in all_oracle_games():
        if oracle.game.headers.get("Variant", "Standard") not in ("Standard", "From Position"):
            continue
        yield oracle.name, oracle.game, build_game_analysis(oracle.game, list(oracle.positions))


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, chess.pgn.Game, GameAnalysis]]:
    games = list(lichess_games())
    assert len(games) >= 20, "the shared lichess analyses are missing"
    return games


def assert_sound(game: chess.pgn.Game, analysis: GameAnalysis) -> story.StoryTrack:
    """Every claim of the generated story holds, and the story covers every ply."""
    generated = generate_story(game, analysis)
    assert generated.claims, "a story stands on claims"
    failing = [c for c in generated.claims if c.holds is not True]
    assert failing == []
    assert [c.claim for c in generated.claims] == [c.text() for seg in generated.track.segments
                                                    for c in seg.claims]
    plies = [p for seg in generated.track.segments for p in seg.plies]
    assert plies == list(range(len(analysis.plies) + 1))
    # The download is exactly what the loader reads back, and it checks the same way.
    reloaded = story.parse_track(generated.toml, source="download")
    assert reloaded.segments == generated.track.segments
    assert all(r.holds for r in story.check_track(reloaded, game, analysis))
    return generated.track


def test_stories_for_every_lichess_game_hold(corpus: list[tuple[str, chess.pgn.Game,
                                                                 GameAnalysis]]) -> None:
    kinds = {"miniature": 0, "long": 0, "one blunder": 0, "no error": 0}
    for _name, game, analysis in corpus:
        assert_sound(game, analysis)
        blunders = sum(p.judgement is Judgement.BLUNDER for p in analysis.plies)
        judged = sum(p.judgement is not None for p in analysis.plies)
        kinds["miniature"] += len(analysis.plies) <= 50
        kinds["long"] += len(analysis.plies) >= 120
        kinds["one blunder"] += blunders == 1
        kinds["no error"] += judged == 0
    # The corpus really holds the kinds the issue names (all but clean games, below).
    assert kinds["miniature"] and kinds["long"] and kinds["one blunder"], kinds


def test_the_decisive_error_is_the_largest_drop(corpus: list[tuple[str, chess.pgn.Game,
                                                                   GameAnalysis]]) -> None:
    name, game, analysis = next(c for c in corpus
                                if sum(p.judgement is not None for p in c[2].plies) >= 3)
    track = generate_story(game, analysis).track
    worst = max((p for p in analysis.plies if p.judgement), key=lambda p: (
        p.verdict.win_chance_loss, -p.ply))
    decisive = [s for s in track.segments if s.narration.startswith("The decisive moment.")]
    assert [s.last_ply for s in decisive] == [worst.ply], name
    assert story.engine_reading(track, game, analysis)[0].startswith(f"{worst.san} decided")


def test_generation_is_deterministic(corpus: list[tuple[str, chess.pgn.Game,
                                                         GameAnalysis]]) -> None:
    for _name, game, analysis in corpus[:5]:
        assert generate_story(game, analysis).toml == generate_story(game, analysis).toml


def test_a_claim_that_fails_is_never_narrated() -> None:
    """The capture and check candidates of a quiet blunder fail, so no sentence says so."""
    game = chess.pgn.read_game(io.StringIO("1. e4 e5 2. Nf3 f6 3. Nxe5 fxe5 4. Qh5+ *"))
    assert game is not None
    boards = main_line_boards(game)
    # White's view after each ply: 2... f6 (ply 4) throws away a quarter of Black's chances.
    cps = [15, 30, 20, 30, 250, 240, 250, 900]
    # Each position's engine line: a legal move other than the one played (lichess judges
    # only a move that is not the engine's first choice).
    played = list(game.mainline_moves())
    positions = [PositionEval(b.fen(), (EngineLine(WhiteEval(cp=cp), tuple(
        m for m in b.legal_moves if i >= len(played) or m != played[i])[:1]),),
        LICHESS_ENGINE, LIMIT) for i, (b, cp) in enumerate(zip(boards, cps, strict=True))]
    analysis = build_game_analysis(game, positions)
    assert [p.ply for p in analysis.plies if p.judgement] == [4]
    generated = generate_story(game, analysis)
    f6 = next(s for s in generated.track.segments if s.last_ply == 4)
    # Tried and failed: gives_check, captures_pawn, captures_bishop, decisive_for(white).
    assert [c.text() for c in f6.claims] == ["was_blunder"]
    assert "takes" not in f6.narration and "check" not in f6.narration
    assert "decisive advantage" not in f6.narration
    assert f6.narration == ("The decisive moment. 2… f6 by Black is a blunder: the engine's eval "
                            "goes from +0.30 to +2.50. Ne7 was the engine's choice.")
    assert all(c.holds for c in generated.claims)


def test_an_edited_story_loads_back_with_precise_errors(corpus: list[tuple[str, chess.pgn.Game,
                                                                          GameAnalysis]]) -> None:
    _name, game, analysis = corpus[0]
    text = generate_story(game, analysis).toml
    edited = text.replace('narration = "', 'narration = "My own words. ', 1)
    track = story.parse_track(edited, source="edited")
    assert track.segments[0].narration.startswith("My own words. ")
    broken = text.replace('"was_blunder"', '"was_blundr"', 1) if "was_blunder" in text else (
        text.replace('"no_error"', '"no_eror"', 1))
    with pytest.raises(StoryError, match=r"^segments\[\d+\]\.claims\[\d+\]: unknown claim"):
        story.parse_track(broken, source="edited")


@pytest.mark.engine
@pytest.mark.parametrize("movetext", [
    pytest.param("1. e4 e5 2. Bc4 Nc6 3. Qh5 Nf6 4. Qxf7# 1-0", id="scholar's mate miniature"),
    pytest.param("1. d4 d5 2. c4 e6 3. Nc3 Nf6 4. Bg5 Be7 5. e3 O-O 6. Nf3 1/2-1/2",
                 id="a quiet opening with no error"),
    pytest.param("1. f3 e5 2. g4 Qh4# 0-1", id="fool's mate"),
    pytest.param("1. e4 c5 2. Nf3 d6 3. d4 cxd4 4. Nxd4 Nf6 5. Nc3 a6 6. Bg5 e6 7. f4 Qb6 "
                 "8. Qd2 Qxb2 9. Rb1 Qa3 *", id="poisoned pawn"),
])
def test_stories_of_engine_analysed_games_hold(engine_pool: EnginePool, movetext: str) -> None:
    game = chess.pgn.read_game(io.StringIO(movetext))
    assert game is not None
    analysis = analyse_game(game, engine_pool, SearchLimit(nodes=3_000))
    track = assert_sound(game, analysis)
    assert track.segments[-1].narration.startswith("The game ends after")


def test_every_mention_in_a_generated_story_is_a_tagged_fact(
        corpus: list[tuple[str, chess.pgn.Game, GameAnalysis]]) -> None:
    """The café track's rule holds for generated stories too: no square, move or piece
    relation outside a fact tag, every tag cites a claim of its segment, every claim is cited."""
    for name, game, analysis in corpus:
        track = generate_story(game, analysis).track
        for segment in track.segments:
            assert story.untagged_mentions(segment) == [], (name, segment.id)
            cited = {c.text() for fact in segment.facts for c in fact.claims}
            assert cited == {c.text() for c in segment.claims}, (name, segment.id)
