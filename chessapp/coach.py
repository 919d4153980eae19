"""Why a judged move was bad, in one or two sentences that each stand on a checked claim.

:func:`explain_judged_move` takes the position before a move, the move played, the
engine's best line from that position and the engine's line after the move (the
refutation). It checks a fixed set of claims on those lines with python-chess, the
tagger (:mod:`chessapp.motifs`) and static exchange (:mod:`chessapp.see`), records
every claim with its figures and whether it held, and builds sentences only from
claims that held:

* the refutation, first claim that holds of: "walks into mate in two: Qh7+ Kf8 Qh8#",
  "leaves the knight on f6 hanging: Qxf6", "allows Nc7+: Nc7+ forks the king and the
  rook on a8", or the material it loses;
* the missed chance, first claim that holds of: "missed mate in two: ...", "missed
  Bxf7+: ...", or the material the best line wins.

When no claim holds, the text is only what the numbers say (the caller's lichess
comment, such as "(0.30 → -1.20) Mistake. Nf3 was best."). Pure: no engine here, the
caller passes the lines it already searched.
"""

from __future__ import annotations

import enum
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import chess

from chessapp.analysis import GameAnalysis
from chessapp.errors import BadInput
from chessapp.explain import SENTENCES
from chessapp.motifs import Finding, Line, Motif, find_motifs, material, play_line
from chessapp.see import exchange, is_hanging

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}

#: The motifs worth a sentence about a judged move, most telling first. Mates have their
#: own claims; the rest (castling, advancedPawn, the wing attacks ...) describe a line
#: but do not say what went wrong.
TELLING: tuple[Motif, ...] = (
    Motif.FORK, Motif.SKEWER, Motif.PIN, Motif.DOUBLE_CHECK, Motif.DISCOVERED_ATTACK,
    Motif.TRAPPED_PIECE, Motif.HANGING_PIECE, Motif.CAPTURING_DEFENDER, Motif.DEFLECTION,
    Motif.ATTRACTION, Motif.UNDER_PROMOTION, Motif.PROMOTION,
)
#: A line must change the balance by this many pawns before "wins/loses material" is said:
#: the same threshold as the tagger's sacrifice (lichess-puzzler's ``sacrifice``).
MATERIAL_PAWNS = 2


class ClaimKind(enum.Enum):
    """The closed set of claims about a judged move."""

    ALLOWS_MATE = "allows_mate"
    ALLOWS_MOTIF = "allows_motif"
    LEAVES_HANGING = "leaves_hanging"
    LOSES_MATERIAL = "loses_material"
    MISSED_MATE = "missed_mate"
    MISSED_MOTIF = "missed_motif"
    MISSED_MATERIAL = "missed_material"


@dataclass(frozen=True)
class CheckedClaim:
    """One claim: what was checked, its figures, whether it held, and its sentence (empty
    when it did not hold, so that no caller can show it by mistake)."""

    kind: ClaimKind
    figures: dict[str, Any]
    held: bool
    sentence: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "figures": self.figures, "held": self.held,
                "sentence": self.sentence}


@dataclass(frozen=True)
class JudgedExplanation:
    """The text, the motifs of the refutation, the motifs of the missed best line, and
    every claim checked."""

    text: str
    motifs: tuple[Motif, ...]
    missed_motifs: tuple[Motif, ...]
    claims: tuple[CheckedClaim, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "motifs": [m.value for m in self.motifs],
                "missed_motifs": [m.value for m in self.missed_motifs],
                "claims": [c.to_json() for c in self.claims]}


def _san(line: Line, upto: int | None = None) -> str:
    return " ".join(p.san for p in line.plies[:upto])


def _is_quiet(board: chess.Board) -> bool:
    """No capture for the side to move wins material by static exchange: the balance on
    the board is not about to change at once."""
    for move in board.legal_moves:
        if board.is_capture(move) and exchange(board, move) > 0:
            return False
    return True


