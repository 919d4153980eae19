"""The story-track format: episode, acts, segments, timeline (``games/*.story.toml``).

A story track is data, documented in ``docs/story-format.md``, parsed with the
standard library's ``tomllib`` and validated here. Every malformed field raises
:class:`~chessapp.errors.StoryError` whose message starts with the field's
path, e.g. ``segments[2].plies: ...``.

Plies follow the rest of the app: ply N is the position after N half-moves
(ply 0 is the start) and "the move of ply N" is the N-th half-move. A
segment's claims are evaluated at its *last* ply, i.e. about the move that
produced that position, unless a claim names its own ply (``played(Nc3)@7``);
:mod:`chessapp.story.claims` checks them. The text states facts only inside
fact tags, ``[shown text](claim: a; b)``, each citing claims of its segment
(:class:`Fact`, :func:`untagged_mentions`). Shapes belong to their ply
(``shapes_at``), with the segment's ``shapes`` as the default.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chess

from chessapp.errors import StoryError
from chessapp.shapes import Shape
from chessapp.story.claims import COLOR_NAMES, ID_PATTERN, Claim, ClaimKind

log = logging.getLogger(__name__)

#: A date as precise as the history knows it: "1913", "1913-01" or "1913-01-31".
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
#: Placeholders in engine notes: ``{b2.eval_after}`` = field ``eval_after`` of segment ``b2``.
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_-]*)\.([a-z_]+)\}")

#: A fact tag, ``[shown text](claim: a; b)``; a claim may hold one level of parentheses.
#: The ``claim:`` prefix keeps ordinary brackets and Markdown-looking text plain text.
FACT_TAG = re.compile(r"\[([^\[\]]+)\]\(claim:\s*((?:[^()\[\]]|\([^()]*\))+)\)")
#: The segment fields that may hold fact tags.
FACT_FIELDS = ("narration", "metaphor", "engine_note")

#: What counts as stating a chess fact: a square or a move in SAN, a file, or a word for a
#: relation between pieces, the material or the verdict. Each must sit inside a fact tag
#: (see :func:`untagged_mentions`). "Winning chances" is the lichess figure the notes fill
#: in from the analysis, not a claim about the position.
MENTION = re.compile(
    r"(?<![A-Za-z0-9])(?:[KQRBN]?[a-h]?[1-8]?x?[a-h][1-8](?:=[QRBN])?[+#]?|O-O(?:-O)?)"
    r"(?![A-Za-z0-9])"
    r"|\b[a-h]-file\b"
    r"|\b(?:attack\w*|guard\w*|defen[cds]\w*|undefended|protect\w*|unprotected|pin|pins|"
    r"pinned|pinning|check|checks|checked|checking|checkmate\w*|mate|threat\w*|hang\w*|"
    r"en prise|captur\w*|recaptur\w*|take|takes|took|taken|taking|snaps?|block\w*|fork\w*|"
    r"skewer\w*|x-ray\w*|lined up|material|exchange\w*|trade\w*|blunder\w*|mistake\w*|"
    r"inaccura\w*|error\w*|decisive\w*|winning(?! chances)|reach)\b",
    re.IGNORECASE,
)

#: Fields a note placeholder may use, ``{segment_id.field}``; chessapp.story.notes fills them.
NOTE_FIELDS: frozenset[str] = frozenset({
    "san", "mover", "eval_before", "eval_after", "best", "judgement", "swing",
    "hero_win_before", "hero_win_after", "cp_loss", "accuracy",
})

# --- The records ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Episode:
    title: str
    show: str
    air_date: dt.date | None  # None: not an episode (a generated story of a user's game)
    hero: str  # the key claims use for the narrated player, e.g. "lev"
    hero_name: str  # how the PGN headers spell him, e.g. "Bronstein, Lev (Leon Trotsky)"
    hero_color: chess.Color | None  # explicit, or None: found from the PGN headers
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Act:
    id: str
    title: str
    date: str  # "1918", "1928-01" or "1928-01-31"; "" when unknown
    place: str


@dataclass(frozen=True, slots=True)
class Fact:
    """A stretch of a segment's text tagged with the claims it rests on.

    Written ``[shown text](claim: a; b)`` in the TOML; the page shows only
    ``text``. ``start``/``end`` index the rendered (plain) text of ``field``.
    """

    field: str  # "narration", "metaphor" or "engine_note"
    text: str
    claims: tuple[Claim, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    act: str
    date: str  # "" when unknown
    place: str
    narration: str
    first_ply: int
    last_ply: int
    metaphor: str
    shapes: tuple[Shape, ...]
    claims: tuple[Claim, ...]
    engine_note: str | None = None
    facts: tuple[Fact, ...] = ()  # the tagged facts of narration, metaphor and engine note
    shapes_at: tuple[tuple[int, tuple[Shape, ...]], ...] = ()  # (ply, shapes) overrides

    def shapes_for(self, ply: int) -> tuple[Shape, ...]:
        """The shapes shown at ``ply``: its own (``shapes_at``) if given, else ``shapes``."""
        for at, shapes in self.shapes_at:
            if at == ply:
                return shapes
        return self.shapes if ply in self.plies else ()

    @property
    def plies(self) -> range:
        return range(self.first_ply, self.last_ply + 1)

    @property
    def claim_ply(self) -> int:
        """The ply the claims speak about: the segment's last ply."""
        return self.last_ply


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    date: str
    place: str
    title: str
    segment: str | None = None  # the segment (beat) this event is linked to
    beat: str | None = None  # what the linked moment of that segment is called
    act: str | None = None  # or: the act whose passages this event spans (a bracket)



