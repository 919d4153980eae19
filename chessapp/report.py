"""Reports over many analysed games: one row per game and side, and per-player figures.

``analyze --all --report FILE.csv|FILE.parquet`` writes the rows
(:func:`rows_for_game`, :func:`write_report`); ``python -m chessapp report``
and the Reports page read them back (:func:`read_report`) and summarise a
player: accuracy and ACPL overall, by colour and by opening, and error rates
(:func:`player_figures`), and accuracy over time (:func:`accuracy_chart`).

Pure: no engine and no Streamlit here. Rows are built from the JSON of a
:class:`chessapp.analysis.GameAnalysis` (its ``to_json()``), so a report can
also be rebuilt from ``--json`` lines. When the summary carries accuracy by
phase (``summary.<side>.phases``), each phase gets its own column.
"""

from __future__ import annotations

import csv
import enum
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import chess
import pandas as pd

from chessapp.errors import BadInput
from chessapp.sources import date_range

if TYPE_CHECKING:
    import altair as alt

__all__ = [
    "COLUMNS",
    "FigureRow",
    "PlayerFigures",
    "ReportFormat",
    "accuracy_chart",
    "format_figures",
    "player_figures",
    "read_report",
    "report_format",
    "rows_for_game",
    "write_report",
]

#: A report row: column name to value (str, int, float or None).
ReportRow = dict[str, Any]

#: The fixed columns, in file order; phase columns (``accuracy_<phase>``) follow.
COLUMNS = (
    "game", "side", "player", "opponent", "player_elo", "opponent_elo", "date", "event",
    "result", "score", "eco", "opening", "moves", "accuracy", "acpl",
    "inaccuracies", "mistakes", "blunders",
)
#: The usual order of phases, for column order; others follow alphabetically.
_PHASE_ORDER = ("opening", "middlegame", "endgame")
_SCORES = {"1-0": (1.0, 0.0), "0-1": (0.0, 1.0), "1/2-1/2": (0.5, 0.5)}


class ReportFormat(enum.Enum):
    CSV = ".csv"
    PARQUET = ".parquet"


def report_format(path: str | Path) -> ReportFormat:
    suffix = Path(path).suffix.lower()
    for kind in ReportFormat:
        if kind.value == suffix:
            return kind
    raise BadInput(f"a report is a .csv or .parquet file, not {Path(path).name!r}")


def _elo(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def _phase_values(phases: Any) -> dict[str, float | None]:
    """``summary.<side>.phases`` as {phase: accuracy}: a mapping of phase to a number
    or to a record with ``accuracy``, or a list of records with ``phase``/``name``."""
    out: dict[str, float | None] = {}
    items: Iterable[tuple[str, Any]]
    if isinstance(phases, Mapping):
        items = phases.items()
    elif isinstance(phases, list):
        items = [(str(p.get("phase", p.get("name"))), p) for p in phases
                 if isinstance(p, Mapping)]
    else:
        return out
    for name, value in items:
        if isinstance(value, Mapping):
            value = value.get("accuracy")
        out[str(name)] = None if value is None else float(value)
    return out


def rows_for_game(data: Mapping[str, Any], *, game_number: int) -> list[ReportRow]:
    """Two rows (White's, then Black's) from one ``GameAnalysis.to_json()``."""
    headers: Mapping[str, str] = data.get("headers", {})
    start_turn = chess.Board(data["start"]["fen"]).turn
    plies = data.get("plies", [])
    white_moves = sum(1 for p in plies
                      if (p["ply"] % 2 == 1) == (start_turn == chess.WHITE))
    moves = {"white": white_moves, "black": len(plies) - white_moves}
    result = headers.get("Result", "*")
    scores = _SCORES.get(result)
    opening = headers.get("Opening") or headers.get("ECO") or "?"
    rows = []
    for index, side, other in ((0, "white", "black"), (1, "black", "white")):
        summary = data["summary"][side]
        row: ReportRow = {
            "game": game_number,
            "side": side,
            "player": headers.get(side.title(), "?"),
            "opponent": headers.get(other.title(), "?"),
            "player_elo": _elo(headers.get(f"{side.title()}Elo")),
            "opponent_elo": _elo(headers.get(f"{other.title()}Elo")),
            "date": headers.get("Date", "????.??.??"),
            "event": headers.get("Event", "?"),
            "result": result,
            "score": None if scores is None else scores[index],
            "eco": headers.get("ECO", "?"),
            "opening": opening,
            "moves": moves[side],
            "accuracy": summary.get("accuracy"),
            "acpl": summary.get("acpl"),
            "inaccuracies": summary.get("inaccuracies", 0),
            "mistakes": summary.get("mistakes", 0),
            "blunders": summary.get("blunders", 0),
        }
        for phase, accuracy in _phase_values(summary.get("phases")).items():
            row[f"accuracy_{phase}"] = accuracy
        rows.append(row)
    return rows


def _columns(rows: Sequence[ReportRow]) -> list[str]:
    extra = {name for row in rows for name in row if name not in COLUMNS}

    def order(name: str) -> tuple[int, str]:
        phase = name.removeprefix("accuracy_")
        return (_PHASE_ORDER.index(phase) if phase in _PHASE_ORDER else len(_PHASE_ORDER), name)

    return [*COLUMNS, *sorted(extra, key=order)]


def write_report(path: str | Path, rows: Sequence[ReportRow]) -> None:
    """The rows as CSV (header first, empty cells for unknown values) or Parquet."""
    kind = report_format(path)
    columns = _columns(rows)
    if kind is ReportFormat.CSV:
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns, restval="")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])
    if not rows:
        table = pa.table({c: pa.array([], pa.string()) for c in columns})
    pq.write_table(table, str(path))


