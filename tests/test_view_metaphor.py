"""The metaphor picture's data (chessapp.view.metaphor): each beat its own moment, no cut label."""

from __future__ import annotations

from pathlib import Path

import chess.pgn
import pytest

from chessapp import story
from chessapp.view.metaphor import (
    NARROW_CHARS,
    NBSP,
    WIDE_CHARS,
    Label,
    MetaphorPicture,
    metaphor_picture,
    wrap_label,
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
def picture(track: story.StoryTrack, game: chess.pgn.Game) -> MetaphorPicture:
    return metaphor_picture(track, game)


def test_each_beat_has_its_own_moment(picture: MetaphorPicture) -> None:
    assert [(link.beat, link.segment_id, link.ply, link.move, link.moment.when,
             link.moment.year, link.moment.key) for link in picture.links] == [
        ("The knight's lunge", "b1", 21, "11. Nxd5", "1918", 1918.0, "event-3"),
        ("The queen's capture", "b2", 22, "11… Qxe2", "January 1924", 1924.0, "event-4"),
        ("Lev looks vulnerable", "b2", 22, "11… Qxe2", "31 January 1928", 1928.082, "event-6"),
        ("The rook check", "b4", 23, "12. Rxe2+", "1929", 1929.0, "event-7"),
        ("Board and history part ways", "b4", 23, "12. Rxe2+", "20 August 1940", 1940.636,
         "event-8"),
    ]
    titles = [link.moment.title for link in picture.links]
    assert titles == [
        "Trotsky's telegram to Lenin gets Stalin recalled to Moscow",
        "Lenin dies; Stalin gives Trotsky the wrong funeral date",
        "Trotsky arrives in exile in Alma-Ata",
        "Banished from the Soviet Union, Trotsky fights on from exile",
        "Ramón Mercader attacks Trotsky; he dies the next day",
    ]
    assert len({link.moment.key for link in picture.links}) == 5  # no two share a moment


def test_the_cold_open_is_one_bracket_at_1913(picture: MetaphorPicture) -> None:
    (bracket,) = picture.brackets
    assert (bracket.act_id, bracket.first_ply, bracket.last_ply, bracket.moment.year,
            bracket.moment.place) == ("cold-open", 0, 20, 1913.0, "Vienna")
    assert bracket.segment_ids == ("corner-table", "open-file", "queen-check", "development",
                                   "rook-e1", "pawn-g6")
    assert bracket.label.text == "Cold open: a café in Vienna, plies 0–20"
    assert all(link.moment.year > 1913 for link in picture.links)


def test_context_events_and_spans(picture: MetaphorPicture) -> None:
    assert [(m.when, m.title) for m in picture.context] == [
        ("1917", "The revolution topples the Tsar"),
        ("November 1927", "Trotsky is expelled from the Communist Party"),
    ]
    assert (picture.last_ply, picture.years) == (23, (1913.0, 1940.636))
    assert [link.beat for link in picture.link_for_ply(22)] == ["The queen's capture",
                                                                "Lev looks vulnerable"]


def test_labels_are_wrapped_never_cut(picture: MetaphorPicture) -> None:
    moment = picture.links[0].moment
    assert moment.label == Label(
        text="1918, Russian front, armoured train: Trotsky's telegram to Lenin gets Stalin "
             "recalled to Moscow",
        wide=("1918, Russian front, armoured", "train: Trotsky's telegram to",
              "Lenin gets Stalin recalled to", "Moscow"),
        narrow=("1918, Russian", "front, armoured", "train: Trotsky's", "telegram to Lenin",
                "gets Stalin", "recalled to Moscow"),
    )
    assert picture.links[4].label.narrow == ("Board and history", "part ways,",
                                             f"12.{NBSP}Rxe2+")
    labels = [b.label for b in picture.brackets] + [b.moment.label for b in picture.brackets]
    labels += [link.label for link in picture.links] + [link.moment.label
                                                        for link in picture.links]
    labels += [m.label for m in picture.context]
    for label in labels:
        assert "…" not in label.text.replace("11…", "")  # no ellipsis cut
        for lines, width in ((label.wide, WIDE_CHARS), (label.narrow, NARROW_CHARS)):
            assert " ".join(lines).split() == label.text.split()
            assert all(len(line) <= width for line in lines), lines


@pytest.mark.parametrize(("text", "width", "lines"), [
    ("a b c", 3, ("a b", "c")),
    ("Alma-Ata, Kazakhstan", 6, ("Alma-Ata,", "Kazakhstan")),  # long words stay whole
    ("", 10, ()),
])
def test_wrap_label(text: str, width: int, lines: tuple[str, ...]) -> None:
    assert wrap_label(text, width) == lines
