"""The command line: ``python -m chessapp analyze|validate|explain|report``.

Exit codes: 0 ok, 2 bad input (one line each, never a traceback), 3 engine
unavailable or failed, 4 a batch (``--all``) finished but skipped unreadable
games, 130 interrupted.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

import chess.pgn

from chessapp import __version__, analysis, explain, games
from chessapp.errors import BadInput, ChessAppError, EngineError
from chessapp.evals import SearchLimit
from chessapp.settings import DEFAULT_NODES, MAX_MULTIPV, positive_int
from chessapp.tree import main_line_boards

log = logging.getLogger(__name__)

EXIT_OK, EXIT_BAD_INPUT, EXIT_ENGINE, EXIT_INTERRUPTED = 0, 2, 3, 130
#: ``analyze --all`` finished, but some games were unreadable and left out.
EXIT_SKIPPED = 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chessapp",
        description="Analyse chess games with Stockfish, lichess-style.",
    )
    parser.add_argument("--version", action="version", version=f"chessapp {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    # -v also after the command; SUPPRESS keeps the subcommand from resetting it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    an = sub.add_parser("analyze", aliases=["analyse"], parents=[common],
                        help="annotate games with engine evals and judgements")
    an.add_argument("input", help="a PGN file, or - for standard input")
    which = an.add_mutually_exclusive_group()
    which.add_argument("--game", type=int, default=1, metavar="N",
                       help="analyse game N of the file (1-based; default 1)")
    which.add_argument("--all", action="store_true",
                       help="analyse every game; the file is streamed, never read whole")
    lim = an.add_mutually_exclusive_group()
    lim.add_argument("--nodes", type=positive_int, metavar="N",
                     help=f"nodes per position (default {DEFAULT_NODES:,})")
    lim.add_argument("--depth", type=positive_int, metavar="D", help="depth per position")
    lim.add_argument("--movetime", type=positive_int, metavar="MS",
                     help="milliseconds per position")
    an.add_argument("--adaptive", action="store_true",
                    help="spend at most --nodes per position, only where a judgement could "
                         "change (chessapp/adaptive.py; needs a node budget)")
    an.add_argument("--multipv", type=int, default=1, choices=range(1, MAX_MULTIPV + 1),
                    metavar="K", help=f"engine lines per position, 1-{MAX_MULTIPV} (default 1)")
    an.add_argument("--workers", type=positive_int, metavar="W",
                    help="engine processes (default: CPU cores, or CHESSAPP_ENGINE_POOL)")
    an.add_argument("--threads", type=positive_int, metavar="T",
                    help="threads per engine (default 1)")
    an.add_argument("--hash", type=positive_int, metavar="MB", help="hash per engine in MB")
    an.add_argument("--engine", metavar="PATH", help="UCI engine binary (default: Stockfish)")
    an.add_argument("-o", "--output", metavar="OUT.pgn", help="annotated PGN (default: stdout)")
    an.add_argument("--json", metavar="OUT.json", help="also write a JSON report")
    an.add_argument("--story", metavar="OUT.toml",
                    help="also write a narrated story track of the game (docs/story-format.md)")
    an.add_argument("--no-cache", action="store_true",
                    help="do not read or write the analysis cache in the data directory")
    an.add_argument("--no-evals", action="store_true", help="omit [%%eval] comments")
    an.add_argument("--no-judgements", action="store_true", help="omit NAGs and judgement comments")
    an.add_argument("--no-variations", action="store_true", help="omit best-line variations")
    an.add_argument("--label-nags", action="store_true",
                    help="write $1 (only move) and $3 (brilliant) NAGs; needs --multipv 2 or more "
                         "(lichess writes none)")
    an.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    from chessapp import batch_cli  # the --all options: filters, reports, the cluster

    batch_cli.add_arguments(an)
    batch_cli.add_report_command(sub, common)

    va = sub.add_parser("validate", parents=[common],
                        help="check a PGN or FEN file; exit 0 if fine, 2 if not")
    va.add_argument("input", help="a PGN or FEN file, or - for standard input")

    explain.add_explain_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "validate":
            return validate(args.input)
        if args.command == "explain":
            return explain.run_explain(args, fail=_fail)
        if args.command == "report":
            from chessapp import batch_cli

            return batch_cli.report_command(args)
        return analyze(args)
    except BadInput as exc:
        _fail(f"bad input: {exc}")
        return EXIT_BAD_INPUT
    except EngineError as exc:
        _fail(f"engine: {exc}")
        return EXIT_ENGINE
    except ChessAppError as exc:
        _fail(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _fail("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def _fail(message: str) -> None:
    # One line, whatever the message holds: a hostile PGN must not be able to
    # paint the terminal or fake extra lines.
    clean = "".join(ch if ch.isprintable() else " " for ch in message)
    print(f"chessapp: {clean}", file=sys.stderr)


# --- validate ------------------------------------------------------------------------


def validate(source: str) -> int:
    text = _read_text(source)
    stripped = text.strip()
    if _looks_like_fen(stripped):
        games.board_from_fen(stripped)
        print("ok: a valid FEN position")
        return EXIT_OK
    problems = games.validate_text(text)
    if problems:
        for problem in problems:
            _fail(str(problem))
        return EXIT_BAD_INPUT
    count = len(games.list_games(text))
    print(f"ok: {count} game{'s' if count != 1 else ''}")
    return EXIT_OK


#: The board field of a FEN: piece letters, digits and rank separators only. A PGN's
#: first token never matches (tags start with "[", moves have no "/", and the draw
#: result "1/2-1/2" has a "-").
_FEN_BOARD = re.compile(r"[pnbrqkPNBRQK1-8]*/[pnbrqkPNBRQK1-8/]*")


def _looks_like_fen(text: str) -> bool:
    """One line whose first field is a board, however malformed (9 ranks, 4 ranks):
    such a file gets the FEN's own error, not a PGN parser's "not a move"."""
    if not text or "\n" in text:
        return False
    return _FEN_BOARD.fullmatch(text.split(maxsplit=1)[0]) is not None


def _read_text(source: str) -> str:
    return games.read_pgn_file(source, stdin=sys.stdin.buffer)


# --- analyze ---------------------------------------------------------------------------


def _limit(args: argparse.Namespace) -> SearchLimit:
    if args.depth is not None:
        return SearchLimit(depth=args.depth)
    if args.movetime is not None:
        return SearchLimit(movetime_ms=args.movetime)
    return SearchLimit(nodes=args.nodes or DEFAULT_NODES)


def _games_to_analyse(args: argparse.Namespace, stack: ExitStack) -> Iterator[chess.pgn.Game]:
    if not args.all:
        games_in = games.read_games(_read_text(args.input))
        if args.game > len(games_in):
            raise BadInput(f"there is no game {args.game}: the input holds {len(games_in)}")
        yield games_in[args.game - 1]
        return
    if args.input == "-":
        stream: TextIO = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig",
                                          errors="replace", newline=None)
    else:
        try:
            stream = stack.enter_context(
                open(args.input, encoding="utf-8-sig", errors="replace", newline=None))  # noqa: SIM115
        except OSError as exc:
            raise BadInput(f"cannot read {args.input}: {exc.strerror or exc}") from None
    yield from games.iter_games(stream)


class ProgressBar:
    """A one-line progress bar on stderr; redrawn in place on a terminal."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self.label = ""
        self._last = 0.0
        self._lock = threading.Lock()

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            now = time.monotonic()
            finished = done >= total
            if not finished and now - self._last < (0.1 if self.tty else 2.0):
                return
            self._last = now
            width = 30
            filled = width * done // max(1, total)
            bar = "#" * filled + "." * (width - filled)
            line = f"{self.label} [{bar}] {done}/{total} positions"
            if self.tty:
                self.stream.write("\r" + line + ("\n" if finished else ""))
            else:
                self.stream.write(line + "\n")
            self.stream.flush()


