"""``python -m chessapp explain``: the motifs of a line, and plain English built from them.

The explanation is pure: :func:`explain_line` plays the line, asks
:mod:`chessapp.motifs` what it shows, and turns each :class:`~chessapp.motifs.Finding`
into one sentence that names only what the detector checked (the move, the pieces
and the squares it rests on). Nothing is guessed: a motif that was not found gets no
sentence, and a line with no motif says just that.

The command (the hook in :mod:`chessapp.cli` only registers it):

* ``explain --fen FEN --line UCI [UCI ...] [--json]`` explains one line;
* ``explain --batch [--json]`` reads JSON lines ``{"fen": ..., "line": [...]}`` on
  standard input and writes one result per input line, in order. Blank lines are
  skipped. A bad input line (bad JSON, bad FEN, an illegal move) gets
  ``{"error": "..."}`` in its place on standard output and one line on standard
  error, the rest go on, and the exit code is then 2. Without ``--json`` each result
  is one line too: the motifs (comma-separated, ``-`` for none), a tab, the text; a
  bad line gives ``error``, a tab, the reason.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import chess

from chessapp import games
from chessapp.errors import BadInput
from chessapp.motifs import Finding, Line, Motif, find_motifs, material, play_line

#: The longest line explained, in plies: a tactic is short, and the tagger's cost grows
#: with the line (lichess's longest puzzles are about 20 plies).
MAX_LINE_PLIES = 200
#: The longest JSON line read in batch mode, in characters: a FEN and 200 UCI moves fit
#: in about 1,300.
MAX_BATCH_LINE_BYTES = 64 * 1024

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
_ORDINALS = {6: "7th", 7: "8th", 0: "8th", 1: "7th"}


@dataclass(frozen=True)
class Explanation:
    """The motifs of a line (lichess theme names, in tagger order) and the text."""

    motifs: tuple[Motif, ...]
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"motifs": [m.value for m in self.motifs], "text": self.text}


# --- sentences ---------------------------------------------------------------------------


def _piece(board: chess.Board, square: chess.Square) -> str:
    piece = board.piece_at(square)
    assert piece is not None, chess.square_name(square)
    return f"the {chess.piece_name(piece.piece_type)} on {chess.square_name(square)}"


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _line_san(line: Line, start: int = 0) -> str:
    return " ".join(p.san for p in line.plies[start:])


def _mate(line: Line, found: Finding) -> str:
    moves = (len(line.plies) + 1) // 2
    if moves == 1:
        return f"{line.plies[-1].san} is mate."
    return f"Mate in {_NUMBER_WORDS.get(moves, str(moves))}: {_line_san(line)}."


def _smothered(line: Line, found: Finding) -> str:
    king = found.squares[-1]
    return (f"It is a smothered mate: the king on {chess.square_name(king)} is boxed in by "
            "its own pieces.")


def _back_rank(line: Line, found: Finding) -> str:
    king = found.squares[-1]
    return (f"It is a back-rank mate: the king on {chess.square_name(king)} is walled in "
            "by its own pieces.")


def _double_check(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    checkers = [_piece(ply.after, sq) for sq in found.squares]
    return f"{ply.san} is a double check, by {_and(checkers)}."


def _discovered(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    unmasked, target = found.squares[0], found.squares[1]
    if ply.after.is_check() and ply.move.from_square == target:
        return f"{ply.san} uncovers a check by {_piece(ply.after, unmasked)}."
    return (f"{ply.san} opens the line of {_piece(ply.after, unmasked)}, which then takes on "
            f"{chess.square_name(target)}.")


def _fork(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    # The most valuable target first: "forks the king and the rook on a8".
    kinds = sorted(((ply.after.piece_type_at(sq) or chess.PAWN, sq) for sq in found.squares[1:]),
                   key=lambda item: -item[0])
    targets = [f"the {chess.piece_name(kind)}" if kind == chess.KING
               else f"the {chess.piece_name(kind)} on {chess.square_name(sq)}"
               for kind, sq in kinds]
    return f"{ply.san} forks {_and(targets)}."


def _pin(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    board = ply.after
    pinned = next(sq for sq in found.squares if board.color_at(sq) == (not line.attacker))
    return f"After {ply.san}, {_piece(board, pinned)} is pinned to its king."


def _skewer(line: Line, found: Finding) -> str:
    slider, front, target = found.squares
    capture = next(p for p in line.plies if p.move.from_square == slider
                   and p.move.to_square == target and p.index % 2 == 0)
    reply = line.plies[capture.index - 1]
    piece = chess.piece_name(reply.mover)
    return (f"The {piece} on {chess.square_name(front)} steps off the line, and "
            f"{capture.san} wins {_piece(capture.before, target)} behind it.")


def _hanging(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    return f"{ply.san} takes {_piece(ply.before, ply.move.to_square)}, which nothing defends."


def _trapped(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    reply = line.plies[found.ply - 1]
    square = found.squares[1]
    return (f"{_piece(reply.before, square).capitalize()} has no safe square, and {ply.san} "
            "wins it.")


def _capturing_defender(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    removed, square = found.squares
    return (f"{ply.san} removes {_piece(ply.before, removed)}, the defender of "
            f"{chess.square_name(square)}.")


def _deflection(line: Line, found: Finding) -> str:
    lure = line.plies[found.ply]
    reply = line.plies[found.ply + 1]
    guard, square = found.squares
    return (f"{lure.san} lures {_piece(reply.before, guard)} away from "
            f"{chess.square_name(square)}.")


def _attraction(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    reply = line.plies[found.ply + 1]
    return (f"{ply.san} draws the {chess.piece_name(reply.mover)} to "
            f"{chess.square_name(found.squares[0])}.")


def _sacrifice(line: Line, found: Finding) -> str:
    # The same balance the detector checked: the first attacker move, after the first,
    # at which the attacker is two or more pawns down on the start.
    start = material(line.start, line.attacker)
    down = next(p for p in line.attacker_plies()[1:]
                if material(p.after, line.attacker) - start <= -2)
    given = start - material(down.after, line.attacker)
    side = "White" if line.attacker == chess.WHITE else "Black"
    offer = line.plies[found.ply]
    return (f"{offer.san} is a sacrifice: after {down.san}, {side} has given up {given} "
            "pawns of material.")


def _exposed(line: Line, found: Finding) -> str:
    return (f"The king on {chess.square_name(found.squares[0])} has no pawn shelter, and "
            f"{line.plies[found.ply].san} checks it.")


def _promotion(line: Line, found: Finding) -> str:
    return f"{line.plies[found.ply].san} promotes a pawn."


def _under(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    assert ply.move.promotion is not None
    return f"{ply.san} promotes to a {chess.piece_name(ply.move.promotion)}, not a queen."


def _en_passant(line: Line, found: Finding) -> str:
    return f"{line.plies[found.ply].san} takes en passant."


def _castling(line: Line, found: Finding) -> str:
    return f"{line.plies[found.ply].san} castles."


def _advanced(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    return (f"{ply.san} brings a pawn to the "
            f"{_ORDINALS[chess.square_rank(ply.move.to_square)]} rank.")


def _f2f7(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    king = "e1" if found.squares[0] == chess.F2 else "e8"
    return (f"{ply.san} strikes at {chess.square_name(found.squares[0])}, beside the king "
            f"still on {king}.")


def _x_ray(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    return (f"{ply.san} takes on {chess.square_name(found.squares[1])} through the square "
            "the recapturing piece left: an x-ray.")


def _intermezzo(line: Line, found: Finding) -> str:
    ply = line.plies[found.ply]
    return (f"{ply.san} comes first, and the recapture on {chess.square_name(found.squares[0])} "
            "waits.")


def _wing(side: str) -> Callable[[Line, Finding], str]:
    def sentence(line: Line, found: Finding) -> str:
        return (f"The checks and captures are aimed at the king on "
                f"{chess.square_name(found.squares[0])}, on the {side}.")
    return sentence


#: One sentence builder per motif; ``mate`` is said by the ``mateInN`` sentence.
SENTENCES: dict[Motif, Callable[[Line, Finding], str]] = {
    Motif.MATE_IN_1: _mate, Motif.MATE_IN_2: _mate, Motif.MATE_IN_3: _mate,
    Motif.MATE_IN_4: _mate, Motif.MATE_IN_5: _mate, Motif.SMOTHERED_MATE: _smothered,
    Motif.BACK_RANK_MATE: _back_rank, Motif.DOUBLE_CHECK: _double_check,
    Motif.DISCOVERED_ATTACK: _discovered, Motif.FORK: _fork, Motif.PIN: _pin,
    Motif.SKEWER: _skewer, Motif.HANGING_PIECE: _hanging, Motif.TRAPPED_PIECE: _trapped,
    Motif.CAPTURING_DEFENDER: _capturing_defender, Motif.DEFLECTION: _deflection,
    Motif.ATTRACTION: _attraction, Motif.SACRIFICE: _sacrifice, Motif.EXPOSED_KING: _exposed,
    Motif.PROMOTION: _promotion, Motif.UNDER_PROMOTION: _under,
    Motif.EN_PASSANT: _en_passant, Motif.CASTLING: _castling, Motif.ADVANCED_PAWN: _advanced,
    Motif.ATTACKING_F2_F7: _f2f7, Motif.X_RAY_ATTACK: _x_ray, Motif.INTERMEZZO: _intermezzo,
    Motif.KINGSIDE_ATTACK: _wing("kingside"),
    Motif.QUEENSIDE_ATTACK: _wing("queenside"),
}


_MATES = frozenset({Motif.MATE, Motif.MATE_IN_1, Motif.MATE_IN_2, Motif.MATE_IN_3,
                    Motif.MATE_IN_4, Motif.MATE_IN_5, Motif.SMOTHERED_MATE, Motif.BACK_RANK_MATE})


def describe(line: Line, findings: Sequence[Finding]) -> str:
    """The sentences for ``findings`` in the order of the line (the ply each rests on), the
    mate last; promotion is left unsaid when the underpromotion sentence says more, and a
    pawn's arrival on the 8th rank when its promotion is said."""
    motifs = {f.motif for f in findings}
    sentences = []
    ordered = sorted(findings, key=lambda f: (f.motif in _MATES, f.ply))
    for found in ordered:
        if found.motif is Motif.MATE:
            continue
        if found.motif is Motif.PROMOTION and Motif.UNDER_PROMOTION in motifs:
            continue
        if found.motif is Motif.ADVANCED_PAWN and any(
                f.motif is Motif.PROMOTION and f.ply == found.ply for f in findings):
            continue  # the promotion sentence already says the pawn arrived
        sentences.append(SENTENCES[found.motif](line, found))
    if not sentences:
        if not line.plies:
            return "No moves to explain."
        return f"No tactical motif found in {_line_san(line)}."
    return " ".join(sentences)


