"""The claim table in plain English: what the narrator says, what the board and engine say.

:func:`claim_table` turns the results of :func:`~chessapp.story.claims.check_track`
into rows a reader can follow without knowing claim ids: the narrator's own
words (the fact that cites the claim), the claim in plain English, the
verdict (a failing claim is shown as failing, never left out), the board's
or engine's explanation and the figures, each with a label. Pure: the page
only lays the rows out.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import chess
import chess.pgn

from chessapp.analysis import GameAnalysis
from chessapp.story.claims import ArgKind, Claim, ClaimKind, ClaimResult, opening_name
from chessapp.story.notes import fill_template
from chessapp.story.track import PLACEHOLDER, Segment, StoryTrack


class Verdict(enum.Enum):
    """What the check found; the value is how the table says it."""

    HOLDS = "holds"
    FAILS = "does not hold"
    UNCHECKED = "not checked: needs an engine analysis"

    @classmethod
    def of(cls, holds: bool | None) -> Verdict:
        return cls.UNCHECKED if holds is None else cls.HOLDS if holds else cls.FAILS


#: Plain labels for the figure keys the claim predicates report.
FIGURE_LABELS: Mapping[str, str] = {
    "move": "move",
    "piece": "piece moved",
    "captured": "piece taken",
    "attacked_squares": "squares the piece attacks",
    "queen_attacked_on": "queen attacked on",
    "from": "from",
    "to": "to",
    "centre_distance": "distance to the centre",
    "in_c3_f6": "inside the c3–f6 block",
    "first_moves": "the game's first moves",
    "opening_moves": "the opening's moves",
    "pawns_on_file": "pawns on the file",
    "pieces": "pieces on the line",
    "pinner": "pinning piece",
    "pinned": "pinned piece",
    "behind": "piece behind",
    "kind": "kind of pin",
    "defenders": "guarded from",
    "attackers": "attacked from",
    "queen_on": "queen on",
    "attacked_by": "attacked from",
    "reach_of": "the piece whose reach counts",
    "reach": "squares it reaches",
    "landed_on": "landed on",
    "attacker_on": "attacker on",
    "attacked_there_by": "attacked there from",
    "defended_there_by": "defended there from",
    "material_then": "material then (own v other)",
    "material_now": "material now (own v other)",
    "balance": "material balance",
    "trade": "trade",
    "king_zone_attacked": "king-zone squares attacked",
    "hanging": "pieces hanging",
    "checker": "checking piece on",
    "checkers": "checking piece on",
    "last_ply": "last ply of the game",
    "result": "result",
    "eval_before": "eval before (White's view)",
    "eval_after": "eval after (White's view)",
    "win_chance_after": "winning chances after",
    "win_chance_loss": "winning chances lost",
    "judgement": "engine's grade",
    "best": "engine's choice",
    "engine": "engine",
}


@dataclass(frozen=True, slots=True)
class ReadableClaim:
    """One row of the claim table, every cell in words."""

    segment_id: str
    ply: int
    move: str  # the move the claim is about, "11. Nxd5", or "the start"
    narrator_says: str  # the narrator's own words that rest on the claim
    claim_says: str  # the claim itself in plain English
    verdict: Verdict
    board_and_engine_say: str  # the check's explanation, with player keys as names
    figures: tuple[tuple[str, str], ...]  # (label, value), in the predicate's order

    @property
    def holds(self) -> bool:
        return self.verdict is Verdict.HOLDS

    @property
    def figures_text(self) -> str:
        """``eval before (White's view) +3.92; ...``: the figures on one line."""
        return "; ".join(f"{label} {value}" for label, value in self.figures)


@dataclass(frozen=True, slots=True)
class ClaimTable:
    rows: tuple[ReadableClaim, ...]

    @property
    def summary(self) -> str:
        """``58 of 61 claims hold; 2 do not hold; 1 not checked (no engine analysis).``"""
        counts = {v: sum(r.verdict is v for r in self.rows) for v in Verdict}
        text = f"{counts[Verdict.HOLDS]} of {len(self.rows)} claims hold"
        if counts[Verdict.FAILS]:
            text += f"; {counts[Verdict.FAILS]} {'does' if counts[Verdict.FAILS] == 1 else 'do'} "
            text += "not hold"
        if counts[Verdict.UNCHECKED]:
            text += f"; {counts[Verdict.UNCHECKED]} not checked (no engine analysis)"
        return text + "."

    @property
    def failing(self) -> tuple[ReadableClaim, ...]:
        return tuple(r for r in self.rows if r.verdict is Verdict.FAILS)


def claim_table(track: StoryTrack, game: chess.pgn.Game, results: Sequence[ClaimResult],
                analysis: GameAnalysis | None = None) -> ClaimTable:
    """Each result of ``check_track(track, game, analysis)`` as a row in plain English, in order.

    With ``analysis``, placeholders in the narrator's words (facts of engine
    notes) are filled in; without, they read "…".
    """
    moves = _move_labels(game)

    def filled(text: str) -> str:
        if analysis is None:
            return PLACEHOLDER.sub("…", text)
        return fill_template(text, track, game, analysis)

    rows = []
    for result in results:
        claim = Claim.parse(result.claim)
        segment = track.segment(result.segment_id)
        says = claim_in_words(claim, track)
        rows.append(ReadableClaim(
            segment_id=result.segment_id,
            ply=result.ply,
            move=moves[result.ply] if 0 <= result.ply < len(moves) else f"ply {result.ply}",
            narrator_says=filled(_narrator_words(segment, claim)) or f"(not in the text) {says}",
            claim_says=says,
            verdict=Verdict.of(result.holds),
            board_and_engine_say=_with_names(_sentence(result.explanation), track),
            figures=tuple((FIGURE_LABELS.get(key, key.replace("_", " ")),
                           _with_names(value, track)) for key, value in result.figures.items()),
        ))
    return ClaimTable(tuple(rows))


def claim_in_words(claim: Claim, track: StoryTrack) -> str:
    """``defenders(d5, c6 f6)`` → ``the piece on d5 is guarded from c6 and f6 and nowhere else``."""
    kind = ClaimKind.validate(claim)
    spec = kind.spec
    if kind in (ClaimKind.DEFENDERS, ClaimKind.ATTACKERS) and claim.args[1] == "none":
        verb = "guards" if kind is ClaimKind.DEFENDERS else "attacks"
        return f"nothing {verb} the piece on {claim.args[0]}"
    words = [_arg_in_words(arg, arg_kind, track)
             for arg, arg_kind in zip(claim.args, spec.arg_kinds, strict=False)]
    words += [""] * (spec.max_args - len(words))
    text = spec.says.format(*words)
    if kind is ClaimKind.MATERIAL_DOWN and len(claim.args) > 1:
        text += f" (compared with ply {claim.args[1]})"
    return text


def _arg_in_words(arg: str, kind: ArgKind, track: StoryTrack) -> str:
    if kind is ArgKind.SIDE:
        return _player(arg, track)
    if kind is ArgKind.SQUARES:
        squares = arg.split()
        if arg == "none":
            return "no square"
        return squares[0] if len(squares) == 1 else (
            ", ".join(squares[:-1]) + " and " + squares[-1])
    if kind is ArgKind.OPENING:
        return opening_name(arg)
    return arg


def _player(key: str, track: StoryTrack) -> str:
    if key == track.hero:
        return key.capitalize()
    return {"opponent": "the opponent", "white": "White", "black": "Black"}.get(key, key)


def _with_names(text: str, track: StoryTrack) -> str:
    """Player keys in a predicate's explanation as the names a reader knows."""
    text = re.sub(rf"\b{re.escape(track.hero)}\b", track.hero.capitalize(), text)
    text = re.sub(r"^opponent\b", "The opponent", text)
    return re.sub(r"\bopponent's\b", "the opponent's", text)


#: A sentence that starts with a square or a pawn move ("e7, e2 ...", "g6 cost ...") keeps
#: its lower case: "G6" is no square.
_STARTS_WITH_SQUARE = re.compile(r"^[a-h](?:[1-8]|x)")


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    if not _STARTS_WITH_SQUARE.match(text):
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _narrator_words(segment: Segment, claim: Claim) -> str:
    """The shown text of every fact of ``segment`` that cites ``claim``, joined."""
    texts = [f"“{fact.text}”" for fact in segment.facts if claim in fact.claims]
    return " … ".join(dict.fromkeys(texts))


def _move_labels(game: chess.pgn.Game) -> list[str]:
    """``labels[ply]``: ``"the start"``, ``"1. e4"``, ``"1… e6"`` ..."""
    board = game.board()
    labels = ["the start"]
    for move in game.mainline_moves():
        number = board.fullmove_number
        dots = "." if board.turn == chess.WHITE else "…"
        labels.append(f"{number}{dots} {board.san(move)}")
        board.push(move)
    return labels
