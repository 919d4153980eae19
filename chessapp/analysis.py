"""Engine judgement as pure functions, plus one orchestrator that analyses a game.

The math follows lichess exactly; each constant cites the file it comes from
in lichess-org/lila (server) or lichess-org/lila ``ui/`` (client):

* winning chances: ``ui/lib/src/ceval/winningChances.ts``
  (``rawWinningChances``, ``cpWinningChances``, ``mateWinningChances``);
* judgements: ``modules/tree/src/main/Advice.scala`` (``CpAdvice`` thresholds
  0.3 / 0.2 / 0.1 on the mover's drop in winning chances; ``MateAdvice`` for
  the mate cases);
* accuracy: ``modules/analyse/src/main/AccuracyPercent.scala``
  (``fromWinPercents``, ``gameAccuracy``);
* ACPL: ``modules/analyse/src/main/AccuracyCP.scala`` (``diffsList``, cp ceiled
  at ±1000, a mate counted as ±1000);
* which moves are judged at all: ``modules/tree/src/main/Analysis.scala``
  (``infoAdvices``: only an ``Info`` with a variation) and
  ``modules/fishnet/src/main/AnalysisBuilder.scala`` (``makeInfos``: no
  variation when the engine's first choice is the move played; the checkmate
  position is dropped, so the mating move has no ``Info`` at all).

Evals are attached to the ply *after* the move (ply 1 is the position after
White's first move) and every move is judged from the mover's side. The
position before the first move counts as ``Cp.initial`` (+15 cp) for judging,
accuracy and ACPL, as in lila (``Info.start``); the engine's own eval of it is
kept and reported beside it (``GameAnalysis.initial``).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
import re
import statistics
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import chess
import chess.pgn

from chessapp.divider import Division, Phase, divide, phase_of
from chessapp.errors import EngineCrashed
from chessapp.evals import (
    EngineIdentity,
    EngineLine,
    PositionEval,
    SearchLimit,
    WhiteEval,
    terminal_eval,
)
from chessapp.labels import MoveLabel, is_recapture, label_move
from chessapp.openings import OpeningAtPly, name_plies
from chessapp.tree import main_line_boards, san_line

log = logging.getLogger(__name__)

# --- Winning chances ---------------------------------------------------------

#: lila PR #11148, ui/lib/src/ceval/winningChances.ts: the logistic fit of
#: lichess game outcomes against Stockfish centipawns.
WIN_CHANCES_MULTIPLIER = -0.00368208
#: scalachess ``Eval.Cp.CEILING``: centipawns are clamped to ±1000 for win %,
#: accuracy and ACPL (``WinPercent.fromCentiPawns`` and ``AccuracyCP`` call
#: ``ceiled``); judgements are not (``CpAdvice`` passes the raw cp).
CP_CEILING = 1000
#: scalachess ``WhiteScore.initial`` / lila ``evals.initial`` (``Cp.initial``):
#: what the position before the first move is worth for judging, accuracy and ACPL.
INITIAL_CP = 15
INITIAL_EVAL = WhiteEval(cp=INITIAL_CP)


def raw_winning_chances(cp: float) -> float:
    """lichess ``rawWinningChances``: 2/(1+exp(-0.00368208·cp)) − 1, in [−1, 1].

    Raw (unceiled) cp can be huge; past the float range the curve is simply −1
    (as lila's ``Double`` arithmetic gives it) instead of an OverflowError.
    """
    exponent = WIN_CHANCES_MULTIPLIER * cp
    if exponent > 700:
        return -1.0
    return max(-1.0, min(1.0, 2 / (1 + math.exp(exponent)) - 1))


def ceil_cp(cp: int) -> int:
    """lichess ``Cp.ceiled``: clamp to ±1000."""
    return max(-CP_CEILING, min(CP_CEILING, cp))


def mate_as_cp(mate: int, *, sign: int) -> int:
    """lichess ``mateWinningChances``: mate in n counts as (21 − min(10, |n|))·100 cp."""
    return (21 - min(10, abs(mate))) * 100 * sign


def _mate_sign(ev: WhiteEval) -> int:
    assert ev.mate is not None
    if ev.mate == 0:
        return 1 if ev.mated == chess.BLACK else -1
    return 1 if ev.mate > 0 else -1


def winning_chances(ev: WhiteEval, color: chess.Color = chess.WHITE) -> float:
    """``color``'s winning chances in [−1, 1], with mate mapped as lichess maps it."""
    if ev.cp is not None:
        white = raw_winning_chances(ceil_cp(ev.cp))
    else:
        assert ev.mate is not None
        white = raw_winning_chances(mate_as_cp(ev.mate, sign=_mate_sign(ev)))
    return white if color == chess.WHITE else -white


def forced_cp(ev: WhiteEval) -> int:
    """lila ``Eval.forceAsCp`` then ``ceiled``: White's cp in ±1000, a mate as ±1000."""
    if ev.cp is not None:
        return ceil_cp(ev.cp)
    return CP_CEILING * _mate_sign(ev)


def win_percent(ev: WhiteEval) -> float:
    """lila ``WinPercent.fromCentiPawns``: White's win % in [0, 100], for accuracy."""
    return 50 + 50 * raw_winning_chances(forced_cp(ev))


# --- Judgements ----------------------------------------------------------------


class Judgement(enum.Enum):
    """lichess's three grades of error, with their PGN NAGs and glyphs."""

    INACCURACY = "inaccuracy"
    MISTAKE = "mistake"
    BLUNDER = "blunder"

    @property
    def nag(self) -> int:
        return {"inaccuracy": chess.pgn.NAG_DUBIOUS_MOVE, "mistake": chess.pgn.NAG_MISTAKE,
                "blunder": chess.pgn.NAG_BLUNDER}[self.value]

    @property
    def glyph(self) -> str:
        return {"inaccuracy": "?!", "mistake": "?", "blunder": "??"}[self.value]

    @property
    def title(self) -> str:
        return self.value.capitalize()


class MateSequence(enum.Enum):
    """lila ``MateAdvice.MateSequence`` (``MateDelayed`` carries no judgement, so it is omitted)."""

    CREATED = "Checkmate is now unavoidable"
    LOST = "Lost forced checkmate sequence"


#: Advice.scala ``winningChanceJudgements``: the mover's drop in winning chances.
JUDGEMENT_THRESHOLDS: tuple[tuple[float, Judgement], ...] = (
    (0.3, Judgement.BLUNDER),
    (0.2, Judgement.MISTAKE),
    (0.1, Judgement.INACCURACY),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement of one move, from the mover's side."""

    judgement: Judgement | None
    mate_sequence: MateSequence | None
    #: The mover's drop in winning chances (−1..1 scale; negative = improved).
    win_chance_loss: float


def win_chance_loss(before: WhiteEval, after: WhiteEval, mover: chess.Color) -> float:
    """How much the mover's winning chances fell with the move (lichess ``povDiff``)."""
    return winning_chances(before, mover) - winning_chances(after, mover)


def judge(before: WhiteEval, after: WhiteEval, mover: chess.Color) -> Verdict:
    """lila ``Advice(prev, info)``: ``CpAdvice`` when both are cp, else ``MateAdvice``.

    ``CpAdvice`` works on the raw centipawns: lila's ``WinPercent.winningChances``
    takes ``info.cp`` unceiled (only its result is clamped to [−1, 1]).
    Whether a move is judged at all is :func:`is_judged`'s question.
    """
    loss = win_chance_loss(before, after, mover)
    if before.cp is not None and after.cp is not None:
        drop = raw_winning_chances(before.cp) - raw_winning_chances(after.cp)
        if mover == chess.BLACK:
            drop = -drop
        for threshold, grade in JUDGEMENT_THRESHOLDS:
            if drop >= threshold:
                return Verdict(grade, None, drop)
        return Verdict(None, None, drop)

    sign = 1 if mover == chess.WHITE else -1
    # Mate from the mover's side: > 0 the mover mates, < 0 the mover is mated.
    def mover_mate(ev: WhiteEval) -> int | None:
        if ev.mate is None:
            return None
        if ev.mate == 0:
            # Mate on the board: "positive" for whoever delivered it, so a
            # delivered mate is neither created nor lost.
            return 1 if ev.mated != mover else -1
        return ev.mate * sign

    def mover_cp(ev: WhiteEval) -> int:
        return 0 if ev.cp is None else ev.cp * sign  # lila: ``.so(_.centipawns)``

    prev_mate, next_mate = mover_mate(before), mover_mate(after)
    sequence: MateSequence | None = None
    if prev_mate is None and next_mate is not None and next_mate < 0:
        sequence = MateSequence.CREATED
    elif prev_mate is not None and prev_mate > 0 and (next_mate is None or next_mate < 0):
        sequence = MateSequence.LOST
    if sequence is MateSequence.CREATED:
        prev_cp = mover_cp(before)
        grade = (Judgement.INACCURACY if prev_cp < -999
                 else Judgement.MISTAKE if prev_cp < -700 else Judgement.BLUNDER)
    elif sequence is MateSequence.LOST:
        next_cp = mover_cp(after)
        grade = (Judgement.INACCURACY if next_cp > 999
                 else Judgement.MISTAKE if next_cp > 700 else Judgement.BLUNDER)
    else:
        return Verdict(None, None, loss)
    return Verdict(grade, sequence, loss)


def ends_in_checkmate(board: chess.Board) -> bool:
    """The move just played ended the game with a win: lila keeps no eval for that position.

    ``AnalysisBuilder.makeInfos`` drops the checkmate eval, so the mating move
    has no ``Info``: it is never judged and counts in neither accuracy nor ACPL.
    (A variant win such as a third check is the same to lichess: mate 0.)
    """
    return board.is_checkmate() or board.is_variant_loss()


def is_judged(move: chess.Move, best_pv: Sequence[chess.Move], after: chess.Board) -> bool:
    """Whether lichess would judge this move at all (before any threshold).

    lila judges only an ``Info`` that holds a variation (``Analysis.infoAdvices``:
    ``info.hasVariation``), and ``AnalysisBuilder.makeInfos`` stores none when
    the engine's line is empty or starts with the move played. So the engine's
    own first choice is never a mistake, and neither is the mating move.
    """
    return bool(best_pv) and best_pv[0] != move and not ends_in_checkmate(after)


# --- Accuracy and ACPL -----------------------------------------------------------

#: AccuracyPercent.fromWinPercents: lichess's fit of accuracy against win% lost.
ACCURACY_A = 103.1668100711649
ACCURACY_K = -0.04354415386753951
ACCURACY_B = -3.166924740191411
#: "+1 uncertainty bonus (due to imperfect analysis)", AccuracyPercent.scala
ACCURACY_BONUS = 1.0


def move_accuracy(win_before: float, win_after: float) -> float:
    """Accuracy % of one move from the mover's win % (0..100) before and after it."""
    if win_after >= win_before:
        return 100.0
    raw = ACCURACY_A * math.exp(ACCURACY_K * (win_before - win_after)) + ACCURACY_B
    return max(0.0, min(100.0, raw + ACCURACY_BONUS))


def _weighted_mean(pairs: Sequence[tuple[float, float]]) -> float | None:
    total = sum(w for _, w in pairs)
    return None if total <= 0 else sum(x * w for x, w in pairs) / total


def _harmonic_mean(values: Sequence[float]) -> float | None:
    """lila ``Maths.harmonicMean``: each value floored at 1 so a 0% move cannot zero it."""
    if not values:
        return None
    return len(values) / sum(1 / max(1.0, v) for v in values)


def move_weights(
    evals: Sequence[WhiteEval], *, initial: WhiteEval = INITIAL_EVAL,
    start_color: chess.Color = chess.WHITE,
) -> list[tuple[float, float, chess.Color]]:
    """lila ``AccuracyPercent.gameAccuracy``'s per-move (accuracy, weight, mover).

    ``evals[i]`` is the eval after ply i+1; ``initial`` the eval before the
    first move (lila: ``Cp.initial``). The window is len/10 clamped to [2, 8];
    a window's weight is its win% standard deviation clamped to [0.5, 12].
    """
    wins = [win_percent(initial)] + [win_percent(e) for e in evals]
    window = max(2, min(8, len(evals) // 10))
    windows = [wins[:window]] * max(0, min(window, len(wins)) - 2)
    windows += [wins[i:i + window] for i in range(max(1, len(wins) - window + 1))]
    weights = [max(0.5, min(12.0, statistics.pstdev(w))) for w in windows]
    out: list[tuple[float, float, chess.Color]] = []
    for i in range(len(wins) - 1):
        color = chess.WHITE if (i % 2 == 0) == (start_color == chess.WHITE) else chess.BLACK
        prev, nxt = wins[i], wins[i + 1]
        acc = move_accuracy(prev, nxt) if color == chess.WHITE else move_accuracy(nxt, prev)
        out.append((acc, weights[i], color))
    return out


def accuracy_of(moves: Sequence[tuple[float, float]]) -> float | None:
    """lila ``colorAccuracy``: the mean of the weighted mean and the harmonic mean."""
    weighted = _weighted_mean(moves)
    harmonic = _harmonic_mean([a for a, _ in moves])
    return None if weighted is None or harmonic is None else (weighted + harmonic) / 2


def game_accuracy(
    evals: Sequence[WhiteEval], *, initial: WhiteEval = INITIAL_EVAL,
    start_color: chess.Color = chess.WHITE,
) -> dict[chess.Color, float | None]:
    """lila ``AccuracyPercent.gameAccuracy``, per side (see :func:`move_weights`)."""
    moves = move_weights(evals, initial=initial, start_color=start_color)
    return {color: accuracy_of([(a, w) for a, w, c in moves if c == color])
            for color in (chess.WHITE, chess.BLACK)}


def centipawn_loss(before: WhiteEval, after: WhiteEval, mover: chess.Color) -> int:
    """lila ``Accuracy.diffsList``: the mover's cp loss, cp ceiled at ±1000, never negative."""
    diff = forced_cp(after) - forced_cp(before)
    return max(0, -diff if mover == chess.WHITE else diff)


def average_centipawn_loss(losses: Sequence[int]) -> float | None:
    return None if not losses else round(sum(losses) / len(losses), 1)


# --- The advice comment -----------------------------------------------------------
# Written here and read back here (export drops an earlier analysis's comments
# with :func:`strip_advice`), so the two can never drift apart.


def eval_comment(ev: WhiteEval) -> str | None:
    """lila ``Info.evalComment``: ``0.30``, ``-1.20`` or ``Mate in 3``; none for mate 0."""
    if ev.mate is not None:
        return None if ev.mate == 0 else f"Mate in {abs(ev.mate)}"
    assert ev.cp is not None
    return f"{ev.cp / 100:.2f}"


def advice_comment(verdict: Verdict, *, before: WhiteEval | None, after: WhiteEval | None,
                   best_san: str | None) -> str:
    """lila ``Advice.makeComment``: ``(0.30 → -1.20) Mistake. Nf3 was best.``

    ``before``/``after`` None leave the eval part out (``withEval = false``),
    ``best_san`` None the best move (``withBestMove = false``). Empty for a
    verdict without a judgement.
    """
    if verdict.judgement is None:
        return ""
    text = ""
    evals = [c for c in (None if before is None else eval_comment(before),
                         None if after is None else eval_comment(after)) if c is not None]
    if evals:
        text = f"({' → '.join(evals)}) "
    seq = verdict.mate_sequence
    text += (seq.value if seq is not None else verdict.judgement.title) + "."
    if best_san:
        text += f" {best_san} was best."
    return text


@dataclass(frozen=True, slots=True)
class ParsedAdvice:
    """An advice comment read back: what it says, as written."""

    text: str  # the whole advice, e.g. "(0.30 → -1.20) Mistake. Nf3 was best."
    #: The grade when the text names it; None for the two mate sentences,
    #: whose grade only the NAG carries.
    judgement: Judgement | None
    mate_sequence: MateSequence | None
    evals: tuple[str, ...]  # ("0.30", "-1.20"), or () when written without evals
    best_san: str | None


_EVAL_TEXT = r"(?:-?\d+\.\d+|Mate in \d+|Checkmate)"
_ADVICE = re.compile(
    rf"(?:\((?P<evals>{_EVAL_TEXT}(?: → {_EVAL_TEXT})?)\) )?"
    r"(?P<what>Inaccuracy|Mistake|Blunder|Checkmate is now unavoidable|"
    r"Lost forced checkmate sequence)"
    r"\.(?: (?:(?P<best>\S+) was best|Best move was (?P<best_old>\S+))\.)?")


def parse_advice(comment: str) -> ParsedAdvice | None:
    """The first advice comment inside ``comment`` (lichess's or ours), if any."""
    found = _ADVICE.search(comment)
    if found is None:
        return None
    what = found.group("what")
    sequence = next((m for m in MateSequence if m.value == what), None)
    judgement = None if sequence is not None else Judgement(what.lower())
    evals = tuple(found.group("evals").split(" → ")) if found.group("evals") else ()
    return ParsedAdvice(found.group(0), judgement, sequence, evals,
                        found.group("best") or found.group("best_old"))


def strip_advice(comment: str) -> str:
    """``comment`` without any advice comment in it (an earlier analysis's)."""
    return " ".join(_ADVICE.sub(" ", comment).split())


# --- Results ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlyAnalysis:
    """One move, judged: the eval after it (White's view) and the best move before it."""

    ply: int  # 1-based: the position after this many half-moves
    san: str
    uci: str
    fen: str  # after the move
    mover: chess.Color
    #: What the move is judged from: the eval after the previous move, and
    #: lila's ``Cp.initial`` (+15) before the first move.
    eval_before: WhiteEval
    eval: WhiteEval
    best: chess.Move | None  # the engine's choice in the position before the move
    best_san: str | None
    pv: tuple[chess.Move, ...]  # the engine's line from the position before the move
    pv_san: tuple[str, ...]
    lines_after: tuple[EngineLine, ...]  # multipv lines of the position after the move
    verdict: Verdict
    #: The move's accuracy %, and the mover's centipawn loss; None for the
    #: mating move, which lichess keeps no eval for (it counts in neither).
    accuracy: float | None
    cp_loss: int | None
    #: Why this move was not judged (the engine crashed on a position), if so.
    note: str | None = None
    #: Nodes the engine searched for the position after this move (None: unknown).
    nodes: int | None = None
    #: Best / only move / brilliant (chessapp.labels), from the engine's lines before it.
    label: MoveLabel | None = None
    #: Every engine line of the position before the move (multipv), best first.
    lines_before: tuple[EngineLine, ...] = ()

    @property
    def judgement(self) -> Judgement | None:
        return self.verdict.judgement

    @property
    def scored(self) -> bool:
        """Whether the move counts in accuracy and ACPL (every move but the mating one)."""
        return self.cp_loss is not None

    def comment(self, *, with_eval: bool = True, with_best: bool = True) -> str:
        """lila ``Advice.makeComment``: ``(0.30 → -1.20) Mistake. Nf3 was best.``"""
        best = self.best_san if with_best and self.best != chess.Move.from_uci(self.uci) else None
        return advice_comment(self.verdict, before=self.eval_before if with_eval else None,
                              after=self.eval if with_eval else None, best_san=best)

    def to_json(self) -> dict[str, Any]:
        return {
            "ply": self.ply,
            "san": self.san,
            "uci": self.uci,
            "fen": self.fen,
            "eval": self.eval.to_json(),
            "best": None if self.best is None else {"uci": self.best.uci(), "san": self.best_san},
            "pv": [m.uci() for m in self.pv],
            "judgement": None if self.judgement is None else self.judgement.value,
            "win_chance_loss": round(self.verdict.win_chance_loss, 4),
            "accuracy": None if self.accuracy is None else round(self.accuracy, 2),
            "note": self.note,
            "nodes": self.nodes,
            "label": None if self.label is None else self.label.value,
            # The engine's other choices before the move (multipv >= 2): first move and eval.
            "alternatives": [{"uci": line.pv[0].uci(), "eval": line.eval.to_json()}
                             for line in self.lines_before[1:] if line.pv],
        }


def _position_from_json(
    board: chess.Board, ev: dict[str, Any], pv: tuple[chess.Move, ...] | None,
    identity: EngineIdentity, limit: SearchLimit, nodes: int | None = None,
) -> PositionEval:
    white_eval = WhiteEval.from_json(ev, turn=board.turn)
    return PositionEval(board.fen(), (EngineLine(white_eval, pv or (), nodes=nodes),),
                        identity, limit)


@dataclass(frozen=True, slots=True)
class PhaseSummary:
    """One side's play in one phase of the game (see :mod:`chessapp.divider`)."""

    accuracy: float | None
    acpl: float | None
    moves: int  # the side's scored moves in this phase

    def to_json(self) -> dict[str, Any]:
        return {"accuracy": None if self.accuracy is None else round(self.accuracy, 1),
                "acpl": self.acpl, "moves": self.moves}


@dataclass(frozen=True, slots=True)
class SideSummary:
    accuracy: float | None
    acpl: float | None
    inaccuracies: int
    mistakes: int
    blunders: int
    #: Accuracy and ACPL per phase; None for a phase in which this side made
    #: no scored move (the game never reached it, or reached it too late).
    phases: dict[Phase, PhaseSummary | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "accuracy": None if self.accuracy is None else round(self.accuracy, 1),
            "acpl": self.acpl,
            "inaccuracies": self.inaccuracies,
            "mistakes": self.mistakes,
            "blunders": self.blunders,
            "phases": {phase.value: (None if (found := self.phases.get(phase)) is None
                                     else found.to_json()) for phase in Phase},
        }


@dataclass(frozen=True, slots=True)
class GameAnalysis:
    """A whole main line, analysed. ``plies[i]`` is ply i+1."""

    headers: dict[str, str]
    start_fen: str
    initial: PositionEval
    plies: tuple[PlyAnalysis, ...]
    engine: EngineIdentity
    limit: SearchLimit
    multipv: int
    #: The adaptive rule's key (chessapp.adaptive) when the budget was spent adaptively;
    #: ``limit`` is then the most any position got. None: every position got ``limit``.
    adaptive: str | None = None

    @property
    def start_color(self) -> chess.Color:
        # The FEN's own field: a variant FEN ("3+3" checks) is not chess.Board's.
        return chess.WHITE if self.start_fen.split()[1] == "w" else chess.BLACK

    def move_weights(self) -> list[tuple[float, float, chess.Color]]:
        """Per scored move (the mating move has none): lila's (accuracy, weight, mover)."""
        scored = [p.eval for p in self.plies if p.scored]
        return move_weights(scored, initial=INITIAL_EVAL, start_color=self.start_color)

    def boards(self) -> list[chess.Board]:
        """The start position and the position after each move, rebuilt from the FENs."""
        return [chess.Board(self.start_fen), *(chess.Board(p.fen) for p in self.plies)]

    def opening_plies(self) -> list[OpeningAtPly | None]:
        """Per position (index 0 = the start): lichess's opening name reached so far."""
        if self.start_fen != chess.STARTING_FEN:
            return [None] * (len(self.plies) + 1)  # lichess names standard games only
        return name_plies(self.boards())

    @property
    def opening(self) -> OpeningAtPly | None:
        """The game's opening (lichess: the deepest named position of its first 40 plies)."""
        named = self.opening_plies()
        return named[-1] if named else None

    @property
    def division(self) -> Division:
        """lichess's Divider over the start position and every position after a move."""
        fens = [self.start_fen, *(p.fen for p in self.plies)]
        return divide([chess.BaseBoard(fen.split()[0]) for fen in fens])

    def summary(self) -> dict[chess.Color, SideSummary]:
        weights = self.move_weights()
        scored = [p for p in self.plies if p.scored]
        division = self.division
        phase = {p.ply: phase_of(division, p.ply) for p in scored}
        out: dict[chess.Color, SideSummary] = {}
        for color in (chess.WHITE, chess.BLACK):
            mine = [p for p in self.plies if p.mover == color]
            moves = [(p, a, w) for p, (a, w, c) in zip(scored, weights, strict=True)
                     if c == color]
            phases: dict[Phase, PhaseSummary | None] = {}
            for part in Phase:
                inside = [(p, a, w) for p, a, w in moves if phase[p.ply] is part]
                phases[part] = None if not inside else PhaseSummary(
                    accuracy=accuracy_of([(a, w) for _, a, w in inside]),
                    acpl=average_centipawn_loss([p.cp_loss for p, _, _ in inside
                                                 if p.cp_loss is not None]),
                    moves=len(inside))
            out[color] = SideSummary(
                accuracy=accuracy_of([(a, w) for _, a, w in moves]),
                acpl=average_centipawn_loss([p.cp_loss for p in mine if p.cp_loss is not None]),
                inaccuracies=sum(p.judgement is Judgement.INACCURACY for p in mine),
                mistakes=sum(p.judgement is Judgement.MISTAKE for p in mine),
                blunders=sum(p.judgement is Judgement.BLUNDER for p in mine),
                phases=phases,
            )
        return out

    def to_json(self) -> dict[str, Any]:
        summary = self.summary()
        opening = self.opening
        return {
            "headers": dict(self.headers),
            "engine": self.engine.to_json(),
            "limit": self.limit.to_json(),
            "multipv": self.multipv,
            "adaptive": self.adaptive,
            "start": {"fen": self.start_fen, "eval": self.initial.eval.to_json(),
                      "nodes": self.initial.nodes},
            "opening": None if opening is None else opening.to_json(),
            "plies": [{**p.to_json(), "book": opening is not None and p.ply <= opening.ply}
                      for p in self.plies],
            "division": self.division.to_json(),
            "summary": {"white": summary[chess.WHITE].to_json(),
                        "black": summary[chess.BLACK].to_json()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GameAnalysis:
        """Rebuild an analysis from :meth:`to_json` output (the CLI's ``--json`` report).

        Judgements, accuracy and losses are recomputed from the stored evals,
        so a report can never disagree with the math in this module.
        """
        limit = SearchLimit.from_json(data["limit"])
        identity = EngineIdentity.from_json(data["engine"])
        board = chess.Board(data["start"]["fen"])
        game = chess.pgn.Game.from_board(board)
        game.headers.update(data.get("headers", {}))
        positions = [_position_from_json(board, data["start"]["eval"], None, identity, limit,
                                         data["start"].get("nodes"))]
        node: chess.pgn.GameNode = game
        for ply in data["plies"]:
            move = chess.Move.from_uci(ply["uci"])
            if not board.is_legal(move):
                raise ValueError(f"ply {ply['ply']}: {ply['uci']} is not legal")
            # The best line for this ply belongs to the position before it.
            before = positions[-1]
            pv = tuple(chess.Move.from_uci(u) for u in ply.get("pv", []))
            others = tuple(
                EngineLine(WhiteEval.from_json(alt["eval"], turn=board.turn),
                           (chess.Move.from_uci(alt["uci"]),))
                for alt in ply.get("alternatives", []))
            if pv or others:
                positions[-1] = PositionEval(
                    before.fen, (EngineLine(before.eval, pv, nodes=before.nodes), *others),
                    identity, limit)
            board.push(move)
            node = node.add_main_variation(move)
            positions.append(_position_from_json(board, ply["eval"], None, identity, limit,
                                                 ply.get("nodes")))
        rebuilt = build_game_analysis(game, positions, multipv=int(data.get("multipv", 1)))
        return dataclasses.replace(rebuilt, adaptive=data.get("adaptive"))


# --- The orchestrator --------------------------------------------------------------


class Evaluator(Protocol):
    """What the analysis needs from an engine (``chessapp.engine.EnginePool`` is one).

    ``evaluate`` must be safe to call from ``workers`` threads at once.
    """

    @property
    def identity(self) -> EngineIdentity: ...

    @property
    def workers(self) -> int: ...

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        ...


class EvalCache(Protocol):
    """Where finished positions are kept (``chessapp.store.Store`` is one)."""

    def get_eval(
        self, fen: str, engine: EngineIdentity, limit: SearchLimit, multipv: int
    ) -> PositionEval | None: ...

    def put_eval(self, result: PositionEval, multipv: int) -> None: ...


#: A game may lose this many positions to engine crashes (or a tenth of its
#: positions, if more) and still be analysed; past that the engine is broken.
MAX_SKIPPED_POSITIONS = 2

#: progress(done, total): positions finished so far, out of all positions.
Progress = Callable[[int, int], None]


def evaluate_positions(
    boards: Sequence[chess.Board],
    evaluator: Evaluator,
    limit: SearchLimit,
    *,
    multipv: int = 1,
    cache: EvalCache | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> list[PositionEval]:
    """Evaluate every position, last first (fishnet's order), spread over the pool.

    Cached positions cost no engine call, and each result is cached as soon
    as it arrives, so an interrupted run loses nothing it finished.
    """
    if not 1 <= multipv <= 5:
        raise ValueError("multipv must be between 1 and 5")
    identity = evaluator.identity
    results: list[PositionEval | None] = [None] * len(boards)
    todo: list[int] = []
    for i, board in enumerate(boards):
        found = terminal_eval(board, identity, limit)
        if found is None and cache is not None:
            found = cache.get_eval(board.fen(), identity, limit, multipv)
        if found is None:
            todo.append(i)
        results[i] = found
    done = len(boards) - len(todo)
    lock = threading.Lock()
    if progress is not None:
        progress(done, len(boards))

    crashes: dict[int, str] = {}

    def work(i: int) -> None:
        nonlocal done
        if cancel is not None and cancel.is_set():
            return
        try:
            result = evaluator.evaluate(boards[i], limit, multipv=multipv)
        except EngineCrashed as exc:
            # The pool already restarted the engine and retried; this position
            # itself kills it. Skip it with a note and analyse the rest.
            log.warning("skipping a position the engine crashes on: %s", boards[i].fen())
            with lock:
                crashes[i] = str(exc)
                if len(crashes) > max(MAX_SKIPPED_POSITIONS, len(boards) // 10):
                    raise
                done += 1
                if progress is not None:
                    progress(done, len(boards))
            return
        if cache is not None:
            cache.put_eval(result, multipv)
        with lock:
            results[i] = result
            done += 1
            if progress is not None:
                progress(done, len(boards))

    todo.reverse()  # last position first, so the engine's hash helps the earlier ones
    if todo:
        with ThreadPoolExecutor(max_workers=max(1, min(evaluator.workers, len(todo)))) as pool:
            for future in [pool.submit(work, i) for i in todo]:
                future.result()
    if cancel is not None and cancel.is_set() and any(
            r is None for i, r in enumerate(results) if i not in crashes):
        raise InterruptedError("analysis cancelled")
    return _fill_skipped(boards, results, crashes, identity, limit)


def _fill_skipped(
    boards: Sequence[chess.Board], results: list[PositionEval | None], crashes: dict[int, str],
    identity: EngineIdentity, limit: SearchLimit,
) -> list[PositionEval]:
    """Give each skipped position its nearest analysed neighbour's eval, marked as skipped."""
    out: list[PositionEval] = []
    for i, result in enumerate(results):
        if result is not None:
            out.append(result)
            continue
        near = next((results[j] for j in sorted(range(len(results)), key=lambda j: abs(j - i))
                     if results[j] is not None), None)
        ev = near.eval if near is not None else WhiteEval(cp=0)
        out.append(PositionEval(boards[i].fen(), (EngineLine(ev, ()),), identity, limit,
                                skipped=crashes.get(i, "not analysed")))
    return out


def build_game_analysis(
    game: chess.pgn.Game, positions: Sequence[PositionEval], *, multipv: int = 1
) -> GameAnalysis:
    """Fold per-position engine results into judged plies (pure: no engine here)."""
    boards = main_line_boards(game)
    if len(positions) != len(boards):
        raise ValueError("one PositionEval per position of the main line is needed")
    moves = list(game.mainline_moves())
    plies: list[PlyAnalysis] = []
    for ply in range(1, len(boards)):
        before_board, after_board = boards[ply - 1], boards[ply]
        move = moves[ply - 1]
        before, after = positions[ply - 1], positions[ply]
        mover = before_board.turn
        note = before.skipped or after.skipped
        best_pv = before.best.pv
        # lila judges the first move from Cp.initial, not from the engine's start eval.
        eval_before = INITIAL_EVAL if ply == 1 else before.eval
        if note:
            verdict = Verdict(None, None, 0.0)
        else:
            verdict = judge(eval_before, after.eval, mover)
            if not is_judged(move, best_pv, after_board) or _keeps_a_forced_mate(
                    verdict, before.lines, move, mover):
                verdict = Verdict(None, None, verdict.win_chance_loss)
        scored = not ends_in_checkmate(after_board)
        win_b, win_a = win_percent(eval_before), win_percent(after.eval)
        if mover == chess.BLACK:
            win_b, win_a = 100 - win_b, 100 - win_a
        plies.append(PlyAnalysis(
            ply=ply,
            san=before_board.san(move),
            uci=move.uci(),
            fen=after_board.fen(),
            mover=mover,
            eval_before=eval_before,
            eval=after.eval,
            best=best_pv[0] if best_pv else None,
            best_san=before_board.san(best_pv[0]) if best_pv else None,
            pv=best_pv,
            pv_san=tuple(san_line(before_board, best_pv)),
            lines_after=after.lines,
            verdict=verdict,
            accuracy=(None if not scored else 100.0 if note
                      else move_accuracy(win_b, win_a)),
            cp_loss=(None if not scored else 0 if note
                     else centipawn_loss(eval_before, after.eval, mover)),
            note=None if note is None else f"not judged: {note}",
            nodes=after.nodes,
            lines_before=before.lines,
            label=label_move(before_board, move, before.lines, chances=winning_chances,
                             recapture=ply > 1 and is_recapture(
                                 before_board, move, moves[ply - 2],
                                 boards[ply - 2].is_capture(moves[ply - 2]))),
        ))
    first = positions[0]
    return GameAnalysis(
        headers={k: v for k, v in game.headers.items()},
        start_fen=boards[0].fen(),
        initial=first,
        plies=tuple(plies),
        engine=first.engine,
        limit=first.limit,
        multipv=multipv,
    )


def _keeps_a_forced_mate(verdict: Verdict, lines: Sequence[EngineLine], move: chess.Move,
                         mover: chess.Color) -> bool:
    """A "lost forced mate" whose move the engine's own lines show still mating.

    lila judges a longer mate as ``MateDelayed``, no error; but when the search
    after the move misses the mate (a node-limited search, lila #18262), lila
    sees "Lost forced checkmate sequence". With multipv ≥ 2 the position before
    may hold the played move's own line: if that line mates, the move is the
    slower mate lichess means not to judge.
    """
    if verdict.mate_sequence is not MateSequence.LOST:
        return False
    own = next((line for line in lines if line.pv and line.pv[0] == move), None)
    mate = None if own is None else own.eval.mate
    return mate is not None and mate != 0 and (mate > 0) == (mover == chess.WHITE)


#: Every judged move's best line holds at least this many plies (or runs to the
#: game's end): lichess shows up to 12 (lila ``Info.LineMaxPlies``), and a
#: node-limited search sometimes stops its PV after one or two moves.
MIN_BEST_LINE_PLIES = 8
#: The budget of each search that continues a short line from its last position.
LINE_EXTENSION_NODES = 50_000
#: At most this many continuation searches per line (each adds at least one ply).
MAX_LINE_EXTENSIONS = 8


def extension_limit(limit: SearchLimit) -> SearchLimit:
    """The continuation searches' budget: small, fixed, and never above the analysis's own."""
    if limit.nodes is not None:
        return SearchLimit(nodes=min(limit.nodes, LINE_EXTENSION_NODES))
    return SearchLimit(nodes=LINE_EXTENSION_NODES)


def extend_best_lines(
    game: chess.pgn.Game,
    positions: Sequence[PositionEval],
    evaluator: Evaluator,
    limit: SearchLimit,
    *,
    cache: EvalCache | None = None,
    min_plies: int = MIN_BEST_LINE_PLIES,
) -> list[PositionEval]:
    """``positions`` with the best line before every judged move continued to ``min_plies``.

    Honest and reproducible: a short line is continued by searching the
    position at its end (:func:`extension_limit`, one PV) and appending the
    engine's own line, again until it is long enough, the game would be over,
    or :data:`MAX_LINE_EXTENSIONS` searches were made. The same position,
    engine and settings give the same searches, so the same line; each
    continuation search is cached like any position. Evals are untouched.
    """
    analysed = build_game_analysis(game, positions)
    boards = main_line_boards(game)
    out = list(positions)
    small = extension_limit(limit)
    for ply in analysed.plies:
        before = positions[ply.ply - 1]
        line = list(before.best.pv)
        if ply.judgement is None or not line or len(line) >= min_plies:
            continue
        end = boards[ply.ply - 1].copy(stack=False)
        legal = True
        for move in line:
            legal = end.is_legal(move)
            if not legal:
                break
            end.push(move)
        if not legal:
            continue  # an illegal engine line is cut on export; nothing to continue
        for _ in range(MAX_LINE_EXTENSIONS):
            if len(line) >= min_plies or end.is_game_over():
                break
            found = cache.get_eval(end.fen(), evaluator.identity, small, 1) if cache else None
            if found is None:
                found = evaluator.evaluate(end, small, multipv=1)
                if cache is not None:
                    cache.put_eval(found, 1)
            more = [m for m in found.best.pv]
            if not more:
                break
            for move in more:
                if not end.is_legal(move):
                    break
                line.append(move)
                end.push(move)
        best = before.best
        out[ply.ply - 1] = PositionEval(
            before.fen, (EngineLine(best.eval, tuple(line), best.depth, best.nodes),
                         *before.lines[1:]), before.engine, before.limit, before.skipped)
    return out


def analyse_game(
    game: chess.pgn.Game,
    evaluator: Evaluator,
    limit: SearchLimit,
    *,
    multipv: int = 1,
    cache: EvalCache | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    best_line_plies: int = MIN_BEST_LINE_PLIES,
) -> GameAnalysis:
    """Analyse every position of the main line, judge every move, and give each
    judged move a best line of at least ``best_line_plies`` (0: as the search left it)."""
    boards = main_line_boards(game)
    positions = evaluate_positions(boards, evaluator, limit, multipv=multipv, cache=cache,
                                   progress=progress, cancel=cancel)
    if best_line_plies > 0:
        positions = extend_best_lines(game, positions, evaluator, limit, cache=cache,
                                      min_plies=best_line_plies)
    return build_game_analysis(game, positions, multipv=multipv)
