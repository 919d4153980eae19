"""The story-track format, its validation errors, and the claims it makes about the café game."""

from __future__ import annotations

import json
import re
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp import story
from chessapp.analysis import GameAnalysis, analyse_game, build_game_analysis
from chessapp.engine import EngineConfig, EnginePool
from chessapp.errors import StoryError
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.shapes import Brush, Shape

REPO = Path(__file__).resolve().parent.parent
GAMES = REPO / "games"
TRACK = GAMES / "cafe-1913.story.toml"
#: CI keeps a copy of shared/ beside the clone; a worktree under /work/wt/NAME has it two up.
_SHARED = next((p for p in (REPO.parent / "shared", REPO.parent.parent / "shared")
                if p.is_dir()), REPO.parent / "shared")
TRANSCRIPT = _SHARED / "source" / "episode-transcript.txt"


@pytest.fixture(scope="module")
def track() -> story.StoryTrack:
    return story.load_track(TRACK)


@pytest.fixture(scope="module")
def game() -> chess.pgn.Game:
    with (GAMES / "cafe-1913.pgn").open(encoding="utf-8") as handle:
        found = chess.pgn.read_game(handle)
    assert found is not None and not found.errors
    return found


@pytest.fixture(scope="module")
def shipped(game: chess.pgn.Game) -> GameAnalysis:
    """The analysis shipped with the game (script/regen-cafe)."""
    report = json.loads((GAMES / "cafe-1913.analysis.json").read_text(encoding="utf-8"))
    analysis = GameAnalysis.from_json(report["games"][0])
    assert [p.uci for p in analysis.plies] == [m.uci() for m in game.mainline_moves()]
    return analysis


# --- The café track -----------------------------------------------------------------------


def test_cafe_track_loads_with_its_episode(track: story.StoryTrack) -> None:
    ep = track.episode
    assert (ep.title, ep.show, ep.air_date.isoformat()) == (
        "Leon Trotsky is Forced Into Exile", "History Daily", "2023-01-31")
    assert [a.id for a in track.acts] == ["cold-open", "act-one", "act-two", "act-three"]
    assert [a.date[:4] for a in track.acts] == ["1913", "1918", "1928", "1940"]
    assert track.hero == "lev"


def test_every_ply_of_the_game_has_exactly_one_segment(
        track: story.StoryTrack, game: chess.pgn.Game) -> None:
    plies = len(list(game.mainline_moves()))
    owners = [story.segment_for_ply(track, ply) for ply in range(plies + 1)]
    assert all(seg is not None for seg in owners)
    assert track.last_ply == plies
    assert story.segment_for_ply(track, plies + 1) is None
    assert sum(len(seg.plies) for seg in track.segments) == plies + 1


def test_beats_sit_on_their_plies_and_acts(track: story.StoryTrack) -> None:
    beats = {seg.id: (seg.first_ply, seg.last_ply, seg.act) for seg in track.segments
             if seg.id in ("b1", "b2", "b4")}
    assert beats == {"b1": (21, 21, "act-one"), "b2": (22, 22, "act-two"),
                     "b4": (23, 23, "act-three")}


def test_narration_is_short(track: story.StoryTrack) -> None:
    for seg in track.segments:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", seg.narration) if s]
        assert 1 <= len(sentences) <= 3, seg.id


def test_narration_and_shapes_by_ply(track: story.StoryTrack) -> None:
    narration = story.narration_by_ply(track)
    assert sorted(narration) == [seg.first_ply for seg in track.segments]
    assert narration[21].startswith("Lev sends his knight")
    shapes = story.shapes_by_ply(track)
    # Redefined (issue 13): an arrow belongs to its ply; at ply 21 the knight stands on d5.
    assert shapes[21] == (Shape(chess.D5, chess.E7, Brush.GREEN),
                          Shape(chess.C6, chess.D5, Brush.RED),
                          Shape(chess.F6, chess.D5, Brush.RED))
    assert shapes[6] == shapes[7] == shapes[8] == (Shape(chess.E1, chess.E8, Brush.YELLOW),)
    assert shapes[5] == (Shape(chess.E6, chess.D5, Brush.RED),)  # the ply's own, not the default
    assert [ply for ply in range(24) if ply not in shapes] == [13, 14, 15, 16]


def test_every_story_arrow_starts_on_a_piece_of_the_right_side(
        track: story.StoryTrack, game: chess.pgn.Game) -> None:
    assert story.misplaced_arrows(track, game) == []


