"""Annotated PGN out: evals, judgements, best lines, narration and shapes.

Nothing here builds a second game tree. :func:`export_pgn` copies the game
(python-chess's own ``GameBuilder`` replays it), folds the flat per-ply
analysis into the copy's comments, NAGs and variations, and writes it with
python-chess's ``StringExporter``, subclassed only to escape tag values.

Choices, following lichess's PGN export where it has one:

* ``[%eval 0.35]`` / ``[%eval #-3]``: White's view, no ``,depth`` suffix,
  on the node *after* each move. A position that is already checkmate gets
  no ``[%eval]`` (lichess writes none there either); the result says it.
* NAGs ``$6``/``$2``/``$4`` for inaccuracy/mistake/blunder are added after
  the user's own NAGs, which all stay (PGN allows several on a move); the tag
  ``[AnalysisNags]`` lists the ones the analysis added, so a re-export removes
  exactly those. ``$1``/``$3`` for only moves and brilliant moves only with
  ``ExportOptions.label_nags``.
* The comment is lichess's ``(0.30 → -1.20) Mistake. Nf3 was best.``, and
  lichess's literate ``C01 French Defense: Exchange Variation`` marks the ply
  where the opening's name was reached; ``[ECO]`` and ``[Opening]`` are added
  when the game has neither (a user's own tags are never overwritten).
* The engine's line (at most :data:`BEST_LINE_PLIES` plies) becomes a
  sibling variation of a judged move, unless a variation starting with the
  best move is already there (a user's exploration of it).
* Comments never break PGN: braces inside them become parentheses and all
  whitespace (newlines included) collapses to single spaces, so no comment
  line can start with ``%`` or ``[`` and no ``}`` ends a comment early.
* ``[AnalysisNodes "total=N searched=P min=A max=B"]`` sums the nodes the
  engine searched for the evals used (:func:`nodes_tag`); an adaptive
  analysis also gets ``[AnalysisAdaptive "<rule key>"]`` (chessapp.adaptive).
* Tag values escape ``\\`` and ``"`` with a backslash (the PGN standard,
  section 7); python-chess 1.11 writes them raw. :mod:`chessapp.games`
  unescapes them on the way in.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import chess
import chess.pgn

from chessapp.analysis import GameAnalysis, parse_advice, strip_advice
from chessapp.evals import WhiteEval
from chessapp.shapes import Shape

log = logging.getLogger(__name__)

__all__ = ["BEST_LINE_PLIES", "ExportOptions", "clean_comment", "export_pgn", "filename_for",
           "nodes_tag", "read_evals"]

#: lichess shows at most this many plies of the engine's line under a judged move.
BEST_LINE_PLIES = 12
_SEVEN_TAG_ROSTER = ("Event", "Site", "Date", "Round", "White", "Black", "Result")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to write, like lichess's export flags. Clocks are always kept as they are."""

    evals: bool = True  # [%eval] after every analysed move
    judgements: bool = True  # NAGs and the "(0.30 → -1.20) Mistake. Nf3 was best." comment
    variations: bool = True  # the engine's best line under each judged move
    explored: bool = True  # variations already in the game (the user's explorations)
    narration: bool = False  # the story's narration as comments
    shapes: bool = False  # [%cal]/[%csl] arrows and circles
    label_nags: bool = False  # $1 only move / $3 brilliant (chessapp.labels); lichess writes none


def clean_comment(text: str) -> str:
    """A comment that cannot break PGN: braces become parentheses, whitespace one space.

    Control characters become spaces too (a reader may take them for binary data).
    """
    return " ".join(_CONTROL.sub(" ", text).replace("{", "(").replace("}", ")").split())


def _escape_tag(value: str) -> str:
    value = _CONTROL.sub(" ", value)
    return value.replace("\\", "\\\\").replace('"', '\\"')


class _Exporter(chess.pgn.StringExporter):
    """python-chess's exporter, with tag values escaped as the PGN standard asks."""

    def visit_header(self, tagname: str, tagvalue: str) -> None:
        super().visit_header(tagname, _escape_tag(tagvalue))


def _copy(game: chess.pgn.Game) -> chess.pgn.Game:
    """An independent copy of the tree (python-chess's builder replaying the game)."""
    return game.accept(chess.pgn.GameBuilder())


