"""lichess's own analyses, read from ``../shared/data/lichess-analyses`` (never copied here).

Each game comes as the moves, lichess's evals, its stored best lines and its
verdicts (judgement and literate comment per ply, accuracy and ACPL per side).
:func:`oracle_games` turns every game into the :class:`PositionEval` list the
analysis folds, so a test can feed lichess's evals to
:func:`chessapp.analysis.build_game_analysis` without an engine and compare.

How lichess's data maps onto ours (lila ``modules/fishnet/src/main/AnalysisBuilder.scala``):

* ``analysis[i]`` is lila's ``Info`` for ply i+1: the eval *after* the move
  (White's view), and ``best``/``variation``, the engine's line in the position
  *before* it. So ``analysis[i]``'s line becomes the PV of ``positions[i]``.
* lichess stores no line where the engine's first choice was the move played
  (``AnalysisBuilder.makeInfos``) or where it trimmed it; such a position gets an
  empty PV here, which lila's ``info.hasVariation`` treats the same: not judged.
* The checkmate position has no eval in lichess (``filterNot(_.isCheckmate)``):
  it gets python-chess's checkmate here, as our engine layer gives it.
* lichess's data holds no eval of the start position; lila never uses one for
  judging (``Info.start`` is ``Cp.initial``). We feed the eval after the first
  move as the engine's start eval, so a test sees that it is not what judges.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import chess
import chess.pgn
import chess.variant

from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval

IDENTITY = EngineIdentity("lichess fishnet (evals from lichess's export)")
LIMIT = SearchLimit(nodes=1_000_000)  # lila Engine.default.nodesPerMove


def shared_dir() -> Path:
    """``../shared`` beside the repository (the main checkout) or beside its parent (a worktree)."""
    root = Path(__file__).resolve().parents[1]
    for base in (root, *root.parents):
        candidate = base / ".." / "shared" if base == root else base / "shared"
        if (candidate / "data").is_dir():
            return candidate.resolve()
    raise FileNotFoundError(f"no shared/data directory beside {root} or above it")


def analyses_dir() -> Path:
    return shared_dir() / "data" / "lichess-analyses"


@dataclass(frozen=True)
class Expected:
    """What lichess said about one game."""

    #: per ply (index 0 = ply 1): (judgement name lower-cased, literate comment) or None
    judgements: tuple[tuple[str, str] | None, ...]
    #: per colour: accuracy (int %) and ACPL (int), None where lichess gave none
    accuracy: dict[chess.Color, int | None]
    acpl: dict[chess.Color, int | None]
    #: lichess's Divider plies, when the export holds them
    division: dict[str, int] | None = None
    #: lichess's opening, when the export holds it: {"eco", "name", "ply"}
    opening: dict[str, Any] | None = None


@dataclass(frozen=True)
class OracleGame:
    name: str  # the file, e.g. "json/8y40iLEJ.json"
    game: chess.pgn.Game
    positions: tuple[PositionEval, ...]
    expected: Expected


def _line(board: chess.Board, sans: list[str]) -> tuple[chess.Move, ...]:
    line = board.copy(stack=False)
    moves = []
    for san in sans:
        move = line.parse_san(san)
        moves.append(move)
        line.push(move)
    return tuple(moves)


def _positions(game: chess.pgn.Game, evals: list[WhiteEval | None],
               lines: list[list[str]]) -> tuple[PositionEval, ...]:
    """``evals[i]``/``lines[i]``: the eval after ply i+1 and the line before it."""
    board = game.board()
    boards = [board.copy(stack=False)]
    for move in game.mainline_moves():
        board.push(move)
        boards.append(board.copy(stack=False))
    out: list[PositionEval] = []
    for i, b in enumerate(boards):
        if i == 0:
            first = evals[0] if evals and evals[0] is not None else WhiteEval(cp=0)
            ev = first
        elif b.is_checkmate() or b.is_variant_loss():
            ev = WhiteEval.checkmate(b.turn)
        else:
            found = evals[i - 1] if i - 1 < len(evals) else None
            if found is None:
                raise ValueError(f"{game.headers.get('Site')}: no eval after ply {i}")
            ev = found
        pv = _line(b, lines[i]) if i < len(lines) and lines[i] else ()
        out.append(PositionEval(b.fen(), (EngineLine(ev, pv),), IDENTITY, LIMIT))
    return tuple(out)


def _from_json(path: Path) -> OracleGame:
    data = json.loads(path.read_text(encoding="utf-8"))
    game = chess.pgn.Game()
    if data.get("variant") == "threeCheck":
        game.headers["Variant"] = "Three-check"
        game.setup(chess.variant.ThreeCheckBoard())
    if data.get("initialFen"):
        game.setup(data["initialFen"])
    game.headers["Site"] = f"https://lichess.org/{data['id']}"
    node: chess.pgn.GameNode = game
    for san in data["moves"].split():
        node = node.add_main_variation(node.board().parse_san(san))
    infos: list[dict[str, Any]] = data["analysis"]
    evals = [WhiteEval(cp=i["eval"]) if "eval" in i else WhiteEval(mate=i["mate"])
             for i in infos]
    lines = [i["variation"].split() if "variation" in i else [] for i in infos]
    judgements = tuple(
        (i["judgment"]["name"].lower(), i["judgment"]["comment"]) if "judgment" in i else None
        for i in infos)
    judgements += (None,) * (len(list(game.mainline_moves())) - len(judgements))
    players = data["players"]
    side = {chess.WHITE: players["white"].get("analysis", {}),
            chess.BLACK: players["black"].get("analysis", {})}
    return OracleGame(
        name=f"json/{path.name}", game=game, positions=_positions(game, evals, lines),
        expected=Expected(judgements=judgements,
                          accuracy={c: s.get("accuracy") for c, s in side.items()},
                          acpl={c: s.get("acpl") for c, s in side.items()},
                          division=data.get("division"), opening=data.get("opening")))


#: lichess's literate comment, as lila ``Advice.makeComment(withEval = true, ...)`` writes it.
_LITERATE = re.compile(
    r"\((?P<before>[^()]*?) → (?P<after>[^()]*?)\) "
    r"(?P<text>Inaccuracy|Mistake|Blunder|Checkmate is now unavoidable|"
    r"Lost forced checkmate sequence)\.(?P<best> \S+ was best\.)?")
_NAG_JUDGEMENT = {chess.pgn.NAG_DUBIOUS_MOVE: "inaccuracy", chess.pgn.NAG_MISTAKE: "mistake",
                  chess.pgn.NAG_BLUNDER: "blunder"}


def _from_pgn(path: Path) -> OracleGame:
    with path.open(encoding="utf-8") as handle:
        game = chess.pgn.read_game(handle)
    assert game is not None and not game.errors, path
    evals: list[WhiteEval | None] = []
    lines: list[list[str]] = []
    judgements: list[tuple[str, str] | None] = []
    for node in game.mainline():
        score = node.eval()
        evals.append(None if score is None else WhiteEval.from_pov(score))
        parent = node.parent
        assert parent is not None
        side_lines = parent.variations[1:]
        san_line: list[str] = []
        if side_lines:
            board = parent.board()
            for move in [side_lines[0].move, *side_lines[0].mainline_moves()]:
                san_line.append(board.san(move))
                board.push(move)
        lines.append(san_line)
        found = _LITERATE.search(node.comment)
        # A glyph without lichess's literate comment is not lichess's (SOURCES.md).
        nag = next((n for n in node.nags if n in _NAG_JUDGEMENT), None)
        if found is not None and nag is not None:
            comment = found.group("text") + "." + (found.group("best") or "")
            judgements.append((_NAG_JUDGEMENT[nag], comment))
        else:
            judgements.append(None)
    return OracleGame(
        name=f"pgn/{path.name}", game=game, positions=_positions(game, evals, lines),
        expected=Expected(judgements=tuple(judgements),
                          accuracy={chess.WHITE: None, chess.BLACK: None},
                          acpl={chess.WHITE: None, chess.BLACK: None},
                          opening=_pgn_opening(game)))


def _pgn_opening(game: chess.pgn.Game) -> dict[str, Any] | None:
    eco, name = game.headers.get("ECO"), game.headers.get("Opening")
    if not eco or not name:
        return None
    for ply, node in enumerate(game.mainline(), start=1):
        if f"{eco} {name}" in node.comment:
            return {"eco": eco, "name": name, "ply": ply}
    return {"eco": eco, "name": name, "ply": None}


def oracle_games() -> Iterator[OracleGame]:
    """Every game of the manifest, in its order."""
    base = analyses_dir()
    manifest = json.loads((base / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest:
        path = base / entry["file"]
        yield _from_json(path) if entry["format"] == "lichess-api-json" else _from_pgn(path)


@cache
def all_oracle_games() -> tuple[OracleGame, ...]:
    """Every game, read once per test session."""
    return tuple(oracle_games())


def oracle_game(name: str) -> OracleGame:
    """One game by its file, e.g. ``"json/8y40iLEJ.json"``."""
    return next(og for og in all_oracle_games() if og.name == name)