def test_misplaced_arrows_are_found(game: chess.pgn.Game) -> None:
    """The fault the issue found: at ply 9 a red e7→e2 arrow started on an empty square."""
    text = (MINIMAL.replace('hero_name = "Lev"', f'hero_name = "{LEV}"')
            .replace("plies = [0, 2]", "plies = [0, 23]")
            .replace('shapes = ["Ge2e4"]',
                     'shapes = ["Ge1e8"]\nshapes_at = {9 = ["Re7e2"], 21 = ["Rd5e7"], '
                     '22 = ["Gd8d1"], 23 = []}'))
    track = story.parse_track(text)
    assert track.segments[0].shapes_for(23) == ()
    assert story.misplaced_arrows(track, game)[:4] == [
        "all, ply 9: arrow Re7e2 starts on the empty square e7",
        "all, ply 15: arrow Ge1e8 starts on the empty square e1",
        "all, ply 16: arrow Ge1e8 starts on the empty square e1",
        "all, ply 17: arrow Ge1e8 starts on the empty square e1",
    ]
    assert story.misplaced_arrows(track, game)[-2:] == [
        "all, ply 21: arrow Rd5e7 is red but starts on lev's knight",
        "all, ply 22: arrow Gd8d1 starts on the empty square d8",
    ]


def test_timeline_is_dated_and_linked(track: story.StoryTrack) -> None:
    years = [int(event.date[:4]) for event in track.timeline]
    assert years == [1913, 1917, 1918, 1924, 1927, 1928, 1929, 1940]
    assert years == sorted(years)
    # Redefined (issue 13): the cold open is one bracket (an act), each beat its own moment.
    linked = {int(event.date[:4]): (event.segment, event.beat, event.act)
              for event in track.timeline if event.segment or event.act}
    assert linked == {1913: (None, None, "cold-open"),
                      1918: ("b1", "The knight's lunge", None),
                      1924: ("b2", "The queen's capture", None),
                      1928: ("b2", "Lev looks vulnerable", None),
                      1929: ("b4", "The rook check", None),
                      1940: ("b4", "Board and history part ways", None)}


def test_the_divergence_is_said(track: story.StoryTrack) -> None:
    final = track.segment("b4").metaphor
    assert "Lev wins" in final and "Trotsky loses" in final and "Mexico City" in final


# --- Every fact is tagged with the claims that check it -------------------------------------


def test_every_chess_mention_in_the_cafe_story_sits_in_a_tagged_fact(
        track: story.StoryTrack) -> None:
    assert {seg.id: story.untagged_mentions(seg) for seg in track.segments} == {
        seg.id: [] for seg in track.segments}


def test_every_tagged_fact_rests_on_claims_that_hold(
        track: story.StoryTrack, game: chess.pgn.Game, shipped: GameAnalysis) -> None:
    results = {(r.segment_id, r.claim): r.holds for r in story.check_track(track, game, shipped)}
    facts = [(seg.id, fact) for seg in track.segments for fact in seg.facts]
    assert len(facts) == 45
    not_holding = [(seg_id, fact.text, claim.text()) for seg_id, fact in facts
                   for claim in fact.claims if results[(seg_id, claim.text())] is not True]
    assert not_holding == []


def test_every_claim_of_the_cafe_track_is_cited_by_a_fact(track: story.StoryTrack) -> None:
    uncited = [(seg.id, claim.text()) for seg in track.segments for claim in seg.claims
               if all(claim not in fact.claims for fact in seg.facts)]
    assert uncited == []


def test_fact_tags_render_as_plain_text(track: story.StoryTrack) -> None:
    b1 = track.segment("b1")
    assert b1.narration == (
        "Lev sends his knight into the middle of the board. It takes the pawn on d5 and from "
        "there attacks the black queen on e7, a knight's jump away; pleased with the move, he "
        "leans back. Yet the knight itself is attacked twice and guarded by nothing.")
    for seg in track.segments:
        for text in (seg.narration, seg.metaphor, seg.engine_note or ""):
            assert "(claim:" not in text, seg.id
        for fact in seg.facts:
            assert (getattr(seg, fact.field) or "")[fact.start:fact.end] == fact.text
    last = [f for f in b1.facts if f.field == "narration"][-1]
    assert (last.field, last.text, [c.text() for c in last.claims]) == (
        "narration", "the knight itself is attacked twice and guarded by nothing",
        ["attackers(d5, c6 f6)", "defenders(d5, none)"])


@pytest.mark.parametrize(("narration", "untagged"), [
    ("The d5 pawn is guarded.", [("narration", "d5"), ("narration", "guarded")]),
    ("Then Nxd5 and a check on the e-file.",
     [("narration", "Nxd5"), ("narration", "check"), ("narration", "e-file")]),
    ("[The d5 pawn is guarded](claim: gives_check).", []),
    ("Plain [brackets](not a tag) stay text: d5.", [("narration", "d5")]),
    ("The players drink coffee.", []),
])
def test_untagged_mentions_finds_squares_moves_and_relations(
        narration: str, untagged: list[tuple[str, str]]) -> None:
    seg = story.parse_track(_broken('narration = "Some moves."',
                                    f'narration = "{narration}"')).segments[0]
    assert story.untagged_mentions(seg) == untagged


