"""A story track for any analysed game, in the café game's format, every sentence checked.

:func:`generate_story` reads a game and its :class:`~chessapp.analysis.GameAnalysis`
and writes a track (``docs/story-format.md``): the opening, the turning points
(the moves with the largest drops in winning chances), the decisive error, the
missed chances and the finish. Each key moment is a segment of its own whose
claims are about that move; the stretches between are quieter segments.

Every sentence of the narration is built from a claim that was checked and held,
and from that claim's own figures (evals, judgement, result): candidate claims
are checked first with :func:`~chessapp.story.claims.check_track`, and a sentence
whose claim does not hold is never written. The track is serialised to TOML and
read back through :func:`~chessapp.story.track.parse_track`, so what a user
downloads is exactly what the loader accepts, and an edited copy loads with the
same precise errors.

Deterministic: the same game and analysis give the same TOML, byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import chess
import chess.pgn
import tomli_w

from chessapp.analysis import GameAnalysis, Judgement, PlyAnalysis, winning_chances
from chessapp.story.claims import ClaimResult, check_track
from chessapp.story.track import StoryTrack, parse_track
from chessapp.tree import move_label, start_ply

__all__ = ["MAX_TURNING_POINTS", "GeneratedStory", "generate_story"]

#: At most this many turning points get a segment of their own: a story, not a list.
MAX_TURNING_POINTS = 4
#: The opening segment covers at most this many plies when nothing happens earlier.
OPENING_PLIES = 10
#: The mover "had a winning position" before a judged move when its winning
#: chances (lichess's -1..1 scale) were at least this: about +3.00 (75% on
#: lichess's win-percent scale). Losing it is a missed chance.
MISSED_CHANCE = 0.5

_SIDES = {chess.WHITE: "white", chess.BLACK: "black"}
_DATE = re.compile(r"^(\d{4})\.(\d{2}|\?\?)\.(\d{2}|\?\?)$")


@dataclass(frozen=True, slots=True)
class GeneratedStory:
    """The generated track, its TOML text and the checked claims it stands on."""

    track: StoryTrack
    toml: str
    claims: tuple[ClaimResult, ...]


@dataclass(frozen=True, slots=True)
class _Moment:
    """One planned segment: plies, its kind, and the claims to try about its last ply."""

    first: int
    last: int
    kind: str  # "opening", "quiet", "turning", "decisive", "missed", "finish"
    claims: tuple[str, ...]


def _story_date(headers: chess.pgn.Headers) -> str:
    """The game's date in the track's form (``1999``, ``1999-01``, ``1999-01-20``), or ``""``."""
    match = _DATE.match(headers.get("Date", ""))
    if match is None:
        return ""
    year, month, day = match.groups()
    if "?" in month:
        return year
    return f"{year}-{month}" if "?" in day else f"{year}-{month}-{day}"


def _judged(analysis: GameAnalysis) -> list[PlyAnalysis]:
    return [p for p in analysis.plies if p.judgement is not None]


def _key_plies(analysis: GameAnalysis) -> list[tuple[int, str]]:
    """The turning points, in game order, each with its kind."""
    judged = sorted(_judged(analysis), key=lambda p: (-p.verdict.win_chance_loss, p.ply))
    chosen = judged[:MAX_TURNING_POINTS]
    decisive = chosen[0].ply if chosen else None
    out = []
    for p in sorted(chosen, key=lambda p: p.ply):
        if p.ply == decisive:
            kind = "decisive"
        elif winning_chances(p.eval_before, p.mover) >= MISSED_CHANCE:
            kind = "missed"
        else:
            kind = "turning"
        out.append((p.ply, kind))
    return out


def _judgement_claim(p: PlyAnalysis) -> tuple[str, ...]:
    if p.judgement is Judgement.BLUNDER:
        return ("was_blunder",)
    if p.judgement is Judgement.MISTAKE:
        return ("was_mistake",)
    if p.judgement is Judgement.INACCURACY:
        return ("was_inaccuracy",)
    return ("no_error",)


def _plan(game: chess.pgn.Game, analysis: GameAnalysis) -> list[_Moment]:
    last = len(analysis.plies)
    if last == 0:
        return [_Moment(0, 0, "opening", ())]
    keys = [(ply, kind) for ply, kind in _key_plies(analysis) if ply < last]
    # The opening runs to the first turning point, or OPENING_PLIES when that comes later.
    opening_end = min(OPENING_PLIES, last - 1, *(ply - 1 for ply, _ in keys[:1]))
    moments = [_Moment(0, opening_end, "opening", _played_claims(analysis, 0, opening_end))]
    start = opening_end + 1
    for ply, kind in keys:
        if ply - 1 >= start:
            moments.append(_Moment(start, ply - 1, "quiet",
                                   _played_claims(analysis, start, ply - 1)))
        moments.append(_Moment(ply, ply, kind, _key_claims(analysis.plies[ply - 1])))
        start = ply + 1
    if last - 1 >= start:
        moments.append(_Moment(start, last - 1, "quiet",
                               _played_claims(analysis, start, last - 1)))
        start = last
    final = analysis.plies[last - 1]
    moments.append(_Moment(start, last, "finish", (
        "game_ends", "gives_check", "wins(white)", "wins(black)",
        *(_judgement_claim(final) if final.judgement else ()))))
    return moments


def _key_claims(p: PlyAnalysis) -> tuple[str, ...]:
    claims = list(_judgement_claim(p))
    claims += ["gives_check", "captures_pawn", "captures_bishop",
               f"decisive_for({_SIDES[not p.mover]})"]
    return tuple(claims)


# --- Sentences, each from one claim that held ---------------------------------------------------


def _side_name(color: chess.Color, headers: chess.pgn.Headers) -> str:
    name = headers.get("White" if color == chess.WHITE else "Black", "?")
    side = "White" if color == chess.WHITE else "Black"
    return side if name in ("", "?") else f"{side} ({name})"


def _sentence(result: ClaimResult, p: PlyAnalysis | None, label: str,
              headers: chess.pgn.Headers) -> str | None:
    """The sentence a held claim supports, in its own figures; None for a claim we don't voice."""
    f = result.figures
    name = result.claim.split("(")[0]
    mover = "" if p is None else _side_name(p.mover, headers)
    evals = f"{f.get('eval_before', '?')} to {f.get('eval_after', '?')}"
    best = f" {f['engine_best']} was the engine's choice." if "engine_best" in f else ""
    if name == "was_blunder":
        return f"{label} by {mover} is a blunder: the engine's eval goes from {evals}.{best}"
    if name == "was_mistake":
        return f"{label} by {mover} is a mistake: the eval goes from {evals}.{best}"
    if name == "was_inaccuracy":
        return (f"{label} by {mover} is an inaccuracy, no worse: the eval goes from "
                f"{evals}.{best}")
    if name == "no_error":
        return None  # a quiet move needs no sentence of its own
    if name == "gives_check":
        return f"{label} gives check."
    if name in ("captures_pawn", "captures_bishop"):
        return f"{label} takes a {f.get('captured', name.removeprefix('captures_'))}."
    if name == "decisive_for":
        side = "White" if "white" in result.claim else "Black"
        return (f"From here the engine sees a decisive advantage for {side} "
                f"({f.get('eval_after', '?')}).")
    if name == "game_ends":
        return f"The game ends after {label}; the result is {f.get('result', '*')}."
    if name == "wins":
        side = "White" if "white" in result.claim else "Black"
        return f"{side} wins."
    return None


