"""Browser end-to-end fixtures: a real ``streamlit run`` and Debian's Chromium.

* :func:`start_server` runs ``streamlit run chessapp/app.py`` headless on a free
  port of 127.0.0.1, in its own process group, with its log in a file; it is
  ready when ``/_stcore/health`` answers ``ok``. Stopping it kills the group.
* ``app_server`` is one such server per test module (env tweaks via the
  ``server_env`` fixture, which a module can override).
* ``browser`` is one headless Chromium per session (Playwright's sync API,
  ``executable_path=/usr/bin/chromium``: no downloaded browsers); ``page`` is a
  fresh context and page per test.

The analysis-page tests reuse these.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``streamlit run``: its URL, its process and its log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_server(log_dir: Path, env: Mapping[str, str] | None = None, *,
                 app: Path | None = None) -> Server:
    """Start the app (or the page ``app``) and wait for ``/_stcore/health``.

    Raises with the log if it never comes.
    """
    port = free_port()
    log = log_dir / f"streamlit-{port}.log"
    script = ROOT / "chessapp" / "app.py" if app is None else app
    argv = [sys.executable, "-m", "streamlit", "run", str(script),
            "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
            "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]
    full_env = {**os.environ, **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=full_env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"streamlit was not healthy in {STARTUP_TIMEOUT_S}s:\n{server.log_text()}")


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the module's server: a private data dir (override per module)."""
    return {"CHESSAPP_DATA_DIR": str(tmp_path_factory.mktemp("data"))}


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory,
               server_env: dict[str, str]) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("server"), server_env)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser context (downloads allowed) and page, 1400×1000."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


# --- Helpers for the reliability tests (crash recovery, load, injection) ----------------------


def engine_processes(data_dir: Path) -> list[int]:
    """Live (not zombie) Stockfish processes whose environment has ``CHESSAPP_DATA_DIR=data_dir``.

    Engines inherit the server's environment, so this finds a server's engines
    even after they were orphaned (reparented away from the server), and
    ignores engines of anything else running on the machine.
    """
    marker = f"CHESSAPP_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0]
            if not argv0.endswith(b"stockfish"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours
            continue
    return sorted(found)


def kill_server_hard(server: Server) -> None:
    """``kill -9`` the server's whole process group (its engines lead their own groups)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def write_cafe_folder(folder: Path, pgn: str, story: str) -> Path:
    """A games folder for the café page: ``pgn``, fixed evals for it, and ``story`` (TOML)."""
    import json

    from chessapp.analysis import build_game_analysis
    from chessapp.games import read_game
    from tests.ui.conftest import fixed_evals

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cafe-1913.pgn").write_text(pgn, encoding="utf-8")
    game = read_game(pgn)
    report = build_game_analysis(game, fixed_evals(game)).to_json()
    (folder / "cafe-1913.analysis.json").write_text(json.dumps(report), encoding="utf-8")
    (folder / "cafe-1913.story.toml").write_text(story, encoding="utf-8")
    return folder


def current_session(page: Any) -> str | None:
    """The ``?session=`` id in the page's URL, if any."""
    from urllib.parse import parse_qs, urlparse

    return (parse_qs(urlparse(page.url).query).get("session") or [None])[0]


def wait_for_new_session(page: Any, previous: str | None, timeout_s: float = 30.0) -> str:
    """Wait until the URL names a session other than ``previous`` (a load has taken effect).

    Waiting for Streamlit's "running" indicator alone races: right after an
    input it may not have appeared yet.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = current_session(page)
        if now is not None and now != previous:
            return now
        page.wait_for_timeout(100)
    raise AssertionError(f"no new session after {timeout_s} s (still {previous!r})")


def wait_for_stored_name(store_path: Path, session_id: str, name: str,
                         timeout_s: float = 30.0) -> None:
    """Wait until the session's stored name is ``name`` (a rename has been saved)."""
    from chessapp.store import Store

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Store(store_path) as store:
            if store.load_session(session_id).name == name:
                return
        time.sleep(0.1)
    raise AssertionError(f"session {session_id} was not renamed to {name!r}")


#: How long an input may take to show Streamlit's "running" indicator.
RUN_START_GRACE_MS = 300


def wait_until_idle(page: Any) -> None:
    """Wait until Streamlit has finished the run an input started.

    Right after a click the "running" indicator may not be up yet, and a bare
    "indicator absent" check then passes too early (seen as intermittent
    failures in full-suite runs). So give the run a moment to start first.
    """
    with contextlib.suppress(Exception):
        page.wait_for_selector("[data-testid='stStatusWidget']", timeout=RUN_START_GRACE_MS)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")


#: The board element's root (chessground; data-fen and data-ply are current on every step).
EXPLORE_BOARD = ".c13b"


def open_analysis(page: Any, server: Server, query: str = "") -> None:
    """Open the Analysis page (with an optional ``?query``) and wait for it to settle."""
    page.goto(f"{server.url}/analysis{query}")
    page.get_by_role("heading", name="Analysis", exact=True).wait_for()
    wait_until_idle(page)


def load_pgn(page: Any, text: str) -> str:
    """Paste and load a PGN on the Analysis page; returns the new session's id."""
    before = current_session(page)
    page.get_by_label("PGN", exact=True).fill(text)
    page.get_by_role("button", name="Load PGN").click()
    session_id = wait_for_new_session(page, before)
    page.locator(EXPLORE_BOARD).wait_for()
    wait_until_idle(page)
    return session_id
