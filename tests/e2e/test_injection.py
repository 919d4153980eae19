"""No injection, on both pages, in Chromium against ``streamlit run`` (issues 6 and 15).

The payloads (``<script>``, ``<img onerror>``, ``<iframe>``, a ``javascript:``
Markdown link, an image link to a foreign host, raw Markdown and an HTML
attribute break-out) go everywhere user or file text is shown:

* the café page reads a games folder whose PGN headers, player names and
  comments, and whose story track (titles, places, narration, metaphors),
  carry them;
* the analysis page gets them by paste and by upload (payloads in the file
  name too), in a session name, and in an error message.

For each page: no dialog fires, no injected element appears (no ``img[src=x]``,
no ``iframe``, no ``script`` with ``alert``, no ``javascript:`` link, no
``on*`` attribute from the text), no request goes to a host other than the
server (only 127.0.0.1, ``data:`` and ``blob:``), and the payload text is on
the page, literally. The downloaded PGN holds the payloads as PGN text,
escaped where PGN needs it, and reads back to the same strings.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chess.pgn
import pytest

from chessapp.games import read_game
from chessapp.view.cafe import GAMES_DIR_ENV
from tests.e2e.conftest import (
    Server,
    current_session,
    start_server,
    wait_for_new_session,
    wait_until_idle,
    write_cafe_folder,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
OPERA = ROOT / "games" / "samples" / "opera-1858.pgn"
OPERA_STORY = ROOT / "tests" / "ui" / "data" / "opera.story.toml"

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
LINK = "[link](javascript:alert(3))"
IFRAME = "<iframe src=javascript:alert(4)></iframe>"
FOREIGN = "![pixel](http://evil.example/x.png)"
MARKDOWN = "**bold** # heading <b>html</b>"
BREAKOUT = '"><svg onload=alert(5)>'  # a quote and a backslash for PGN's tag escaping: \\
PAYLOADS = [SCRIPT, IMG, LINK, IFRAME, FOREIGN, MARKDOWN]


def hostile_game(base: str) -> str:
    """``base`` with payloads in its headers and comments, as PGN text."""
    game = read_game(base)
    game.headers["Event"] = f"Event {SCRIPT}"
    game.headers["Site"] = f"Site {IMG}"
    game.headers["Round"] = LINK
    game.headers["Source"] = IFRAME
    game.headers["Black"] = f"{game.headers['Black']} {BREAKOUT}\\"
    game.comment = f"{FOREIGN} {MARKDOWN}"
    nodes = list(game.mainline())
    for node, payload in zip(nodes, PAYLOADS, strict=False):
        node.comment = payload
    # Tags written by hand, escaped as the PGN standard asks (python-chess 1.11.2 writes
    # tag values raw); the movetext with its comments from python-chess.
    tags = "".join(f'[{k} "{escape_tag(v)}"]\n' for k, v in game.headers.items())
    moves = game.accept(chess.pgn.StringExporter(headers=False, variations=True, comments=True))
    return f"{tags}\n{moves}\n"


def escape_tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def hostile_story(hero_name: str) -> str:
    """The UI fixture story with payloads in its title, places, narration and metaphors."""
    text = OPERA_STORY.read_text(encoding="utf-8")
    swaps = {
        'title = "Test story: a night at the opera"': f"title = {json.dumps('Story ' + SCRIPT)}",
        'place = "Paris, the opera box"': f"place = {json.dumps('Box ' + IMG)}",
        '"The players open quietly while the orchestra tunes."':
            json.dumps(f"Narration {LINK} {IFRAME}"),
        '"The overture before the drama."': json.dumps(f"Metaphor {FOREIGN} {MARKDOWN}"),
        '"The queen goes hunting on b7."': json.dumps(f"Hunt {BREAKOUT}"),
        'hero_name = "Morphy, Paul"': f"hero_name = {json.dumps(hero_name)}",
    }
    for old, new in swaps.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


class Watch:
    """Dialogs and foreign requests of one page, recorded from the first navigation."""

    def __init__(self, page: Any) -> None:
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        self.console_errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", self._request)
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = str((message.location or {}).get("url", ""))
        # Opened at /analysis, Streamlit's client first probes /analysis/_stcore/health and
        # host-config for its base path (404), then uses /_stcore: its quirk, not an error.
        if urlparse(url).path.endswith(("/_stcore/health", "/_stcore/host-config")):
            return
        self.console_errors.append(f"{message.text} ({url})")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request: Any) -> None:
        url = request.url
        if url.startswith(("data:", "blob:")):
            return
        if urlparse(url).hostname not in ("127.0.0.1", "localhost"):
            self.foreign.append(url)


def assert_inert(page: Any, watch: Watch) -> None:
    page.wait_for_timeout(300)  # let any injected handler (onerror, onload) have its go
    assert watch.dialogs == []
    assert watch.foreign == []
    for selector in ("img[src='x']", "iframe", "a[href^='javascript' i]", "[onerror]",
                     "[onload]", "svg[onload]", "b:has-text('html')"):
        assert page.locator(selector).count() == 0, selector
    assert page.locator("script", has_text="alert(").count() == 0
    # Shadow roots (components) too: querySelectorAll does not enter them.
    found = page.evaluate("""() => {
        const bad = [];
        const walk = (root) => {
            for (const el of root.querySelectorAll('*')) {
                for (const a of el.getAttributeNames()) {
                    const v = (el.getAttribute(a) || '').trim().toLowerCase();
                    // Handlers, and URLs that run code. (User text in an input's value or
                    // an aria-label is inert, and expected.)
                    const url = ['href', 'src', 'srcdoc', 'action', 'formaction', 'xlink:href',
                                 'data'].includes(a);
                    if (a.startsWith('on') ||
                        (url && (v.startsWith('javascript:') || v.includes('alert('))))
                        bad.push(el.tagName + ' ' + a + '=' + v.slice(0, 80));
                }
                if (el.shadowRoot) walk(el.shadowRoot);
            }
        };
        walk(document);
        return bad;
    }""")
    assert found == []


def page_text(page: Any) -> str:
    return str(page.locator("body").inner_text())


def download_pgn(page: Any, button_key: str) -> tuple[str, str]:
    button = page.locator(f".st-key-{button_key} button").first
    with page.expect_download() as info:
        button.click()
    download = info.value
    path = download.path()
    return download.suggested_filename, Path(path).read_text(encoding="utf-8")


def assert_export_holds_payloads(text: str, expected: chess.pgn.Game,
                                 filename: str) -> None:
    # The app's reader unescapes tag values (python-chess's keeps the backslashes).
    game = read_game(text)
    for tag in ("Event", "Site", "Round", "Source", "Black"):
        assert game.headers[tag] == expected.headers[tag], tag
    # PGN's own escaping: the quote and backslash inside the tag value are escaped.
    assert expected.headers["Black"].endswith(f'{BREAKOUT}\\')
    assert f'[Black "{escape_tag(expected.headers["Black"])}"]' in text
    assert chess.pgn.read_game(io.StringIO(text)) is not None
    comments = [node.comment for node in game.mainline()]
    for payload in PAYLOADS:
        assert any(payload in c for c in comments), payload
    assert "/" not in filename and "<" not in filename and ">" not in filename
    assert filename.endswith(".pgn")


# --- the café page ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cafe_game() -> chess.pgn.Game:
    return read_game(hostile_game(OPERA.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def hostile_cafe(tmp_path_factory: pytest.TempPathFactory,
                 cafe_game: chess.pgn.Game) -> Iterator[Server]:
    pgn = hostile_game(OPERA.read_text(encoding="utf-8"))
    folder = write_cafe_folder(tmp_path_factory.mktemp("games"), pgn,
                               hostile_story(cafe_game.headers["White"]))
    env = {GAMES_DIR_ENV: str(folder), "CHESSAPP_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    server = start_server(tmp_path_factory.mktemp("log"), env)
    try:
        yield server
    finally:
        server.stop()


def test_cafe_page_shows_hostile_game_and_story_as_text(
        browser: Any, hostile_cafe: Server, cafe_game: chess.pgn.Game) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    watch = Watch(page)
    try:
        page.goto(hostile_cafe.url + "/?ply=9")
        page.locator(".st-key-cafe-export-download button").first.wait_for()
        wait_until_idle(page)
        text = page_text(page)
        # The story loaded (no warning about it) and its payloads are shown literally.
        assert "could not be read" not in text, text[:2000]
        for literal in (f"Story {SCRIPT}", f"Box {IMG}", f"Hunt {BREAKOUT}",
                        f"Narration {LINK} {IFRAME}", f"Metaphor {FOREIGN} {MARKDOWN}",
                        f"Site {IMG}"):
            assert literal in text, literal
        assert page.get_by_text(f"Story {SCRIPT}").count() >= 1
        assert_inert(page, watch)
        filename, exported = download_pgn(page, "cafe-export-download")
        assert_export_holds_payloads(exported, cafe_game, filename)
        assert page.locator("[data-testid='stException']").count() == 0
        assert watch.console_errors == [], watch.console_errors
    finally:
        context.close()


# --- the analysis page -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def analysis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("log"),
                          {"CHESSAPP_DATA_DIR": str(tmp_path_factory.mktemp("data"))})
    try:
        yield server
    finally:
        server.stop()


SHORT = ('[Event "Café"]\n[White "Anna"]\n[Black "Boris"]\n\n'
         "1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n")


def open_analysis(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/analysis")
    page.get_by_role("heading", name="Analysis", exact=True).wait_for()
    wait_until_idle(page)


def test_analysis_page_paste_upload_names_and_errors_stay_text(
        browser: Any, analysis_server: Server, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    watch = Watch(page)
    pgn = hostile_game(SHORT)
    expected = read_game(pgn)
    try:
        # 1. Pasted.
        open_analysis(page, analysis_server)
        page.get_by_label("PGN", exact=True).fill(pgn)
        page.get_by_role("button", name="Load PGN").click()
        page.locator(".c13b").wait_for()
        wait_until_idle(page)
        text = page_text(page)
        for literal in (f"Event {SCRIPT}", f"Boris {BREAKOUT}\\"):
            assert literal in text, literal
        assert_inert(page, watch)
        filename, exported = download_pgn(page, "analysis-export-download")
        assert_export_holds_payloads(exported, expected, filename)

        # 2. A session name full of payloads: stored and listed as text.
        name = f"{SCRIPT} {IMG} {LINK}"
        pasted_session = current_session(page)
        page.get_by_label("Session name").fill(name)
        page.get_by_role("button", name="Rename").click()
        page.get_by_text("Session renamed.").wait_for()
        page.get_by_text(name).first.wait_for()
        wait_until_idle(page)
        assert name in page_text(page)
        assert_inert(page, watch)

        # 3. Uploaded, with payloads in the file name; then a bad file with such a name,
        # whose name comes back in the error message.
        page.get_by_text("Load a game").click()  # folded away while a session is open
        page.get_by_role("tab", name="Upload PGN").click()
        upload = page.locator("input[type='file']")
        upload.set_input_files({"name": f"{IMG}{LINK}.pgn", "mimeType": "text/plain",
                                "buffer": pgn.encode()})
        # The board was already there from the paste: wait for the upload's own session.
        wait_for_new_session(page, pasted_session)
        page.locator(".c13b").wait_for()
        wait_until_idle(page)
        assert_inert(page, watch)
        bad_name = f"{IFRAME}{FOREIGN}.pgn"
        upload.set_input_files({"name": bad_name, "mimeType": "text/plain",
                                "buffer": b"1. e4 e5 2. Ke3 *\n"})
        error = page.locator("[data-testid='stAlertContentError']").first
        error.wait_for()
        assert f"Could not read {bad_name}" in error.inner_text()
        assert "illegal move" in error.inner_text()
        wait_until_idle(page)
        assert_inert(page, watch)
        assert page.locator("[data-testid='stException']").count() == 0
        assert watch.console_errors == [], watch.console_errors
    finally:
        context.close()


# --- Issue 15: bare URLs, Markdown and HTML in every field, shown as text -------------------------
#
# Each payload carries a marker word. Markdown or HTML that rendered would give an element
# whose whole text is the marker (a <strong>mdbold</strong>, a link "mdlink", a heading
# "mdheading", a coloured span "mdred"); text shown as text never does, because the marker
# is always inside the longer literal string. Any <a> whose target is not this server
# (an autolinked https://, www., or e-mail address) fails too.

URL_AND_MARKUP = [
    "# mdheading",
    "> mdquote",
    "- mdlist",
    "[mdlink](https://evil.example/md)",
    "https://evil.example/bare",
    "www.evil.example",
    "mallory@evil.example",
    "<https://evil.example/angle>",
    "**mdbold** _mditalic_ `mdcode` ~~mdstrike~~",
    ":red[mdred] :material/home:",
    '<a href="https://evil.example/a">htmla</a>',
    "<b>htmlbold</b> <i>htmlitalic</i>",
]
MARKERS = ["mdheading", "mdquote", "mdlist", "mdlink", "mdbold", "mditalic", "mdcode",
           "mdstrike", "mdred", "htmla", "htmlbold", "htmlitalic"]
#: Fields and payloads tried, for the report (field name -> payloads in it).
TRIED: dict[str, int] = {}


def rotated(field: str, index: int, *, limit: int = 1000,
            allow: Any = lambda payload: True) -> str:
    """Every payload that fits, starting from a different one per field (so each payload
    leads some field: '#', '>' and '-' are Markdown only at the start)."""
    usable = [p for p in URL_AND_MARKUP if allow(p)]
    start = index % len(usable)
    out: list[str] = []
    for payload in usable[start:] + usable[:start]:
        if len(" ".join([*out, payload])) > limit:
            break
        out.append(payload)
    TRIED[field] = len(out)
    return " ".join(out)


def assert_no_markup_or_links(page: Any, server_url: str) -> None:
    found = page.evaluate("""([markers, origin]) => {
        const bad = [];
        const walk = (root) => {
            for (const el of root.querySelectorAll('*')) {
                const text = (el.textContent || '').trim();
                if (markers.includes(text) && !['SCRIPT', 'STYLE'].includes(el.tagName))
                    bad.push(el.tagName + ' renders ' + text);
                if (el.tagName === 'A') {
                    const href = el.getAttribute('href') || '';
                    const resolved = new URL(href, origin);
                    if (resolved.origin !== origin || text.includes('evil')) {
                        const where = el.closest('[data-testid]');
                        bad.push('link ' + href + ' ' + text.slice(0, 60) + ' in ' +
                                 (where ? where.getAttribute('data-testid') : '?'));
                    }
                }
                if (el.shadowRoot) walk(el.shadowRoot);
            }
        };
        walk(document);
        return bad;
    }""", [MARKERS, server_url])
    assert found == []


def cafe_payload_files(base_pgn: str) -> tuple[str, str, dict[str, str]]:
    """The Opera game and story with the payloads in every field the café page shows."""
    values: dict[str, str] = {}
    names = ["White", "Black", "Site", "title", "act", "place", "narration 1", "metaphor 1",
             "narration 2", "metaphor 2", "narration 3", "metaphor 3", "engine reading"]
    for i, name in enumerate(names):
        values[name] = rotated(f"café {name}", i, limit=900)
    game = read_game(base_pgn)
    for tag in ("White", "Black", "Site"):
        game.headers[tag] = values[tag]
    tags = "".join(f'[{k} "{escape_tag(v)}"]\n' for k, v in game.headers.items())
    moves = game.accept(chess.pgn.StringExporter(headers=False, variations=True, comments=True))
    story = OPERA_STORY.read_text(encoding="utf-8")
    swaps = {
        'title = "Test story: a night at the opera"': f"title = {json.dumps(values['title'])}",
        'hero_name = "Morphy, Paul"': f"hero_name = {json.dumps(values['White'])}",
        'title = "Overture"': f"title = {json.dumps(values['act'])}",
        'place = "Paris, the opera box"': f"place = {json.dumps(values['place'])}",
        '"The players open quietly while the orchestra tunes."':
            json.dumps(values["narration 1"]),
        '"The overture before the drama."': json.dumps(values["metaphor 1"]),
        '"The queen goes hunting on b7."': json.dumps(values["narration 2"]),
        '"A raid behind the lines."': json.dumps(values["metaphor 2"]),
        '"A rook lands on the back rank and the game is over."':
            json.dumps(values["narration 3"]),
        '"The curtain falls."': json.dumps(values["metaphor 3"]),
        '"The last move {mate.san} left the eval at {mate.eval_after}."':
            json.dumps(values["engine reading"] + " {mate.san}"),
    }
    for old, new in swaps.items():
        assert old in story, old
        story = story.replace(old, new)
    return f"{tags}\n{moves}\n", story, values


@pytest.fixture(scope="module")
def markup_cafe(
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    pgn, story, values = cafe_payload_files(OPERA.read_text(encoding="utf-8"))
    folder = write_cafe_folder(tmp_path_factory.mktemp("games-md"), pgn, story)
    env = {GAMES_DIR_ENV: str(folder), "CHESSAPP_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    server = start_server(tmp_path_factory.mktemp("log-md"), env)
    try:
        yield server, values
    finally:
        server.stop()


def test_cafe_page_shows_urls_markdown_and_html_as_text_in_every_field(
        browser: Any, markup_cafe: tuple[Server, dict[str, str]]) -> None:
    server, values = markup_cafe
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    watch = Watch(page)
    try:
        for ply in (2, 12, 33):  # each segment's narration and metaphor
            page.goto(f"{server.url}/?ply={ply}")
            page.locator(".st-key-cafe-export-download button").first.wait_for()
            wait_until_idle(page)
            text = page_text(page)
            assert "could not be read" not in text, text[:2000]
            for name in ("White", "Black", "Site", "title", "act", "place", "narration 1",
                         "metaphor 1", "narration 2", "metaphor 2", "narration 3",
                         "metaphor 3", "engine reading"):
                assert values[name] in text, name
            assert_inert(page, watch)
            assert_no_markup_or_links(page, server.url)
        assert page.locator("[data-testid='stException']").count() == 0
        assert watch.console_errors == [], watch.console_errors
    finally:
        context.close()
    placed = sum(v for k, v in TRIED.items() if k.startswith("café"))
    print(f"\ncafé: {len(URL_AND_MARKUP)} payloads, {placed} payload placements in "
          f"{sum(1 for k in TRIED if k.startswith('café'))} fields")


def test_analysis_page_shows_urls_markdown_and_html_as_text_in_every_field(
        browser: Any, analysis_server: Server) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    watch = Watch(page)
    fields = ["White", "Black", "Event", "Date"]  # what the page shows of the headers
    values = {name: rotated(f"analysis {name}", i, limit=900) for i, name in enumerate(fields)}
    game = read_game(SHORT)
    for tag, value in values.items():
        game.headers[tag] = value
    tags = "".join(f'[{k} "{escape_tag(v)}"]\n' for k, v in game.headers.items())
    pgn = f"{tags}\n1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n"
    two = f"{pgn}\n[White \"Second\"]\n[Black \"Game\"]\n\n1. d4 *\n"
    try:
        open_analysis(page, analysis_server)
        # 1. A file of two games: the pick list shows names and events as text.
        page.get_by_label("PGN", exact=True).fill(two)
        page.get_by_role("button", name="Load PGN").click()
        page.get_by_role("button", name="Load this game").wait_for()
        wait_until_idle(page)
        pick = page.get_by_role("combobox", name="Game")
        for tag in ("White", "Black"):
            assert values[tag] in pick.input_value(), tag
        page.get_by_role("button", name="Open").click()  # the list of games, open
        options = page.get_by_role("option")
        options.first.wait_for()
        assert values["White"] in options.first.inner_text()
        assert_inert(page, watch)
        assert_no_markup_or_links(page, analysis_server.url)
        page.keyboard.press("Escape")
        assert_no_markup_or_links(page, analysis_server.url)

        # 2. Loaded: the headers in the caption, the default name in the heading and list.
        before = current_session(page)
        page.get_by_role("button", name="Load this game").click()
        wait_for_new_session(page, before)
        page.locator(".c13b").wait_for()
        wait_until_idle(page)
        text = page_text(page)
        for name, value in values.items():
            assert value in text, name
        assert_inert(page, watch)
        assert_no_markup_or_links(page, analysis_server.url)

        # 3. A session name with the payloads (as many as 200 characters hold).
        name = rotated("analysis session name", 3, limit=200)
        page.get_by_label("Session name").fill(name)
        page.get_by_role("button", name="Rename").click()
        page.get_by_text("Session renamed.").wait_for()
        wait_until_idle(page)
        assert page_text(page).count(name) >= 1
        listed = page.locator("[data-testid='stText']").all_inner_texts()
        assert any(t.removeprefix("▸ ") == name for t in listed), listed
        assert_inert(page, watch)
        assert_no_markup_or_links(page, analysis_server.url)

        # 4. A bad file whose name holds payloads: the error message shows it as text.
        page.get_by_text("Load a game").click()
        page.get_by_role("tab", name="Upload PGN").click()
        bad_name = rotated("analysis file name in an error", 0, limit=200,
                           allow=lambda p: "/" not in p) + ".pgn"
        page.locator("input[type='file']").set_input_files(
            {"name": bad_name, "mimeType": "text/plain", "buffer": b"1. e4 e5 2. Ke3 *\n"})
        error = page.locator("[data-testid='stAlertContentError']").first
        error.wait_for()
        assert f"Could not read {bad_name}" in error.inner_text()
        wait_until_idle(page)
        assert_inert(page, watch)
        assert_no_markup_or_links(page, analysis_server.url)
        assert page.locator("[data-testid='stException']").count() == 0
        assert watch.console_errors == [], watch.console_errors
    finally:
        context.close()
    print(f"\nanalysis: {len(URL_AND_MARKUP)} payloads, "
          f"{sum(v for k, v in TRIED.items() if k.startswith('analysis'))} payload placements in "
          f"{sum(1 for k in TRIED if k.startswith('analysis'))} fields")