def explain_line(board: chess.Board, moves: Sequence[chess.Move | str]) -> Explanation:
    """The motifs and the plain-English explanation of ``moves`` played from ``board``.
    Raises :class:`BadInput` for an illegal or malformed move, or a line that is too long."""
    if len(moves) > MAX_LINE_PLIES:
        raise BadInput(f"the line has {len(moves)} moves; the limit is {MAX_LINE_PLIES}")
    line = play_line(board, moves)
    findings = find_motifs(line)
    return Explanation(tuple(f.motif for f in findings), describe(line, findings))


# --- the command ---------------------------------------------------------------------------


def add_explain_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``explain`` on the CLI's subparsers."""
    ex = sub.add_parser("explain", parents=[common],
                        help="tag a line of moves with tactical motifs and explain them")
    source = ex.add_mutually_exclusive_group(required=True)
    source.add_argument("--fen", help="the position the line starts from")
    source.add_argument("--batch", action="store_true",
                        help='read JSON lines {"fen": ..., "line": [...]} on standard input')
    ex.add_argument("--line", nargs="+", metavar="UCI", help="the moves, in UCI (with --fen)")
    ex.add_argument("--json", action="store_true",
                    help='print {"motifs": [...], "text": "..."} (one per line with --batch)')


def run_explain(args: argparse.Namespace, *, stdin: TextIO | None = None,
                stdout: TextIO | None = None,
                fail: Callable[[str], None] | None = None) -> int:
    """Run ``explain``; returns the exit code (0, or 2 for bad input). Errors of the single
    form propagate as :class:`BadInput` for the CLI to report."""
    out = stdout or sys.stdout
    if not args.batch:
        if not args.line:
            raise BadInput("--line is required with --fen")
        result = explain_line(games.board_from_fen(args.fen), args.line)
        _write(out, result, as_json=args.json)
        return 0
    if args.line:
        raise BadInput("--line goes with --fen, not --batch")
    report = fail or (lambda message: print(f"chessapp: {message}", file=sys.stderr))
    # Undecodable bytes become U+FFFD (then a JSON error for that line), never a traceback.
    stream = stdin or io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    bad = 0
    for number, raw in enumerate(_bounded_lines(stream), start=1):
        if raw is not None and not raw.strip():
            continue
        try:
            if raw is None:
                raise BadInput(f"the JSON line is longer than {MAX_BATCH_LINE_BYTES:,} "
                               "characters")
            result = explain_line(*_parse_batch_line(raw))
        except BadInput as exc:
            bad += 1
            message = "".join(ch if ch.isprintable() else " " for ch in str(exc))
            report(f"input line {number}: {message}")
            if args.json:
                out.write(json.dumps({"error": message}, ensure_ascii=False) + "\n")
            else:
                out.write(f"error\t{message}\n")
        else:
            if args.json:
                _write(out, result, as_json=True)
            else:  # one line per input: the motifs, a tab, the text
                motifs = ",".join(m.value for m in result.motifs) or "-"
                out.write(f"{motifs}\t{result.text}\n")
        out.flush()
    return 2 if bad else 0