def _all_nodes(game: chess.pgn.Game) -> list[chess.pgn.GameNode]:
    nodes: list[chess.pgn.GameNode] = []
    stack: list[chess.pgn.GameNode] = [game]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.variations)
    return nodes


def _append(node: chess.pgn.GameNode, text: str) -> None:
    text = clean_comment(text)
    if text:
        node.comment = f"{node.comment} {text}" if node.comment else text


def _check_analysis(game: chess.pgn.Game, analysis: GameAnalysis) -> None:
    moves = [move.uci() for move in game.mainline_moves()]
    analysed = [ply.uci for ply in analysis.plies]
    if moves != analysed:
        first = next((i for i, (a, b) in enumerate(zip(moves, analysed, strict=False)) if a != b),
                     min(len(moves), len(analysed)))
        raise ValueError(f"the analysis does not belong to this game: they differ at ply "
                         f"{first + 1} ({len(moves)} moves, {len(analysed)} analysed)")
    if game.board().fen() != analysis.start_fen:
        raise ValueError("the analysis starts from another position than the game")


class _AnalysisNag(int):
    """A NAG the analysis adds beside the user's own (PGN allows several on a move).

    python-chess writes a move's NAGs sorted; this one sorts after every plain
    (user's) NAG, so the user's glyph always comes first: ``24. Rxd4 $3 $6``.
    """

    def __lt__(self, other: object) -> bool:
        return isinstance(other, _AnalysisNag) and int(self) < int(other)

    def __gt__(self, other: object) -> bool:
        return not isinstance(other, _AnalysisNag) or int(self) > int(other)


#: Which NAGs the analysis added, as "ply:nag" pairs, so a re-export removes
#: exactly those and never a user's: [AnalysisNags "3:6 6:4 23:1"].
ANALYSIS_NAGS_TAG = "AnalysisNags"
_ADVICE_NAGS = frozenset({chess.pgn.NAG_DUBIOUS_MOVE, chess.pgn.NAG_MISTAKE,
                          chess.pgn.NAG_BLUNDER})


def _earlier_analysis_nags(headers: chess.pgn.Headers) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for pair in headers.get(ANALYSIS_NAGS_TAG, "").split():
        ply, _, nag = pair.partition(":")
        if ply.isdigit() and nag.isdigit():
            found.setdefault(int(ply), set()).add(int(nag))
    return found


def _is_bare_line(node: chess.pgn.GameNode) -> bool:
    """A line with no word, glyph or side line in it: how the analysis writes engine lines."""
    return (not node.comment and not node.starting_comment and not node.nags
            and len(node.variations) <= 1
            and all(_is_bare_line(child) for child in node.variations))


def _drop_old_advice(node: chess.pgn.GameNode, earlier_nags: set[int] | None) -> None:
    """Remove the evals, judgement comments and NAGs of an earlier analysis.

    A new analysis supersedes them, and re-exporting an exported game must
    never double them. The NAGs to drop are the ones our [AnalysisNags] tag
    lists; a file without it (lichess's own export) loses the judgement NAG its
    advice comment stands for (either of $6/$2/$4 for the two mate sentences,
    which do not name their grade). Every other NAG is the user's and stays, and
    so is every side line but the bare engine line the old advice named.
    """
    node.set_eval(None)
    advice = parse_advice(node.comment)
    node.comment = strip_advice(node.comment)
    parent = node.parent
    if advice is not None and advice.best_san and parent is not None:
        # the engine line the earlier advice named ("Nf3 was best."), if left as it wrote it
        for line in parent.variations[1:]:
            if line.san() == advice.best_san and _is_bare_line(line):
                parent.remove_variation(line)
    if earlier_nags is not None:
        node.nags -= earlier_nags
    elif advice is not None:
        node.nags -= ({advice.judgement.nag} if advice.judgement is not None else _ADVICE_NAGS)


def _add_nag(node: chess.pgn.GameNode, nag: int, added: list[str], ply: int) -> None:
    if nag not in node.nags:  # the user's own glyph already says it: keep theirs
        node.nags.add(_AnalysisNag(nag))
        added.append(f"{ply}:{nag}")


