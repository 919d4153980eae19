"""Fixtures for the AppTest page tests: a games folder the café page can read.

The café page reads ``games/cafe-1913.*``. Tests point it at a folder of their
own (``CHESSAPP_GAMES_DIR``) holding a known game and an analysis report made
from fixed evals, so the page is tested without an engine and independently
of the shipped files (which have their own tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp.analysis import build_game_analysis
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.games import read_game
from chessapp.tree import main_line_boards
from chessapp.view.cafe import GAMES_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]
OPERA = ROOT / "games" / "samples" / "opera-1858.pgn"
OPERA_STORY = Path(__file__).resolve().parent / "data" / "opera.story.toml"


def fixed_evals(game: chess.pgn.Game) -> list[PositionEval]:
    """A made-up but deterministic eval per position: White drifts ahead, one big swing."""
    ident, limit = EngineIdentity("Fixture 1"), SearchLimit(nodes=1000)
    out = []
    boards = main_line_boards(game)
    for i, board in enumerate(boards):
        if board.is_checkmate():
            ev = WhiteEval.checkmate(board.turn)
        else:
            ev = WhiteEval(cp=30 + 25 * i if i != 9 else -250)
        moves = list(board.legal_moves)
        pv = (moves[0],) if moves else ()
        out.append(PositionEval(board.fen(), (EngineLine(ev, pv),), ident, limit))
    return out


@pytest.fixture
def games_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with cafe-1913.pgn (the Opera game), its analysis report and a story track."""
    folder = tmp_path / "games"
    folder.mkdir()
    text = OPERA.read_text(encoding="utf-8")
    (folder / "cafe-1913.pgn").write_text(text, encoding="utf-8")
    game = read_game(text)
    analysis = build_game_analysis(game, fixed_evals(game))
    (folder / "cafe-1913.analysis.json").write_text(json.dumps(analysis.to_json()),
                                                    encoding="utf-8")
    (folder / "cafe-1913.story.toml").write_text(OPERA_STORY.read_text(encoding="utf-8"),
                                                 encoding="utf-8")
    monkeypatch.setenv(GAMES_DIR_ENV, str(folder))
    monkeypatch.setenv("CHESSAPP_DATA_DIR", str(tmp_path / "data"))
    yield folder


@pytest.fixture
def opera() -> chess.pgn.Game:
    return read_game(OPERA.read_text(encoding="utf-8"))