@dataclass(frozen=True, slots=True)
class StoryTrack:
    episode: Episode
    acts: tuple[Act, ...]
    segments: tuple[Segment, ...]
    timeline: tuple[TimelineEvent, ...]
    reading: tuple[str, ...] = ()  # templates of the engine's honest reading
    source: str = "<string>"

    @property
    def hero(self) -> str:
        return self.episode.hero

    @property
    def last_ply(self) -> int:
        return max(s.last_ply for s in self.segments)

    def act(self, act_id: str) -> Act:
        for act in self.acts:
            if act.id == act_id:
                return act
        raise KeyError(act_id)

    def segment(self, segment_id: str) -> Segment:
        for seg in self.segments:
            if seg.id == segment_id:
                return seg
        raise KeyError(segment_id)


# --- Parsing and validation -------------------------------------------------------------


def load_track(path: Path | str) -> StoryTrack:
    """Read and validate a ``.story.toml`` file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise StoryError(f"cannot read story track: {exc.strerror or exc}", token=str(p)) from exc
    return parse_track(text, source=str(p))


def parse_track(text: str, *, source: str = "<string>") -> StoryTrack:
    """Parse and validate a story track; errors name the field that is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StoryError(f"{source}: not valid TOML: {exc}") from exc
    return _build_track(data, source)


def _err(path: str, reason: str) -> StoryError:
    return StoryError(f"{path}: {reason}")