def _mate_claim(kind: ClaimKind, line: Line | None, findings: Sequence[Finding],
                lead: str) -> CheckedClaim:
    mate = next((f for f in findings if f.motif.value.startswith("mateIn")), None)
    if line is None or mate is None:
        return CheckedClaim(kind, {"mate_in": None}, False, "")
    moves = (len(line.plies) + 1) // 2
    words = _NUMBER_WORDS.get(moves, str(moves))
    return CheckedClaim(kind, {"mate_in": moves, "line": _san(line)}, True,
                        f"{lead} mate in {words}: {_san(line)}.")


def _motif_claim(kind: ClaimKind, line: Line | None, findings: Sequence[Finding],
                 lead: str) -> CheckedClaim:
    telling = [f for motif in TELLING for f in findings if f.motif is motif]
    if line is None or not telling:
        return CheckedClaim(kind, {"motif": None}, False, "")
    found = telling[0]
    sentence = SENTENCES[found.motif](line, found)
    shown = _san(line, found.ply + 1 if found.motif is not Motif.SKEWER else found.ply + 3)
    return CheckedClaim(kind, {"motif": found.motif.value, "ply": found.ply,
                               "squares": [chess.square_name(s) for s in found.squares]},
                        True, f"{lead} {shown}: {sentence}")


def _material_claim(kind: ClaimKind, line: Line | None, mover: chess.Color, start: int,
                    lead: str) -> CheckedClaim:
    """The mover's balance at the end of ``line`` against ``start`` (the balance before the
    judged move); it holds only if the change is at least :data:`MATERIAL_PAWNS` the
    claimed way and the end position is quiet, so the figure is not mid-exchange."""
    if line is None or not line.plies:
        return CheckedClaim(kind, {"pawns": None}, False, "")
    change = material(line.end, mover) - start
    quiet = _is_quiet(line.end)
    gain = change if kind is ClaimKind.MISSED_MATERIAL else -change
    held = quiet and gain >= MATERIAL_PAWNS
    figures = {"pawns": gain, "line": _san(line), "quiet_at_end": quiet}
    what = "wins" if kind is ClaimKind.MISSED_MATERIAL else "loses"
    sentence = f"{lead} {what} {gain} pawns of material by the end of {_san(line)}."
    return CheckedClaim(kind, figures, held, sentence if held else "")


def _hanging_claim(played_san: str, line: Line | None) -> CheckedClaim:
    kind = ClaimKind.LEAVES_HANGING
    if line is None or not line.plies:
        return CheckedClaim(kind, {"square": None}, False, "")
    first = line.plies[0]
    victim = first.captured
    square = first.move.to_square
    if victim is None or victim == chess.PAWN or first.before.is_en_passant(first.move):
        return CheckedClaim(kind, {"square": None}, False, "")
    hanging = is_hanging(first.before, square)
    wins = exchange(first.before, first.move)
    held = hanging and wins > 0
    piece = chess.piece_name(victim)
    return CheckedClaim(kind, {"square": chess.square_name(square), "piece": piece,
                               "capture": first.san, "hanging": hanging, "see_cp": wins},
                        held, f"{played_san} leaves the {piece} on {chess.square_name(square)} "
                              f"hanging: {first.san}." if held else "")


def _play(board: chess.Board, moves: Sequence[chess.Move | str], what: str) -> Line | None:
    if not moves:
        return None
    try:
        return play_line(board, moves)
    except BadInput as exc:
        raise BadInput(f"{what}: {exc}") from None


