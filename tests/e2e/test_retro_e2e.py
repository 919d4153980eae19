"""Learn from your mistakes (issue 12, part 4) in real Chromium, with the real Stockfish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chess
import pytest

from chessapp.store import DB_NAME, Store
from tests.e2e.conftest import Server, load_pgn, open_analysis, start_server, wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

BOARD = ".c13b"
#: 3... Nf6?? walks into Qxf7#: Black's one mistake worth a second look.
SHORT = ('[Event "Retro practice"]\n[White "Anna"]\n[Black "Boris"]\n\n'
         "1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n")
BEFORE_NF6 = "r1bqkbnr/pppp1ppp/2n5/4p2Q/2B1P3/8/PPPP1PPP/RNB1K1NR b KQkq - 3 3"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("retro-data")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("retro-log"), {"CHESSAPP_DATA_DIR": str(data_dir)})
    try:
        yield srv
    finally:
        srv.stop()


def try_move(page: Any, san: str) -> None:
    page.get_by_label("Your move (SAN)").fill(san)
    page.get_by_role("button", name="Try", exact=True).click()
    wait_until_idle(page)


def test_learn_from_your_mistakes_judges_tries_and_saves_progress(
        page: Any, server: Server, data_dir: Path) -> None:
    open_analysis(page, server)
    session_id = load_pgn(page, SHORT)
    nodes = page.get_by_label("Nodes", exact=True)
    nodes.fill("5000")
    nodes.press("Tab")
    wait_until_idle(page)
    page.get_by_role("button", name="Analyse the game").click()
    page.get_by_role("columnheader", name="Blunders").wait_for(timeout=120_000)
    wait_until_idle(page)
    page.get_by_text("Learn from your mistakes").click()
    page.get_by_role("button", name="Black's mistakes").click()
    wait_until_idle(page)
    # Black's mistakes in turn (an earlier inaccuracy may come first: skip it), until the
    # board is on the position before 3... Nf6??.
    nf6 = page.get_by_text("Move 3… Nf6 was played here. Find a better move for Black.")
    for _ in range(3):
        if nf6.count():
            break
        page.get_by_role("button", name="Skip").click()
        wait_until_idle(page)
    nf6.wait_for()
    page.locator(f"{BOARD}[data-fen='{BEFORE_NF6}']").wait_for()
    # The game's own move is recognised; a move that still allows mate fails with a hint.
    try_move(page, "Nf6")
    page.get_by_text("That is the move played in the game. Try another.").wait_for()
    try_move(page, "a6")
    page.get_by_text("a6 is not good enough. Try again.", exact=False).wait_for()
    # A move that stops the mate is good: g6 (or the engine's own choice) keeps the balance.
    try_move(page, "g6")
    page.get_by_text("g6 is a good move.", exact=False).wait_for(timeout=60_000)
    wait_until_idle(page)
    saved = Store(data_dir / DB_NAME).load_session(session_id)
    progress = [p for p in saved.settings.get("retro", []) if p["color"] == "black"]
    assert progress and 6 in progress[0]["solved"]
    assert chess.Board(BEFORE_NF6).san(chess.Move.from_uci("g7g6")) == "g6"