_KIND_OPENERS = {
    "decisive": "The decisive moment.",
    "missed": "A missed chance: before this move the mover stood to win.",
    "turning": "A turning point.",
}


#: A quiet stretch lists at most its last this many moves (each one a checked claim).
LISTED_MOVES = OPENING_PLIES


def _listed(first: int, last: int) -> range:
    """The plies whose moves a stretch [first, last] lists (the last LISTED_MOVES of them)."""
    return range(max(first, 1, last - LISTED_MOVES + 1), last + 1)


def _played_claims(analysis: GameAnalysis, first: int, last: int) -> tuple[str, ...]:
    return tuple(f"played({analysis.plies[p - 1].san})@{p}" for p in _listed(first, last))


def _moves_text(game_start: chess.Board, analysis: GameAnalysis, first: int, last: int) -> str:
    """Movetext as a person writes it (``6. Be2 c6 7. Nf3``), each move a tagged fact."""
    start = start_ply(game_start)
    plies = _listed(first, last)
    words = ["…"] if plies and plies[0] > max(first, 1) else []
    for i, ply in enumerate(plies):
        san = analysis.plies[ply - 1].san
        white = (start + ply) % 2 == 1
        shown = move_label(ply, san, start=start) if white or i == 0 else san
        words.append(_tag(shown, f"played({san})@{ply}"))
    return " ".join(words)


def _tag(text: str, claim: str) -> str:
    """``text`` as a fact resting on ``claim`` (docs/story-format.md, fact tags)."""
    return f"[{text}](claim: {claim})"


def _narration(moment: _Moment, held: list[ClaimResult], analysis: GameAnalysis,
               board: chess.Board, headers: chess.pgn.Headers) -> str:
    start = start_ply(board)
    p = analysis.plies[moment.last - 1] if moment.last >= 1 else None
    label = "" if p is None else move_label(p.ply, p.san, start=start)
    sentences: list[str] = []
    if moment.kind == "opening":
        sentences.append(f"{_side_name(chess.WHITE, headers)} and "
                         f"{_side_name(chess.BLACK, headers)} begin: "
                         f"{_moves_text(board, analysis, 1, moment.last)}."
                         if moment.last else "The game begins.")
    elif moment.kind == "quiet":
        sentences.append(
            f"Play goes on: {_moves_text(board, analysis, moment.first, moment.last)}.")
    judgement = next((r for r in held if r.claim in JUDGEMENT_CLAIMS), None)
    if moment.kind in _KIND_OPENERS and judgement is not None:
        # The opener restates what the judgement claim's figures say (a loss, a win slipping).
        sentences.append(_tag(_KIND_OPENERS[moment.kind], judgement.claim))
    for result in held:
        text = _sentence(result, p, label, headers)
        if text is not None:
            sentences.append(_tag(text, result.claim))
    return " ".join(sentences) if sentences else f"{label or 'The start'}."


