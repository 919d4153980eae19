"""Backups while the app runs, restoring them, and a full disk (issue 15, "Limits and data")."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from chessapp import backup as B
from chessapp.errors import StoreError
from chessapp.store import DB_NAME, Store

ROOT = Path(__file__).resolve().parents[1]
PGN = "1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 *"


def run_backup(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT),
           "CHESSAPP_DATA_DIR": str(data)}
    return subprocess.run([str(ROOT / "script" / "backup"), *args], env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def test_script_backup_copies_a_consistent_store_while_it_is_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data / DB_NAME)
    for i in range(50):
        store.save_session(f"before {i}", PGN * 20, {"i": i})
    stop = threading.Event()
    written: list[int] = []

    def app_writing() -> None:  # the server, saving sessions the whole time
        n = 0
        while not stop.is_set():
            store.save_session(f"during {n}", PGN * 20, {"n": n})
            written.append(n)
            n += 1

    writer = threading.Thread(target=app_writing)
    writer.start()
    try:
        while len(written) < 20:
            writer.join(0.01)
        dest = tmp_path / "copy.sqlite3"
        result = run_backup(str(dest), data=data)
    finally:
        stop.set()
        writer.join(30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"backed up {data / DB_NAME} to {dest}: ")
    with Store(dest) as copy:
        names = {s.name for s in copy.all_sessions()}
    # Everything from before, and a consistent prefix of what was written meanwhile.
    assert {f"before {i}" for i in range(50)} <= names
    during = sorted(int(n.split()[1]) for n in names if n.startswith("during"))
    assert during == list(range(len(during))) and len(during) >= 20
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    conn.close()
    assert not dest.with_name(dest.name + "-wal").exists()
    store.close()


def test_the_default_destination_and_never_overwriting(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data / DB_NAME) as store:
        store.save_session("kept", PGN, {})
    result = run_backup(data=data)
    assert result.returncode == 0, result.stderr
    made = list((data / "backups").glob("chessapp-*.sqlite3"))
    assert len(made) == 1
    again = run_backup(str(made[0]), data=data)
    assert again.returncode == 2
    assert "exists; a backup never overwrites a file" in again.stderr


def test_restore_puts_the_copy_back_and_a_running_store_sees_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    live = Store(data / DB_NAME)
    kept = live.save_session("kept", PGN, {"x": 1})
    info = B.backup(data / DB_NAME, tmp_path / "monday.sqlite3")
    assert (info.sessions, info.schema) == (1, 2)
    # After the backup: a session deleted by mistake, another one added.
    live.delete_session(kept)
    live.save_session("after the backup", PGN, {})
    result = run_backup("--restore", str(tmp_path / "monday.sqlite3"), data=data)
    assert result.returncode == 0, result.stderr
    assert "restored" in result.stdout and "1 sessions" in result.stdout
    # The running server's own connection reads the restored store.
    assert [s.name for s in live.all_sessions()] == ["kept"]
    assert live.load_session(kept).settings == {"x": 1}
    live.close()
    with Store(data / DB_NAME) as reopened:
        assert [s.id for s in reopened.all_sessions()] == [kept]


@pytest.mark.parametrize("junk", [b"", b"not a database at all" * 100])
def test_restore_refuses_a_file_that_is_not_a_store(tmp_path: Path, junk: bytes) -> None:
    data = tmp_path / "data"
    with Store(data / DB_NAME) as store:
        store.save_session("kept", PGN, {})
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(junk)
    result = run_backup("--restore", str(bad), data=data)
    assert result.returncode == 2
    assert result.stderr.startswith("script/backup: ") and str(bad) in result.stderr
    with Store(data / DB_NAME) as store:
        assert [s.name for s in store.all_sessions()] == ["kept"]


def test_backing_up_nothing_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="there is no store at"):
        B.backup(tmp_path / "none" / DB_NAME)


# --- A full disk -------------------------------------------------------------------------------

FILL = textwrap.dedent('''
    import json, os, resource, signal, sys
    from pathlib import Path
    from chessapp.errors import StoreFull
    from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
    from chessapp.store import Store
    import chess
    path = Path(sys.argv[1])
    store = Store(path)                     # opened before the limit: the schema is there
    if sys.argv[2] == "fsize":
        # The process may write no file beyond its current size + 256 KiB: a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG instead of a killed process
        limit = path.stat().st_size + 256 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    saved, message = [], None
    for i in range(100_000):
        try:
            saved.append(store.save_session(f"s{i}", "1. e4 e5 *" * 200, {"i": i}))
        except StoreFull as exc:
            message = str(exc)
            break
    # The app keeps serving: every saved session reads back, and a cache write that does
    # not fit is dropped, not raised.
    readable = sum(1 for s in saved if store.load_session(s).settings is not None)
    board = chess.Board()
    store.put_eval(PositionEval(board.fen(), (EngineLine(WhiteEval(cp=1), ()),),
                                EngineIdentity("x"), SearchLimit(nodes=1)), 1)
    print(json.dumps({"saved": saved, "readable": readable, "message": message,
                      "full": store.full}))
''')


@pytest.mark.parametrize("how", ["fsize", "cap"])
def test_a_full_disk_or_the_size_cap_leaves_a_consistent_store(tmp_path: Path,
                                                                how: str) -> None:
    import json

    path = tmp_path / "data" / DB_NAME
    Store(path).close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if how == "cap":
        env["CHESSAPP_MAX_STORE_MB"] = "1"
    result = subprocess.run([sys.executable, "-c", FILL, str(path), how], env=env, text=True,
                            capture_output=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["message"] is not None and report["message"] == report["full"]
    assert report["message"].startswith("The server's storage is full, so nothing new can "
                                        "be saved: what is already saved is still served")
    assert len(report["saved"]) > 10 and report["readable"] == len(report["saved"])
    # Without the limit: an intact file holding exactly what was reported saved.
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with Store(path) as store:
        assert {s.id for s in store.all_sessions()} == set(report["saved"])
        assert store.full is None
        store.save_session("room again", "*", {})