# --- Narration is our own ------------------------------------------------------------------


def _words(text: str) -> list[str]:
    text = text.lower().replace("’", "'").replace("‘", "'")
    return re.findall(r"[a-z0-9']+", text)


def test_no_eight_word_run_is_copied_from_the_transcript(track: story.StoryTrack) -> None:
    assert TRANSCRIPT.is_file(), (
        f"the episode transcript is needed to prove the narration is original: {TRANSCRIPT} "
        "(CI keeps shared/ beside the clone)")
    source = _words(TRANSCRIPT.read_text(encoding="utf-8"))
    windows = {tuple(source[i:i + 8]) for i in range(len(source) - 7)}
    texts = [("episode.summary", track.episode.summary)]
    for seg in track.segments:
        texts += [(f"{seg.id}.narration", seg.narration), (f"{seg.id}.metaphor", seg.metaphor),
                  (f"{seg.id}.engine_note", seg.engine_note or "")]
    texts += [(f"engine_reading[{i}]", line) for i, line in enumerate(track.reading)]
    texts += [(f"timeline: {e.title}", e.title) for e in track.timeline]
    copied = []
    for name, text in texts:
        words = _words(text)
        copied += [(name, " ".join(words[i:i + 8])) for i in range(len(words) - 7)
                   if tuple(words[i:i + 8]) in windows]
    assert copied == []


def test_the_copy_detector_catches_a_copied_sentence() -> None:
    source = _words(TRANSCRIPT.read_text(encoding="utf-8"))
    lifted = " ".join(source[100:110])
    windows = {tuple(source[i:i + 8]) for i in range(len(source) - 7)}
    assert tuple(_words(lifted)[:8]) in windows


# --- Validation: malformed tracks name the field --------------------------------------------

MINIMAL = """
[episode]
title = "T"
show = "S"
air_date = 2023-01-31
hero = "lev"
hero_name = "Lev"

[[acts]]
id = "one"
title = "One"
date = "1913"
place = "Vienna"

[[segments]]
id = "all"
act = "one"
date = "1913-01"
place = "Vienna"
plies = [0, 2]
narration = "Some moves."
claims = ["gives_check"]
shapes = ["Ge2e4"]
"""


def test_the_minimal_track_is_valid() -> None:
    parsed = story.parse_track(MINIMAL)
    assert parsed.segments[0].plies == range(0, 3)
    assert parsed.segments[0].claims == (story.Claim("gives_check"),)


def _broken(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new)


SECOND_SEGMENT = """
[[segments]]
id = "more"
act = "one"
date = "1913"
place = "Vienna"
plies = {plies}
narration = "More."
"""

