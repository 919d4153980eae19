"""``analyze --all``: a whole database, on the local engine pool or on a Dask cluster.

The games come from :mod:`chessapp.sources` (streamed, filtered, broken ones
skipped); the analyses go out in input order through one :class:`BatchWriter`:
the annotated PGN, JSON lines (one game a line, written as each game is done),
the ``--report`` table and the ``--errors`` file. Which engines do the work
(:func:`local_analyses` or :func:`chessapp.cluster.cluster_analyses`) changes
nothing in what is written.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from chessapp import __version__, analysis, export, sources
from chessapp.analysis import EvalCache, GameAnalysis
from chessapp.coach import report_json
from chessapp.engine import EnginePool
from chessapp.evals import SearchLimit

if TYPE_CHECKING:
    from chessapp.report import ReportRow

log = logging.getLogger(__name__)

__all__ = ["BatchOptions", "BatchResult", "BatchWriter", "local_analyses", "run_batch"]

#: One analysed game, in input order: the record and its analysis.
Analysed = tuple[sources.GameRecord, GameAnalysis]
#: What a runner yields, in input order.
BatchItem = Analysed | sources.SkippedGame
#: progress(games_done, games_seen, positions_done, positions_seen, label)
BatchProgress = Callable[[int, int, int, int, str], None]


@dataclass(frozen=True)
class BatchOptions:
    """Everything ``analyze --all`` was asked to do, beyond the engine settings."""

    source: str
    limit: SearchLimit
    multipv: int = 1
    export: export.ExportOptions = field(default_factory=export.ExportOptions)
    output: str | None = None
    json_lines: str | None = None
    report: str | None = None
    errors: str | None = None
    game_filter: sources.GameFilter = field(default_factory=sources.GameFilter)
    max_games: int | None = None
    #: ``None``: the local pool; ``local:N`` or ``tcp://HOST:PORT``: Dask.
    cluster: str | None = None
    #: Positions per Dask task.
    chunk_positions: int = 40


@dataclass(frozen=True, slots=True)
class BatchResult:
    analysed: int
    skipped: int


class BatchWriter:
    """Writes analysed games, in the order given, to every output asked for."""

    def __init__(self, options: BatchOptions, stdout: TextIO) -> None:
        self._options = options
        self._stack = ExitStack()
        self._pgn: TextIO = stdout
        if options.output:
            self._pgn = self._stack.enter_context(
                open(options.output, "w", encoding="utf-8"))  # noqa: SIM115 (closed by the stack)
        self._json: TextIO | None = None
        if options.json_lines:
            self._json = self._stack.enter_context(
                open(options.json_lines, "w", encoding="utf-8"))  # noqa: SIM115
        self._rows: list[ReportRow] = []
        self.skipped: list[sources.SkippedGame] = []
        self.written = 0

    def game(self, record: sources.GameRecord, result: GameAnalysis) -> None:
        if self.written:
            self._pgn.write("\n")  # a blank line between games
        self._pgn.write(export.export_pgn(record.game, result, self._options.export))
        self._pgn.flush()
        data = report_json(result)
        if self._json is not None:
            line = {"chessapp": __version__, "game": record.number, **data}
            self._json.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._json.flush()
        if self._options.report:
            from chessapp import report  # pandas and pyarrow only when a report is asked for

            self._rows.extend(report.rows_for_game(data, game_number=record.number))
        self.written += 1

    def skip(self, item: sources.SkippedGame) -> None:
        self.skipped.append(item)

    def close(self) -> None:
        try:
            if self._options.report:
                from chessapp import report

                report.write_report(self._options.report, self._rows)
            if self._options.errors:
                sources.write_errors(self._options.errors, self.skipped)
        finally:
            self._stack.close()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _label(record: sources.GameRecord) -> str:
    headers = record.game.headers
    return f"game {record.number}: {headers.get('White', '?')} - {headers.get('Black', '?')}"[:60]


def local_analyses(records: Iterable[sources.GameRecord | sources.SkippedGame],
                   pool: EnginePool, options: BatchOptions, *,
                   cache: EvalCache | None, progress: BatchProgress | None,
                   notice: Callable[[str], None]) -> Iterator[BatchItem]:
    """Each game analysed on ``pool`` in turn, as ``analyze --all`` always did."""
    games_done = games_seen = 0
    for record in records:
        if isinstance(record, sources.SkippedGame):
            yield record
            continue
        games_seen += 1
        label = _label(record)

        def positions(done: int, total: int, label: str = label,
                      games: tuple[int, int] = (games_done, games_seen)) -> None:
            if progress is not None:
                progress(*games, done, total, label)

        before = pool.calls
        # A database run keeps the engine's own best lines (best_line_plies=0): continuing
        # short ones costs searches a cluster would have to send as a second round, and a
        # local and a cluster run must write the same bytes.
        result = analysis.analyse_game(record.game, pool, options.limit,
                                       multipv=options.multipv, cache=cache,
                                       progress=positions, best_line_plies=0)
        games_done += 1
        searched = pool.calls - before
        count = len(result.plies) + 1
        notice(f"{label}: {count} positions, {searched} engine searches, "
               f"{count - searched} cached or final")
        yield record, result


def run_batch(options: BatchOptions, items: Iterable[BatchItem], *,
              stdout: TextIO = sys.stdout) -> BatchResult:
    """Write every item to the outputs; the counts for the summary line."""
    with BatchWriter(options, stdout) as writer:
        for item in items:
            if isinstance(item, sources.SkippedGame):
                writer.skip(item)
            else:
                writer.game(*item)
    return BatchResult(analysed=writer.written, skipped=len(writer.skipped))


def summary_line(result: BatchResult, options: BatchOptions) -> str:
    """The last line of a batch on standard error."""
    games = f"{result.analysed} game{'s' if result.analysed != 1 else ''} analysed"
    if not result.skipped:
        return f"done: {games}, none skipped"
    where = (f" (listed in {options.errors})" if options.errors
             else " (list them with --errors FILE)")
    return f"done: {games}, {result.skipped} skipped as unreadable{where}"