def read_report(path: str | Path | io.BytesIO, *, name: str | None = None) -> pd.DataFrame:
    """A report written by :func:`write_report`, as a table. ``name`` gives the file
    name (and so the format) when ``path`` is the bytes of an upload."""
    shown = name if name is not None else Path(str(path)).name
    kind = report_format(shown)
    try:
        if kind is ReportFormat.CSV:
            frame = pd.read_csv(path, dtype={"date": str, "player": str, "opponent": str,
                                             "opening": str, "eco": str, "result": str},
                                keep_default_na=False, na_values=[""])
        else:
            frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read the report {shown}: {exc}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise BadInput(f"{shown} is not a chessapp report: no column "
                       f"{', '.join(missing)}")
    return frame


# --- Per-player figures -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FigureRow:
    """Figures over a group of (game, side) rows. Rates are per game and per 100 moves."""

    group: str
    games: int
    accuracy: float | None
    acpl: float | None
    score: float | None
    inaccuracies_per_game: float
    mistakes_per_game: float
    blunders_per_game: float
    errors_per_100_moves: float | None


@dataclass(frozen=True, slots=True)
class PlayerFigures:
    player: str
    overall: FigureRow
    by_colour: tuple[FigureRow, ...]
    by_opening: tuple[FigureRow, ...]
    phases: tuple[FigureRow, ...] = ()


def _mean(series: pd.Series[Any]) -> float | None:
    values = pd.to_numeric(series, errors="coerce").dropna()
    return None if values.empty else float(values.mean())


def _figures(group: str, frame: pd.DataFrame) -> FigureRow:
    games = len(frame)
    errors = (frame["inaccuracies"] + frame["mistakes"] + frame["blunders"]).sum()
    moves = frame["moves"].sum()
    return FigureRow(
        group=group,
        games=games,
        accuracy=_mean(frame["accuracy"]),
        acpl=_mean(frame["acpl"]),
        score=_mean(frame["score"]),
        inaccuracies_per_game=float(frame["inaccuracies"].sum()) / games,
        mistakes_per_game=float(frame["mistakes"].sum()) / games,
        blunders_per_game=float(frame["blunders"].sum()) / games,
        errors_per_100_moves=None if moves == 0 else 100 * float(errors) / float(moves),
    )


def rows_of_player(frame: pd.DataFrame, player: str | None) -> pd.DataFrame:
    if player is None:
        return frame
    wanted = " ".join(player.split()).casefold()
    names = frame["player"].astype(str).map(lambda n: " ".join(n.split()).casefold())
    return frame[names == wanted]


def players(frame: pd.DataFrame) -> list[str]:
    """Player names, most games first."""
    counts = frame["player"].astype(str).value_counts()
    return [str(name) for name in counts.index]


def player_figures(frame: pd.DataFrame, player: str | None = None, *,
                   top_openings: int = 10) -> PlayerFigures:
    """One player's figures (``None``: every row, all players together)."""
    mine = rows_of_player(frame, player)
    if mine.empty:
        raise BadInput(f"no games of {player!r} in the report" if player else "the report is empty")
    by_colour = tuple(_figures(side, mine[mine["side"] == side])
                      for side in ("white", "black") if (mine["side"] == side).any())
    openings = mine["opening"].astype(str).value_counts()
    by_opening = tuple(_figures(str(name), mine[mine["opening"].astype(str) == name])
                       for name in list(openings.index)[:top_openings])
    phases = []
    for column in _columns([{c: None for c in mine.columns}]):
        if column.startswith("accuracy_"):
            values = _mean(mine[column])
            if values is not None:
                phases.append(FigureRow(column.removeprefix("accuracy_"), int(
                    mine[column].notna().sum()), values, None, None, 0.0, 0.0, 0.0, None))
    return PlayerFigures(player=player or "all players", overall=_figures("overall", mine),
                         by_colour=by_colour, by_opening=by_opening, phases=tuple(phases))