MALFORMED = {
    "missing episode": (MINIMAL.replace("[episode]", "[episodes]"), "episode: missing table"),
    "missing title": (_broken('title = "T"\n', ""), "episode.title: missing field"),
    "air date as a string": (_broken("air_date = 2023-01-31", 'air_date = "2023-01-31"'),
                             "episode.air_date: must be a TOML date"),
    "hero colour unknown": (_broken('hero_name = "Lev"', 'hero_name = "Lev"\nhero_color = "red"'),
                            "episode.hero_color: 'red' must be 'white' or 'black'"),
    "no segments": (MINIMAL.split("[[segments]]")[0], "segments: missing"),
    "missing narration": (_broken('narration = "Some moves."\n', ""),
                          "segments[0].narration: missing field"),
    "narration not a string": (_broken('narration = "Some moves."', "narration = 3"),
                               "segments[0].narration: must be a string, not int"),
    "plies missing": (_broken("plies = [0, 2]\n", ""), "segments[0].plies: missing field"),
    "plies wrong type": (_broken("plies = [0, 2]", 'plies = "0-2"'),
                         "segments[0].plies: must be a ply number or [first, last]"),
    "plies negative": (_broken("plies = [0, 2]", "plies = [-1, 2]"),
                       "segments[0].plies: plies must be >= 0"),
    "plies reversed": (_broken("plies = [0, 2]", "plies = [2, 0]"),
                       "segments[0].plies: first ply 2 is after last ply 0"),
    "plies not from zero": (_broken("plies = [0, 2]", "plies = [1, 2]"),
                            "segments[0].plies: starts at ply 1 but leaves a gap after ply -1"),
    "plies gap": (MINIMAL + SECOND_SEGMENT.format(plies=5),
                  "segments[1].plies: starts at ply 5 but leaves a gap after ply 2"),
    "plies overlap": (MINIMAL + SECOND_SEGMENT.format(plies="[2, 4]"),
                      "segments[1].plies: starts at ply 2 but overlaps ply 2"),
    "unknown act": (_broken('act = "one"', 'act = "two"'),
                    "segments[0].act: unknown act 'two' (known: one)"),
    "unknown claim": (_broken('claims = ["gives_check"]', 'claims = ["gives_chek"]'),
                      "segments[0].claims[0]: unknown claim 'gives_chek'"),
    "claim without its argument": (
        _broken('claims = ["gives_check"]', 'claims = ["wins"]'),
        "segments[0].claims[0]: claim 'wins' takes 1 argument(s), got 0"),
    "claim malformed": (_broken('claims = ["gives_check"]', 'claims = ["wins(lev"]'),
                        "segments[0].claims[0]: not a claim: 'wins(lev'"),
    "claim about a ply outside its segment": (
        _broken('claims = ["gives_check"]', 'claims = ["gives_check@5"]'),
        "segments[0].claims[0]: 'gives_check@5' is about ply 5, outside this segment's plies 0..2"),
    "claim with a bad square": (
        _broken('claims = ["gives_check"]', 'claims = ["defenders(z9, none)"]'),
        "segments[0].claims[0]: claim 'defenders(z9, none)': argument 1 'z9' is not a square"),
    "claim with a bad move": (
        _broken('claims = ["gives_check"]', 'claims = ["played(Knight to f3)"]'),
        "segments[0].claims[0]: claim 'played(Knight to f3)': argument 1 'Knight to f3' is not "
        "a move in SAN"),
    "fact cites a claim the segment does not make": (
        _broken('narration = "Some moves."', 'narration = "[A pin](claim: pins(g5, f6, d8))."'),
        "segments[0].narration: fact 'A pin' cites 'pins(g5, f6, d8)', which is not in "
        "segments[0].claims"),
    "fact cites a malformed claim": (
        _broken('narration = "Some moves."', 'narration = "[Mate](claim: gives check)."'),
        "segments[0].narration: fact 'Mate': not a claim: 'gives check'"),
    "fact tag malformed": (
        _broken('narration = "Some moves."', 'narration = "[Some [moves](claim: gives_check."'),
        "segments[0].narration: malformed fact tag near"),
    "fact in a metaphor checked too": (
        _broken('narration = "Some moves."',
                'narration = "Some moves."\nmetaphor = "[x](claim: wins(lev))"'),
        "segments[0].metaphor: fact 'x' cites 'wins(lev)', which is not in segments[0].claims"),
    "shapes_at not a table": (_broken('shapes = ["Ge2e4"]', 'shapes_at = ["Ge2e4"]'),
                              "segments[0].shapes_at: must be a table of ply = [shapes]"),
    "shapes_at key not a ply": (_broken('shapes = ["Ge2e4"]', 'shapes_at = {first = []}'),
                                "segments[0].shapes_at.first: the key must be a ply number"),
    "shapes_at ply outside the segment": (
        _broken('shapes = ["Ge2e4"]', 'shapes_at = {3 = ["Ge2e4"]}'),
        "segments[0].shapes_at.3: ply 3 is outside this segment's plies 0..2"),
    "shapes_at bad shape": (_broken('shapes = ["Ge2e4"]', 'shapes_at = {1 = ["Re7e5", "Xe9"]}'),
                            "segments[0].shapes_at.1[1]: 'Xe9' is not a shape"),
    "shapes_at not strings": (_broken('shapes = ["Ge2e4"]', 'shapes_at = {1 = "Re7e5"}'),
                              "segments[0].shapes_at.1: must be an array of strings"),
    "bad shape": (_broken('shapes = ["Ge2e4"]', 'shapes = ["Ge2e4", "Xe9"]'),
                  "segments[0].shapes[1]: 'Xe9' is not a shape"),
    "shapes not a list": (_broken('shapes = ["Ge2e4"]', 'shapes = "Ge2e4"'),
                          "segments[0].shapes: must be an array of strings"),
    "bad date": (_broken('date = "1913-01"', 'date = "1913-13"'),
                 "segments[0].date: '1913-13' is not YYYY, YYYY-MM or YYYY-MM-DD"),
    "bad id": (_broken('id = "all"', 'id = "All Moves"'),
               "segments[0].id: 'All Moves' must be lower-case"),
    "duplicate segment id": (MINIMAL + SECOND_SEGMENT.format(plies=3).replace('"more"', '"all"'),
                             "segments[1].id: duplicate id 'all'"),
    "note names an unknown segment": (
        _broken('narration = "Some moves."',
                'narration = "Some moves."\nengine_note = "{b9.san} was played"'),
        "segments[0].engine_note: placeholder {b9.san} names unknown segment 'b9'"),
    "note names an unknown field": (
        _broken('narration = "Some moves."',
                'narration = "Some moves."\nengine_note = "{all.colour}"'),
        "segments[0].engine_note: placeholder {all.colour}: unknown field 'colour'"),
    "timeline links an unknown segment": (
        MINIMAL + '[[timeline]]\ndate = "1917"\nplace = "P"\ntitle = "T"\nsegment = "nope"\n',
        "timeline[0].segment: unknown segment 'nope'"),
    "timeline beat without a segment": (
        MINIMAL + '[[timeline]]\ndate = "1917"\nplace = "P"\ntitle = "T"\nbeat = "A pin"\n',
        "timeline[0].beat: names the moment of a segment: give 'segment' too"),
    "timeline spans an unknown act": (
        MINIMAL + '[[timeline]]\ndate = "1917"\nplace = "P"\ntitle = "T"\nact = "two"\n',
        "timeline[0].act: unknown act 'two'"),
    "timeline links a segment and an act": (
        MINIMAL + '[[timeline]]\ndate = "1917"\nplace = "P"\ntitle = "T"\nact = "one"\n'
        'segment = "all"\n',
        "timeline[0].act: an event links one segment or spans one act, not both"),
    "reading not strings": (MINIMAL + "[engine_reading]\nlines = [1]\n",
                            "engine_reading.lines: must be an array of strings"),
    "not TOML": ("[episode\n", "<string>: not valid TOML"),
}


