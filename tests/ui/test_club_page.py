"""AppTest: the analysis page for many visitors (issue 15): only your own sessions are
listed, someone else's shared link opens read-only, "Save a copy" makes it yours, the
per-visitor cap is a clear message, and one position can be asked about at once.

AppTest runs no JavaScript, so the page's owner is the tab's provisional owner; the
sessions of "someone else" are saved here straight into the Store.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from chessapp import jobs, owners, scheduler
from chessapp import session as model
from chessapp.errors import StoreFull
from chessapp.games import read_game
from chessapp.store import Store
from chessapp.ui import widgets
from chessapp.ui.state import AnalysisKeys as K
from tests.ui.test_analysis_page import (
    SHORT,
    board_fen,
    errors,
    fresh,
    go_to_ply,
    no_exception,
    paste,
)

SOMEONE = owners.browser_owner(owners.new_owner_token())


@pytest.fixture
def data_dir(isolated_data_dir: Path) -> Path:
    return isolated_data_dir


def someone_elses(name: str = "Someone's study") -> str:
    session = model.AnalysisSession(read_game(SHORT), name=name)
    return session.save(Store(), owner=SOMEONE)


def listed_names(at: AppTest) -> list[str]:
    """Names in the saved-sessions list (drawn with st.text)."""
    return [t.value.removeprefix("▸ ") for t in at.text]


def test_the_list_shows_only_your_own_sessions(data_dir: Path) -> None:
    someone_elses("Not yours")
    at = fresh()
    no_exception(at)
    assert listed_names(at) == []
    at = paste(at, SHORT)
    assert listed_names(at) == ["Anna – Boris"]
    assert len(Store().all_sessions()) == 2


def test_a_shared_link_opens_read_only_and_save_a_copy_makes_it_yours(data_dir: Path) -> None:
    theirs = someone_elses()
    at = fresh({"session": theirs})
    no_exception(at)
    assert board_fen(at)  # the board element is on the page
    notice = [i.value for i in at.info if "belongs to someone else" in i.value]
    assert len(notice) == 1 and "Save a copy" in notice[0]
    assert at.button(key=K.RENAME_BUTTON).disabled
    assert at.text_input(key=K.RENAME).disabled
    assert listed_names(at) == []  # someone else's session is not in your list
    # Exploring works, in memory: the stored session does not change.
    before = Store().load_session(theirs)
    at.text_input(key=K.SAN).set_value("Nf3")
    at = at.button(key=K.SAN_BUTTON).click().run()
    no_exception(at)
    assert errors(at) == []
    assert at.query_params["ply"] == "1"
    assert Store().load_session(theirs) == before
    # Save a copy: a session of your own, with the explored move in it.
    at = at.button(key=K.SAVE_COPY).click().run()
    no_exception(at)
    mine = at.query_params["session"]
    assert mine != theirs
    assert listed_names(at) == ["Someone's study (copy)"]
    copy = Store().load_session(mine)
    assert copy.owner is not None and copy.owner != SOMEONE
    assert "Nf3" in copy.pgn and "Nf3" not in before.pgn
    assert not at.button(key=K.RENAME_BUTTON).disabled
    assert not [i for i in at.info if "belongs to someone else" in i.value]
    assert Store().load_session(theirs) == before


@pytest.fixture
def tiny_cap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process scheduler with a cap of 3 positions per visitor."""
    monkeypatch.setattr(scheduler, "_shared", scheduler.FairScheduler(2, max_queued=3))
    yield


@pytest.mark.engine
def test_reaching_the_queue_cap_is_a_clear_message(data_dir: Path, tiny_cap: None) -> None:
    at = paste(fresh(), SHORT)
    at.number_input(key=K.LIMIT_VALUE).set_value(2000)
    at = at.button(key=K.RUN).click().run()
    no_exception(at)
    assert errors(at) == [
        "Cannot start the analysis: you already have 0 positions waiting for the engines and "
        "this would add 8; one visitor may have at most 3 at once. Wait for an analysis to "
        "finish, or cancel one, and try again"]


@pytest.mark.engine
def test_ask_the_engine_about_one_position(data_dir: Path) -> None:
    at = paste(fresh(), SHORT)
    at.number_input(key=K.LIMIT_VALUE).set_value(2000)
    go_to_ply(at, 6)  # before 4. Qxf7#
    at = at.button(key=K.PROBE).click().run()
    no_exception(at)
    answers = [t.value for t in at.text if t.value.startswith("Ply")]
    assert answers == ["Ply 6 (3… Nf6): engine #1, best Qxf7# (nodes=2000)"]


@pytest.mark.parametrize("text", [
    "https://evil.example/x", "see www.evil.example now", "mallory@evil.example",
    "[a](https://evil.example)", "**b** _i_ `c` # h > q - l", ":red[x] :material/home:",
    "<a href='https://evil.example'>a</a>", "``tick`` `x", "mailto:m@evil.example",
])
def test_plain_leaves_nothing_for_markdown_to_link_or_format(text: str) -> None:
    out = widgets.plain(text)
    # Outside code spans (shown literally), every mark is escaped and nothing can autolink.
    outside = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", out)
    assert not re.search(r"(?i)://|www\.|@", outside), out
    assert not re.search(r"(?<!\\)[*_\[\]<>#:`]", outside.replace("\\\\", "")), out


def test_a_full_store_says_so_and_the_page_keeps_working(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHESSAPP_MAX_STORE_MB", "1")
    at = paste(fresh(), SHORT)  # saved while there is room
    assert listed_names(at) == ["Anna – Boris"]
    with Store() as store:  # the operator fills the store to its cap, big rows then small
        for size in (300, 1):
            with pytest.raises(StoreFull):
                for i in range(100_000):
                    store.save_session(f"filler {size} {i}", "1. e4 e5 *" * size, {})
    at = paste(at, '[White "Carl"]\n[Black "Dora"]\n\n1. d4 d5 *\n')
    no_exception(at)
    assert any(e.startswith("Not saved: The server's storage is full, so nothing new can be "
                            "saved: what is already saved is still served") for e in errors(at))
    # The new game opened anyway (in this tab), and what was saved is still listed.
    assert board_fen(at)  # the board element is on the page
    assert listed_names(at) == ["Anna – Boris"]


@pytest.mark.engine
def test_a_waiting_analysis_shows_its_place_in_the_queue(data_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    shared = scheduler.FairScheduler(1, reserved=0)
    monkeypatch.setattr(scheduler, "_shared", shared)
    at = paste(fresh(), SHORT)
    at.number_input(key=K.LIMIT_VALUE).set_value(2000)
    # Another visitor holds the only engine, and has more queued behind it.
    other = shared.acquire("someone else", scheduler.Priority.BACKGROUND)
    try:
        at = at.button(key=K.RUN).click().run()
        no_exception(at)
        session_id = at.query_params["session"]
        job = jobs.JOBS.get(jobs.main_line_key(session_id))
        assert job is not None
        deadline = time.monotonic() + 30
        while job.progress().queue_place != 1:
            assert time.monotonic() < deadline, job.progress()
            time.sleep(0.01)
        at.run()
        assert [c.value for c in at.caption if "in the queue" in c.value] == [
            "Waiting for the engines, which every visitor shares: you are number 1 in the "
            "queue."]
    finally:
        shared.release(other)
    assert job.join(120) and job.progress().state is jobs.JobState.DONE
    at.run()
    assert not [c.value for c in at.caption if "in the queue" in c.value]
