"""The files a newcomer and CI depend on agree with each other.

Docker cannot run on our machines, so the Dockerfile is checked against the
repository instead: the same requirements file, Stockfish installed, the
same entry script as a checkout.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_dockerfile_base_is_python_slim_bookworm() -> None:
    assert re.search(r"^FROM python:3\.1[1-9]-slim-bookworm\s*$", dockerfile(), re.M)


def test_dockerfile_installs_the_pinned_requirements_and_stockfish() -> None:
    text = dockerfile()
    assert "pip install -r requirements.txt" in text
    assert re.search(r"apt-get install[^\n]*\bstockfish\b", text)
    assert "STOCKFISH_PATH=/usr/games/stockfish" in text


def test_dockerfile_runs_as_non_root_with_health_check_and_port() -> None:
    text = dockerfile()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"^EXPOSE 8501$", text, re.M)
    assert "/_stcore/health" in re.search(r"^HEALTHCHECK.*(?:\n\s+.*)*", text, re.M)[0]


def test_dockerfile_entry_point_is_script_server() -> None:
    assert re.search(r'^ENTRYPOINT \["script/server"\]$', dockerfile(), re.M)
    assert os.access(ROOT / "script/server", os.X_OK)


def test_requirements_are_pinned() -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if not line or line.startswith("-r"):
                continue
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][\w.]*", line), f"{name}: {line}"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "exec script/test" in ci
    assert "script/test" in readme and "script/server" in readme


@pytest.mark.parametrize("script", ["script/bootstrap", "script/server", "script/test", ".ci/run",
                                    "script/dask-worker"])
def test_scripts_are_executable_bash(script: str) -> None:
    path = ROOT / script
    assert os.access(path, os.X_OK)
    assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash")
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_bootstrap_is_idempotent_and_quick_the_second_time() -> None:
    # Run twice: the second run must find the stamp and install nothing.
    env = dict(os.environ)
    first = subprocess.run([str(ROOT / "script/bootstrap")], cwd=ROOT, env=env,
                           capture_output=True, text=True, check=True)
    second = subprocess.run([str(ROOT / "script/bootstrap")], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True)
    assert "installing" not in second.stderr, (first.stderr, second.stderr)


def test_license_is_gpl3() -> None:
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text(encoding="utf-8")[:200]
    assert 'license = "GPL-3.0-or-later"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