#: The claims that carry a move's judgement (one per turning point).
JUDGEMENT_CLAIMS = ("was_blunder", "was_mistake", "was_inaccuracy")


def _cites(text: str, claim: str) -> bool:
    return f"(claim: {claim})" in text


def _act_of(kind: str) -> str:
    return {"opening": "opening", "finish": "finish"}.get(kind, "struggle")


def _track_data(game: chess.pgn.Game, analysis: GameAnalysis, moments: Sequence[_Moment],
                claims: Sequence[Sequence[str]], narrations: Sequence[str],
                hero: chess.Color) -> dict[str, Any]:
    h = game.headers
    date = _story_date(h)
    place = h.get("Site", "") if h.get("Site", "?") not in ("", "?") else "over the board"
    acts_used = []
    for m in moments:
        if _act_of(m.kind) not in acts_used:
            acts_used.append(_act_of(m.kind))
    titles = {"opening": "The opening", "struggle": "The turning points",
              "finish": "The finish"}
    optional_date = {"date": date} if date else {}
    segments = []
    for key, (moment, claim_list, text) in enumerate(
            zip(moments, claims, narrations, strict=True), start=1):
        seg: dict[str, Any] = {
            "id": f"s{key}", "act": _act_of(moment.kind), **optional_date, "place": place,
            "plies": [moment.first, moment.last], "narration": text,
        }
        if moment.kind in ("decisive", "missed", "turning") and moment.last < len(analysis.plies):
            # The refutation: the engine's best reply to the move, from the position on the board.
            reply = analysis.plies[moment.last].best
            if reply is not None:
                seg["shapes"] = ["R" + reply.uci()[:4]]
        if claim_list:
            seg["claims"] = list(claim_list)
        segments.append(seg)
    decisive = [f"s{i + 1}" for i, m in enumerate(moments) if m.kind == "decisive"]
    data: dict[str, Any] = {
        "episode": {
            "title": f"{h.get('White', '?')} – {h.get('Black', '?')}",
            "show": "Café 1913: a story generated from the engine's analysis",
            "hero": "player",
            "hero_name": h.get("White" if hero == chess.WHITE else "Black", "?"),
            "hero_color": _SIDES[hero],
            "summary": f"{h.get('Event', '?')}, {h.get('Result', '*')}",
        },
        "acts": [{"id": a, "title": titles[a], **optional_date, "place": place}
                 for a in acts_used],
        "segments": segments,
    }
    if decisive:
        seg_id = decisive[0]
        data["engine_reading"] = {"lines": [
            f"{{{seg_id}.san}} decided the game: the engine's eval went from "
            f"{{{seg_id}.eval_before}} to {{{seg_id}.eval_after}} ({{{seg_id}.judgement}}); "
            f"{{{seg_id}.best}} was best.",
        ]}
    return data


def generate_story(game: chess.pgn.Game, analysis: GameAnalysis, *,
                   hero: chess.Color = chess.WHITE) -> GeneratedStory:
    """A checked story track for ``game`` and its main-line ``analysis``.

    ``hero`` is the player the track calls ``player`` (claims name sides by colour,
    so the choice only sets the episode's fields).
    """
    moments = _plan(game, analysis)
    board = game.board()
    # Pass 1: every candidate claim, checked against the board and the analysis.
    draft = _track_data(game, analysis, moments, [m.claims for m in moments],
                        ["…" for _ in moments], hero)
    results = check_track(parse_track(tomli_w.dumps(draft), source="<generated>"), game, analysis)
    held_by_segment: dict[str, list[ClaimResult]] = {}
    for r in results:
        if r.holds:
            held_by_segment.setdefault(r.segment_id, []).append(r)
    # Pass 2: only claims that held, one tagged sentence from each; a segment lists exactly
    # the claims its text cites.
    narrations = [_narration(m, held_by_segment.get(f"s{i + 1}", []), analysis, board,
                             game.headers) for i, m in enumerate(moments)]
    kept = [[r.claim for r in held_by_segment.get(f"s{i + 1}", []) if _cites(text, r.claim)]
            for i, text in enumerate(narrations)]
    data = _track_data(game, analysis, moments, kept, narrations, hero)
    text = ("# A story generated by Café 1913 from the engine's analysis. Edit it freely;\n"
            "# the format is docs/story-format.md, and every claim is checked on load.\n\n"
            + tomli_w.dumps(data))
    track = parse_track(text, source="<generated>")
    checked = tuple(check_track(track, game, analysis))
    return GeneratedStory(track=track, toml=text, claims=checked)
