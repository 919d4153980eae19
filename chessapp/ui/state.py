"""Every ``st.session_state`` key of the app, behind typed accessors.

No other module spells a session-state key. Pages and widgets ask this module
for a key (for widgets) or for a value (for everything else), so a typo is an
``AttributeError`` rather than a silently empty state, and the whole state of
the app can be read in one file.

Keys are namespaced by page (``"cafe"``, ``"analysis"``) so the two pages can
use the same widgets without sharing a cursor.

The URL is the source of truth for the ply on a *full* run (a page load, a
deep link, browser Back/Forward): :meth:`PlyCursor.sync_from_url` reads
``?ply=``. Every navigation writes it back with :meth:`PlyCursor.go`, which
Streamlit turns into a ``history.pushState`` so Back lands on the previous
move.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TypeVar

import chess
import streamlit as st

from chessapp import owners
from chessapp.games import GameInfo
from chessapp.jobs import JOBS, AnalysisJob, cafe_key
from chessapp.live import LiveSearch
from chessapp.retro import Attempt, Mistake
from chessapp.session import AnalysisSession
from chessapp.story import StoryTrack
from chessapp.tree import NodePath
from chessapp.view.cafe import CafeView
from chessapp.view.replay import clamp_ply

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The deep-link query parameter: ``?ply=N``.
PLY_PARAM = "ply"


def _get(key: str, default: T) -> T:
    value = st.session_state.get(key, default)
    return value  # type: ignore[no-any-return]


# --- The ply cursor (shared by both pages) ------------------------------------------


@dataclass(frozen=True, slots=True)
class PlyCursor:
    """The current ply of one page's board, kept in session state and the URL.

    ``last`` is the last ply of the line shown; every value is clamped to
    [0, last]. The widget keys below belong to the shared widgets in
    :mod:`chessapp.ui.widgets`.
    """

    page: str
    last: int
    url: bool = True  # mirror the ply in ?ply= (off for a board that is not the page's main one)

    def _key(self, name: str) -> str:
        return f"{self.page}.{name}"


    def graph_key(self, ply: int) -> str:
        # A fresh key per ply gives the chart a fresh selection, so clicking the
        # point that was clicked before (then navigated away from) jumps again.
        return self._key(f"graph.{ply}")


    # Values.
    @property
    def ply(self) -> int:
        return clamp_ply(_get(self._key("ply"), 0), self.last)

    def go(self, ply: int, *, from_board: bool = False) -> None:
        """Move the cursor (clamped) and mirror it in the URL. Safe inside callbacks.

        A move Python makes (a deep link, a click on the graph, "next mistake")
        bumps :attr:`board_seq`, so the board in the browser follows; one the
        board reported (``from_board``) does not, since the board is there already.
        """
        ply = clamp_ply(ply, self.last)
        if not from_board and ply != _get(self._key("ply"), None):
            self.bump_board()
        st.session_state[self._key("ply")] = ply
        if self.url and st.query_params.get(PLY_PARAM) != str(ply):
            st.query_params[PLY_PARAM] = str(ply)

    @property
    def board_seq(self) -> int:
        """Bumped whenever Python moves the cursor: the board element obeys a new seq only."""
        return int(_get(self._key("board_seq"), 0))

    def bump_board(self) -> None:
        st.session_state[self._key("board_seq")] = self.board_seq + 1


    def sync_from_url(self, *, default: int = 0) -> int:
        """On a full run the URL wins: ``?ply=`` (clamped; garbage gives ``default``)."""
        if not self.url:
            return self.ply
        raw = st.query_params.get(PLY_PARAM)
        ply = clamp_ply(raw, self.last, default=default) if raw is not None else (
            clamp_ply(_get(self._key("ply"), default), self.last))
        if ply != _get(self._key("ply"), None):
            self.bump_board()  # a deep link or Back/Forward: the board must follow
        st.session_state[self._key("ply")] = ply
        if raw is not None and raw != str(ply):
            st.query_params[PLY_PARAM] = str(ply)  # ?ply=999 is corrected in the URL too
        return ply


# --- The live engine (both pages) -------------------------------------------------


def live_toggle_key(page: str) -> str:
    return f"{page}.live"


def live_on(page: str) -> bool:
    return bool(st.session_state.get(live_toggle_key(page), False))


def live_search(page: str) -> LiveSearch | None:
    """This tab's live search on ``page``, running or finished."""
    search = st.session_state.get(f"{page}.live_search")
    return search if isinstance(search, LiveSearch) else None


