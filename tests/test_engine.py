"""The engine service against the real Stockfish (small node limits), plus its pure parts."""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp import engine as engine_module
from chessapp.analysis import analyse_game
from chessapp.engine import (
    EngineConfig,
    EnginePool,
    RandomizedBackoff,
    engine_status,
    find_engine,
    shared_pool,
)
from chessapp.errors import BadInput, EngineUnavailable
from chessapp.evals import PositionEval, SearchLimit, WhiteEval
from chessapp.store import Store
from tests.conftest import engine_children, engine_threads

NODES = SearchLimit(nodes=5_000)

#: White: Ra8 mates. Black (to move): ...Ra1 mates.
WHITE_MATES_IN_1 = "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"
BLACK_MATES_IN_1 = "r5k1/8/8/8/8/8/5PPP/6K1 b - - 0 1"
#: Black to move, Black a queen up: the eval must be negative from White's view.
BLACK_QUEEN_UP = "4k3/8/8/3q4/8/8/8/4K3 b - - 0 1"
MIDDLEGAME = "r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4"


def _executable(path: Path) -> str:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


# --- Finding the engine (no engine runs) ------------------------------------------------------


@pytest.mark.parametrize("case", ["explicit", "env", "path", "debian"])
def test_find_engine_precedence(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = _executable(tmp_path / "explicit-engine")
    env = _executable(tmp_path / "env-engine")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    on_path = _executable(bindir / "stockfish")
    debian = _executable(tmp_path / "debian-stockfish")
    monkeypatch.setattr(engine_module, "DEBIAN_STOCKFISH", debian)
    monkeypatch.setenv("PATH", str(bindir) if case in ("explicit", "env", "path") else "")
    if case in ("explicit", "env"):
        monkeypatch.setenv("STOCKFISH_PATH", env)
    else:
        monkeypatch.delenv("STOCKFISH_PATH", raising=False)
    expected = {"explicit": explicit, "env": env, "path": on_path, "debian": debian}[case]
    assert find_engine(explicit if case == "explicit" else None) == expected


@pytest.mark.parametrize("setting", ["explicit", "env"])
def test_find_engine_names_a_bad_path_and_gives_advice(
    setting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if setting == "env":
        monkeypatch.setenv("STOCKFISH_PATH", "/nonexistent/stockfish")
    with pytest.raises(EngineUnavailable) as info:
        find_engine("/nonexistent/stockfish" if setting == "explicit" else None)
    assert "'/nonexistent/stockfish' is not an executable file" in str(info.value)
    assert "apt-get install stockfish" in str(info.value)
    assert "STOCKFISH_PATH" in str(info.value)


# --- Configuration and deadlines (pure) -----------------------------------------------------


def test_config_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHESSAPP_ENGINE_POOL", "3")
    monkeypatch.setenv("CHESSAPP_ENGINE_THREADS", "2")
    monkeypatch.setenv("CHESSAPP_ENGINE_HASH", "64")
    config = EngineConfig.from_env(max_restarts=5)
    assert (config.workers, config.threads, config.hash_mb, config.max_restarts) == (3, 2, 64, 5)


def test_config_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CHESSAPP_ENGINE_POOL", "CHESSAPP_ENGINE_THREADS", "CHESSAPP_ENGINE_HASH"):
        monkeypatch.delenv(name, raising=False)
    config = EngineConfig.from_env()
    assert (config.workers, config.threads, config.hash_mb) == (os.cpu_count() or 1, 1, 16)


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_config_rejects_a_bad_environment_value(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHESSAPP_ENGINE_POOL", value)
    with pytest.raises(BadInput, match=f"CHESSAPP_ENGINE_POOL must be a positive whole number, "
                                        f"not '{value}'"):
        EngineConfig.from_env()


@pytest.mark.parametrize(("limit", "multipv", "expected"), [
    pytest.param(SearchLimit(nodes=200_000), 1, 5.0 + 3.0, id="200k nodes: 1 s x3 + 5"),
    pytest.param(SearchLimit(nodes=200_000), 5, 5.0 + 3.0, id="multipv does not change nodes"),
    pytest.param(SearchLimit(movetime_ms=1_000), 1, 5.0 + 3.0, id="1 s movetime"),
    pytest.param(SearchLimit(depth=10), 1, 5.0 + 5_000 * 1.6**10 / 200_000 * 3, id="depth 10"),
    pytest.param(SearchLimit(depth=10), 3,
                 5.0 + 3 * 5_000 * 1.6**10 / 200_000 * 3, id="depth 10, multipv 3"),
    pytest.param(SearchLimit(depth=99), 1, 3600.0, id="deep searches are capped"),
    pytest.param(SearchLimit(nodes=10**12), 1, 3600.0, id="huge node counts are capped"),
])
def test_deadline_for(limit: SearchLimit, multipv: int, expected: float) -> None:
    config = EngineConfig(workers=1, threads=1, hash_mb=16)
    assert config.deadline_for(limit, multipv) == pytest.approx(expected)


def test_backoff_starts_at_100ms_grows_up_to_4x_is_capped_and_resets() -> None:
    backoff = RandomizedBackoff(0.1, 5.0, rng=random.Random(1))
    pauses = [backoff.next() for _ in range(12)]
    assert pauses[0] == pytest.approx(0.1)
    for before, after in itertools.pairwise(pauses):
        assert 0.1 <= after <= min(5.0, 4 * before) + 1e-12
    assert max(pauses) <= 5.0
    backoff.reset()
    assert backoff.next() == pytest.approx(0.1)


# --- The real engine -----------------------------------------------------------------------


@pytest.mark.engine
def test_identity_is_the_engines_uci_name_and_our_settings(engine_pool: EnginePool) -> None:
    identity = engine_pool.identity
    assert identity.name.startswith("Stockfish")
    assert (identity.threads, identity.hash_mb) == (1, 16)
    assert engine_pool.workers == 2


@pytest.mark.engine
@pytest.mark.parametrize(("fen", "mate", "best"), [
    pytest.param(WHITE_MATES_IN_1, 1, "a1a8", id="white mates"),
    pytest.param(BLACK_MATES_IN_1, -1, "a8a1", id="black mates: negative from White's view"),
])
def test_mate_in_one_is_found(engine_pool: EnginePool, fen: str, mate: int, best: str) -> None:
    result = engine_pool.evaluate(chess.Board(fen), NODES)
    assert result.eval == WhiteEval(mate=mate)
    assert result.best.pv[0] == chess.Move.from_uci(best)
    assert result.fen == fen
    assert result.limit == NODES
    assert result.best.depth is not None and result.best.depth >= 1
    assert result.best.nodes is not None and result.best.nodes >= 1
    assert engine_pool.calls == 1


@pytest.mark.engine
def test_black_to_move_eval_is_converted_to_whites_view(engine_pool: EnginePool) -> None:
    result = engine_pool.evaluate(chess.Board(BLACK_QUEEN_UP), NODES)
    assert (result.eval.cp is not None and result.eval.cp < -500) or (
        result.eval.mate is not None and result.eval.mate < 0)


@pytest.mark.engine
def test_multipv_three_gives_three_distinct_lines(engine_pool: EnginePool) -> None:
    result = engine_pool.evaluate(chess.Board(MIDDLEGAME), NODES, multipv=3)
    assert len(result.lines) == 3
    first_moves = {line.pv[0] for line in result.lines}
    assert len(first_moves) == 3
    board = chess.Board(MIDDLEGAME)
    assert all(move in board.legal_moves for move in first_moves)


@pytest.mark.engine
def test_same_position_gives_the_same_eval_whatever_came_before(engine_pool: EnginePool) -> None:
    limit = SearchLimit(nodes=20_000)
    first = engine_pool.evaluate(chess.Board(MIDDLEGAME), limit, multipv=2)
    engine_pool.evaluate(chess.Board(WHITE_MATES_IN_1), limit)  # fills the hash with other things
    again = engine_pool.evaluate(chess.Board(MIDDLEGAME), limit, multipv=2)
    assert again == first


@pytest.mark.engine
def test_every_worker_and_every_pool_gives_the_same_eval(stockfish_path: str) -> None:
    limit = SearchLimit(nodes=20_000)
    board = chess.Board(MIDDLEGAME)
    config = EngineConfig(path=stockfish_path, workers=2, threads=1, hash_mb=16)
    results: list[PositionEval] = []
    with EnginePool(config) as pool:
        results.append(pool.evaluate(board, limit))
        # Hold the slot of the engine that just ran, so the next call must start and use
        # the other worker (white-box, but deterministic where racing threads are not).
        with pool._slot():
            results.append(pool.evaluate(board, limit))
        assert len(pool.alive_pids()) == 2  # both workers really ran
    with EnginePool(config) as other:
        results.append(other.evaluate(board, limit))
    assert len(results) == 3
    assert results[0] == results[1] == results[2]


@pytest.mark.engine
def test_pool_never_runs_more_engines_than_workers(stockfish_path: str) -> None:
    boards = [chess.Board(fen) for fen in (MIDDLEGAME, WHITE_MATES_IN_1, BLACK_QUEEN_UP)]
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(len(engine_children()))
            time.sleep(0.005)

    errors: list[BaseException] = []
    with EnginePool(EngineConfig(path=stockfish_path, workers=2)) as pool:
        def work(i: int) -> None:
            try:
                for j in range(3):
                    pool.evaluate(boards[(i + j) % 3], SearchLimit(nodes=2_000 + i))
            except BaseException as exc:
                errors.append(exc)

        watcher = threading.Thread(target=watch)
        watcher.start()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        watcher.join()
        assert errors == []
        assert pool.calls == 24
        assert 1 <= len(pool.alive_pids()) <= 2
    assert max(seen) <= 2
    assert max(seen) >= 1  # the watcher did see the engines


@pytest.mark.engine
def test_close_leaves_no_engine_process(stockfish_path: str) -> None:
    pool = EnginePool(EngineConfig(path=stockfish_path, workers=2))
    threads = [threading.Thread(target=pool.evaluate, args=(chess.Board(fen), NODES))
               for fen in (MIDDLEGAME, WHITE_MATES_IN_1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pids = pool.alive_pids()
    assert pids
    for pid in pids:
        assert os.getpgid(pid) == pid  # its own process group: Ctrl+C does not reach it
    pool.close()
    assert all(_gone(pid) for pid in pids)
    assert pool.alive_pids() == []
    assert engine_children() == []
    assert engine_threads() == []
    pool.close()  # idempotent
    with pytest.raises(EngineUnavailable, match="closed"):
        pool.evaluate(chess.Board(), NODES)


@pytest.mark.engine
@pytest.mark.parametrize(("fen", "reason"), [
    pytest.param("8/8/8/8/8/8/8/8 w - - 0 1", "no white king, no black king, empty", id="empty"),
    pytest.param("8/8/8/4k3/8/8/8/8 w - - 0 1", "no white king", id="no white king"),
    pytest.param("4k3/8/8/8/8/8/8/K6K w - - 0 1", "too many kings", id="two white kings"),
    pytest.param("4k3/8/8/8/8/8/4R3/4K3 w - - 0 1", "opposite check",
                 id="side not to move in check"),
    pytest.param("4k3/8/8/8/8/8/8/P3K3 w - - 0 1", "pawns on backrank", id="pawn on first rank"),
])
def test_invalid_positions_never_reach_the_engine(engine_pool: EnginePool, fen: str,
                                                  reason: str) -> None:
    with pytest.raises(BadInput) as info:
        engine_pool.evaluate(chess.Board(fen), NODES)
    assert info.value.reason == f"invalid position: {reason}"
    assert info.value.token == fen
    assert engine_pool.calls == 0
    assert engine_pool.alive_pids() == []  # no engine was even started
    ok = engine_pool.evaluate(chess.Board(WHITE_MATES_IN_1), NODES)
    assert ok.eval == WhiteEval(mate=1)
    assert engine_pool.restarts == 0


@pytest.mark.engine
@pytest.mark.parametrize(("fen", "expected"), [
    pytest.param("R5k1/5ppp/8/8/8/8/8/6K1 b - - 1 1", WhiteEval.checkmate(chess.BLACK),
                 id="black is mated"),
    pytest.param("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1", WhiteEval(cp=0), id="stalemate"),
    pytest.param("7k/8/6K1/8/8/8/8/8 w - - 0 1", WhiteEval(cp=0), id="bare kings"),
])
def test_finished_positions_need_no_search(engine_pool: EnginePool, fen: str,
                                           expected: WhiteEval) -> None:
    result = engine_pool.evaluate(chess.Board(fen), NODES)
    assert result.eval == expected
    assert result.best.pv == ()
    assert engine_pool.calls == 0


@pytest.mark.engine
def test_multipv_must_be_positive(engine_pool: EnginePool) -> None:
    with pytest.raises(BadInput, match="multipv must be at least 1, not 0"):
        engine_pool.evaluate(chess.Board(), NODES, multipv=0)


OPERA_GAME = """[Event "Paris"]
[White "Paul Morphy"]
[Black "Duke Karl / Count Isouard"]
[Result "1-0"]

1. e4 e5 2. Nf3 d6 3. d4 Bg4 4. dxe5 Bxf3 5. Qxf3 dxe5 6. Bc4 Nf6 7. Qb3 Qe7
8. Nc3 c6 9. Bg5 b5 10. Nxb5 cxb5 11. Bxb5+ Nbd7 12. O-O-O Rd8 13. Rxd7 Rxd7
14. Rd1 Qe6 15. Bxd7+ Nxd7 16. Qb8+ Nxb8 17. Rd8# 1-0
"""


@pytest.mark.engine
def test_second_analysis_of_a_game_makes_no_engine_call(
    engine_pool: EnginePool, isolated_data_dir: Path
) -> None:
    import io
    game = chess.pgn.read_game(io.StringIO(OPERA_GAME))
    assert game is not None and not game.errors
    limit = SearchLimit(nodes=2_000)
    # best_line_plies=0: the position searches alone (line continuations are cached
    # the same way; tests/test_best_lines.py checks them)
    with Store() as store:
        first = analyse_game(game, engine_pool, limit, cache=store, best_line_plies=0)
    searched = engine_pool.calls
    assert searched == 33  # 34 positions, the last is checkmate and needs no engine
    assert (isolated_data_dir / "chessapp.sqlite3").exists()
    with Store() as store:  # a new Store on the same file, as after a restart
        second = analyse_game(game, engine_pool, limit, cache=store, best_line_plies=0)
    assert engine_pool.calls == searched
    assert second == first
    assert first.plies[-1].eval == WhiteEval.checkmate(chess.BLACK)


@pytest.mark.engine
def test_shared_pool_is_one_per_config(stockfish_path: str) -> None:
    config = EngineConfig(path=stockfish_path, workers=1)
    pool = shared_pool(config)
    try:
        assert shared_pool(EngineConfig(path=stockfish_path, workers=1)) is pool
        assert shared_pool(EngineConfig(path=stockfish_path, workers=2)) is not pool
    finally:
        pool.close()
        shared_pool(EngineConfig(path=stockfish_path, workers=2)).close()
    replacement = shared_pool(config)  # a closed pool is replaced, not handed out
    try:
        assert replacement is not pool
    finally:
        replacement.close()


@pytest.mark.engine
def test_engine_status_names_the_engine(stockfish_path: str) -> None:
    status = engine_status(stockfish_path)
    assert status.available
    assert status.path == stockfish_path
    assert status.name is not None and status.name.startswith("Stockfish")
    assert status.message == f"{status.name} ({stockfish_path})"
    assert engine_children() == []


@pytest.mark.engine
def test_a_fully_cached_reanalysis_starts_no_engine_process(tmp_path: Path) -> None:
    game = chess.pgn.Game()
    node: chess.pgn.GameNode = game
    for san in ["e4", "e5", "Nf3", "Nc6"]:
        node = node.add_main_variation(node.board().parse_san(san))
    store = Store(tmp_path / "cache.sqlite3")
    limit = SearchLimit(nodes=2000)
    with EnginePool(EngineConfig(workers=1)) as first:
        analyse_game(game, first, limit, cache=store)
        assert first.calls == 5
    # A new pool on the same binary knows the engine's name without asking it.
    with EnginePool(EngineConfig(workers=1)) as second:
        again = analyse_game(game, second, limit, cache=store)
        assert second.calls == 0
        assert second.alive_pids() == []
        assert again.engine.name.startswith("Stockfish")
