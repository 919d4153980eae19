"""Two visitors in two Chromium contexts against one ``streamlit run`` (issue 15).

Each browser context is one browser: its own localStorage, so its own owner token.

* each context lists only the sessions it made, also after a reload (the token
  survives in localStorage; the server stores only its hash);
* A's shared link opens read-only in B: B steps and explores (in memory, nothing
  saved), cannot rename (the button is refused, the Store unchanged), has no
  delete button for it, and "Save a copy" gives B a session of B's own;
* the copy is B's: listed for B only, and A's original is untouched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chessapp.store import DB_NAME, Store
from tests.e2e.conftest import (
    Server,
    current_session,
    load_pgn,
    open_analysis,
    start_server,
    wait_for_new_session,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e

ANNA = ('[Event "Club night"]\n[White "Anna"]\n[Black "Boris"]\n\n'
        "1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n")
CARL = '[White "Carl"]\n[Black "Dora"]\n\n1. d4 d5 2. c4 *\n'
STORAGE_KEY = "chessapp.owner"  # the localStorage key of the owner element


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("club-data")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("club-log"), {"CHESSAPP_DATA_DIR": str(data_dir)})
    try:
        yield srv
    finally:
        srv.stop()


def new_visitor(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    return context, context.new_page()


def token_of(page: Any) -> str:
    page.wait_for_function(f"() => !!window.localStorage.getItem('{STORAGE_KEY}')")
    return str(page.evaluate(f"() => window.localStorage.getItem('{STORAGE_KEY}')"))


def owner_of(token: str) -> str:
    return "browser:" + hashlib.sha256(token.encode()).hexdigest()


def listed(page: Any) -> list[str]:
    """Session names in the saved-sessions list (each an st.text beside an Open button)."""
    rows = page.locator("[data-testid='stHorizontalBlock']:has(button:has-text('Open'))")
    names = []
    for i in range(rows.count()):
        names.append(rows.nth(i).locator("[data-testid='stText']").first.inner_text()
                     .removeprefix("▸ ").strip())
    return names


def test_two_browsers_own_their_sessions_and_share_read_only(
        browser: Any, server: Server, data_dir: Path) -> None:
    store_path = data_dir / DB_NAME
    a_context, a = new_visitor(browser)
    b_context, b = new_visitor(browser)
    try:
        # A and B each load a game: each lists only their own.
        open_analysis(a, server)
        a_token = token_of(a)
        anna = load_pgn(a, ANNA)
        open_analysis(b, server)
        b_token = token_of(b)
        assert a_token != b_token and len(a_token) >= 43
        carl = load_pgn(b, CARL)
        assert listed(a) == ["Anna – Boris"]
        assert listed(b) == ["Carl – Dora"]
        with Store(store_path) as store:
            assert store.load_session(anna).owner == owner_of(a_token)
            assert store.load_session(carl).owner == owner_of(b_token)
            assert a_token not in str(store.load_session(anna))  # only the hash is stored

        # After a reload (a new server session) A still owns and lists its session.
        open_analysis(a, server)
        assert token_of(a) == a_token
        a.get_by_text("Anna – Boris").first.wait_for()
        assert listed(a) == ["Anna – Boris"]

        # B opens A's link: read-only.
        open_analysis(b, server, f"?session={anna}")
        b.locator(".c13b").wait_for()
        wait_until_idle(b)
        notice = b.locator(".st-key-analysis-read-only")
        notice.wait_for()
        assert "belongs to someone else" in notice.inner_text()
        assert b.get_by_role("button", name="Rename").is_disabled()
        assert b.get_by_label("Session name").is_disabled()
        assert listed(b) == ["Carl – Dora"]  # A's session is not in B's list
        assert b.locator(f".st-key-analysis-sessions-delete-{anna}").count() == 0
        with Store(store_path) as store:
            before = store.load_session(anna)
        # B explores: a move in the SAN box, in memory only.
        b.get_by_label("Play a move (SAN)").fill("Nf3")
        b.get_by_role("button", name="Play move", exact=True).click()
        b.wait_for_function("() => new URLSearchParams(location.search).get('ply') === '1'")
        wait_until_idle(b)
        assert b.locator("[data-testid='stAlertContentError']").count() == 0
        with Store(store_path) as store:
            assert store.load_session(anna) == before

        # Save a copy: B's own session, with B's exploration in it.
        b.get_by_role("button", name="Save a copy").click()
        copy = wait_for_new_session(b, anna)
        wait_until_idle(b)
        b.get_by_text("Saved as a new session of your own.").wait_for()
        assert sorted(listed(b)) == ["Anna – Boris (copy)", "Carl – Dora"]
        assert not b.get_by_role("button", name="Rename").is_disabled()
        assert b.locator(".st-key-analysis-read-only").count() == 0
        with Store(store_path) as store:
            saved = store.load_session(copy)
            assert saved.owner == owner_of(b_token)
            assert "Nf3" in saved.pgn
            assert store.load_session(anna) == before
        # A never sees B's copy.
        open_analysis(a, server)
        a.get_by_text("Anna – Boris").first.wait_for()
        assert listed(a) == ["Anna – Boris"]
        assert current_session(a) is None
    finally:
        a_context.close()
        b_context.close()