def _fold_analysis(nodes: Sequence[chess.pgn.GameNode], analysis: GameAnalysis,
                   options: ExportOptions, headers: chess.pgn.Headers) -> list[str]:
    """Fold the analysis in; returns the NAGs it added, as "ply:nag" pairs."""
    board = nodes[0].board()
    earlier = _earlier_analysis_nags(headers) if ANALYSIS_NAGS_TAG in headers else None
    headers.pop(ANALYSIS_NAGS_TAG, None)
    added: list[str] = []
    for ply in analysis.plies:
        node, parent = nodes[ply.ply], nodes[ply.ply - 1]
        _drop_old_advice(node, None if earlier is None else earlier.get(ply.ply, set()))
        played = chess.Move.from_uci(ply.uci)
        judgement = ply.judgement
        if options.judgements and judgement is not None:
            _add_nag(node, judgement.nag, added, ply.ply)
            _append(node, ply.comment())
        if options.label_nags and ply.label is not None and ply.label.nag is not None:
            _add_nag(node, ply.label.nag, added, ply.ply)
        if (options.variations and judgement is not None and ply.pv and ply.pv[0] != played
                and not any(v.move == ply.pv[0] for v in parent.variations)):
            _add_line(parent, board, ply.pv[:BEST_LINE_PLIES])
        board.push(played)
    return added


def _fold_opening(nodes: Sequence[chess.pgn.GameNode], analysis: GameAnalysis,
                  options: ExportOptions) -> None:
    """lichess's literate ``C01 French Defense: Exchange Variation`` at the opening's ply."""
    opening = analysis.opening
    if opening is None or not options.judgements or opening.ply >= len(nodes):
        return
    node, text = nodes[opening.ply], opening.opening.literate()
    # An exported game already holds it there: write it once, never twice.
    node.comment = " ".join(node.comment.replace(text, " ").split())
    _append(node, text)


def _opening_tags(headers: chess.pgn.Headers, analysis: GameAnalysis) -> None:
    """[ECO] and [Opening] from the analysis, only when the game names no opening itself."""
    opening = analysis.opening
    if opening is not None and "ECO" not in headers and "Opening" not in headers:
        headers["ECO"] = opening.opening.eco
        headers["Opening"] = opening.opening.name


def _fold_evals(nodes: Sequence[chess.pgn.GameNode], analysis: GameAnalysis) -> None:
    # Last in each comment, after the words, as lichess writes it for annotated games.
    for ply in analysis.plies:
        if ply.eval.mate != 0:  # a checkmate on the board: the result says it
            nodes[ply.ply].set_eval(ply.eval.to_pov())


def _add_line(parent: chess.pgn.GameNode, board: chess.Board,
              moves: Sequence[chess.Move]) -> None:
    line = board.copy(stack=False)
    node = parent
    for move in moves:
        if not line.is_legal(move):
            log.warning("engine line has an illegal move %s in %s; cut there", move, line.fen())
            break
        node = node.add_variation(move)
        line.push(move)


def _fold_shapes(nodes: Sequence[chess.pgn.GameNode],
                 shapes: Mapping[int, Sequence[Shape]]) -> None:
    for ply, drawn in shapes.items():
        if not 0 <= ply < len(nodes):
            log.warning("shapes for ply %d, but the game has %d plies", ply, len(nodes) - 1)
            continue
        node = nodes[ply]
        node.set_arrows([])  # replace whatever arrows the game had there
        circles = [s.pgn() for s in drawn if s.is_circle]
        arrows = [s.pgn() for s in drawn if not s.is_circle]
        if circles:
            _append(node, f"[%csl {','.join(circles)}]")
        if arrows:
            _append(node, f"[%cal {','.join(arrows)}]")