def analyze(args: argparse.Namespace) -> int:
    from chessapp import adaptive, engine, export, store, summary
    from chessapp.coach import report_json
    from chessapp.story.generate import generate_story

    if args.story and args.all:
        raise BadInput("--story writes the story of one game; use --game N, not --all")
    limit = _limit(args)
    if args.adaptive and limit.nodes is None:
        raise BadInput("--adaptive needs a node budget: use --nodes, not --depth or --movetime")
    config = engine.EngineConfig.from_env(
        **{k: v for k, v in {"path": args.engine, "workers": args.workers,
                             "threads": args.threads, "hash_mb": args.hash}.items()
           if v is not None})
    cache = None if args.no_cache else store.Store()
    options = export.ExportOptions(evals=not args.no_evals, judgements=not args.no_judgements,
                                   variations=not args.no_variations,
                                   label_nags=args.label_nags)
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)
    if args.all:
        from chessapp import batch_cli

        return batch_cli.analyze_all(args, limit=limit, config=config, cache=cache,
                                     options=options, bar=bar)
    from chessapp import batch_cli

    batch_cli.reject_batch_only(args)
    reports: list[dict[str, Any]] = []
    with ExitStack() as stack:
        pool = stack.enter_context(engine.EnginePool(config))
        out: TextIO = sys.stdout
        if args.output:
            out = stack.enter_context(open(args.output, "w", encoding="utf-8"))
        for number, game in enumerate(_games_to_analyse(args, stack), start=1):
            white, black = game.headers.get("White", "?"), game.headers.get("Black", "?")
            bar.label = f"game {number if args.all else args.game}: {white} - {black}"[:60]
            calls_before = pool.calls
            if args.adaptive:
                # The adaptive passes judge the game; its lines are what they searched.
                result = adaptive.analyse_game_adaptive(
                    game, pool, limit, multipv=args.multipv, cache=cache,
                    progress=bar.update).analysis
                calls_positions = pool.calls
            else:
                # analyse_game's steps, so the line continuations are counted apart
                evaluated = analysis.evaluate_positions(main_line_boards(game), pool, limit,
                                                        multipv=args.multipv, cache=cache,
                                                        progress=bar.update)
                calls_positions = pool.calls
                evaluated = analysis.extend_best_lines(game, evaluated, pool, limit,
                                                       cache=cache)
                result = analysis.build_game_analysis(game, evaluated, multipv=args.multipv)
            if not args.quiet:
                searched = calls_positions - calls_before
                continued = pool.calls - calls_positions
                positions = len(result.plies) + 1
                print(f"{bar.label}: {positions} positions, {searched} engine searches, "
                      f"{positions - searched} cached or final; {continued} searches to "
                      "continue short best lines", file=sys.stderr)
                for line in summary.summary_lines(result):
                    print(line, file=sys.stderr)
            if number > 1:
                out.write("\n")  # a blank line between games
            out.write(export.export_pgn(game, result, options))
            out.flush()
            if args.json:
                reports.append(report_json(result))
            if args.story:
                Path(args.story).write_text(generate_story(game, result).toml, encoding="utf-8")
    if args.json:
        document = {"chessapp": __version__, "games": reports}
        Path(args.json).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return EXIT_OK