@pytest.mark.parametrize(("text", "message"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_tracks_name_the_field(text: str, message: str) -> None:
    with pytest.raises(StoryError) as info:
        story.parse_track(text)
    assert str(info.value).startswith(message), str(info.value)


def test_story_error_is_bad_input_and_value_error() -> None:
    with pytest.raises(ValueError, match="episode: missing table"):
        story.parse_track("")


def test_load_track_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoryError, match="cannot read story track"):
        story.load_track(tmp_path / "nope.story.toml")


def test_a_track_longer_than_its_game_is_refused(game: chess.pgn.Game) -> None:
    long_track = story.parse_track(_broken("plies = [0, 2]", "plies = [0, 40]")
                                   .replace('hero_name = "Lev"', f'hero_name = "{LEV}"'))
    with pytest.raises(StoryError, match="runs to ply 40 but the game has only 23 plies"):
        story.check_track(long_track, game, None)


def test_a_claim_about_an_unknown_player_is_refused(game: chess.pgn.Game) -> None:
    track = story.parse_track(_broken('claims = ["gives_check"]', 'claims = ["wins(paul)"]')
                              .replace('hero_name = "Lev"', f'hero_name = "{LEV}"'))
    with pytest.raises(StoryError, match="unknown player 'paul'"):
        story.check_track(track, game, None)


LEV = "Bronstein, Lev (Leon Trotsky)"


def test_hero_colour_from_headers_or_explicit(game: chess.pgn.Game) -> None:
    named = story.parse_track(MINIMAL.replace('hero_name = "Lev"', f'hero_name = "{LEV}"'))
    assert story.hero_color(named, game) == chess.WHITE
    explicit = story.parse_track(MINIMAL.replace('hero_name = "Lev"',
                                                 'hero_name = "Lev"\nhero_color = "black"'))
    assert story.hero_color(explicit, game) == chess.BLACK
    with pytest.raises(StoryError, match=r"episode\.hero_name: 'Lev' is neither"):
        story.hero_color(story.parse_track(MINIMAL), game)


# --- Claims: parsing and pure logic -------------------------------------------------------------


@pytest.mark.parametrize(("text", "name", "args"), [
    ("gives_check", "gives_check", ()),
    ("decisive_for(lev)", "decisive_for", ("lev",)),
    ("material_down( lev , 20 )", "material_down", ("lev", "20")),
])
def test_claim_parse(text: str, name: str, args: tuple[str, ...]) -> None:
    claim = story.Claim.parse(text)
    assert (claim.name, claim.args) == (name, args)
    assert story.Claim.parse(claim.text()) == claim


@pytest.mark.parametrize(("square", "distance"), [
    ("d4", 0), ("e5", 0), ("c3", 1), ("f6", 1), ("b4", 2), ("a1", 3), ("h8", 3), ("g2", 2),
])
def test_centre_distance_is_chebyshev_to_the_four_centre_squares(square: str,
                                                                 distance: int) -> None:
    assert story.centre_distance(chess.parse_square(square)) == distance


def test_board_claims_need_no_engine(track: story.StoryTrack, game: chess.pgn.Game) -> None:
    results = story.check_track(track, game, None)
    for r in results:
        if story.ClaimKind(story.Claim.parse(r.claim).name).needs_engine:
            assert r.holds is None and r.explanation.startswith("needs an engine analysis")
        else:
            assert r.holds is True, (r.segment_id, r.claim, r.explanation)


def _fake_analysis(game: chess.pgn.Game, evals: dict[int, WhiteEval]) -> GameAnalysis:
    """An analysis with chosen evals (0.00 elsewhere), built without any engine."""
    engine = EngineIdentity("fixture")
    limit = SearchLimit(nodes=1)
    board = game.board()
    positions = []
    moves = list(game.mainline_moves())
    for ply in range(len(moves) + 1):
        ev = evals.get(ply, WhiteEval(cp=0))
        # The engine preferred another move: lichess judges only such moves.
        pv = (next(m for m in board.legal_moves if m != moves[ply]),) if ply < len(moves) else ()
        positions.append(PositionEval(board.fen(), (EngineLine(ev, pv),), engine, limit))
        if ply < len(moves):
            board.push(moves[ply])
    return build_game_analysis(game, positions)


@pytest.mark.parametrize(("final", "holds"), [
    ("mate for White", True),
    ("+5.00", True),
    ("+4.99", False),
    ("mate for Black", False),
])
def test_decisive_for_thresholds(track: story.StoryTrack, game: chess.pgn.Game,
                                 final: str, holds: bool) -> None:
    ev = {"mate for White": WhiteEval(mate=3), "+5.00": WhiteEval(cp=500),
          "+4.99": WhiteEval(cp=499), "mate for Black": WhiteEval(mate=-2)}[final]
    analysis = _fake_analysis(game, {23: ev})
    result = story.check_claim(story.Claim("decisive_for", ("lev",)), game, 23, analysis, track)
    assert result.holds is holds
    assert result.figures["eval_after"] == ev.text()


@pytest.mark.parametrize(("case", "evals", "claim", "holds"), [
    ("balanced, then lost", (0, 900), "was_blunder", True),
    # Redefined (issue 13): was_mistake means exactly a mistake; was_error is mistake-or-worse.
    ("balanced, then lost", (0, 900), "was_mistake", False),
    ("balanced, then lost", (0, 900), "was_error", True),
    ("balanced, then lost", (0, 900), "no_error", False),
    ("already lost", (800, 900), "was_blunder", False),
    ("already lost", (800, 900), "no_error", True),
    ("a mistake", (0, 140), "was_blunder", False),
    ("a mistake", (0, 140), "was_mistake", True),
    ("a mistake", (0, 140), "was_error", True),
    ("a mistake", (0, 140), "was_inaccuracy", False),
    ("an inaccuracy", (0, 60), "was_inaccuracy", True),
    ("an inaccuracy", (0, 60), "was_error", False),
    ("an inaccuracy", (0, 60), "no_error", True),
])
def test_judgement_claims_follow_lichess_thresholds(
        track: story.StoryTrack, game: chess.pgn.Game, case: str,
        evals: tuple[int, int], claim: str, holds: bool) -> None:
    analysis = _fake_analysis(game, {21: WhiteEval(cp=evals[0]), 22: WhiteEval(cp=evals[1])})
    result = story.check_claim(story.Claim(claim), game, 22, analysis, track)
    assert result.holds is holds, (case, result.explanation)


def test_claims_without_analysis_answer_none(track: story.StoryTrack,
                                             game: chess.pgn.Game) -> None:
    result = story.check_claim(story.Claim("was_blunder"), game, 22, None, track,
                               segment_id="b2")
    assert (result.segment_id, result.ply, result.claim, result.holds) == (
        "b2", 22, "was_blunder", None)


def test_a_false_claim_says_why(track: story.StoryTrack, game: chess.pgn.Game) -> None:
    result = story.check_claim(story.Claim("captures_pawn"), game, 22, None, track)
    assert result.holds is False
    assert result.explanation == "Qxe2 captures a bishop on e2."


#: Board claims on the café game, (claim, ply) -> (holds, explanation), both ways round.
BOARD_CLAIMS = {
    "played": ("played(Nxd5)", 21, True, "The move of ply 21 is Nxd5."),
    "played, another move": ("played(cxd5)", 22, False, "The move of ply 22 is Qxe2, not cxd5."),
    "opening": ("opening(french_defence)", 4, True,
                "The game starts e4 e6; the French Defence is e4 e6."),
    "pin to the queen": ("pins(g5, f6, e7)", 20, True,
                         "The white bishop on g5 pins the black knight on f6 to the black queen "
                         "on e7 (relative pin)."),
    "no pin before the bishop comes": ("pins(g5, f6, d8)", 8, False,
                                       "one of the three squares is empty"),
    "no pin to a piece worth no more": ("pins(h3, g4, d7)", 17, False,
                                        "The white pawn on h3 does not pin the black bishop on "
                                        "g4 to the black knight on d7."),
    "no pin of an own piece": ("pins(e1, e2, e7)", 19, False,
                               "the pinned piece and the one behind must be the other side's"),
    "d5's guards": ("defenders(d5, c6 f6)", 20, True,
                    "After ply 20, the black pawn on d5 has defenders on c6 f6."),
    "the ply-20 sentence was false": ("defenders(d5, f6)", 20, False,
                                      "After ply 20, the black pawn on d5 has defenders on "
                                      "c6 f6, not f6."),
    "the undefended queen": ("defenders(e2, none)", 22, True,
                             "After ply 22, the black queen on e2 has no defenders."),
    "who attacks the queen": ("attackers(e2, d1 e1)", 22, True,
                              "After ply 22, the black queen on e2 has attackers on d1 e1."),
    "guards": ("guards(g7, f6)", 19, True, "The black pawn on g7 guards the black knight on f6."),
    "g6 gave up that guard": ("guards(g7, f6)", 20, False,
                              "g7 is empty after ply 20."),
    "attacks": ("attacks(d5, e7)", 21, True,
                "The white knight on d5 attacks the black queen on e7."),
    "attacks an own piece": ("attacks(c6, d5)", 20, False,
                             "The black pawn on d5 is not a piece of the other side, as seen "
                             "from c6."),
    "guards an empty square": ("guards(c6, b5)", 20, False, "b5 is empty after ply 20."),
    "queen attacked": ("queen_attacked(lev)", 22, True, "lev's queen on d1 is attacked from e2."),
    "queen not attacked": ("queen_attacked(lev)", 21, False,
                           "lev's queen on d1 is not attacked."),
    "lined up": ("lined_up(e1 e2 e7 e8)", 19, True,
                 "e1, e2, e7, e8 stand on one line with nothing between them after ply 19."),
    "not lined up": ("lined_up(e1 e7)", 19, False, "e2 stand(s) between e1 and e7."),
    "open file": ("open_file(e)", 6, True, "Pawns on the e-file after ply 6: none."),
    "closed file": ("open_file(d)", 6, False, "Pawns on the d-file after ply 6: d4 d5."),
    "blocks check": ("blocks_check", 11, True, "Be2 blocks the check from e7."),
    "not out of check": ("blocks_check", 13, False, "Nf3 is not played out of check."),
    "out of the knight's reach": ("out_of_reach(d5)", 22, True,
                                  "The white knight on d5 does not reach e2."),
    "escapes_attacker: lands where it is taken": (
        "escapes_attacker", 22, False,
        "It leaves the reach of d5 but lands where d1 e1 can simply take it."),
    "escapes_attacker: the bishop gets away from h3's pawn": (
        "escapes_attacker", 18, True,
        "It leaves the reach of h3 for a square where it cannot simply be taken."),
    "material_down is not read mid-trade": (
        "material_down(lev, 20)", 22, False,
        "lev's material balance went from +0 at ply 20 to -2, but that is mid-trade: d1 e1 can "
        "capture on e2 in reply: not counted."),
    "material_down after the recapture": (
        "material_down(opponent, 20)", 23, True,
        "opponent's material balance went from +0 at ply 20 to -7."),
    "material count": ("material_count(lev, 35, 28)", 23, True,
                       "After ply 23 lev has 35 points of material against 28."),
    "looks vulnerable": ("looks_vulnerable(lev)", 22, True,
                         "lev is -2 in material on the board; the opponent hits 2 king-zone "
                         "square(s) and 1 piece(s) hang."),
}


@pytest.mark.parametrize(("claim", "ply", "holds", "explanation"), list(BOARD_CLAIMS.values()),
                         ids=list(BOARD_CLAIMS))
def test_board_claims_say_exactly_what_they_check(
        track: story.StoryTrack, game: chess.pgn.Game, claim: str, ply: int, holds: bool,
        explanation: str) -> None:
    result = story.check_claim(story.Claim.parse(claim), game, ply, None, track)
    assert (result.holds, result.explanation) == (holds, explanation)


@pytest.mark.parametrize(("claim", "holds"), [
    ("in_danger(lev)", False),  # redefined: looking vulnerable at +8.72 is not danger
    ("in_danger(opponent)", True),
    ("decisive_for(lev)", True),
    ("was_blunder", True),
    ("was_mistake", False),  # redefined: a blunder is not "a mistake"
    ("was_error", True),
])
def test_the_engine_verdict_after_the_queen_capture(
        track: story.StoryTrack, game: chess.pgn.Game, shipped: GameAnalysis,
        claim: str, holds: bool) -> None:
    result = story.check_claim(story.Claim.parse(claim), game, 22, shipped, track)
    assert result.holds is holds, result.explanation


def test_in_danger_follows_the_engine_not_the_look(track: story.StoryTrack,
                                                   game: chess.pgn.Game) -> None:
    claim = story.Claim("in_danger", ("lev",))
    for cp, holds in ((-100, True), (-99, False), (872, False)):
        analysis = _fake_analysis(game, {22: WhiteEval(cp=cp)})
        assert story.check_claim(claim, game, 22, analysis, track).holds is holds, cp
    mated = _fake_analysis(game, {22: WhiteEval(mate=-3)})
    assert story.check_claim(claim, game, 22, mated, track).holds is True


def test_a_claim_at_its_own_ply(track: story.StoryTrack, game: chess.pgn.Game) -> None:
    claim = story.Claim.parse("played(Nc3)@7")
    assert (claim.name, claim.args, claim.at, claim.text()) == ("played", ("Nc3",), 7,
                                                                "played(Nc3)@7")
    result = story.check_claim(claim, game, 8, None, track)  # @7 wins over the ply given
    assert (result.ply, result.holds) == (7, True)
    by_segment = {(r.segment_id, r.claim): r.ply for r in story.check_track(track, game, None)}
    assert by_segment[("open-file", "played(Nc3)@7")] == 7
    assert by_segment[("open-file", "open_file(e)")] == 8  # no @: the segment's last ply


def test_an_analysis_of_another_game_is_refused(track: story.StoryTrack,
                                                game: chess.pgn.Game) -> None:
    short = chess.pgn.Game()
    short.add_main_variation(chess.Move.from_uci("e2e4"))
    other = _fake_analysis(short, {})
    with pytest.raises(StoryError, match="analysis has 1 plies but the game has 23"):
        story.check_track(track, game, other)


# --- Claims against the shipped analysis and a real engine ------------------------------------


def test_every_claim_of_the_cafe_track_holds_on_the_shipped_analysis(
        track: story.StoryTrack, game: chess.pgn.Game, shipped: GameAnalysis) -> None:
    results = story.check_track(track, game, shipped)
    assert len(results) == sum(len(seg.claims) for seg in track.segments) == 61
    failing = [(r.segment_id, r.claim, r.explanation) for r in results if r.holds is not True]
    assert failing == []


def test_claim_figures_carry_the_numbers(track: story.StoryTrack, game: chess.pgn.Game,
                                         shipped: GameAnalysis) -> None:
    results = {(r.segment_id, r.claim): r for r in story.check_track(track, game, shipped)}
    b1 = results[("b1", "attacks_queen")]
    assert b1.figures["queen_attacked_on"] == "e7"
    assert b1.figures["attacked_squares"] == "c3 e3 b4 f4 b6 f6 c7 e7"
    b3 = results[("b2", "material_count(lev, 35, 37)")]
    assert b3.figures == {"material_now": "35 v 37",
                          "trade": "mid-trade: d1 e1 can capture on e2 in reply"}
    look = results[("b2", "looks_vulnerable(lev)")]
    assert look.figures == {"balance": "-2", "king_zone_attacked": "f1 f2", "hanging": "d5"}
    b2 = results[("b2", "was_error")]  # mistake or worse: the grade sits on the 0.3 line
    ply = shipped.plies[21]
    assert b2.figures["eval_before"] == ply.eval_before.text()
    assert b2.figures["eval_after"] == ply.eval.text()
    assert b2.figures["best"] == ply.best_san == "cxd5"


def test_engine_reading_fills_in_the_shipped_numbers(track: story.StoryTrack,
                                                     game: chess.pgn.Game,
                                                     shipped: GameAnalysis) -> None:
    lines = story.engine_reading(track, game, shipped)
    assert len(lines) == len(track.reading) == 4
    assert all("{" not in line for line in lines)
    b2 = shipped.plies[21]
    grade = b2.judgement.title.lower() if b2.judgement else "no error"
    assert (f"Qxe2 moved the eval from {b2.eval_before.text()} to {b2.eval.text()}, "
            f"judged {grade}") in lines[2]
    assert story.engine_reading(track, game, None) == []


def test_segment_engine_note(track: story.StoryTrack, game: chess.pgn.Game,
                             shipped: GameAnalysis) -> None:
    b4 = track.segment("b4")
    note = story.segment_engine_note(track, b4, game, shipped)
    assert note == (f"After Rxe2+ the engine rates the position {shipped.plies[22].eval.text()} "
                    f"for White: decisive. Its own pick was {shipped.plies[22].best_san}, from a "
                    f"position it already rated {shipped.plies[21].eval.text()}.")
    assert story.segment_engine_note(track, b4, game, None) is None
    assert story.segment_engine_note(track, track.segment("b2"), game, shipped) is not None


@pytest.mark.engine
def test_every_claim_holds_on_a_fresh_stockfish_analysis(
        stockfish_path: str, track: story.StoryTrack, game: chess.pgn.Game) -> None:
    config = EngineConfig(path=stockfish_path, workers=1, threads=1, hash_mb=16)
    with EnginePool(config) as pool:
        analysis = analyse_game(game, pool, SearchLimit(nodes=20_000))
    failing = [(r.segment_id, r.claim, r.explanation)
               for r in story.check_track(track, game, analysis) if r.holds is not True]
    assert failing == []