def _cell(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def figure_table(rows: Sequence[FigureRow]) -> list[dict[str, Any]]:
    """Rows for a page's table: plain values, rounded as printed."""
    return [{"": r.group, "games": r.games,
             "accuracy": None if r.accuracy is None else round(r.accuracy, 1),
             "ACPL": None if r.acpl is None else round(r.acpl, 1),
             "score": None if r.score is None else round(r.score, 2),
             "inaccuracies/game": round(r.inaccuracies_per_game, 2),
             "mistakes/game": round(r.mistakes_per_game, 2),
             "blunders/game": round(r.blunders_per_game, 2),
             "errors/100 moves": (None if r.errors_per_100_moves is None
                                  else round(r.errors_per_100_moves, 1))} for r in rows]


def format_figures(figures: PlayerFigures) -> str:
    """The ``report`` command's text: three small tables, fixed-width."""
    head = (f"{'':<36} {'games':>5} {'acc%':>6} {'ACPL':>6} {'score':>5} "
            f"{'inacc/g':>7} {'mist/g':>6} {'blun/g':>6} {'err/100':>7}")

    def line(r: FigureRow) -> str:
        return (f"{r.group[:36]:<36} {r.games:>5} {_cell(r.accuracy):>6} {_cell(r.acpl):>6} "
                f"{_cell(r.score, 2):>5} {r.inaccuracies_per_game:>7.2f} "
                f"{r.mistakes_per_game:>6.2f} {r.blunders_per_game:>6.2f} "
                f"{_cell(r.errors_per_100_moves):>7}")

    out = [f"{figures.player}", head, line(figures.overall), "", "by colour", head]
    out += [line(r) for r in figures.by_colour]
    out += ["", "by opening (most played first)", head]
    out += [line(r) for r in figures.by_opening]
    if figures.phases:
        out += ["", "accuracy by phase"]
        out += [f"{r.group:<36} {r.games:>5} {_cell(r.accuracy):>6}" for r in figures.phases]
    return "\n".join(out) + "\n"


# --- Accuracy over time ----------------------------------------------------------------------


def accuracy_over_time(frame: pd.DataFrame, player: str | None = None) -> pd.DataFrame:
    """Dated rows of ``player`` (or all): columns date (first day the PGN date means),
    accuracy, side, opponent, game. Rows without a known year or accuracy are left out."""
    mine = rows_of_player(frame, player)
    starts = [None if (r := date_range(str(d))) is None else pd.Timestamp(r[0])
              for d in mine["date"]]
    out = pd.DataFrame({"date": starts, "accuracy": pd.to_numeric(mine["accuracy"],
                                                                  errors="coerce"),
                        "side": mine["side"].astype(str), "player": mine["player"].astype(str),
                        "opponent": mine["opponent"].astype(str), "game": mine["game"]})
    return out.dropna(subset=["date", "accuracy"]).sort_values(["date", "game"])


def accuracy_chart(frame: pd.DataFrame, player: str | None = None) -> alt.Chart:
    """Accuracy per game over time, one point per game and side, with a rolling mean."""
    import altair as alt

    data = accuracy_over_time(frame, player)
    if data.empty:
        raise BadInput("no dated games with an accuracy to plot")
    title = f"Accuracy over time: {player}" if player else "Accuracy over time"
    base = alt.Chart(data).encode(x=alt.X("date:T", title="date"))
    points = base.mark_circle(size=40, opacity=0.7).encode(
        y=alt.Y("accuracy:Q", title="accuracy (%)", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("side:N", scale=alt.Scale(domain=["white", "black"],
                                                  range=["#c9a96e", "#3b3b3b"])),
        tooltip=["date:T", "player:N", "opponent:N", "side:N", "accuracy:Q", "game:Q"])
    trend = base.transform_window(
        mean="mean(accuracy)", frame=[-9, 0], sort=[alt.SortField("date")]
    ).mark_line(color="#8b0000").encode(y="mean:Q")
    return (points + trend).properties(title=title, width=640, height=300)  # type: ignore[no-any-return]


def save_chart(chart: alt.Chart, path: str | Path) -> None:
    """HTML (Vega-Lite, self-contained page) or PNG (rendered by vl-convert)."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".html", ".png"):
        raise BadInput(f"a plot is a .png or .html file, not {Path(path).name!r}")
    chart.save(str(path))
