"""The café page's data, loaded once from ``games/`` and shaped for display.

Pure (no Streamlit): :func:`load_cafe` reads the shipped game, its analysis
report and its story track, checks the track's claims against the analysis,
and returns one immutable :class:`CafeView`. The page caches it per process,
so opening the page costs no engine call and no re-parse.

The story package's records are adapted here into the page's own small
records (:class:`Beat`, :class:`HistoryEvent`, :class:`ClaimCheck`), so the
widgets never depend on the story file format.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import chess.pgn

from chessapp import story
from chessapp.analysis import GameAnalysis
from chessapp.coach import explanation_texts
from chessapp.errors import ChessAppError
from chessapp.games import read_game
from chessapp.shapes import Shape
from chessapp.view.board import EvalBar, Json, main_line_path, tree_payload
from chessapp.view.board import Path as NodePath
from chessapp.view.metaphor import MetaphorPicture, metaphor_picture
from chessapp.view.replay import Replay, autoplay_delay, build_replay

log = logging.getLogger(__name__)

# --- The story, as the UI needs it -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """One narrative claim and the engine's verdict on it (None: needs an analysis)."""

    claim: str
    ply: int
    holds: bool | None
    figures: tuple[tuple[str, str], ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """A dated moment of the rivalry, placed on the timeline by ``year`` (decimal)."""

    key: str
    year: float
    date: str
    place: str
    title: str


@dataclass(frozen=True, slots=True)
class Beat:
    """A story segment over a ply range, with its shapes and checked claims."""

    key: str
    first_ply: int
    last_ply: int
    act: str
    date: str
    place: str
    narration: str
    metaphor: str
    shapes: tuple[Shape, ...] = ()
    claims: tuple[ClaimCheck, ...] = ()
    year: float | None = None  # when the history it maps to happened
    event: str | None = None  # HistoryEvent.key it is linked to
    engine_note: str | None = None  # the engine's reading of this moment, numbers filled in

    @property
    def anchor(self) -> int:
        """The ply a click on the beat jumps to: its last, the move its claims are about."""
        return self.last_ply


def beat_for_ply(beats: Sequence[Beat], ply: int) -> Beat | None:
    """The beat covering ``ply``; the latest-starting one wins where ranges overlap."""
    found = None
    for beat in beats:
        if beat.first_ply <= ply <= beat.last_ply and (
            found is None or beat.first_ply >= found.first_ply
        ):
            found = beat
    return found


_YEAR = re.compile(r"(1[89]\d\d|20\d\d)(?:[-./](\d{1,2}|\?\?))?")


def decimal_year(date: str) -> float | None:
    """``"1918-08"`` → 1918.58, ``"January 1913"`` → 1913.0, no year → None."""
    match = _YEAR.search(date)
    if match is None:
        return None
    year = float(match.group(1))
    month = match.group(2)
    if month and month.isdigit() and 1 <= int(month) <= 12:
        year += (int(month) - 1) / 12
    return round(year, 3)


def link_beats(beats: Sequence[Beat], events: Sequence[HistoryEvent]) -> tuple[Beat, ...]:
    """Connect each beat to the historical event nearest its own date.

    A beat that already names its event keeps it. Ties go to the earlier event.
    """
    out = []
    for beat in beats:
        if beat.event is not None or not events:
            out.append(beat)
            continue
        year = beat.year if beat.year is not None else decimal_year(beat.date)
        if year is None:
            out.append(beat)
            continue
        nearest = min(events, key=lambda e: (abs(e.year - year), e.year))
        out.append(replace(beat, year=year, event=nearest.key))
    return tuple(out)


GAMES_DIR = Path(__file__).resolve().parents[2] / "games"
CAFE_STEM = "cafe-1913"
#: Tests and alternative deployments point the café page at another folder.
GAMES_DIR_ENV = "CHESSAPP_GAMES_DIR"


def games_dir() -> Path:
    return Path(os.environ.get(GAMES_DIR_ENV) or GAMES_DIR)


@dataclass(frozen=True, eq=False)
class CafeView:
    """Everything the café page shows that does not depend on the ply."""

    game: chess.pgn.Game
    analysis: GameAnalysis | None
    replay: Replay
    beats: tuple[Beat, ...] = ()
    events: tuple[HistoryEvent, ...] = ()
    narration: Mapping[int, str] = field(default_factory=dict)
    shapes: Mapping[int, tuple[Shape, ...]] = field(default_factory=dict)
    title: str = "Café 1913"
    track: story.StoryTrack | None = None  # kept to re-check the claims on a new analysis
    reading: tuple[str, ...] = ()  # the engine's honest reading of the story, filled in
    problems: tuple[str, ...] = ()  # what could not be loaded, for the page to say so
    claim_table: story.ClaimTable | None = None  # the claims in plain English, failing ones too
    picture: MetaphorPicture | None = None  # the game against the rivalry (None: no timeline)
    board_tree: Json = field(default_factory=dict)  # the board element's payload, built once

    def beat_at(self, ply: int) -> Beat | None:
        return beat_for_ply(self.beats, ply)

    def shapes_at(self, ply: int) -> tuple[Shape, ...]:
        """The story's arrows and circles for this ply.

        :func:`chessapp.story.shapes_by_ply` is complete per ply (a ply's own
        shapes, else its passage's default), so a ply left out has none: an
        arrow belongs to the ply it is about, not to the whole passage.
        """
        return tuple(self.shapes.get(ply, ()))

    def fresh_narration(self, ply: int) -> str | None:
        """Narration that *starts* at this ply (what autoplay waits for)."""
        return self.narration.get(ply)


def shipped_paths(folder: Path | None = None, stem: str = CAFE_STEM) -> dict[str, Path]:
    folder = games_dir() if folder is None else folder
    return {
        "pgn": folder / f"{stem}.pgn",
        "analysis": folder / f"{stem}.analysis.json",
        "story": folder / f"{stem}.story.toml",
    }


def load_analysis(path: Path, game: chess.pgn.Game) -> GameAnalysis:
    """The shipped analysis report (the CLI's ``--json``), checked against the game.

    One function so the format can change in one place.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "games" in data:  # the CLI's report: {"chessapp", "games": [...]}
        games = data["games"]
        if not games:
            raise ChessAppError(f"{path.name} holds no analysed game")
        data = games[0]
    analysis = GameAnalysis.from_json(data)
    moves = [m.uci() for m in game.mainline_moves()]
    if [p.uci for p in analysis.plies] != moves:
        raise ChessAppError(f"{path.name} analyses other moves than the shipped game")
    return analysis


def load_cafe(folder: Path | None = None, stem: str = CAFE_STEM) -> CafeView:
    """Read the shipped game, analysis and story. Only a missing game is fatal."""
    paths = shipped_paths(folder, stem)
    game = read_game(paths["pgn"].read_text(encoding="utf-8"))
    problems: list[str] = []
    analysis: GameAnalysis | None = None
    if paths["analysis"].exists():
        try:
            analysis = load_analysis(paths["analysis"], game)
        except (ChessAppError, ValueError, KeyError) as exc:
            log.warning("shipped analysis unusable: %s", exc)
            problems.append(f"The shipped analysis could not be read: {exc}")
    else:
        problems.append(f"No shipped analysis ({paths['analysis'].name}).")
    view = CafeView(game=game, analysis=analysis, replay=_replay(game, analysis),
                    title=game.headers.get("Event", "Café 1913"))
    if paths["story"].exists():
        try:
            view = _with_story(view, paths["story"])
        except (ChessAppError, OSError) as exc:
            log.warning("story track unusable: %s", exc)
            problems.append(f"The story track could not be read: {exc}")
    else:
        problems.append(f"No story track ({paths['story'].name}).")
    return with_board_tree(replace(view, problems=tuple(problems)))


def _replay(game: chess.pgn.Game, analysis: GameAnalysis | None) -> Replay:
    return build_replay(game, analysis, explanations=None if analysis is None
                        else explanation_texts(analysis))


def _with_story(view: CafeView, path: Path) -> CafeView:
    track = story.load_track(path)
    return replace(
        view,
        track=track,
        narration=dict(story.narration_by_ply(track)),
        shapes={ply: tuple(s) for ply, s in story.shapes_by_ply(track).items()},
        events=timeline_events(track),
        title=track.episode.title or view.title,
        picture=_picture(track, view.game),
        **_checked(track, view.game, view.analysis),
    )


def _picture(track: story.StoryTrack, game: chess.pgn.Game) -> MetaphorPicture | None:
    if not track.timeline:
        return None
    try:
        return metaphor_picture(track, game)
    except ChessAppError as exc:
        log.warning("metaphor picture unusable: %s", exc)
        return None


def with_analysis(view: CafeView, analysis: GameAnalysis) -> CafeView:
    """The same view over a new (live) analysis: new evals, judgements and claim checks."""
    out = replace(view, analysis=analysis, replay=_replay(view.game, analysis))
    if view.track is not None:
        out = replace(out, **_checked(view.track, view.game, analysis))
    return with_board_tree(out)


def board_tree(view: CafeView) -> Json:
    """The board element's payload for the café game (built once per game and analysis).

    Per main-line ply: the story's shapes (auto-shapes), the engine's best move
    (the ``a`` arrow), how long autoplay stays (:func:`autoplay_delay` of the
    narration that starts there), that narration as the text "Read aloud"
    speaks, and the eval bar's reading (unknown where there is no eval).
    """
    shapes: dict[NodePath, tuple[Shape, ...]] = {}
    best: dict[NodePath, str] = {}
    delays: dict[NodePath, int] = {}
    speech: dict[NodePath, str] = {}
    bars: dict[NodePath, EvalBar] = {}
    for at in view.replay.plies:
        path = main_line_path(at.ply)
        if own := view.shapes_at(at.ply):
            shapes[path] = own
        if at.best_next is not None and view.replay.analysed:
            best[path] = at.best_next
        narration = view.fresh_narration(at.ply)
        delays[path] = round(autoplay_delay(narration) * 1000)
        if narration:
            speech[path] = narration
        bars[path] = EvalBar(at.white_win, "?" if at.eval is None else at.eval.text())
    return tree_payload(view.game, auto_shapes=shapes, best_moves=best, delays_ms=delays,
                        speech=speech, bars=bars)


def with_board_tree(view: CafeView) -> CafeView:
    return replace(view, board_tree=board_tree(view))


# --- Adapting the story track -------------------------------------------------------


def timeline_events(track: story.StoryTrack) -> tuple[HistoryEvent, ...]:
    """The track's timeline, dated on a decimal-year axis (undatable events are left out)."""
    events = []
    for i, item in enumerate(track.timeline):
        year = decimal_year(item.date)
        if year is not None:
            events.append(HistoryEvent(key=f"event-{i + 1}", year=year, date=item.date,
                                       place=item.place, title=item.title))
    return tuple(sorted(events, key=lambda e: e.year))


def _checked(track: story.StoryTrack, game: chess.pgn.Game,
             analysis: GameAnalysis | None) -> dict[str, Any]:
    """Beats with their claim checks and engine notes, and the engine's overall reading."""
    checks: dict[str, list[ClaimCheck]] = {}
    reading: tuple[str, ...] = ()
    try:
        results = story.check_track(track, game, analysis)
        if analysis is not None:
            reading = tuple(story.engine_reading(track, game, analysis))
    except ChessAppError as exc:
        log.warning("claims could not be checked: %s", exc)
        results = []
    try:
        table: story.ClaimTable | None = story.claim_table(track, game, results, analysis)
    except (ChessAppError, KeyError, ValueError) as exc:
        log.warning("claim table unusable: %s", exc)
        table = None
    for r in results:
        checks.setdefault(r.segment_id, []).append(ClaimCheck(
            claim=r.claim, ply=r.ply, holds=r.holds,
            figures=tuple((str(k), str(v)) for k, v in r.figures.items()),
            explanation=r.explanation,
        ))
    events = timeline_events(track)
    # The timeline says which beat each event belongs to; the rest go to the nearest date.
    linked = {item.segment: f"event-{i + 1}" for i, item in enumerate(track.timeline)
              if item.segment is not None}
    beats = []
    for seg in track.segments:
        try:
            act = track.act(seg.act).title
        except KeyError:
            act = seg.act
        note = None
        if analysis is not None:
            try:
                note = story.segment_engine_note(track, seg, game, analysis)
            except ChessAppError as exc:
                log.warning("engine note of %s unusable: %s", seg.id, exc)
        beats.append(Beat(
            key=seg.id, first_ply=seg.first_ply, last_ply=seg.last_ply, act=act,
            date=seg.date, place=seg.place, narration=seg.narration, metaphor=seg.metaphor,
            shapes=tuple(seg.shapes), claims=tuple(checks.get(seg.id, ())),
            year=decimal_year(seg.date), event=linked.get(seg.id), engine_note=note,
        ))
    return {"beats": link_beats(beats, events), "reading": reading, "claim_table": table}


def story_beats(track: story.StoryTrack, game: chess.pgn.Game,
                analysis: GameAnalysis | None) -> tuple[Beat, ...]:
    """Any story track's beats with their checked claims (the Analysis page's generated or
    uploaded story uses the café page's records)."""
    beats: tuple[Beat, ...] = _checked(track, game, analysis)["beats"]
    return beats
