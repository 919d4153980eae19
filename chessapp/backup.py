"""Back up and restore the store while the app runs: ``python -m chessapp.backup``.

``script/backup [DEST]`` copies ``chessapp.sqlite3`` with SQLite's online backup
API (:meth:`sqlite3.Connection.backup`), which takes a consistent snapshot even
while the server writes (a write that lands during the copy makes SQLite restart
the copy), so the app never has to stop. The copy is then checked
(``PRAGMA quick_check``) and its schema version read back.

``script/backup --restore FILE`` checks ``FILE`` the same way and copies it into
the store, again through the backup API, so the running server sees the
restored data at its next read. Stop the server first if you can: pages that
are open keep what they hold in memory, and their next autosave may write it
back over the restored copy of that session.

Read-only towards the live store when backing up: the source is opened with
``mode=ro``, so a backup never migrates or moves aside anything.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chessapp.errors import StoreError
from chessapp.store import DB_NAME, SCHEMA_VERSION, data_dir

__all__ = ["BackupInfo", "backup", "main", "restore"]

#: Pages copied per step: small steps let the app's writers in between.
PAGES_PER_STEP = 1024


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """What a backup or restore copied."""

    path: Path
    bytes: int
    sessions: int
    cached_evals: int
    schema: int


def _check(path: Path) -> BackupInfo:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise StoreError(f"{str(path)!r} is damaged: {check}")
        schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if not 1 <= schema <= SCHEMA_VERSION:
            raise StoreError(f"{str(path)!r} is not a chessapp store (schema {schema})")
        sessions = int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
        evals = int(conn.execute("SELECT count(*) FROM evals").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{str(path)!r} is not a readable chessapp store: {exc}") from exc
    finally:
        conn.close()
    return BackupInfo(path, path.stat().st_size, sessions, evals, schema)


def default_destination(store: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return store.parent / "backups" / f"{store.stem}-{stamp}.sqlite3"


def backup(store: Path, dest: Path | None = None) -> BackupInfo:
    """Copy ``store`` to ``dest`` (default ``backups/chessapp-<UTC time>.sqlite3`` beside it)."""
    if not store.exists():
        raise StoreError(f"there is no store at {str(store)!r} to back up")
    target = dest if dest is not None else default_destination(store)
    if target.exists():
        raise StoreError(f"{str(target)!r} exists; a backup never overwrites a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=PAGES_PER_STEP, sleep=0.01)
        # A self-contained file: no -wal beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        copy.close()
        target.unlink(missing_ok=True)
        raise StoreError(f"the backup of {str(store)!r} failed: {exc}") from exc
    finally:
        source.close()
    copy.close()
    return _check(target)


def restore(backup_file: Path, store: Path) -> BackupInfo:
    """Replace the contents of ``store`` with ``backup_file`` (checked first)."""
    info = _check(backup_file)
    store.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    target = sqlite3.connect(store, timeout=30)
    try:
        target.execute("PRAGMA journal_mode=WAL")
        source.backup(target)  # one step: readers see the old store or the restored one
    except sqlite3.Error as exc:
        raise StoreError(f"restoring {str(backup_file)!r} failed: {exc}") from exc
    finally:
        source.close()
        target.close()
    return BackupInfo(store, info.bytes, info.sessions, info.cached_evals, info.schema)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="script/backup",
        description="Copy the store with SQLite's online backup API (safe while the app "
                    "runs), or restore a copy.")
    parser.add_argument("dest", nargs="?", type=Path,
                        help="where to write the copy (default: backups/ beside the store)")
    parser.add_argument("--restore", type=Path, metavar="FILE",
                        help="copy FILE into the store instead")
    parser.add_argument("--store", type=Path,
                        help=f"the store (default: $CHESSAPP_DATA_DIR/{DB_NAME})")
    args = parser.parse_args(argv)
    try:
        store = args.store if args.store is not None else data_dir() / DB_NAME
        if args.restore is not None:
            info = restore(args.restore, store)
            verb = f"restored {args.restore} into"
        else:
            info = backup(store, args.dest)
            verb = f"backed up {store} to"
    except StoreError as exc:
        print(f"script/backup: {exc}", file=sys.stderr)
        return 2
    print(f"{verb} {info.path}: {info.bytes:,} bytes, {info.sessions} sessions, "
          f"{info.cached_evals} cached evals, schema {info.schema}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