def export_pgn(
    game: chess.pgn.Game,
    analysis: GameAnalysis | None = None,
    options: ExportOptions = ExportOptions(),  # frozen, so a safe default
    *,
    narration: Mapping[int, str] | None = None,
    shapes: Mapping[int, Sequence[Shape]] | None = None,
    annotator: str | None = None,
) -> str:
    """The game as annotated PGN text, ending with a newline.

    ``narration`` and ``shapes`` are keyed by ply: 0 is before the first
    move (the game comment), ply n the position after the n-th main-line
    move. ``annotator`` defaults to "Café 1913 (chessapp) with <engine name>"
    when there is an analysis. Raises ``ValueError`` if ``analysis`` is for
    other moves.
    """
    copy = _copy(game)
    for node in _all_nodes(copy):
        node.comment = clean_comment(node.comment)
        node.starting_comment = clean_comment(node.starting_comment)
    if not options.explored:
        for node in [copy, *copy.mainline()]:
            del node.variations[1:]
    nodes: list[chess.pgn.GameNode] = [copy, *copy.mainline()]
    annotated = False
    added_nags: list[str] = []
    if analysis is not None:
        _check_analysis(copy, analysis)
        added_nags = _fold_analysis(nodes, analysis, options, copy.headers)
        _fold_opening(nodes, analysis, options)
        annotated = options.evals or options.judgements or options.variations
    if options.narration and narration:
        for ply, text in sorted(narration.items()):
            if 0 <= ply < len(nodes):
                _append(nodes[ply], text)
                annotated = True
            else:
                log.warning("narration for ply %d, but the game has %d plies", ply,
                            len(nodes) - 1)
    if options.shapes and shapes:
        _fold_shapes(nodes, shapes)
        annotated = True
    if analysis is not None and options.evals:
        _fold_evals(nodes, analysis)

    headers = copy.headers
    for name in _SEVEN_TAG_ROSTER:
        headers.setdefault(name, "?" if name != "Result" else "*")
    if analysis is not None:
        _opening_tags(headers, analysis)
    if annotator is None and annotated:
        annotator = "Café 1913 (chessapp)"
        if analysis is not None:
            annotator += f" with {analysis.engine.name}"
    if annotator:
        headers["Annotator"] = annotator
    if analysis is not None and annotated:
        headers["AnalysisEngine"] = analysis.engine.name
        headers["AnalysisLimit"] = analysis.limit.key()
        headers["AnalysisSettings"] = (f"threads={analysis.engine.threads} "
                                       f"hash={analysis.engine.hash_mb} "
                                       f"multipv={analysis.multipv}")
        nodes_summary = nodes_tag(analysis)
        if nodes_summary is not None:  # None: an analysis read back from a report without nodes
            headers["AnalysisNodes"] = nodes_summary
        if analysis.adaptive is not None:
            headers["AnalysisAdaptive"] = analysis.adaptive
    if added_nags:
        headers[ANALYSIS_NAGS_TAG] = " ".join(added_nags)
    return copy.accept(_Exporter(columns=80)) + "\n"


def nodes_tag(analysis: GameAnalysis) -> str | None:
    """The ``[AnalysisNodes]`` tag: ``total=N searched=P min=A max=B``.

    Over the positions of the main line (start included) whose eval the
    analysis uses: ``total`` nodes the engine searched for them, ``searched``
    how many needed a search (finished positions need none), and the fewest
    and most nodes one of them got. Per-position figures are in the JSON report.
    None when no position has a node count (an analysis rebuilt from an older
    report, or scripted evals): the tag is then left out.
    """
    counts = [n for n in (analysis.initial.nodes, *(p.nodes for p in analysis.plies))
              if n is not None and n > 0]
    if not counts:
        return None
    return f"total={sum(counts)} searched={len(counts)} min={min(counts)} max={max(counts)}"


def read_evals(game: chess.pgn.Game) -> list[WhiteEval | None]:
    """The ``[%eval]`` of every main-line ply (index 0 is ply 1), ``None`` where there is none."""
    out: list[WhiteEval | None] = []
    for node in game.mainline():
        score = node.eval()
        out.append(None if score is None else WhiteEval.from_pov(score))
    return out


_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


def _name_part(value: str | None, default: str, limit: int = 40) -> str:
    if not value or value.strip() in ("?", "-", ""):
        return default
    # "Surname, First names" is the PGN convention: the surname is enough.
    value = value.split(",")[0]
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    part = _UNSAFE.sub("_", ascii_text).strip("_")[:limit].strip("_")
    return part or default


def filename_for(headers: Mapping[str, str]) -> str:
    """A safe ASCII file name such as ``Bronstein_vs_Regular_1913.pgn``.

    Only letters, digits and ``_`` before ``.pgn``: no path separator, no
    dot-dot, no leading dot, at most about 100 characters.
    """
    white = _name_part(headers.get("White"), "White")
    black = _name_part(headers.get("Black"), "Black")
    year = (headers.get("Date") or "")[:4]
    name = f"{white}_vs_{black}"
    if year.isdigit() and len(year) == 4:
        name += f"_{year}"
    return f"{name}.pgn"