def _write(out: TextIO, result: Explanation, *, as_json: bool) -> None:
    if as_json:
        out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    else:
        motifs = ", ".join(m.value for m in result.motifs) or "none"
        out.write(f"{result.text}\nmotifs: {motifs}\n")


def _bounded_lines(stream: TextIO) -> Iterator[str | None]:
    """The lines of ``stream``, each read at most :data:`MAX_BATCH_LINE_BYTES` characters at
    a time; a longer line is skipped to its end without being held, and yields None."""
    while True:
        raw = stream.readline(MAX_BATCH_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_BATCH_LINE_BYTES and not raw.endswith("\n"):
            while raw and not raw.endswith("\n"):
                raw = stream.readline(MAX_BATCH_LINE_BYTES)
            yield None
            continue
        yield raw


def _parse_batch_line(raw: str) -> tuple[chess.Board, list[str]]:
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadInput(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(item, dict):
        raise BadInput('expected an object {"fen": ..., "line": [...]}')
    fen, moves = item.get("fen"), item.get("line")
    if not isinstance(fen, str):
        raise BadInput('"fen" must be a string')
    if not isinstance(moves, list) or not all(isinstance(m, str) for m in moves):
        raise BadInput('"line" must be a list of UCI strings')
    return games.board_from_fen(fen), moves