def _table(data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        raise _err(path, "missing table")
    if not isinstance(value, dict):
        raise _err(path, f"must be a table, not {type(value).__name__}")
    return value


def _tables(data: Mapping[str, Any], key: str, *, required: bool = True) -> list[Mapping[str, Any]]:
    value = data.get(key)
    if value is None:
        if required:
            raise _err(key, "missing (expected an array of tables [[" + key + "]])")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _err(key, "must be an array of tables [[" + key + "]]")
    if required and not value:
        raise _err(key, "must not be empty")
    return value


def _str(data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise _err(f"{path}.{key}", "missing field")
        return None
    if not isinstance(value, str):
        raise _err(f"{path}.{key}", f"must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise _err(f"{path}.{key}", "must not be empty")
    return value.strip()


def _req(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _str(data, key, path)
    assert value is not None
    return value


def _id(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _req(data, key, path)
    if not ID_PATTERN.match(value):
        raise _err(f"{path}.{key}", f"{value!r} must be lower-case letters, digits, '-' or '_'")
    return value


def _date(data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
    """A date string; optional ones may be missing (a game nobody dated): then ``""``."""
    raw = data.get(key)
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw.isoformat()
    if raw is None and not required:
        return ""
    value = _req(data, key, path)
    try:
        _date_key(value)
    except ValueError as exc:
        raise _err(f"{path}.{key}",
                   f"{value!r} is not YYYY, YYYY-MM or YYYY-MM-DD ({exc})") from exc
    return value


def _date_key(text: str) -> tuple[int, int, int]:
    match = _DATE.match(text)
    if match is None:
        raise ValueError("bad format")
    year, month, day = int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1)
    dt.date(year, month, day)  # raises ValueError on month 13 or day 32
    return year, int(match.group(2) or 0), int(match.group(3) or 0)


def _build_track(data: Mapping[str, Any], source: str) -> StoryTrack:
    episode = _build_episode(_table(data, "episode", "episode"))
    acts = tuple(_build_act(t, f"acts[{i}]") for i, t in enumerate(_tables(data, "acts")))
    act_ids = [a.id for a in acts]
    _unique(act_ids, "acts")
    segments = tuple(
        _build_segment(t, f"segments[{i}]", set(act_ids))
        for i, t in enumerate(_tables(data, "segments"))
    )
    seg_ids = [s.id for s in segments]
    _unique(seg_ids, "segments")
    previous = -1
    for i, seg in enumerate(segments):
        if seg.first_ply != previous + 1:
            what = "overlaps" if seg.first_ply <= previous else "leaves a gap after"
            raise _err(f"segments[{i}].plies",
                       f"starts at ply {seg.first_ply} but {what} ply {previous}: segments must "
                       "cover consecutive plies from 0, in order")
        previous = seg.last_ply
    timeline = tuple(
        _build_event(t, f"timeline[{i}]", set(seg_ids), set(act_ids))
        for i, t in enumerate(_tables(data, "timeline", required=False))
    )
    reading: tuple[str, ...] = ()
    if "engine_reading" in data:
        reading_table = _table(data, "engine_reading", "engine_reading")
        lines = reading_table.get("lines")
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise _err("engine_reading.lines", "must be an array of strings")
        for j, line in enumerate(lines):
            _check_template(line, f"engine_reading.lines[{j}]", set(seg_ids))
        reading = tuple(lines)
    for i, seg in enumerate(segments):
        if seg.engine_note is not None:
            _check_template(seg.engine_note, f"segments[{i}].engine_note", set(seg_ids))
    track = StoryTrack(episode, acts, segments, timeline, reading, source)
    log.debug("story track %s: %d segments, plies 0..%d", source, len(segments), track.last_ply)
    return track


def _unique(ids: list[str], path: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise _err(f"{path}[{i}].id", f"duplicate id {x!r}")
        seen.add(x)


def _build_episode(t: Mapping[str, Any]) -> Episode:
    air = t.get("air_date")  # optional: a story of a user's game airs nowhere
    if air is not None and (not isinstance(air, dt.date) or isinstance(air, dt.datetime)):
        raise _err("episode.air_date", "must be a TOML date such as 2023-01-31 (no quotes)")
    color_name = _str(t, "hero_color", "episode", required=False)
    color: chess.Color | None = None
    if color_name is not None:
        if color_name not in COLOR_NAMES:
            raise _err("episode.hero_color", f"{color_name!r} must be 'white' or 'black'")
        color = COLOR_NAMES[color_name]
    hero = _id(t, "hero", "episode")
    if hero in ("white", "black", "opponent"):
        raise _err("episode.hero", f"{hero!r} is reserved; name the player, e.g. 'lev'")
    return Episode(
        title=_req(t, "title", "episode"),
        show=_req(t, "show", "episode"),
        air_date=air,
        hero=hero,
        hero_name=_req(t, "hero_name", "episode"),
        hero_color=color,
        summary=_str(t, "summary", "episode", required=False) or "",
    )


def _build_act(t: Mapping[str, Any], path: str) -> Act:
    return Act(id=_id(t, "id", path), title=_req(t, "title", path),
               date=_date(t, "date", path, required=False), place=_req(t, "place", path))


def _build_segment(t: Mapping[str, Any], path: str, act_ids: set[str]) -> Segment:
    seg_id = _id(t, "id", path)
    act = _req(t, "act", path)
    if act not in act_ids:
        raise _err(f"{path}.act", f"unknown act {act!r} (known: {', '.join(sorted(act_ids))})")
    first, last = _plies(t.get("plies"), f"{path}.plies")
    narration = _req(t, "narration", path)
    metaphor = _str(t, "metaphor", path, required=False) or ""
    parsed_shapes = _shapes(_list_of_str(t, "shapes", path), f"{path}.shapes")
    shapes_at = _shapes_at(t.get("shapes_at"), f"{path}.shapes_at", first, last)
    claims: list[Claim] = []
    for j, text in enumerate(_list_of_str(t, "claims", path)):
        try:
            claim = Claim.parse(text)
            ClaimKind.validate(claim)
        except ValueError as exc:
            raise _err(f"{path}.claims[{j}]", str(exc)) from exc
        # A passage speaks about its own moves and the position it starts from.
        if claim.at is not None and not max(0, first - 1) <= claim.at <= last:
            raise _err(f"{path}.claims[{j}]",
                       f"{claim.text()!r} is about ply {claim.at}, outside this segment's plies "
                       f"{max(0, first - 1)}..{last} (its first ply - 1 to its last)")
        claims.append(claim)
    facts: list[Fact] = []
    narration = _render_facts(narration, "narration", path, claims, facts)
    metaphor = _render_facts(metaphor, "metaphor", path, claims, facts)
    note = _str(t, "engine_note", path, required=False)
    if note is not None:
        note = _render_facts(note, "engine_note", path, claims, facts)
    return Segment(
        id=seg_id, act=act, date=_date(t, "date", path, required=False),
        place=_req(t, "place", path),
        narration=narration, first_ply=first, last_ply=last, metaphor=metaphor,
        shapes=tuple(parsed_shapes), claims=tuple(claims), engine_note=note,
        facts=tuple(facts), shapes_at=shapes_at,
    )


def _shapes(texts: list[str], path: str) -> tuple[Shape, ...]:
    parsed: list[Shape] = []
    for j, text in enumerate(texts):
        try:
            parsed.append(Shape.parse(text))
        except ValueError as exc:
            raise _err(f"{path}[{j}]",
                       f"{text!r} is not a shape like 'Gg1f3' (arrow) or 'Rd5' (circle)") from exc
    return tuple(parsed)


def _shapes_at(value: Any, path: str, first: int, last: int
               ) -> tuple[tuple[int, tuple[Shape, ...]], ...]:
    """``shapes_at = {21 = ["Gd5e7"], 22 = []}``: shapes of single plies, in ply order."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise _err(path, "must be a table of ply = [shapes], e.g. {21 = [\"Gd5e7\"]}")
    out: list[tuple[int, tuple[Shape, ...]]] = []
    for key, texts in value.items():
        if not key.isdigit():
            raise _err(f"{path}.{key}", "the key must be a ply number")
        ply = int(key)
        if not first <= ply <= last:
            raise _err(f"{path}.{key}",
                       f"ply {ply} is outside this segment's plies {first}..{last}")
        if not isinstance(texts, list) or not all(isinstance(x, str) for x in texts):
            raise _err(f"{path}.{key}", "must be an array of strings")
        out.append((ply, _shapes(texts, f"{path}.{key}")))
    return tuple(sorted(out))


def _render_facts(text: str, field: str, path: str, claims: list[Claim],
                  facts: list[Fact]) -> str:
    """``text`` with its fact tags replaced by their shown text; the facts go to ``facts``.

    Every claim a tag cites must be one of the segment's ``claims``, so that
    :func:`~chessapp.story.claims.check_track` checks it.
    """
    parts: list[str] = []
    length = pos = 0
    for match in FACT_TAG.finditer(text):
        before = text[pos:match.start()]
        parts.append(before)
        length += len(before)
        shown = match.group(1)
        cited: list[Claim] = []
        for raw in match.group(2).split(";"):
            try:
                claim = Claim.parse(raw)
                ClaimKind.validate(claim)
            except ValueError as exc:
                raise _err(f"{path}.{field}", f"fact {shown!r}: {exc}") from exc
            if claim not in claims:
                raise _err(f"{path}.{field}",
                           f"fact {shown!r} cites {claim.text()!r}, which is not in "
                           f"{path}.claims")
            cited.append(claim)
        facts.append(Fact(field, shown, tuple(cited), length, length + len(shown)))
        parts.append(shown)
        length += len(shown)
        pos = match.end()
    parts.append(text[pos:])
    plain = "".join(parts)
    if "(claim:" in plain:
        at = plain.index("(claim:")
        raise _err(f"{path}.{field}",
                   f"malformed fact tag near {plain[max(0, at - 20):at + 20]!r}: a fact is "
                   "written [shown text](claim: a; b)")
    return plain


def _plies(value: Any, path: str) -> tuple[int, int]:
    if value is None:
        raise _err(path, "missing field (a ply number or [first, last])")
    if isinstance(value, bool):
        raise _err(path, "must be a ply number or [first, last], not a boolean")
    if isinstance(value, int):
        first = last = value
    elif isinstance(value, list) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        first, last = value
    else:
        raise _err(path, f"must be a ply number or [first, last], not {value!r}")
    if first < 0 or last < 0:
        raise _err(path, "plies must be >= 0 (ply 0 is the starting position)")
    if first > last:
        raise _err(path, f"first ply {first} is after last ply {last}")
    return first, last


def _list_of_str(t: Mapping[str, Any], key: str, path: str) -> list[str]:
    value = t.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(f"{path}.{key}", "must be an array of strings")
    return value


def _build_event(t: Mapping[str, Any], path: str, seg_ids: set[str],
                 act_ids: set[str]) -> TimelineEvent:
    segment = _str(t, "segment", path, required=False)
    if segment is not None and segment not in seg_ids:
        raise _err(f"{path}.segment", f"unknown segment {segment!r}")
    beat = _str(t, "beat", path, required=False)
    if beat is not None and segment is None:
        raise _err(f"{path}.beat", "names the moment of a segment: give 'segment' too")
    act = _str(t, "act", path, required=False)
    if act is not None:
        if act not in act_ids:
            raise _err(f"{path}.act", f"unknown act {act!r}")
        if segment is not None:
            raise _err(f"{path}.act", "an event links one segment or spans one act, not both")
    return TimelineEvent(date=_date(t, "date", path), place=_req(t, "place", path),
                         title=_req(t, "title", path), segment=segment, beat=beat, act=act)


def _check_template(text: str, path: str, seg_ids: set[str]) -> None:
    for match in PLACEHOLDER.finditer(text):
        seg, name = match.group(1), match.group(2)
        if seg not in seg_ids:
            raise _err(path, f"placeholder {match.group(0)} names unknown segment {seg!r}")
        if name not in NOTE_FIELDS:
            raise _err(path, f"placeholder {match.group(0)}: unknown field {name!r} "
                             f"(known: {', '.join(sorted(NOTE_FIELDS))})")
    stripped = PLACEHOLDER.sub("", text)
    if "{" in stripped or "}" in stripped:
        raise _err(path, "braces are only allowed in placeholders like {b2.eval_after}")


# --- Lookups by ply ------------------------------------------------------------------------


def segment_for_ply(track: StoryTrack, ply: int) -> Segment | None:
    for seg in track.segments:
        if seg.first_ply <= ply <= seg.last_ply:
            return seg
    return None


def narration_by_ply(track: StoryTrack) -> dict[int, str]:
    """Each segment's narration at its first ply (for PGN comments: one comment per segment)."""
    return {seg.first_ply: seg.narration for seg in track.segments}


def shapes_by_ply(track: StoryTrack) -> dict[int, tuple[Shape, ...]]:
    """The shapes of every ply that has any: the ply's own (``shapes_at``), else its segment's.

    A ply whose ``shapes_at`` entry is empty is left out: no shapes there.
    """
    out: dict[int, tuple[Shape, ...]] = {}
    for seg in track.segments:
        for ply in seg.plies:
            if shapes := seg.shapes_for(ply):
                out[ply] = shapes
    return out


def untagged_mentions(segment: Segment) -> list[tuple[str, str]]:
    """``(field, words)`` for every chess mention (:data:`MENTION`) outside a fact tag.

    The café track has none: a test holds every square, move and piece
    relation its text names to a claim that checks it. Placeholders such as
    ``{b2.san}`` are filled from the analysis and are not counted.
    """
    found: list[tuple[str, str]] = []
    for field in FACT_FIELDS:
        text = getattr(segment, field) or ""
        spans = [(f.start, f.end) for f in segment.facts if f.field == field]
        text = PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text)
        for match in MENTION.finditer(text):
            inside = any(a <= match.start() and match.end() <= b for a, b in spans)
            if not inside:
                found.append((field, match.group(0)))
    return found
