"""The CLI's per-game summary lines (chessapp.report)."""

from __future__ import annotations

from chessapp import analysis
from chessapp import summary as report
from tests.lichess_oracle import oracle_game


def _lines(name: str) -> list[str]:
    og = oracle_game(name)
    return report.summary_lines(analysis.build_game_analysis(og.game, og.positions))


def test_summary_names_the_division_and_every_phase() -> None:
    lines = _lines("json/8y40iLEJ.json")
    # lichess: {"eco": "B56", "name": "Sicilian Defense: Classical Variation", "ply": 10}
    assert lines[0] == "  opening: B56 Sicilian Defense: Classical Variation (book to ply 10)"
    assert lines[1] == "  phases: middlegame from ply 24, endgame from ply 61"
    white = next(line for line in lines if line.startswith("  White: "))
    assert "3 inaccuracies, 0 mistakes, 0 blunders" in white
    by_phase = [line for line in lines if line.startswith("    by phase")]
    assert len(by_phase) == 2 and all("not reached" not in line for line in by_phase)


def test_a_phase_never_reached_says_so() -> None:
    lines = _lines("json/202gxkiU.json")  # lichess: no middlegame; ours: no endgame
    assert "endgame not reached" in " ".join(lines)
    assert all(line.isprintable() for line in lines)
