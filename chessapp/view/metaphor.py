"""The metaphor picture as plain data: each story beat tied to its own historical moment.

The picture sets the game (plies on one axis) against the rivalry (years on
the other). :func:`metaphor_picture` reads the story track's timeline, where
an event either spans an act (the cold open's passages: one bracket at 1913)
or links one beat (``segment`` + ``beat``): the knight's lunge → the 1918
telegram, the queen's capture → the 1924 funeral ruse, the moment Lev looks
vulnerable → the 1928 exile, the rook check → the fight from exile, the
divergence → 1940. Events linked to nothing are context.

Labels are never cut: each carries its full text and the same text wrapped
into lines for a wide and a narrow layout (:func:`wrap_label` breaks only
between words). Pure: the page draws it.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from dataclasses import dataclass

import chess
import chess.pgn

from chessapp.errors import StoryError
from chessapp.story.track import StoryTrack, TimelineEvent

#: Label line lengths, in characters. Labels are drawn at 11 px, where Streamlit's
#: Source Sans averages about 6 px a character: 30 characters (~180 px) give five beat
#: columns room in a 1400 px page; 18 (~110 px) fit three columns in 390 px.
WIDE_CHARS = 30
NARROW_CHARS = 18

#: Keeps a move number with its move ("11.\u00a0Nxd5") when a label is wrapped.
NBSP = "\u00a0"

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, slots=True)
class Label:
    """A label's full text and its lines for the wide and the narrow layout."""

    text: str
    wide: tuple[str, ...]
    narrow: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Label:
        return cls(text, wrap_label(text, WIDE_CHARS), wrap_label(text, NARROW_CHARS))


@dataclass(frozen=True, slots=True)
class Moment:
    """A dated event of the rivalry."""

    key: str  # "event-N": its place in the track's timeline, counted from 1
    date: str  # as the track gives it: "1918", "1928-01-31"
    when: str  # for people: "1918", "January 1924", "31 January 1928"
    year: float  # decimal year, for the axis
    place: str
    title: str
    label: Label  # "January 1924, Moscow: Lenin dies; ..."


@dataclass(frozen=True, slots=True)
class BeatLink:
    """One story beat and the historical moment it stands for."""

    beat: str  # what the moment is called, "The knight's lunge"
    segment_id: str
    ply: int  # the position it shows (the passage's last ply, where its claims are)
    move: str  # "11. Nxd5"
    moment: Moment
    label: Label  # "The knight's lunge, 11. Nxd5", with a no-break space after "11."


@dataclass(frozen=True, slots=True)
class Bracket:
    """Several passages tied to one moment: drawn as one bracket, not one line each."""

    act_id: str
    title: str  # the act's title
    first_ply: int
    last_ply: int
    segment_ids: tuple[str, ...]
    moment: Moment
    label: Label  # "Cold open: a café in Vienna, plies 0–20"


@dataclass(frozen=True, slots=True)
class MetaphorPicture:
    brackets: tuple[Bracket, ...]
    links: tuple[BeatLink, ...]  # in the order of the history
    context: tuple[Moment, ...]  # events tied to no beat, e.g. 1917's revolution
    last_ply: int
    years: tuple[float, float]  # first and last year of all the moments

    def link_for_ply(self, ply: int) -> tuple[BeatLink, ...]:
        """The beats that show ``ply`` (two beats may share a position)."""
        return tuple(link for link in self.links if link.ply == ply)


def wrap_label(text: str, width: int) -> tuple[str, ...]:
    """``text`` in lines of at most ``width`` characters, broken only between words.

    Nothing is cut: a single word longer than ``width`` gets a line of its own.
    """
    return tuple(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False))


def metaphor_picture(track: StoryTrack, game: chess.pgn.Game) -> MetaphorPicture:
    """The picture's data from the track's timeline and the game's moves."""
    moves = _move_labels(game)
    brackets: list[Bracket] = []
    links: list[BeatLink] = []
    context: list[Moment] = []
    for i, event in enumerate(track.timeline):
        moment = _moment(event, f"event-{i + 1}")
        if event.act is not None:
            segments = [s for s in track.segments if s.act == event.act]
            if not segments:
                raise StoryError(f"timeline[{i}].act: act {event.act!r} has no segments")
            first, last = segments[0].first_ply, segments[-1].last_ply
            title = track.act(event.act).title
            brackets.append(Bracket(
                act_id=event.act, title=title, first_ply=first, last_ply=last,
                segment_ids=tuple(s.id for s in segments), moment=moment,
                label=Label.of(f"{title}, plies {first}–{last}"),
            ))
        elif event.segment is not None:
            seg = track.segment(event.segment)
            ply = seg.claim_ply
            if ply >= len(moves):
                raise StoryError(f"timeline[{i}].segment: ply {ply} is past the game's end")
            beat = event.beat or seg.id
            links.append(BeatLink(beat=beat, segment_id=seg.id, ply=ply, move=moves[ply],
                                  moment=moment,
                                  label=Label.of(f"{beat}, {moves[ply].replace(' ', NBSP)}")))
        else:
            context.append(moment)
    links.sort(key=lambda link: link.moment.year)
    years = [m.year for m in (*(b.moment for b in brackets), *(x.moment for x in links),
                              *context)]
    span = (min(years), max(years)) if years else (0.0, 0.0)
    return MetaphorPicture(tuple(brackets), tuple(links), tuple(context), len(moves) - 1, span)


def _moment(event: TimelineEvent, key: str) -> Moment:
    when, year = _when(event.date)
    return Moment(key=key, date=event.date, when=when, year=year, place=event.place,
                  title=event.title, label=Label.of(f"{when}, {event.place}: {event.title}"))


def _when(date: str) -> tuple[str, float]:
    """``"1928-01-31"`` → ``("31 January 1928", 1928.082)``; month and day as precise as given."""
    match = _DATE.match(date)
    if match is None:
        raise StoryError(f"timeline: {date!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(match.group(1))
    if match.group(2) is None:
        return str(year), float(year)
    month = int(match.group(2))
    name = dt.date(year, month, 1).strftime("%B")
    if match.group(3) is None:
        return f"{name} {year}", round(year + (month - 1) / 12, 3)
    day = dt.date(year, month, int(match.group(3)))
    fraction = (day.timetuple().tm_yday - 1) / 365
    return f"{day.day} {name} {year}", round(year + fraction, 3)


def _move_labels(game: chess.pgn.Game) -> list[str]:
    """``labels[ply]``: ``"the start"``, ``"1. e4"``, ``"1… e6"`` ..."""
    board = game.board()
    labels = ["the start"]
    for move in game.mainline_moves():
        dots = "." if board.turn == chess.WHITE else "…"
        labels.append(f"{board.fullmove_number}{dots} {board.san(move)}")
        board.push(move)
    return labels
