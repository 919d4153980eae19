"""Whose session is it (issue 15): owners, read-only sessions, the schema upgrade, caps.

Everything here is the Store API and the session model, so the rules hold whatever a
page does: only the owner changes, renames or deletes a session; anyone with the id
reads it; sessions from before owners belong to nobody.
"""

from __future__ import annotations

import base64
import io
import sqlite3
import threading
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp import jobs, owners
from chessapp import session as S
from chessapp import settings as cfg
from chessapp.errors import BadInput, LimitExceeded, NotYourSession, SessionNotFound
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval
from chessapp.store import DB_NAME, LOCAL_OWNER, SCHEMA_VERSION, Store

ALICE = owners.browser_owner(owners.new_owner_token())
BOB = owners.browser_owner(owners.new_owner_token())
SHORT = "1. e4 e5 2. Nf3 *"


def read(text: str) -> chess.pgn.Game:
    game = chess.pgn.read_game(io.StringIO(text))
    assert game is not None
    return game


# --- Tokens and owners -------------------------------------------------------------------------


def test_browser_tokens_and_session_ids_carry_at_least_128_random_bits(
        isolated_data_dir: Path) -> None:
    tokens = {owners.new_owner_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert owners.is_owner_token(token)
        assert len(base64.urlsafe_b64decode(token + "=")) * 8 >= 128
    with Store() as store:
        ids = {store.save_session(f"s{i}", "*", {}, owner=ALICE) for i in range(50)}
    assert len(ids) == 50
    for session_id in ids:
        assert len(base64.urlsafe_b64decode(session_id + "==")) * 8 >= 128


@pytest.mark.parametrize("value", ["", "short", "x" * 42, "a" * 43 + "!", None, 12,
                                   "<script>" + "a" * 40])
def test_what_is_not_a_token_is_refused(value: object) -> None:
    assert not owners.is_owner_token(value)
    if isinstance(value, str):
        with pytest.raises(ValueError):
            owners.browser_owner(value)


def test_the_store_keeps_a_hash_of_the_token_never_the_token() -> None:
    token = owners.new_owner_token()
    owner = owners.browser_owner(token)
    assert owner.startswith("browser:") and token not in owner
    assert owner == owners.browser_owner(token)  # stable: the same browser, the same owner
    assert owner != owners.browser_owner(owners.new_owner_token())


@pytest.mark.parametrize(("claims", "owner"), [
    pytest.param({"sub": "1234", "iss": "https://accounts.example", "email": "a@b.c"},
                 "oidc:https://accounts.example#1234", id="sub and issuer"),
    pytest.param({"sub": "1234"}, "oidc:-#1234", id="sub alone"),
    pytest.param({"email": "Ann@Club.Example"}, "oidc:email:ann@club.example", id="email"),
    pytest.param({"name": "Ann"}, None, id="no stable claim"),
    pytest.param({"sub": "  "}, None, id="blank sub"),
])
def test_signed_in_owner_from_claims(claims: dict[str, object], owner: str | None) -> None:
    assert owners.oidc_owner(claims) == owner


# --- The Store enforces ownership ------------------------------------------------------------


def test_each_owner_lists_only_their_own_sessions(isolated_data_dir: Path) -> None:
    with Store() as store:
        a = store.save_session("Alice's", SHORT, {}, owner=ALICE)
        b = store.save_session("Bob's", SHORT, {}, owner=BOB)
        assert [s.id for s in store.list_sessions(ALICE)] == [a]
        assert [s.id for s in store.list_sessions(BOB)] == [b]
        assert store.list_sessions(owners.browser_owner(owners.new_owner_token())) == []
        assert {s.id for s in store.all_sessions()} == {a, b}
        # Anyone with the id reads it (a shared link), and sees who owns it.
        loaded = store.load_session(a)
        assert (loaded.owner, loaded.owned_by(ALICE), loaded.owned_by(BOB)) == (
            ALICE, True, False)


@pytest.mark.parametrize("operation", ["update", "rename", "delete"])
def test_nobody_but_the_owner_changes_a_session(isolated_data_dir: Path,
                                                operation: str) -> None:
    with Store() as store:
        a = store.save_session("Alice's", SHORT, {"k": 1}, owner=ALICE)
        before = store.load_session(a)
        for intruder in (BOB, LOCAL_OWNER):
            with pytest.raises(NotYourSession) as info:
                if operation == "update":
                    store.update_session(a, pgn="1. d4 *", analysis={"x": 1}, owner=intruder)
                elif operation == "rename":
                    store.rename_session(a, "mine now", owner=intruder)
                else:
                    store.delete_session(a, owner=intruder)
            assert "Save a copy" in str(info.value)
        assert store.load_session(a) == before
        # The owner may.
        if operation == "delete":
            store.delete_session(a, owner=ALICE)
            with pytest.raises(SessionNotFound):
                store.load_session(a)
        else:
            store.rename_session(a, "renamed", owner=ALICE)
            assert store.load_session(a).name == "renamed"


def test_an_unknown_id_is_not_found_for_everyone(isolated_data_dir: Path) -> None:
    with Store() as store, pytest.raises(SessionNotFound):
        store.delete_session("no-such-id", owner=ALICE)


def test_a_visitor_may_keep_a_bounded_number_of_sessions(
        isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chessapp.store.MAX_SESSIONS_PER_OWNER", 3)
    with Store() as store:
        for i in range(3):
            store.save_session(f"s{i}", "*", {}, owner=ALICE)
        with pytest.raises(LimitExceeded, match=r"you have 3 saved sessions, the most one "
                                                r"visitor may keep \(3\); delete some"):
            store.save_session("one more", "*", {}, owner=ALICE)
        store.save_session("Bob is not affected", "*", {}, owner=BOB)
        store.delete_session(store.list_sessions(ALICE)[0].id, owner=ALICE)
        store.save_session("room again", "*", {}, owner=ALICE)
        assert len(store.list_sessions(ALICE)) == 3


@pytest.mark.parametrize("owner", ["", "  ", "x" * 301])
def test_an_owner_must_be_a_short_text(isolated_data_dir: Path, owner: str) -> None:
    with Store() as store, pytest.raises(BadInput):
        store.save_session("s", "*", {}, owner=owner)


def test_sessions_of_a_provisional_owner_move_to_the_browser(isolated_data_dir: Path) -> None:
    provisional = owners.browser_owner(owners.new_owner_token())
    with Store() as store:
        early = store.save_session("made before the token arrived", "*", {}, owner=provisional)
        other = store.save_session("Bob's", "*", {}, owner=BOB)
        assert store.transfer_sessions(provisional, ALICE) == 1
        assert [s.id for s in store.list_sessions(ALICE)] == [early]
        assert store.load_session(other).owner == BOB


# --- Sessions from before owners (schema 1) ----------------------------------------------------

_SCHEMA_1 = """
CREATE TABLE evals (fen TEXT NOT NULL, engine TEXT NOT NULL, lim TEXT NOT NULL,
    multipv INTEGER NOT NULL, lines TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (fen, engine, lim, multipv)) WITHOUT ROWID;
CREATE TABLE sessions (id TEXT PRIMARY KEY, name TEXT NOT NULL, pgn TEXT NOT NULL,
    settings TEXT NOT NULL, analysis TEXT, created REAL NOT NULL, updated REAL NOT NULL);
INSERT INTO sessions VALUES ('legacy-id-0123456789ab', 'Before the upgrade', '1. e4 e5 *',
    '{"kind": "nodes", "value": 1000}', NULL, 1.0, 2.0);
INSERT INTO evals VALUES ('fen', 'engine', 'lim', 1, '[]', 1.0);
PRAGMA user_version = 1;
"""


def test_upgrading_a_schema_1_store_keeps_everything_and_owns_old_sessions_to_nobody(
        isolated_data_dir: Path) -> None:
    isolated_data_dir.mkdir(parents=True)
    conn = sqlite3.connect(isolated_data_dir / DB_NAME)
    conn.executescript(_SCHEMA_1)
    conn.close()
    with Store() as store:
        assert store.recovered_from is None
        legacy = store.load_session("legacy-id-0123456789ab")
        assert (legacy.name, legacy.pgn, legacy.owner) == (
            "Before the upgrade", "1. e4 e5 *", None)
        assert store.cached_evals() == 1
        # Listed to nobody, changed by nobody (not even the operator's CLI).
        for who in (ALICE, BOB, LOCAL_OWNER):
            assert store.list_sessions(who) == []
            with pytest.raises(NotYourSession):
                store.rename_session(legacy.id, "claimed", owner=who)
            with pytest.raises(NotYourSession):
                store.delete_session(legacy.id, owner=who)
        # It still opens by its link, read-only; "Save a copy" makes it someone's own.
        session = S.AnalysisSession.load(store, legacy.id, read)
        assert session.read_only_for(ALICE) and session.read_only_for(None)
        copy = S.AnalysisSession(session.game, session.settings, name=f"{session.name} (copy)")
        copy_id = copy.save(store, owner=ALICE)
        assert [s.id for s in store.list_sessions(ALICE)] == [copy_id]
        assert store.load_session(legacy.id).name == "Before the upgrade"
    conn = sqlite3.connect(isolated_data_dir / DB_NAME)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        columns = [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]
        assert columns[-1] == "owner"
    finally:
        conn.close()


# --- The session model and jobs for a read-only viewer -----------------------------------------


class InstantEvaluator:
    """Answers at once with a fixed eval (pure: no engine)."""

    identity = EngineIdentity("Instant 1")
    workers = 1

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1
                 ) -> PositionEval:
        move = next(iter(board.legal_moves))
        return PositionEval(board.fen(), (EngineLine(WhiteEval(cp=17), (move,)),),
                            self.identity, limit)


def test_a_session_is_read_only_for_everyone_but_its_owner(isolated_data_dir: Path) -> None:
    with Store() as store:
        session = S.AnalysisSession(read(SHORT))
        assert not session.read_only_for(BOB)  # not saved yet: nothing to protect
        session.save(store, owner=ALICE)
        assert session.owner == ALICE
        assert not session.read_only_for(ALICE)
        assert session.read_only_for(BOB) and session.read_only_for(None)
        assert session.session_id is not None
        opened = S.AnalysisSession.load(store, session.session_id, read)
        assert opened.read_only_for(BOB)
        opened.name = "Bob tries"
        with pytest.raises(NotYourSession):
            opened.save(store, owner=BOB)
        assert store.load_session(session.session_id).name == session.name


def test_a_viewers_analysis_is_their_own_and_saves_nothing(isolated_data_dir: Path) -> None:
    with Store() as store:
        owned = S.AnalysisSession(read(SHORT), cfg.AnalysisSettings(cfg.LimitKind.NODES, 1000,
                                                                    multipv=1))
        owned.save(store, owner=ALICE)
        assert owned.session_id is not None
        viewed = S.AnalysisSession.load(store, owned.session_id, read)
        registry = jobs.JobRegistry()
        # The owner's job is running under the session's key...
        gate = threading.Event()

        class Gated(InstantEvaluator):
            def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1
                         ) -> PositionEval:
                assert gate.wait(30)
                return super().evaluate(board, limit, multipv=multipv)

        mine = jobs.start_main_line_job(owned, Gated(), store, registry, viewer=ALICE)
        # ...and Bob's job on his read-only copy neither replaces nor cancels it.
        his = jobs.start_main_line_job(viewed, InstantEvaluator(), store, registry, viewer=BOB)
        assert his is not mine
        assert registry.get(jobs.main_line_key(owned.session_id)) is mine
        assert registry.get(jobs.main_line_key(owned.session_id,
                                               owners.visitor_label(BOB))) is his
        assert his.join(30) and his.progress().state is jobs.JobState.DONE
        assert store.load_session(owned.session_id).analysis is None  # Bob saved nothing
        gate.set()
        assert mine.join(30) and mine.progress().state is jobs.JobState.DONE
        saved = store.load_session(owned.session_id).analysis
        assert saved is not None and len(saved["plies"]) == 3
