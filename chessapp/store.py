"""SQLite storage: the analysis cache and saved sessions.

One file, ``chessapp.sqlite3`` in :func:`data_dir`, in WAL mode. Every write is
its own transaction, so when the server is killed in the middle of an
analysis every position already finished is on disk, and a restarted
analysis starts where it stopped (issue 6, "Crashes and data").

The cache key is (FEN, engine identity key, limit key, multipv): exactly what
a result depends on, since :class:`chessapp.engine.EnginePool` sends
``ucinewgame`` and the bare position before each search.

A data file that SQLite cannot read is moved aside (renamed to
``chessapp.sqlite3.corrupt-<timestamp>``), a fresh one is started, and
:attr:`Store.recovered_from` says what happened so the UI can tell the user.
Nothing else in the data directory is touched.

Session ids are random url-safe tokens (128 bits); names are only data. Neither
ever becomes part of a filesystem path.

Ownership (issue 15). Every session has an ``owner``: ``"browser:<sha256 of the
browser's token>"``, ``"oidc:<issuer>#<subject>"`` or :data:`LOCAL_OWNER` for
sessions made outside the web page (the CLI, scripts, tests); see
:mod:`chessapp.owners`. Anyone holding a session's id may read it (a shared link);
only its owner may change, rename or delete it, and this module refuses anyone
else with :class:`~chessapp.errors.NotYourSession`, whatever the page does.
Sessions saved before schema 2 have no owner (``NULL``): they belong to nobody,
stay readable by their link, are listed to nobody, and "Save a copy" gives a
visitor a session of their own (README, "Running it for a club").

A full disk, or a store at its size cap (``CHESSAPP_MAX_STORE_MB``, enforced
with SQLite's ``max_page_count``), is :class:`~chessapp.errors.StoreFull`:
the write is rolled back whole, so the file stays consistent and everything
already in it is still served. A cache write that does not fit is dropped
with a log line (the result is still shown; it is only not cached).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import chess

from chessapp.errors import (
    BadInput,
    LimitExceeded,
    NotYourSession,
    SessionNotFound,
    StoreError,
    StoreFull,
)
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.owners import LOCAL_OWNER
from chessapp.settings import MAX_SESSIONS_PER_OWNER

__all__ = ["DB_NAME", "LOCAL_OWNER", "SCHEMA_VERSION", "SavedSession", "SessionInfo", "Store",
           "data_dir"]

log = logging.getLogger(__name__)

DB_NAME = "chessapp.sqlite3"
#: Bumped with every schema change; stored in ``PRAGMA user_version``.
#: 1: evals and sessions. 2: sessions.owner (issue 15); rows of 1 keep owner NULL.
SCHEMA_VERSION = 2
#: Bytes in a session id: 16 random bytes are 128 bits, unguessable (issue 15).
SESSION_ID_BYTES = 16
#: Longest session name accepted (it is shown in lists, not used as a path).
MAX_NAME_LENGTH = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evals (
    fen     TEXT NOT NULL,
    engine  TEXT NOT NULL,
    lim     TEXT NOT NULL,
    multipv INTEGER NOT NULL,
    lines   TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (fen, engine, lim, multipv)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    pgn      TEXT NOT NULL,
    settings TEXT NOT NULL,
    analysis TEXT,
    created  REAL NOT NULL,
    updated  REAL NOT NULL,
    owner    TEXT
);
CREATE INDEX IF NOT EXISTS sessions_by_owner ON sessions (owner, updated);
"""

#: From schema 1 to 2: the owner column; existing sessions keep NULL (nobody's).
_MIGRATE_1_TO_2 = """
ALTER TABLE sessions ADD COLUMN owner TEXT;
CREATE INDEX IF NOT EXISTS sessions_by_owner ON sessions (owner, updated);
"""

#: SQLite result codes that mean "this file is not a usable database".
_CORRUPT_CODES = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
#: SQLite result codes that mean "no room": a full disk, a file-size limit, max_page_count.
_FULL_CODES = {"SQLITE_FULL", "SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSTAT", "SQLITE_IOERR_TRUNCATE",
               "SQLITE_IOERR"}
