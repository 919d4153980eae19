"""The command-line side of batches: ``analyze --all`` options and ``report``.

Kept out of :mod:`chessapp.cli` so that module only hooks these in.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import Any

from chessapp import batch, sources
from chessapp.analysis import EvalCache
from chessapp.engine import EngineConfig, EnginePool
from chessapp.errors import BadInput
from chessapp.evals import SearchLimit
from chessapp.export import ExportOptions
from chessapp.settings import positive_int

__all__ = ["add_arguments", "add_report_command", "analyze_all", "report_command"]

#: Options that only mean something with --all: (attribute, flag).
_BATCH_ONLY = (("player", "--player"), ("since", "--since"), ("until", "--until"),
               ("min_elo", "--min-elo"), ("max_games", "--max-games"), ("errors", "--errors"),
               ("report", "--report"), ("cluster", "--cluster"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``analyze`` options for databases (each needs ``--all``)."""
    group = parser.add_argument_group(
        "databases (with --all; .pgn, .pgn.gz, .pgn.bz2, .pgn.zst or -)")
    group.add_argument("--player", metavar="NAME", help="only games NAME played, either colour")
    group.add_argument("--since", metavar="DATE",
                       help="only games dated on or after DATE (YYYY, YYYY.MM or YYYY.MM.DD)")
    group.add_argument("--until", metavar="DATE", help="only games dated on or before DATE")
    group.add_argument("--min-elo", type=positive_int, metavar="ELO",
                       help="only games where both players are rated at least ELO")
    group.add_argument("--max-games", type=positive_int, metavar="N",
                       help="stop after N games (after the filters)")
    group.add_argument("--errors", metavar="FILE",
                       help="list skipped games here (tab-separated: game, line, reason)")
    group.add_argument("--report", metavar="FILE.csv|FILE.parquet",
                       help="one row per game and side: players, accuracy, ACPL, errors")
    group.add_argument("--cluster", metavar="local:N|tcp://HOST:PORT",
                       help="run on Dask: N local worker processes, or join a scheduler")
    group.add_argument("--chunk", type=positive_int, default=batch.BatchOptions.chunk_positions,
                       metavar="P", help="positions per cluster task (default %(default)s)")


def add_report_command(sub: Any, common: argparse.ArgumentParser) -> None:
    rep = sub.add_parser("report", parents=[common],
                         help="per-player figures from an analyze --report file")
    rep.add_argument("input", help="a report written by analyze --all --report")
    rep.add_argument("--player", metavar="NAME", help="one player's figures (default: all rows)")
    rep.add_argument("--plot", metavar="OUT.png|OUT.html", help="draw accuracy over time")


def reject_batch_only(args: argparse.Namespace) -> None:
    """Filters and batch outputs without ``--all`` are a mistake, not something to ignore."""
    for name, flag in _BATCH_ONLY:
        if getattr(args, name, None) is not None:
            raise BadInput(f"{flag} needs --all")


def options_from(args: argparse.Namespace, limit: SearchLimit,
                 export: ExportOptions) -> batch.BatchOptions:
    since = None if args.since is None else sources.parse_filter_date(args.since)[0]
    until = None if args.until is None else sources.parse_filter_date(args.until)[1]
    if args.report is not None:
        from chessapp import report

        report.report_format(args.report)  # fail before any engine work
    return batch.BatchOptions(
        source=args.input, limit=limit, multipv=args.multipv, export=export,
        output=args.output, json_lines=args.json, report=args.report, errors=args.errors,
        game_filter=sources.GameFilter(player=args.player, since=since, until=until,
                                       min_elo=args.min_elo),
        max_games=args.max_games, cluster=args.cluster, chunk_positions=args.chunk)


def analyze_all(args: argparse.Namespace, *, limit: SearchLimit, config: EngineConfig,
                cache: EvalCache | None, options: ExportOptions, bar: Any) -> int:
    """``analyze --all``: stream, filter, analyse (locally or on Dask), write in order."""
    from chessapp import cli

    opts = options_from(args, limit, options)

    def notice(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr)

    def warn(message: str) -> None:
        print(f"chessapp: {message}", file=sys.stderr)

    def progress(games_done: int, games_seen: int, done: int, total: int, label: str) -> None:
        bar.label = label
        bar.update(done, total)

    with ExitStack() as stack:
        stream = sources.open_pgn_stream(opts.source, stack)
        records = sources.iter_batch(stream, game_filter=opts.game_filter,
                                     max_games=opts.max_games)
        items: Any
        if opts.cluster is not None:
            from chessapp import cluster

            items = stack.enter_context(cluster.ClusterRun(opts.cluster, config, opts,
                                                           cache=cache, notice=notice,
                                                           warn=warn))
            analysed = items.analyses(records, progress=progress)
            stack.callback(lambda: warn(items.summary_line()))
        else:
            pool = stack.enter_context(EnginePool(config))
            analysed = batch.local_analyses(records, pool, opts, cache=cache,
                                            progress=progress, notice=notice)
        result = batch.run_batch(opts, analysed)
    print(f"chessapp: {batch.summary_line(result, opts)}", file=sys.stderr)
    return cli.EXIT_SKIPPED if result.skipped else cli.EXIT_OK


def report_command(args: argparse.Namespace) -> int:
    """``report FILE [--player NAME] [--plot OUT]``: print figures, maybe draw a chart."""
    from chessapp import report

    frame = report.read_report(args.input)
    figures = report.player_figures(frame, args.player)
    sys.stdout.write(report.format_figures(figures))
    if args.plot:
        report.save_chart(report.accuracy_chart(frame, args.player), args.plot)
        print(f"chessapp: wrote {args.plot}", file=sys.stderr)
    return 0