def explain_judged_move(board_before: chess.Board, played_move: chess.Move | str,
                        best_line: Sequence[chess.Move | str],
                        refutation_line: Sequence[chess.Move | str], *,
                        numbers: str = "") -> JudgedExplanation:
    """Explain ``played_move`` from ``board_before`` with the engine's two lines.

    ``best_line`` starts from ``board_before``; ``refutation_line`` from the position
    after the move played. ``numbers`` is what to say when no claim holds (the lichess
    comment). At most one refutation sentence and one missed-chance sentence are given,
    each from the first claim of its group that held. Raises :class:`BadInput` if a move
    is not legal where it is played.
    """
    played = _play(board_before, [played_move], "the move played")
    assert played is not None
    move = played.plies[0]
    mover = board_before.turn
    start = material(board_before, mover)
    refutation = _play(move.after, refutation_line, "the refutation")
    best = _play(board_before, best_line, "the best line")
    if best is not None and best.plies[0].move == move.move:
        best = None  # the move played was the engine's choice: nothing was missed
    ref_findings = find_motifs(refutation) if refutation is not None else ()
    best_findings = find_motifs(best) if best is not None else ()

    refuting = (
        _mate_claim(ClaimKind.ALLOWS_MATE, refutation, ref_findings, f"{move.san} walks into"),
        _hanging_claim(move.san, refutation),
        _motif_claim(ClaimKind.ALLOWS_MOTIF, refutation, ref_findings, f"{move.san} allows"),
        _material_claim(ClaimKind.LOSES_MATERIAL, refutation, mover, start,
                        f"{move.san}"),
    )
    missing = (
        _mate_claim(ClaimKind.MISSED_MATE, best, best_findings, "Missed"),
        _motif_claim(ClaimKind.MISSED_MOTIF, best, best_findings, "Missed"),
        _material_claim(ClaimKind.MISSED_MATERIAL, best, mover, start,
                        f"Missed {best.plies[0].san}, which" if best is not None else ""),
    )
    sentences: list[str] = []
    for group in (refuting, missing):
        first = next((c for c in group if c.held), None)
        if first is not None:
            sentences.append(first.sentence)
    text = " ".join(sentences) if sentences else numbers
    return JudgedExplanation(
        text,
        tuple(f.motif for f in ref_findings),
        tuple(f.motif for f in best_findings),
        refuting + missing,
    )


def explain_analysis(analysis: GameAnalysis) -> dict[int, JudgedExplanation]:
    """An explanation for every judged move of ``analysis``, by ply.

    It reuses the lines the analysis already searched (no engine here): the best
    line from the position before the move, and the engine's line from the position
    after it (the refutation). When no claim holds, the text is the lichess comment.
    """
    out: dict[int, JudgedExplanation] = {}
    before = chess.Board(analysis.start_fen)
    for p in analysis.plies:
        move = chess.Move.from_uci(p.uci)
        if p.judgement is not None:
            refutation = p.lines_after[0].pv if p.lines_after else ()
            try:
                out[p.ply] = explain_judged_move(before, move, p.pv, refutation,
                                                 numbers=p.comment(with_eval=True))
            except BadInput:
                # A line that no longer fits the board (a hand-edited report): the numbers only.
                out[p.ply] = JudgedExplanation(p.comment(with_eval=True), (), ())
        before.push(move)
    return out


def report_json(analysis: GameAnalysis) -> dict[str, Any]:
    """One game of the JSON report: the analysis, and an explanation of every judged move."""
    data = analysis.to_json()
    for ply, explanation in zip(data["plies"], explanation_json(analysis), strict=True):
        ply["explanation"] = explanation
    return data


def explanation_json(analysis: GameAnalysis) -> list[dict[str, Any] | None]:
    """Per ply (in order): the explanation's JSON for a judged move, else ``None``."""
    found = explain_analysis(analysis)
    return [None if p.ply not in found else found[p.ply].to_json() for p in analysis.plies]


_TEXTS: OrderedDict[int, tuple[GameAnalysis, dict[int, str]]] = OrderedDict()
_TEXTS_LOCK = threading.Lock()
#: Explanations of this many analyses are remembered (a page rebuilds its replay on every step).
_TEXTS_KEPT = 64


def explanation_texts(analysis: GameAnalysis) -> dict[int, str]:
    """Ply -> explanation text of the judged moves, remembered per analysis object."""
    key = id(analysis)
    with _TEXTS_LOCK:
        found = _TEXTS.get(key)
        if found is not None and found[0] is analysis:  # the same object, not a reused id
            _TEXTS.move_to_end(key)
            return found[1]
    texts = {ply: e.text for ply, e in explain_analysis(analysis).items()}
    with _TEXTS_LOCK:
        _TEXTS[key] = (analysis, texts)
        while len(_TEXTS) > _TEXTS_KEPT:
            _TEXTS.popitem(last=False)
    return texts