def set_live_search(page: str, search: LiveSearch | None) -> None:
    st.session_state[f"{page}.live_search"] = search


# --- Export block ------------------------------------------------------------------


def export_option_key(page: str, option: str) -> str:
    """The checkbox key of one export option (``evals``, ``narration`` ...) on ``page``."""
    return f"{page}.export.{option}"


def export_button_key(page: str) -> str:
    return f"{page}.export.download"


# --- Who is visiting (chessapp.ui.owner) ---------------------------------------------

#: The owner-token element's key; its state value ``token`` is the browser's stored token.
OWNER_ELEMENT = "owner.element"
SIGN_IN_BUTTON = "owner.sign_in"
SIGN_OUT_BUTTON = "owner.sign_out"
_PROVISIONAL_TOKEN = "owner.provisional"  # noqa: S105 (a session-state key, not a secret)
_HANDED_OVER = "owner.handed_over"


def provisional_owner_token() -> str:
    """This tab's own token: the owner until the browser's stored token arrives (and the
    token a browser without one stores)."""
    token = st.session_state.get(_PROVISIONAL_TOKEN)
    if not owners.is_owner_token(token):
        token = owners.new_owner_token()
        st.session_state[_PROVISIONAL_TOKEN] = token
    return str(token)


def stored_owner_token() -> str | None:
    """The token the browser keeps in localStorage, once the element has reported it."""
    element = st.session_state.get(OWNER_ELEMENT)
    token = None
    if element is not None:
        try:
            token = element.get("token") if hasattr(element, "get") else element["token"]
        except (KeyError, TypeError, AttributeError):
            token = None
    return token if owners.is_owner_token(token) else None


def provisional_handed_over() -> bool:
    return bool(st.session_state.get(_HANDED_OVER, False))


def set_provisional_handed_over() -> None:
    st.session_state[_HANDED_OVER] = True
    st.session_state[_OWNER_ARRIVED] = True


_OWNER_ARRIVED = "owner.arrived"


def pop_owner_arrived() -> bool:
    """True once, on the run after the browser's token arrived: the rerun it caused may
    have interrupted the page's first run, whose widget values must then be set again."""
    return bool(st.session_state.pop(_OWNER_ARRIVED, False))


# --- Café page ---------------------------------------------------------------------

CAFE = "cafe"
CAFE_REANALYSE_BUTTON = "cafe.reanalyse"
CAFE_REANALYSE_NODES = "cafe.reanalyse_nodes"
CAFE_CANCEL_BUTTON = "cafe.cancel"
CAFE_METAPHOR_CHART = "cafe.metaphor"
#: The board element's key: stable, so new data updates it and never re-mounts it.
CAFE_BOARD = "cafe-board"
CAFE_READ_ALOUD = "cafe.read_aloud"
_CAFE_SCROLL_SEQ = "cafe.scroll_seq"
_CAFE_VISITOR = "cafe.visitor"
_CAFE_ADOPTED = "cafe.adopted_job"
_CAFE_LIVE = "cafe.live_view"


def cafe_beat_button_key(beat: str) -> str:
    return f"cafe.beat.{beat}"


def request_cafe_scroll(board_seq: int) -> None:
    """Ask the board to scroll itself into view when it obeys cursor ``board_seq``.

    Set by a click far down the page (a beat card, the metaphor picture), so
    the position shows where the user is looking; a later move of any other
    kind (a new seq) does not scroll.
    """
    st.session_state[_CAFE_SCROLL_SEQ] = board_seq


def cafe_scroll_wanted(board_seq: int) -> bool:
    return st.session_state.get(_CAFE_SCROLL_SEQ) == board_seq


def cafe_read_aloud() -> bool:
    return bool(st.session_state.get(CAFE_READ_ALOUD, False))


def cafe_visitor() -> str:
    """This browser session's key for its café re-analysis in the job registry."""
    visitor = st.session_state.get(_CAFE_VISITOR)
    if not isinstance(visitor, str):
        visitor = secrets.token_urlsafe(16)
        st.session_state[_CAFE_VISITOR] = visitor
    return visitor


def cafe_job() -> AnalysisJob | None:
    """This browser session's re-analysis of the café game, running or finished."""
    return JOBS.get(cafe_key(cafe_visitor()))


def cafe_job_running() -> bool:
    job = cafe_job()
    return job is not None and not job.progress().state.finished


def cafe_adopted_job() -> int | None:
    """``AnalysisJob.seq`` of the re-analysis whose result the page shows."""
    value = st.session_state.get(_CAFE_ADOPTED)
    return value if isinstance(value, int) else None


