"""Reports: rows per game and side, CSV and Parquet, per-player figures, the plot, the command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chessapp import cli, report
from chessapp.errors import BadInput

START = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"


def analysis_json(white: str, black: str, *, date: str, result: str, opening: str,
                  white_acc: float, black_acc: float, plies: int = 5,
                  phases: Any = None) -> dict[str, Any]:
    def side(acc: float, errors: int) -> dict[str, Any]:
        out: dict[str, Any] = {"accuracy": acc, "acpl": 100 - acc, "inaccuracies": errors,
                               "mistakes": 1, "blunders": 0}
        if phases is not None:
            out["phases"] = phases
        return out

    return {
        "headers": {"White": white, "Black": black, "Date": date, "Result": result,
                    "Opening": opening, "ECO": "C20", "WhiteElo": "1800", "BlackElo": "?",
                    "Event": "Club"},
        "start": {"fen": START, "eval": {"cp": 20, "mate": None}},
        "plies": [{"ply": i} for i in range(1, plies + 1)],
        "summary": {"white": side(white_acc, 2), "black": side(black_acc, 0)},
    }


GAMES = [
    analysis_json("Alice", "Bob", date="2020.01.05", result="1-0", opening="Italian",
                  white_acc=90, black_acc=70),
    analysis_json("Bob", "Alice", date="2020.03.??", result="0-1", opening="Sicilian",
                  white_acc=60, black_acc=80),
    analysis_json("Alice", "Carol", date="2021.??.??", result="1/2-1/2", opening="Italian",
                  white_acc=70, black_acc=75),
]


def rows() -> list[dict[str, Any]]:
    return [r for n, g in enumerate(GAMES, 1) for r in report.rows_for_game(g, game_number=n)]


def test_two_rows_per_game_one_per_side() -> None:
    white, black = report.rows_for_game(GAMES[0], game_number=7)
    assert white == {
        "game": 7, "side": "white", "player": "Alice", "opponent": "Bob", "player_elo": 1800,
        "opponent_elo": None, "date": "2020.01.05", "event": "Club", "result": "1-0",
        "score": 1.0, "eco": "C20", "opening": "Italian", "moves": 3, "accuracy": 90,
        "acpl": 10, "inaccuracies": 2, "mistakes": 1, "blunders": 0}
    assert (black["player"], black["score"], black["moves"], black["player_elo"]) == (
        "Bob", 0.0, 2, None)


@pytest.mark.parametrize("phases", [
    {"opening": 95.0, "middlegame": 80.0, "endgame": None},
    {"opening": {"accuracy": 95.0}, "middlegame": {"accuracy": 80.0}, "endgame": {}},
    [{"phase": "opening", "accuracy": 95.0}, {"phase": "middlegame", "accuracy": 80.0},
     {"phase": "endgame", "accuracy": None}],
])
def test_phase_accuracy_becomes_columns_when_the_summary_has_it(
        phases: Any, tmp_path: Path) -> None:
    data = analysis_json("A", "B", date="2020.01.01", result="*", opening="X", white_acc=1,
                         black_acc=2, phases=phases)
    white, _ = report.rows_for_game(data, game_number=1)
    assert (white["accuracy_opening"], white["accuracy_middlegame"],
            white["accuracy_endgame"]) == (95.0, 80.0, None)
    path = tmp_path / "r.csv"
    report.write_report(path, report.rows_for_game(data, game_number=1))
    header = path.read_text().splitlines()[0].split(",")
    assert header[-3:] == ["accuracy_opening", "accuracy_middlegame", "accuracy_endgame"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_written_reports_read_back(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"report{suffix}"
    report.write_report(path, rows())
    frame = report.read_report(path)
    assert list(frame.columns) == list(report.COLUMNS)
    assert list(frame["player"]) == ["Alice", "Bob", "Bob", "Alice", "Alice", "Carol"]
    assert list(frame["date"])[:2] == ["2020.01.05", "2020.01.05"]


def test_other_files_are_not_reports(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"\.csv or \.parquet"):
        report.write_report(tmp_path / "r.xlsx", rows())
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(BadInput, match="not a chessapp report"):
        report.read_report(other)


def test_player_figures(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    report.write_report(path, rows())
    figures = report.player_figures(report.read_report(path), "alice")
    overall = figures.overall
    assert (overall.games, overall.accuracy, overall.score) == (3, 80.0, pytest.approx(5 / 6))
    assert overall.acpl == 20.0
    # Alice: white twice (2 inaccuracies each), black once (none); one mistake a game.
    assert overall.inaccuracies_per_game == pytest.approx(4 / 3)
    assert overall.mistakes_per_game == 1.0
    # 3 + 2 + 3 moves; 4 inaccuracies + 3 mistakes.
    assert overall.errors_per_100_moves == pytest.approx(100 * 7 / 8)
    assert [(r.group, r.games, r.accuracy) for r in figures.by_colour] == [
        ("white", 2, 80.0), ("black", 1, 80.0)]
    assert [(r.group, r.games, r.accuracy) for r in figures.by_opening] == [
        ("Italian", 2, 80.0), ("Sicilian", 1, 80.0)]
    with pytest.raises(BadInput, match="no games of 'Zed'"):
        report.player_figures(report.read_report(path), "Zed")


def test_accuracy_over_time_uses_the_first_day_a_date_means() -> None:
    import pandas as pd

    data = report.accuracy_over_time(pd.DataFrame(rows()), "Alice")
    assert [str(d.date()) for d in data["date"]] == ["2020-01-05", "2020-03-01", "2021-01-01"]
    assert list(data["accuracy"]) == [90, 80, 70]


def test_report_command_prints_figures_and_draws_the_plot(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.parquet"
    report.write_report(path, rows())
    for plot in ("acc.html", "acc.png"):
        assert cli.main(["report", str(path), "--player", "Alice",
                         "--plot", str(tmp_path / plot)]) == cli.EXIT_OK
        out = capsys.readouterr().out
        assert out.splitlines()[0] == "Alice"
        assert any(line.startswith("overall") and " 3 " in line for line in out.splitlines())
        assert "Italian" in out and "Sicilian" in out
    assert (tmp_path / "acc.png").read_bytes().startswith(b"\x89PNG")
    assert "vega" in (tmp_path / "acc.html").read_text().lower()
    assert cli.main(["report", str(path), "--plot", str(tmp_path / "x.svg")]) \
        == cli.EXIT_BAD_INPUT