#: ``CHESSAPP_MAX_STORE_MB``: the store's size cap, default 2 GiB (README, "Limits").
MAX_STORE_ENV = "CHESSAPP_MAX_STORE_MB"
DEFAULT_MAX_STORE_MB = 2048


def max_store_bytes() -> int:
    """The store's size cap in bytes, from ``CHESSAPP_MAX_STORE_MB`` (default 2 GiB)."""
    raw = os.environ.get(MAX_STORE_ENV, "").strip()
    try:
        mb = int(raw) if raw else DEFAULT_MAX_STORE_MB
    except ValueError:
        log.warning("%s=%r is not a number; using %d", MAX_STORE_ENV, raw, DEFAULT_MAX_STORE_MB)
        mb = DEFAULT_MAX_STORE_MB
    return max(1, mb) * 1024 * 1024


def _is_full(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", None)
    text = str(exc).lower()
    return name in _FULL_CODES or "full" in text or "disk i/o error" in text

def data_dir() -> Path:
    """``$CHESSAPP_DATA_DIR``, else ``$XDG_DATA_HOME/chessapp``, else ``~/.local/share/chessapp``.

    Created on demand; :class:`StoreError` if that is impossible.
    """
    env = os.environ.get("CHESSAPP_DATA_DIR", "").strip()
    if env:
        path = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "").strip()
        base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
        path = base / "chessapp"
    _make_dir(path)
    return path


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the data directory {str(path)!r}: {exc.strerror or exc}. "
            "Set CHESSAPP_DATA_DIR to a writable folder.") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise StoreError(f"the data directory {str(path)!r} is not writable. "
                         "Set CHESSAPP_DATA_DIR to a writable folder.")


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A saved session as listed (without its PGN and analysis)."""

    id: str
    name: str
    created: datetime
    updated: datetime
    has_analysis: bool


@dataclass(frozen=True, slots=True)
class SavedSession:
    """A saved session: the game, the settings it was analysed with, and the analysis."""

    id: str
    name: str
    pgn: str
    settings: dict[str, Any]
    analysis: dict[str, Any] | None
    created: datetime
    updated: datetime
    #: Who may change it; ``None`` for a session from before owners (nobody's, read-only).
    owner: str | None = None

    def owned_by(self, owner: str | None) -> bool:
        return owner is not None and self.owner == owner


def _lines_to_json(result: PositionEval) -> str:
    return json.dumps([
        {
            "cp": line.eval.cp,
            "mate": line.eval.mate,
            "mated": line.eval.mated,
            "pv": [move.uci() for move in line.pv],
            "depth": line.depth,
            "nodes": line.nodes,
        }
        for line in result.lines
    ], separators=(",", ":"))


def _lines_from_json(text: str) -> tuple[EngineLine, ...]:
    return tuple(
        EngineLine(
            eval=WhiteEval.from_json(item),
            pv=tuple(chess.Move.from_uci(uci) for uci in item["pv"]),
            depth=item.get("depth"),
            nodes=item.get("nodes"),
        )
        for item in json.loads(text)
    )


def _timestamp(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def _clean_name(name: object) -> str:
    if not isinstance(name, str):
        raise BadInput("a session name must be text")
    name = name.strip()
    if not name:
        raise BadInput("a session needs a name")
    if len(name) > MAX_NAME_LENGTH:
        raise BadInput(f"a session name may have at most {MAX_NAME_LENGTH} characters")
    return name


def _dump(value: dict[str, Any] | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"the session {what} cannot be saved as JSON: {exc}") from exc


class Store:
    """The app's SQLite file: an :class:`chessapp.analysis.EvalCache` plus saved sessions.

    Thread-safe: one connection guarded by a lock (every statement is short,
    and Streamlit sessions live in threads of one process). Other processes
    may open the same file; WAL lets their readers and our writer overlap.
    """

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            path = data_dir() / DB_NAME
        else:
            _make_dir(path.parent)
        self.path = path
        #: A message for people when an unreadable file was moved aside at open.
        self.recovered_from: str | None = None
        #: A message for people once a write did not fit (full disk or size cap).
        self.full: str | None = None
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if not self._is_unusable(exc):
                raise StoreError(f"cannot open {str(path)!r}: {exc}") from exc
            moved = self._move_aside()
            self.recovered_from = (
                f"The data file {str(path)!r} could not be read ({exc}); it was moved to "
                f"{str(moved)!r} and a fresh one was started. Cached analyses and saved "
                "sessions in it are not available.")
            log.error("%s", self.recovered_from)
            try:
                self._conn = self._open()
            except sqlite3.DatabaseError as again:
                raise StoreError(f"cannot open {str(path)!r}: {again}") from again

    # -- opening --

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        try:
            # Reading the schema is what fails on a file that is not a database.
            conn.execute("PRAGMA quick_check(1)").fetchone()
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{str(self.path)!r} was written by a newer chessapp (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}); upgrade, or set CHESSAPP_DATA_DIR "
                    "to another folder.")
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (not a power cut): enough here.
            conn.execute("PRAGMA synchronous=NORMAL")
            if version < SCHEMA_VERSION:
                conn.execute("BEGIN IMMEDIATE")
                # A file of schema 1 is migrated (its sessions keep owner NULL); an empty
                # one gets the whole schema. Statement by statement: executescript()
                # would commit on its own.
                script = _MIGRATE_1_TO_2 if version == 1 else _SCHEMA
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
                if version == 1:
                    log.info("store %s upgraded to schema %d: earlier sessions are read-only",
                             self.path, SCHEMA_VERSION)
            page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            conn.execute(f"PRAGMA max_page_count = {max(1, max_store_bytes() // page_size)}")
            check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _is_unusable(self, exc: sqlite3.DatabaseError) -> bool:
        """Corrupt, not a database, or unreadable by us (but not merely locked)."""
        if getattr(exc, "sqlite_errorname", None) in _CORRUPT_CODES:
            return True
        if "integrity check failed" in str(exc) or "not a database" in str(exc):
            return True
        return self.path.exists() and not os.access(self.path, os.R_OK | os.W_OK)

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            self.path.rename(target)
            # The WAL and shared-memory files belong to the broken file: keep them beside it
            # (SQLite finds "<name>-wal" next to the moved copy) and out of the fresh one.
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    side.rename(target.with_name(target.name + suffix))
        except OSError as exc:
            raise StoreError(f"the data file {str(self.path)!r} is unreadable and could not be "
                             f"moved aside: {exc.strerror or exc}") from exc
        return target

    # -- plumbing --

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed on success, rolled back on error."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if _is_full(exc):
                    self.full = (
                        "The server's storage is full, so nothing new can be saved: what is "
                        "already saved is still served, and this change is kept in your "
                        "browser tab only. Tell the server's operator "
                        f"(the store {self.path.name} needs room, or a higher "
                        f"{MAX_STORE_ENV}).")
                    log.error("store full: %s (%s)", self.path, exc)
                    raise StoreFull(self.full) from exc
                raise StoreError(f"cannot write to {str(self.path)!r}: {exc}") from exc
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._connection().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read {str(self.path)!r}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            raise StoreError("the store is closed")
        return conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the analysis cache (chessapp.analysis.EvalCache) --

    def get_eval(self, fen: str, engine: EngineIdentity, limit: SearchLimit,
                 multipv: int) -> PositionEval | None:
        rows = self._read(
            "SELECT lines FROM evals WHERE fen = ? AND engine = ? AND lim = ? AND multipv = ?",
            (fen, engine.key(), limit.key(), multipv))
        if not rows:
            return None
        try:
            lines = _lines_from_json(rows[0][0])
        except (ValueError, KeyError, TypeError) as exc:
            # A damaged row is a cache miss: the engine recomputes and put_eval overwrites it.
            log.warning("ignoring an unreadable cache row for %s: %r", fen, exc)
            return None
        return PositionEval(fen, lines, engine, limit)

    def get_eval_covering(self, fen: str, engine: EngineIdentity, limit: SearchLimit,
                          multipv: int, *, at_most: int | None = None) -> PositionEval | None:
        """The cached node-limited result of this position and settings with the smallest
        budget >= ``limit.nodes`` (and <= ``at_most``), or None. Used only by callers that
        accept a deeper result than they asked for (``chessapp.adaptive.DeeperResultsCache``);
        ``get_eval`` stays exact, which keeps same-settings output byte-identical.
        """
        if limit.nodes is None:
            return self.get_eval(fen, engine, limit, multipv)
        rows = self._read(
            "SELECT lim, lines FROM evals WHERE fen = ? AND engine = ? AND multipv = ? "
            "AND lim LIKE 'nodes=%'", (fen, engine.key(), multipv))
        covering: list[tuple[int, str]] = []
        for lim, lines in rows:
            try:
                budget = SearchLimit.parse(lim).nodes
            except ValueError:
                continue
            if budget is not None and budget >= limit.nodes and (
                    at_most is None or budget <= at_most):
                covering.append((budget, lines))
        for budget, lines in sorted(covering):
            try:
                return PositionEval(fen, _lines_from_json(lines), engine,
                                    SearchLimit(nodes=budget))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring an unreadable cache row for %s: %r", fen, exc)
        return None

    def put_eval(self, result: PositionEval, multipv: int) -> None:
        """Cache a result; when the store is full the result is only not cached (logged)."""
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO evals (fen, engine, lim, multipv, lines, created) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (result.fen, result.engine.key(), result.limit.key(), multipv,
                     _lines_to_json(result), time.time()))
        except StoreFull:
            log.warning("eval for %s not cached: the store is full", result.fen)

    def cached_evals(self) -> int:
        """How many positions the cache holds."""
        return int(self._read("SELECT count(*) FROM evals")[0][0])

    # -- sessions --

    def save_session(self, name: str, pgn: str, settings: dict[str, Any],
                     analysis: dict[str, Any] | None = None, *,
                     owner: str = LOCAL_OWNER) -> str:
        """Save a new session owned by ``owner``; returns its id (128 random bits, url-safe).

        Refused with :class:`~chessapp.errors.LimitExceeded` when ``owner`` (a visitor,
        not :data:`LOCAL_OWNER`) already has :data:`chessapp.settings.MAX_SESSIONS_PER_OWNER`.
        """
        clean = _clean_name(name)
        if not isinstance(pgn, str):
            raise BadInput("a session's PGN must be text")
        owner = _clean_owner(owner)
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        now = time.time()
        with self._write() as conn:
            # The operator's own sessions (the CLI, scripts) are not capped; visitors are.
            count = 0 if owner == LOCAL_OWNER else int(conn.execute(
                "SELECT count(*) FROM sessions WHERE owner = ?", (owner,)).fetchone()[0])
            if count >= MAX_SESSIONS_PER_OWNER:
                raise LimitExceeded(
                    f"you have {count:,} saved sessions, the most one visitor may keep "
                    f"({MAX_SESSIONS_PER_OWNER:,}); delete some to save new ones")
            conn.execute(
                "INSERT INTO sessions (id, name, pgn, settings, analysis, created, updated, "
                "owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, clean, pgn, _dump(settings, "settings"), _dump(analysis, "analysis"),
                 now, now, owner))
        return session_id

    def _check_owner(self, conn: sqlite3.Connection, session_id: str, owner: str) -> None:
        row = conn.execute("SELECT owner FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise SessionNotFound(session_id)
        if row[0] is None or row[0] != owner:
            raise NotYourSession(session_id)

    def update_session(self, session_id: str, *, pgn: str | None = None,
                       settings: dict[str, Any] | None = None,
                       analysis: dict[str, Any] | None = None, name: str | None = None,
                       owner: str = LOCAL_OWNER) -> None:
        """Change the given fields (``None`` leaves a field as it is); ``owner``'s only."""
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = _clean_name(name)
        if pgn is not None:
            changes["pgn"] = pgn
        if settings is not None:
            changes["settings"] = _dump(settings, "settings")
        if analysis is not None:
            changes["analysis"] = _dump(analysis, "analysis")
        changes["updated"] = time.time()
        # Column names come from the fixed keys above, never from the caller.
        assignments = ", ".join(f"{column} = ?" for column in changes)
        with self._write() as conn:
            self._check_owner(conn, session_id, owner)
            conn.execute(f"UPDATE sessions SET {assignments} WHERE id = ?",  # noqa: S608
                         (*changes.values(), session_id))

    def rename_session(self, session_id: str, name: str, *, owner: str = LOCAL_OWNER) -> None:
        self.update_session(session_id, name=name, owner=owner)

    def load_session(self, session_id: str) -> SavedSession:
        """Anyone holding the id may read a session (a shared link); see :attr:`owner`."""
        rows = self._read(
            "SELECT id, name, pgn, settings, analysis, created, updated, owner FROM sessions "
            "WHERE id = ?", (session_id,))
        if not rows:
            raise SessionNotFound(session_id)
        sid, name, pgn, settings, analysis, created, updated, owner = rows[0]
        return SavedSession(
            id=sid, name=name, pgn=pgn, settings=json.loads(settings),
            analysis=None if analysis is None else json.loads(analysis),
            created=_timestamp(created), updated=_timestamp(updated), owner=owner)

    def list_sessions(self, owner: str = LOCAL_OWNER) -> list[SessionInfo]:
        """``owner``'s saved sessions, most recently updated first."""
        rows = self._read(
            "SELECT id, name, created, updated, analysis IS NOT NULL FROM sessions "
            "WHERE owner = ? ORDER BY updated DESC, created DESC, id", (owner,))
        return [SessionInfo(sid, name, _timestamp(created), _timestamp(updated), bool(has))
                for sid, name, created, updated, has in rows]

    def all_sessions(self) -> list[SessionInfo]:
        """Every saved session, whoever owns it: for the operator (scripts, tests), not pages."""
        rows = self._read(
            "SELECT id, name, created, updated, analysis IS NOT NULL FROM sessions "
            "ORDER BY updated DESC, created DESC, id")
        return [SessionInfo(sid, name, _timestamp(created), _timestamp(updated), bool(has))
                for sid, name, created, updated, has in rows]

    def transfer_sessions(self, from_owner: str, to_owner: str) -> int:
        """Give every session of ``from_owner`` to ``to_owner``; returns how many.

        The page uses it once a browser's stored token arrives: sessions saved in the
        first moments under the tab's provisional owner (a secret of that tab alone)
        become the browser's. Sessions of nobody (schema 1) are never transferred.
        """
        source, target = _clean_owner(from_owner), _clean_owner(to_owner)
        with self._write() as conn:
            return int(conn.execute("UPDATE sessions SET owner = ? WHERE owner = ?",
                                    (target, source)).rowcount)

    def delete_session(self, session_id: str, *, owner: str = LOCAL_OWNER) -> None:
        with self._write() as conn:
            self._check_owner(conn, session_id, owner)
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- backup --

    def backup_to(self, target: Path) -> None:
        """Copy the whole store to ``target`` with SQLite's online backup API.

        Safe while the app runs: the copy is a consistent snapshot (the backup
        restarts itself if a write lands meanwhile). ``target`` must not exist.
        """
        if target.exists():
            raise StoreError(f"{str(target)!r} exists; a backup never overwrites a file")
        _make_dir(target.parent)
        dest = sqlite3.connect(target)
        try:
            with self._lock:
                self._connection().backup(dest, pages=1024)
        except sqlite3.Error as exc:
            dest.close()
            target.unlink(missing_ok=True)
            raise StoreError(f"the backup to {str(target)!r} failed: {exc}") from exc
        dest.close()


def _clean_owner(owner: object) -> str:
    if not isinstance(owner, str) or not owner.strip() or len(owner) > 300:
        raise BadInput("a session owner must be a short, non-empty text")
    return owner
