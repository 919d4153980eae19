"""The SQLite store: data directory, analysis cache, sessions, corruption, concurrency."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import chess
import pytest

from chessapp.errors import BadInput, SessionNotFound, StoreError
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.store import SCHEMA_VERSION, Store, data_dir

SF = EngineIdentity("Stockfish 15.1", threads=1, hash_mb=16)
LIMIT = SearchLimit(nodes=20_000)
START = chess.STARTING_FEN


def _moves(*ucis: str) -> tuple[chess.Move, ...]:
    return tuple(chess.Move.from_uci(u) for u in ucis)


def _result(fen: str = START, *, engine: EngineIdentity = SF,
            limit: SearchLimit = LIMIT) -> PositionEval:
    return PositionEval(fen, (
        EngineLine(WhiteEval(cp=31), _moves("e2e4", "e7e5", "g1f3"), depth=12, nodes=20_004),
        EngineLine(WhiteEval(cp=-5), _moves("d2d4"), depth=11, nodes=20_004),
        EngineLine(WhiteEval(mate=-3), _moves("f2f3", "e7e5"), depth=None, nodes=None),
    ), engine, limit)


# --- The data directory ------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["env", "xdg", "home"])
def test_data_dir_precedence(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CHESSAPP_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    if case == "env":
        monkeypatch.setenv("CHESSAPP_DATA_DIR", str(tmp_path / "mine"))
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if case == "xdg":
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    expected = {"env": tmp_path / "mine", "xdg": tmp_path / "xdg" / "chessapp",
                "home": tmp_path / "home" / ".local" / "share" / "chessapp"}[case]
    assert data_dir() == expected
    assert expected.is_dir()


def test_a_data_dir_that_cannot_be_created_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CHESSAPP_DATA_DIR", str(blocker / "data"))
    with pytest.raises(StoreError) as info:
        Store()
    assert str(info.value).startswith(f"cannot create the data directory '{blocker / 'data'}': ")
    assert str(info.value).endswith("Set CHESSAPP_DATA_DIR to a writable folder.")
    assert blocker.read_text() == "not a folder"


def test_the_file_is_in_wal_mode_with_a_schema_version(isolated_data_dir: Path) -> None:
    with Store() as store:
        assert store.path == isolated_data_dir / "chessapp.sqlite3"
        assert store.recovered_from is None
    conn = sqlite3.connect(isolated_data_dir / "chessapp.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


# --- The analysis cache --------------------------------------------------------------------


def test_cache_round_trip_through_a_new_store(isolated_data_dir: Path) -> None:
    stored = _result()
    with Store() as store:
        store.put_eval(stored, 3)
    with Store() as reopened:
        assert reopened.get_eval(START, SF, LIMIT, 3) == stored
        assert reopened.cached_evals() == 1


def test_checkmate_eval_keeps_the_mated_side(isolated_data_dir: Path) -> None:
    fen = "R5k1/5ppp/8/8/8/8/8/6K1 b - - 1 1"
    mated = PositionEval(fen, (EngineLine(WhiteEval.checkmate(chess.BLACK), ()),), SF, LIMIT)
    with Store() as store:
        store.put_eval(mated, 1)
        assert store.get_eval(fen, SF, LIMIT, 1) == mated


@pytest.mark.parametrize(("fen", "engine", "limit", "multipv"), [
    pytest.param("8/8/8/4k3/8/8/8/4K3 w - - 0 1", SF, LIMIT, 3, id="other position"),
    pytest.param(START, EngineIdentity("Stockfish 16"), LIMIT, 3, id="other engine"),
    pytest.param(START, EngineIdentity("Stockfish 15.1", threads=2), LIMIT, 3, id="other threads"),
    pytest.param(START, EngineIdentity("Stockfish 15.1", hash_mb=64), LIMIT, 3, id="other hash"),
    pytest.param(START, SF, SearchLimit(nodes=20_001), 3, id="other nodes"),
    pytest.param(START, SF, SearchLimit(depth=20), 3, id="depth, not nodes"),
    pytest.param(START, SF, LIMIT, 1, id="other multipv"),
])
def test_cache_misses_on_any_other_key(isolated_data_dir: Path, fen: str, engine: EngineIdentity,
                                       limit: SearchLimit, multipv: int) -> None:
    with Store() as store:
        store.put_eval(_result(), 3)
        assert store.get_eval(fen, engine, limit, multipv) is None


def test_put_eval_replaces_an_older_result(isolated_data_dir: Path) -> None:
    newer = PositionEval(START, (EngineLine(WhiteEval(cp=20), _moves("c2c4")),), SF, LIMIT)
    with Store() as store:
        store.put_eval(_result(), 1)
        store.put_eval(newer, 1)
        assert store.get_eval(START, SF, LIMIT, 1) == newer
        assert store.cached_evals() == 1


def test_a_damaged_cache_row_is_a_miss(isolated_data_dir: Path) -> None:
    with Store() as store:
        store.put_eval(_result(), 1)
    conn = sqlite3.connect(isolated_data_dir / "chessapp.sqlite3")
    with conn:
        conn.execute("UPDATE evals SET lines = '[{\"cp\": 1}]'")
    conn.close()
    with Store() as store:
        assert store.get_eval(START, SF, LIMIT, 1) is None


# --- Sessions --------------------------------------------------------------------------------


def test_session_crud(isolated_data_dir: Path) -> None:
    with Store() as store:
        first = store.save_session("Café 1913", "1. e4 e5 *", {"nodes": 20000}, None)
        second = store.save_session("Opera game", "1. e4 *", {"nodes": 1000},
                                    {"plies": [{"ply": 1}]})
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", first)
        assert first != second

        loaded = store.load_session(first)
        assert (loaded.id, loaded.name, loaded.pgn, loaded.settings, loaded.analysis) == (
            first, "Café 1913", "1. e4 e5 *", {"nodes": 20000}, None)
        assert loaded.created == loaded.updated

        store.update_session(first, analysis={"plies": []}, settings={"nodes": 5})
        updated = store.load_session(first)
        assert (updated.name, updated.pgn, updated.settings, updated.analysis) == (
            "Café 1913", "1. e4 e5 *", {"nodes": 5}, {"plies": []})
        assert updated.updated >= loaded.updated
        assert updated.created == loaded.created

        store.rename_session(second, "  Paris, 1858  ")
        listed = store.list_sessions()
        assert [(s.id, s.name, s.has_analysis) for s in listed] == [
            (second, "Paris, 1858", True), (first, "Café 1913", True)]

        store.delete_session(first)
        assert [s.id for s in store.list_sessions()] == [second]
        with pytest.raises(SessionNotFound):
            store.load_session(first)
    with Store() as reopened:  # on disk, not just in memory
        assert reopened.load_session(second).name == "Paris, 1858"


@pytest.mark.parametrize("operation", ["load", "update", "rename", "delete"])
def test_unknown_session_id(isolated_data_dir: Path, operation: str) -> None:
    with Store() as store:
        store.save_session("kept", "*", {}, None)
        with pytest.raises(SessionNotFound) as info:
            if operation == "load":
                store.load_session("no-such-id")
            elif operation == "update":
                store.update_session("no-such-id", pgn="*")
            elif operation == "rename":
                store.rename_session("no-such-id", "x")
            else:
                store.delete_session("no-such-id")
        assert info.value.args == ("no-such-id",)
        assert isinstance(info.value, KeyError)
        assert len(store.list_sessions()) == 1


@pytest.mark.parametrize(("name", "reason"), [
    pytest.param("", "a session needs a name", id="empty"),
    pytest.param("   ", "a session needs a name", id="blank"),
    pytest.param("x" * 201, "a session name may have at most 200 characters", id="too long"),
])
def test_bad_session_names(isolated_data_dir: Path, name: str, reason: str) -> None:
    with Store() as store:
        with pytest.raises(BadInput) as info:
            store.save_session(name, "*", {}, None)
        assert info.value.reason == reason
        assert store.list_sessions() == []


def test_settings_that_are_not_json_are_bad_input(isolated_data_dir: Path) -> None:
    with Store() as store, pytest.raises(BadInput, match="settings cannot be saved as JSON"):
        store.save_session("x", "*", {"limit": SearchLimit(nodes=1)}, None)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/tmp/evil", "a/b\\c", "..", "x\x00y",
                                  "<script>alert(1)</script>"])
def test_session_names_are_only_data(isolated_data_dir: Path, name: str) -> None:
    with Store() as store:
        session_id = store.save_session(name, "*", {}, None)
        assert store.load_session(session_id).name == name
    # Closing checkpoints the WAL; nothing but the database file is left, whatever the name.
    assert [p.name for p in isolated_data_dir.parent.rglob("*")] == [
        "data", "chessapp.sqlite3"]


# --- Bad files ----------------------------------------------------------------------------------


def test_a_corrupt_file_is_moved_aside_and_other_files_are_kept(isolated_data_dir: Path) -> None:
    isolated_data_dir.mkdir()
    garbage = b"this is not an SQLite database, it is a note\n" * 100
    (isolated_data_dir / "chessapp.sqlite3").write_bytes(garbage)
    (isolated_data_dir / "notes.txt").write_text("mine")
    with Store() as store:
        assert store.recovered_from is not None
        moved = [p for p in isolated_data_dir.iterdir() if ".corrupt-" in p.name]
        assert len(moved) == 1
        assert moved[0].name.startswith("chessapp.sqlite3.corrupt-")
        assert moved[0].read_bytes() == garbage
        assert store.recovered_from == (
            f"The data file '{isolated_data_dir / 'chessapp.sqlite3'}' could not be read "
            f"(file is not a database); it was moved to '{moved[0]}' and a fresh one was "
            "started. Cached analyses and saved sessions in it are not available.")
        session_id = store.save_session("fresh", "*", {}, None)
    assert (isolated_data_dir / "notes.txt").read_text() == "mine"
    with Store() as reopened:
        assert reopened.recovered_from is None
        assert reopened.load_session(session_id).name == "fresh"


def test_a_database_with_damaged_pages_is_moved_aside(isolated_data_dir: Path) -> None:
    with Store() as store:
        for i in range(300):
            store.save_session(f"session {i}", "1. e4 e5 " * 50, {"i": i}, None)
    conn = sqlite3.connect(isolated_data_dir / "chessapp.sqlite3")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    path = isolated_data_dir / "chessapp.sqlite3"
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 20 * page
    for offset in range(2 * page, 12 * page):  # smash the b-tree pages, keep the header
        data[offset] = 0xA5
    path.write_bytes(bytes(data))
    with Store() as store:
        assert store.recovered_from is not None
        assert store.list_sessions() == []
    assert len([p for p in isolated_data_dir.iterdir() if ".corrupt-" in p.name]) == 1


def test_a_file_from_a_newer_version_is_refused_not_moved(isolated_data_dir: Path) -> None:
    with Store():
        pass
    path = isolated_data_dir / "chessapp.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="written by a newer chessapp"):
        Store()
    assert path.exists()
    assert not [p for p in isolated_data_dir.iterdir() if ".corrupt-" in p.name]


def test_a_closed_store_says_so(isolated_data_dir: Path) -> None:
    store = Store()
    store.close()
    with pytest.raises(StoreError, match="the store is closed"):
        store.list_sessions()


# --- Concurrency ------------------------------------------------------------------------------


def test_concurrent_writers_lose_nothing(isolated_data_dir: Path) -> None:
    """Eight threads on one Store and two on a second Store over the same file."""
    shared, other = Store(), Store()
    errors: list[BaseException] = []
    board_fens = []
    board = chess.Board()
    for move in ("e2e4", "e7e5", "g1f3", "b8c6", "f1b5", "a7a6", "b5a4", "g8f6", "e1g1", "f8e7"):
        board.push_uci(move)
        board_fens.append(board.fen())

    def work(worker: int, store: Store) -> None:
        try:
            for i in range(25):
                limit = SearchLimit(nodes=1_000 + worker * 100 + i)
                store.put_eval(_result(board_fens[i % len(board_fens)], limit=limit), 1)
            store.save_session(f"worker {worker}", "*", {"worker": worker}, None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w, shared if w < 8 else other))
               for w in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shared.close()
    other.close()
    assert errors == []
    with Store() as store:
        assert store.cached_evals() == 250
        assert sorted(s.name for s in store.list_sessions()) == sorted(
            f"worker {w}" for w in range(10))
        assert store.get_eval(board_fens[3], SF, SearchLimit(nodes=1_000 + 900 + 3), 1) == _result(
            board_fens[3], limit=SearchLimit(nodes=1_903))
