"""Row 5: cold start, from ``streamlit run`` to the café page showing its evals.

Two times, median of several starts: to ``/_stcore/health`` answering, and to
the café page in Chromium showing the shipped evals (the "Evals shipped"
caption and the eval graph). The server runs with ``STOCKFISH_PATH`` naming a
file that does not exist, so the page can only show evals it did not compute:
zero engine calls. Target: <= 5 s.

    .venv/bin/python benchmarks/cold_start.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402


def one_start(browser: object, tmp: Path) -> tuple[float, float]:
    import subprocess

    port = free_port()
    env = {**__import__("os").environ, "CHESSAPP_DATA_DIR": str(tmp / "data"),
           "STOCKFISH_PATH": str(tmp / "no-engine-here"), "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-m", "streamlit", "run", str(ROOT / "chessapp" / "app.py"),
            "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
            "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.02)
        healthy = time.perf_counter() - start
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(url)
        page.get_by_text("Evals shipped with the app", exact=False).first.wait_for(
            state="attached", timeout=60_000)
        page.locator("[data-testid='stVegaLiteChart'], .vega-embed").first.wait_for(
            timeout=60_000)
        shown = time.perf_counter() - start
        context.close()
        return healthy, shown
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        runs = [one_start(browser, Path(tmp)) for _ in range(args.repeat)]
        browser.close()
    healthy = statistics.median(h for h, _ in runs)
    shown = statistics.median(s for _, s in runs)
    print(f"\n## Cold start (median of {args.repeat}; no engine installed for the server)\n")
    print("| to /_stcore/health (s) | to café page with evals (s) | target | engine calls |")
    print("|---|---|---|---|")
    print(f"| {healthy:.2f} | {shown:.2f} | <= 5 s | 0 (no engine reachable) |")
    print("runs: " + ", ".join(f"{h:.2f}/{s:.2f}" for h, s in runs))


if __name__ == "__main__":
    main()