def set_cafe_adopted_job(seq: int | None) -> None:
    st.session_state[_CAFE_ADOPTED] = seq


def cafe_live_view() -> CafeView | None:
    """The café view over a finished re-analysis; it replaces the shipped evals."""
    view = st.session_state.get(_CAFE_LIVE)
    return view if isinstance(view, CafeView) else None


def set_cafe_live_view(view: CafeView | None) -> None:
    st.session_state[_CAFE_LIVE] = view


# === Analysis page: keys below are owned by the Analysis-page engineer ===============
# --- Analysis page ---
# The page's model (an AnalysisSession from chessapp.session), the line being
# viewed (a NodePath; the ply cursor indexes into it) and the widget keys.

ANALYSIS = "analysis"
#: Shareable URL: ?session=ID (with ?ply=N from the cursor).
SESSION_PARAM = "session"
_ANALYSIS_SESSION = "analysis.session"
_ANALYSIS_LINE = "analysis.line"
_ANALYSIS_PENDING = "analysis.pending"
_ANALYSIS_FLASH = "analysis.flash"
_ANALYSIS_URL_SESSION = "analysis.url_session"


class AnalysisKeys:
    """Widget keys of the analysis page (one place, so tests can find the widgets)."""

    PASTE = "analysis.input.paste"
    PASTE_BUTTON = "analysis.input.paste_load"
    UPLOAD = "analysis.input.upload"
    FEN = "analysis.input.fen"
    FEN_BUTTON = "analysis.input.fen_load"
    PICK_GAME = "analysis.input.pick"
    PICK_BUTTON = "analysis.input.pick_load"
    LIMIT_KIND = "analysis.engine.kind"
    LIMIT_VALUE = "analysis.engine.value"
    MULTIPV = "analysis.engine.multipv"
    ENGINE_PATH = "analysis.engine.path"
    THREADS = "analysis.engine.threads"
    RUN = "analysis.engine.run"
    CANCEL = "analysis.engine.cancel"
    BOARD = "analysis.explore.board"
    SAN = "analysis.explore.san"
    SAN_FORM = "analysis.explore.san_form"
    SAN_BUTTON = "analysis.explore.san_play"
    MAIN_LINE = "analysis.explore.main_line"
    ANALYSE_VARIATION = "analysis.explore.analyse"
    DELETE_VARIATION = "analysis.explore.delete"
    NEXT_MISTAKE_WHITE = "analysis.jump.white"
    NEXT_MISTAKE_BLACK = "analysis.jump.black"
    PROBE = "analysis.engine.probe"
    PROBE_ANSWER = "analysis-probe-answer"
    COPY_NOTICE = "analysis-read-only"
    RENAME = "analysis.sessions.rename"
    RENAME_BUTTON = "analysis.sessions.rename_button"
    SAVE_COPY = "analysis.sessions.copy"
    CLOSE = "analysis.sessions.close"
    MOVE_TABLE = "analysis.results.moves"
    STORY_DOWNLOAD = "analysis.story.download"
    STORY_UPLOAD = "analysis.story.upload"
    STORY_RESET = "analysis.story.reset"
    STORY_AUTOPLAY = "analysis.story.autoplay"
    RETRO_WHITE = "analysis.retro.white"
    RETRO_BLACK = "analysis.retro.black"
    RETRO_MOVE = "analysis.retro.move"
    RETRO_FORM = "analysis.retro.form"
    RETRO_TRY = "analysis.retro.try"
    RETRO_SOLUTION = "analysis.retro.solution"
    RETRO_SKIP = "analysis.retro.skip"
    RETRO_NEXT = "analysis.retro.next"
    RETRO_STOP = "analysis.retro.stop"

    @staticmethod
    def open_session(session_id: str) -> str:
        return f"analysis.sessions.open.{session_id}"

    @staticmethod
    def delete_session(session_id: str) -> str:
        return f"analysis.sessions.delete.{session_id}"

    @staticmethod
    def enter_line(index: int) -> str:
        return f"analysis.explore.line.{index}"


def analysis_session() -> AnalysisSession | None:
    """The session open on the analysis page, or None."""
    session = st.session_state.get(_ANALYSIS_SESSION)
    return session if isinstance(session, AnalysisSession) else None


def set_analysis_session(session: AnalysisSession | None) -> None:
    st.session_state[_ANALYSIS_SESSION] = session


def analysis_line() -> NodePath:
    """The line the board steps through (UCI moves from the start)."""
    value = st.session_state.get(_ANALYSIS_LINE) or ()
    return tuple(str(m) for m in value)


