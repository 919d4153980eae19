"""``python -m chessapp``: real Stockfish at small node limits, exit codes, the JSON report.

The report is checked against an independent recomputation of lichess's
formulas, written here from the published constants rather than imported.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import chess
import chess.pgn
import pytest

ROOT = Path(__file__).resolve().parent.parent
OPERA = ROOT / "games/samples/opera-1858.pgn"


def run_cli(*args: str, env: dict[str, str] | None = None,
            stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chessapp", *args], cwd=ROOT, capture_output=True,
        env=env if env is not None else dict(os.environ), timeout=240,
        input=None if stdin is None else stdin.decode("utf-8", "replace"), text=True,
    )


def winning_chances(ev: dict[str, Any], *, ceiled: bool = True) -> float:
    # lichess judges on raw cp (CpAdvice); win % for accuracy is ceiled at ±1000.
    if ev["mate"] is not None:
        m = ev["mate"]
        cp = (21 - min(10, abs(m))) * 100 * (1 if m > 0 else -1)
    else:
        cp = max(-1000, min(1000, ev["cp"])) if ceiled else ev["cp"]
    return 2 / (1 + math.exp(-0.00368208 * cp)) - 1


def force_cp(ev: dict[str, Any]) -> int:
    if ev["mate"] is not None:
        return 1000 if ev["mate"] > 0 else -1000
    return int(max(-1000, min(1000, ev["cp"])))


@pytest.fixture(scope="module")
def opera_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    tmp = tmp_path_factory.mktemp("cli")
    env = dict(os.environ, CHESSAPP_DATA_DIR=str(tmp / "data"))
    out, report = tmp / "out.pgn", tmp / "report.json"
    proc = run_cli("analyze", str(OPERA), "--nodes", "5000", "--workers", "2",
                   "-o", str(out), "--json", str(report), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "33/34 positions" not in proc.stderr and "34/34 positions" in proc.stderr
    return json.loads(report.read_text(encoding="utf-8")), out.read_text(encoding="utf-8")


@pytest.mark.engine
def test_report_has_the_documented_schema(opera_report: tuple[dict[str, Any], str]) -> None:
    report, _ = opera_report
    (game,) = report["games"]
    assert game["headers"]["White"] == "Morphy, Paul"
    assert game["engine"]["name"].startswith("Stockfish")
    assert game["limit"] == {"nodes": 5000, "depth": None, "movetime_ms": None}
    assert len(game["plies"]) == 33
    board = chess.Board()
    for i, ply in enumerate(game["plies"], start=1):
        assert set(ply) == {"ply", "san", "uci", "fen", "eval", "best", "pv", "judgement",
                            "win_chance_loss", "accuracy", "note", "explanation",
                            "nodes", "label", "alternatives", "book"}
        if ply["judgement"] is None:
            assert ply["explanation"] is None
        else:  # every judged move is explained, from claims that held (or the numbers only)
            explanation = ply["explanation"]
            assert set(explanation) == {"text", "motifs", "missed_motifs", "claims"}
            assert explanation["text"]
            held = [c["sentence"] for c in explanation["claims"] if c["held"]]
            assert all(c["sentence"] == "" for c in explanation["claims"] if not c["held"])
            assert all(sentence in explanation["text"] for sentence in held[:1])
        assert ply["ply"] == i
        # Issue 16: the nodes searched for the position after the move: 0 once it is over,
        # fewer than the limit where Stockfish proves a mate early, else just over the limit.
        if i == 33:
            assert ply["nodes"] == 0
        elif ply["eval"]["mate"] is None:
            assert 5000 <= ply["nodes"] <= 6000
        else:
            assert 0 < ply["nodes"] <= 6000
        assert board.san(chess.Move.from_uci(ply["uci"])) == ply["san"]
        if ply["best"] is not None:
            assert board.san(chess.Move.from_uci(ply["best"]["uci"])) == ply["best"]["san"]
            assert ply["pv"][0] == ply["best"]["uci"]
        board.push_uci(ply["uci"])
        assert ply["fen"] == board.fen()
        assert ply["judgement"] in (None, "inaccuracy", "mistake", "blunder")
    assert game["opening"]["ply"] >= 1 and game["plies"][0]["book"] is True
    assert set(game["division"]) == {"middle", "end"}
    assert game["plies"][-1]["san"] == "Rd8#"
    assert game["plies"][-1]["eval"] == {"cp": None, "mate": 0}
    for side in ("white", "black"):
        assert set(game["summary"][side]) == {"accuracy", "acpl", "inaccuracies", "mistakes",
                                              "blunders", "phases"}
        assert set(game["summary"][side]["phases"]) == {"opening", "middlegame", "endgame"}


@pytest.mark.engine
def test_report_agrees_with_lichess_formulas(opera_report: tuple[dict[str, Any], str]) -> None:
    report, _ = opera_report
    game = report["games"][0]
    prev = {"cp": 15, "mate": None}  # lila's Cp.initial, not the engine's start eval
    losses: dict[bool, list[int]] = {True: [], False: []}
    counts = {True: {"inaccuracy": 0, "mistake": 0, "blunder": 0},
              False: {"inaccuracy": 0, "mistake": 0, "blunder": 0}}
    for ply in game["plies"]:
        white_moved = ply["ply"] % 2 == 1
        ev = ply["eval"]
        if ev["mate"] == 0:  # the mating move: lichess has no eval after it, so no verdict
            assert ply["judgement"] is None and ply["accuracy"] is None, ply
            continue
        sign = 1 if white_moved else -1
        judged = ply["best"] is not None and ply["best"]["uci"] != ply["uci"]
        if prev["cp"] is not None and ev["cp"] is not None:
            drop = sign * (winning_chances(prev, ceiled=False)
                           - winning_chances(ev, ceiled=False))
            expected = (None if not judged else "blunder" if drop >= 0.3
                        else "mistake" if drop >= 0.2 else "inaccuracy" if drop >= 0.1 else None)
            assert ply["judgement"] == expected, ply
            assert ply["win_chance_loss"] == pytest.approx(drop, abs=1e-4)
        wb = 50 + 50 * winning_chances({"cp": force_cp(prev), "mate": None})
        wa = 50 + 50 * winning_chances({"cp": force_cp(ev), "mate": None})
        if not white_moved:
            wb, wa = 100 - wb, 100 - wa
        acc = 100.0 if wa >= wb else max(0.0, min(100.0, 103.1668100711649 * math.exp(
            -0.04354415386753951 * (wb - wa)) - 3.166924740191411 + 1))
        assert ply["accuracy"] == pytest.approx(acc, abs=0.01)
        losses[white_moved].append(max(0, sign * (force_cp(prev) - force_cp(ev))))
        if ply["judgement"]:
            counts[white_moved][ply["judgement"]] += 1
        prev = ev
    for side, white in (("white", True), ("black", False)):
        summary = game["summary"][side]
        assert summary["acpl"] == pytest.approx(sum(losses[white]) / len(losses[white]), abs=0.05)
        assert summary["inaccuracies"] == counts[white]["inaccuracy"]
        assert summary["mistakes"] == counts[white]["mistake"]
        assert summary["blunders"] == counts[white]["blunder"]
        assert 0 <= summary["accuracy"] <= 100


@pytest.mark.engine
def test_annotated_pgn_reads_back_with_the_same_evals(
    opera_report: tuple[dict[str, Any], str],
) -> None:
    report, pgn = opera_report
    game = chess.pgn.read_game(__import__("io").StringIO(pgn))
    assert game is not None and not game.errors
    assert game.headers["White"] == "Morphy, Paul"
    evals = [node.eval() for node in game.mainline()]
    for ply, pov in zip(report["games"][0]["plies"], evals, strict=True):
        if ply["eval"]["mate"] == 0:
            continue
        assert pov is not None
        white = pov.white()
        assert (white.score(), white.mate()) == (ply["eval"]["cp"], ply["eval"]["mate"])


@pytest.mark.engine
def test_second_run_is_served_from_the_cache(tmp_path: Path) -> None:
    env = dict(os.environ, CHESSAPP_DATA_DIR=str(tmp_path))
    first = run_cli("analyze", str(OPERA), "--nodes", "3000", "--json",
                    str(tmp_path / "a.json"), env=env)
    second = run_cli("analyze", str(OPERA), "--nodes", "3000", "--json",
                     str(tmp_path / "b.json"), env=env)
    assert first.returncode == 0 and second.returncode == 0, (first.stderr, second.stderr)
    # 34 positions, the last one checkmate: 33 searches, then none at all.
    assert "33 engine searches, 1 cached or final" in first.stderr
    assert "0 engine searches, 34 cached or final; 0 searches to continue" in second.stderr
    assert (json.loads((tmp_path / "a.json").read_text())["games"][0]["plies"]
            == json.loads((tmp_path / "b.json").read_text())["games"][0]["plies"])


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty file", b"", "no game"),
        ("binary garbage", bytes(range(256)) * 4, "not a PGN"),
        ("illegal move", b'[Event "x"]\n\n1. e4 e5 2. Ke3 *\n', "Ke3"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, name: str, content: bytes,
                                         fragment: str) -> None:
    path = tmp_path / "in.pgn"
    path.write_bytes(content)
    for command in ("validate", "analyze"):
        proc = run_cli(command, str(path), "--no-cache" if command == "analyze" else "-v")
        assert proc.returncode == 2, (name, command, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, (name, proc.stderr)
        assert fragment.lower() in lines[0].lower(), (name, lines[0])


def test_validate_accepts_a_good_file_and_a_fen(tmp_path: Path) -> None:
    assert run_cli("validate", str(OPERA)).stdout.strip() == "ok: 1 game"
    fen = tmp_path / "pos.fen"
    fen.write_text("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1\n")
    proc = run_cli("validate", str(fen))
    assert proc.returncode == 0 and proc.stdout.strip() == "ok: a valid FEN position"
    fen.write_text("8/8/8/8/8/8/8/8 w - - 0 1\n")
    proc = run_cli("validate", str(fen))
    assert proc.returncode == 2 and "king" in proc.stderr.lower()


def test_missing_engine_exits_3(tmp_path: Path) -> None:
    env = dict(os.environ, CHESSAPP_DATA_DIR=str(tmp_path), STOCKFISH_PATH="/nonexistent/sf",
               PATH="/usr/bin:/bin")
    proc = run_cli("analyze", str(OPERA), "--nodes", "1000", "--no-cache",
                   "--engine", "/nonexistent/sf", env=env)
    assert proc.returncode == 3, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_missing_input_file_exits_2() -> None:
    proc = run_cli("validate", "/nonexistent/file.pgn")
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_the_cafe_page_export_is_the_clis_for_the_same_options() -> None:
    # games/cafe-1913.pgn is written by the CLI (script/regen-cafe); the café
    # page exports from the game and analysis it loads, through the same code.
    from chessapp import export
    from chessapp.view import cafe as viewmodel

    view = viewmodel.load_cafe()
    assert view.analysis is not None
    options = export.ExportOptions(narration=False, shapes=False)
    text = export.export_pgn(view.game, view.analysis, options)
    assert text == (ROOT / "games/cafe-1913.pgn").read_text(encoding="utf-8")


def test_re_exporting_an_annotated_game_does_not_double_its_annotations() -> None:
    from chessapp import export
    from chessapp.games import read_game
    from chessapp.view import cafe as viewmodel

    view = viewmodel.load_cafe()
    assert view.analysis is not None
    once = export.export_pgn(view.game, view.analysis)
    twice = export.export_pgn(read_game(once), view.analysis)
    assert twice == once
    assert once.count("Blunder.") == sum(p.judgement is not None and p.judgement.value == "blunder"
                                         for p in view.analysis.plies)


@pytest.mark.engine
def test_analyze_writes_a_checked_story(tmp_path: Path) -> None:
    """``analyze --story`` (issue 12): the opera game's story loads and every claim holds."""
    from chessapp import story
    from chessapp.analysis import GameAnalysis
    from chessapp.games import read_game

    env = dict(os.environ, CHESSAPP_DATA_DIR=str(tmp_path / "data"))
    out, report, track_path = tmp_path / "out.pgn", tmp_path / "r.json", tmp_path / "opera.toml"
    proc = run_cli("analyze", str(OPERA), "--nodes", "3000", "-q", "-o", str(out),
                   "--json", str(report), "--story", str(track_path), env=env)
    assert proc.returncode == 0, proc.stderr
    track = story.load_track(track_path)
    game = read_game(OPERA.read_text(encoding="utf-8"))
    analysis = GameAnalysis.from_json(json.loads(report.read_text(encoding="utf-8"))["games"][0])
    results = story.check_track(track, game, analysis)
    assert results and all(r.holds for r in results)
    assert track.segments[-1].narration.startswith("The game ends after 17. Rd8#")


def test_analyze_story_needs_one_game(tmp_path: Path) -> None:
    proc = run_cli("analyze", str(OPERA), "--all", "--story", str(tmp_path / "s.toml"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("chessapp: bad input: --story writes the story of one game; "
                                   "use --game N, not --all")