def set_analysis_line(line: NodePath) -> None:
    st.session_state[_ANALYSIS_LINE] = tuple(line)


@dataclass(frozen=True, slots=True)
class PendingPick:
    """A pasted or uploaded file with several games, waiting for the visitor to pick one."""

    text: str
    games: tuple[GameInfo, ...]


def analysis_pending() -> PendingPick | None:
    pending = st.session_state.get(_ANALYSIS_PENDING)
    return pending if isinstance(pending, PendingPick) else None


def set_analysis_pending(pending: PendingPick | None) -> None:
    st.session_state[_ANALYSIS_PENDING] = pending


def analysis_url_session() -> str | None:
    """The ``?session=`` value this browser session already opened (so it opens once)."""
    value = st.session_state.get(_ANALYSIS_URL_SESSION)
    return None if value is None else str(value)


def set_analysis_url_session(session_id: str | None) -> None:
    st.session_state[_ANALYSIS_URL_SESSION] = session_id


@dataclass(frozen=True, slots=True)
class RetroState:
    """Learn from your mistakes, as this tab shows it: whose, and what the last try got."""

    color: chess.Color
    attempt: Attempt | None = None
    solution: Mistake | None = None  # the mistake whose solution is on show


_ANALYSIS_RETRO = "analysis.retro"
_ANALYSIS_BOARD_TREE = "analysis.board_tree"
_ANALYSIS_STORY = "analysis.story"


@dataclass(frozen=True, slots=True)
class StoryState:
    """The story this tab shows for a session's analysis: generated, or the user's upload."""

    key: object  # what it was made for (session, analysis), so a new analysis makes a new one
    track: StoryTrack
    toml: str
    uploaded: str | None = None  # the uploaded file's name, when it is the user's own


def analysis_story() -> StoryState | None:
    value = st.session_state.get(_ANALYSIS_STORY)
    return value if isinstance(value, StoryState) else None


def set_analysis_story(value: StoryState | None) -> None:
    st.session_state[_ANALYSIS_STORY] = value
_ANALYSIS_COPIED = "analysis.copied"


def analysis_board_tree() -> tuple[object, dict[str, object]] | None:
    """The board element's payload this tab built last, with the key it was built for."""
    value = st.session_state.get(_ANALYSIS_BOARD_TREE)
    return value if isinstance(value, tuple) else None


def set_analysis_board_tree(value: tuple[object, dict[str, object]]) -> None:
    st.session_state[_ANALYSIS_BOARD_TREE] = value


def analysis_copied() -> tuple[int, str] | None:
    """The PGN the node menu's "Copy PGN" asked for, with its sequence number."""
    value = st.session_state.get(_ANALYSIS_COPIED)
    return value if isinstance(value, tuple) else None


def set_analysis_copied(pgn: str) -> None:
    previous = analysis_copied()
    st.session_state[_ANALYSIS_COPIED] = (1 if previous is None else previous[0] + 1, pgn)


def analysis_retro() -> RetroState | None:
    value = st.session_state.get(_ANALYSIS_RETRO)
    return value if isinstance(value, RetroState) else None


def set_analysis_retro(retro: RetroState | None) -> None:
    st.session_state[_ANALYSIS_RETRO] = retro


_FULL_RUN = "analysis.full_run"


def request_full_run() -> None:
    """A callback inside a fragment needs the whole page to run next (callbacks cannot rerun)."""
    st.session_state[_FULL_RUN] = True


def take_full_run_request() -> bool:
    return bool(st.session_state.pop(_FULL_RUN, False))


_ANALYSIS_PROBE = "analysis.probe_answer"


def analysis_probe_answer() -> tuple[str, str] | None:
    """(FEN, text) of the engine's last answer about one position, shown under the board."""
    value = st.session_state.get(_ANALYSIS_PROBE)
    if isinstance(value, tuple) and len(value) == 2:
        return str(value[0]), str(value[1])
    return None


def set_analysis_probe_answer(answer: tuple[str, str] | None) -> None:
    st.session_state[_ANALYSIS_PROBE] = answer


def push_analysis_flash(kind: str, text: str) -> None:
    """A message from a callback, shown on the next run (``kind``: error/warning/success)."""
    st.session_state.setdefault(_ANALYSIS_FLASH, []).append((kind, text))


def pop_analysis_flash() -> list[tuple[str, str]]:
    return list(st.session_state.pop(_ANALYSIS_FLASH, []))
