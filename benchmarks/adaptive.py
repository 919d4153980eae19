"""Issue 16: adaptive analysis against a uniform one at the same N, side by side.

For each game: a uniform N-node analysis and an adaptive one with at most N
(``chessapp.adaptive``), both from a cold cache, one after the other. Compared:

* judgements identical to the uniform run (% of plies), and every uniform
  blunder found by the adaptive run;
* accuracy and ACPL per side (adaptive − uniform);
* total nodes (adaptive / uniform; nodes the engine reported searching);
* time (adaptive / uniform; wall clock, so use ``--workers 1`` on a shared box).

Games: the café game and the two samples in ``games/``, plus lichess games read
at run time from ``../shared/data/lichess-analyses`` (never copied into the repo):
miniatures, long endgames, tactical games and games decided by one blunder.

    PYTHONPATH=. .venv/bin/python benchmarks/adaptive.py --nodes 200000 --workers 1
    ... --games 3 --nodes 20000       # a quick pass over the first games
    ... --only selfplay-40,kmVDKlen    # just these
    ... --cache out.sqlite3            # development: reuse searches between runs
                                       # (node counts stay right, times do not)
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import chess
import chess.pgn
from _common import CAFE, ROOT, SAMPLE_40, machine, print_table, read_game

from chessapp import adaptive, analysis, engine, store
from chessapp.evals import SearchLimit


def _shared_json() -> Path:
    """``../shared/data/lichess-analyses/json`` beside the checkout (a worktree sits one
    level deeper, so its parents are tried too)."""
    for base in (ROOT, *ROOT.parents):
        candidate = base / ".." / "shared" / "data" / "lichess-analyses" / "json"
        if candidate.is_dir():
            return candidate
    return ROOT / ".." / "shared" / "data" / "lichess-analyses" / "json"


SHARED = _shared_json()
OPERA = ROOT / "games" / "samples" / "opera-1858.pgn"

#: (lichess game id, kind). Kinds from the game's length, result and lichess's
#: own judgement counts in the file.
LICHESS_GAMES: tuple[tuple[str, str], ...] = (
    ("SzBydaBZ", "miniature, mate in 9 (one blunder)"),
    ("DkCsJZ30", "miniature, mate in 8"),
    ("VySj3lvY", "decided by one blunder"),
    ("kmVDKlen", "quiet: no blunder or mistake"),
    ("RVc2SCaH", "tactical, 22 blunders"),
    ("5q7Vetzb", "long tactical, ends in mate"),
    ("Lodkzu2x", "long endgame, draw"),
    ("DmG9709Y", "long endgame, draw (152 plies)"),
    ("V84e7aDd", "long, decided late"),
)


@dataclass
class Row:
    name: str
    kind: str
    plies: int
    agree: int
    uniform_blunders: int
    blunders_found: int
    d_acc_w: float
    d_acc_b: float
    d_acpl_w: float
    d_acpl_b: float
    nodes_uniform: int
    nodes_adaptive: int
    time_uniform: float
    time_adaptive: float
    passes: int
    budgets: Counter[int]
    reasons: Counter[str]


def lichess_game(game_id: str) -> chess.pgn.Game:
    data = json.loads((SHARED / f"{game_id}.json").read_text(encoding="utf-8"))
    game = chess.pgn.Game()
    game.headers["Event"] = f"lichess {data.get('speed', '?')}"
    game.headers["Site"] = f"https://lichess.org/{game_id}"
    node: chess.pgn.GameNode = game
    board = game.board()
    for san in data["moves"].split():
        move = board.parse_san(san)
        board.push(move)
        node = node.add_main_variation(move)
    return game


def all_games() -> list[tuple[str, str, chess.pgn.Game]]:
    games = [
        ("cafe-1913", "tactical miniature (repo)", read_game(CAFE)),
        ("opera-1858", "tactical miniature (repo)", read_game(OPERA)),
        ("selfplay-40", "engine self-play, 40 moves (repo)", read_game(SAMPLE_40)),
    ]
    if SHARED.is_dir():
        games += [(gid, kind, lichess_game(gid)) for gid, kind in LICHESS_GAMES]
    return games


def _delta(a: float | None, b: float | None) -> float:
    return 0.0 if a is None or b is None else a - b


def compare(name: str, kind: str, game: chess.pgn.Game, nodes: int, workers: int,
            cache: store.Store | None) -> Row:
    limit = SearchLimit(nodes=nodes)
    # A generous deadline: on a box shared by several agents a 1M search took over the
    # default's 20 s (which assumes 200k nodes/s); the deadline only exists to catch hangs.
    config = engine.EngineConfig(workers=workers, threads=1, hash_mb=16, nodes_per_second=20_000)
    with engine.EnginePool(config) as pool:
        assert pool.identity.name  # starts one engine outside the timed part, for both runs
        start = time.perf_counter()
        uniform = analysis.analyse_game(game, pool, limit, cache=cache)
        t_uniform = time.perf_counter() - start
        start = time.perf_counter()
        result = adaptive.analyse_game_adaptive(game, pool, limit, cache=cache)
        t_adaptive = time.perf_counter() - start
    adapt = result.analysis
    plies = len(uniform.plies)
    agree = sum(u.judgement is a.judgement for u, a in zip(uniform.plies, adapt.plies,
                                                            strict=True))
    blunders = [i for i, p in enumerate(uniform.plies)
                if p.judgement is analysis.Judgement.BLUNDER]
    found = sum(adapt.plies[i].judgement is analysis.Judgement.BLUNDER for i in blunders)
    su, sa = uniform.summary(), adapt.summary()
    reasons: Counter[str] = Counter()
    for why in result.reasons.values():
        reasons.update(r.value for r in why)
    return Row(
        name=name, kind=kind, plies=plies, agree=agree, uniform_blunders=len(blunders),
        blunders_found=found,
        d_acc_w=_delta(sa[chess.WHITE].accuracy, su[chess.WHITE].accuracy),
        d_acc_b=_delta(sa[chess.BLACK].accuracy, su[chess.BLACK].accuracy),
        d_acpl_w=_delta(sa[chess.WHITE].acpl, su[chess.WHITE].acpl),
        d_acpl_b=_delta(sa[chess.BLACK].acpl, su[chess.BLACK].acpl),
        nodes_uniform=sum(p.nodes or 0 for p in (uniform.initial, *uniform.plies)),
        nodes_adaptive=result.nodes_all_passes,
        time_uniform=t_uniform, time_adaptive=t_adaptive, passes=result.passes,
        budgets=Counter(b for b in result.budgets if b), reasons=reasons,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--games", type=int, default=0, help="only the first N games")
    parser.add_argument("--only", help="comma-separated game names (e.g. selfplay-40,kmVDKlen)")
    parser.add_argument("--cache", type=Path, help="development only: a SQLite cache to reuse")
    args = parser.parse_args()
    cache = store.Store(args.cache) if args.cache else None
    games = all_games()
    if args.only:
        wanted = args.only.split(",")
        games = [g for g in games if g[0] in wanted]
    if args.games:
        games = games[:args.games]
    print(f"machine: {machine()}; N = {args.nodes:,} nodes; workers {args.workers}; "
          f"rule: {adaptive.AdaptiveRule().key(args.nodes)}; cache: "
          f"{'reused (times not comparable)' if cache else 'none (cold)'}")
    rows = []
    for name, kind, game in games:
        row = compare(name, kind, game, args.nodes, args.workers, cache)
        rows.append(row)
        print(f"  {name}: agree {row.agree}/{row.plies}, blunders {row.blunders_found}/"
              f"{row.uniform_blunders}, nodes {row.nodes_adaptive / row.nodes_uniform:.1%}, "
              f"time {row.time_adaptive / row.time_uniform:.1%}", flush=True)

    table = [("game", "kind", "plies", "same judgement", "uniform blunders found",
              "Δacc W / B", "ΔACPL W / B", "nodes ratio", "time ratio", "passes")]
    for r in rows:
        table.append((
            r.name, r.kind, str(r.plies), f"{r.agree / r.plies:.1%}",
            f"{r.blunders_found}/{r.uniform_blunders}",
            f"{r.d_acc_w:+.1f} / {r.d_acc_b:+.1f}", f"{r.d_acpl_w:+.0f} / {r.d_acpl_b:+.0f}",
            f"{r.nodes_adaptive / r.nodes_uniform:.1%}",
            f"{r.time_adaptive / r.time_uniform:.1%}", str(r.passes)))
    plies = sum(r.plies for r in rows)
    nodes_u = sum(r.nodes_uniform for r in rows)
    nodes_a = sum(r.nodes_adaptive for r in rows)
    time_u = sum(r.time_uniform for r in rows)
    time_a = sum(r.time_adaptive for r in rows)
    table.append((
        "all", f"{len(rows)} games", str(plies), f"{sum(r.agree for r in rows) / plies:.1%}",
        f"{sum(r.blunders_found for r in rows)}/{sum(r.uniform_blunders for r in rows)}",
        f"max |{max(max(abs(r.d_acc_w), abs(r.d_acc_b)) for r in rows):.1f}|",
        f"max |{max(max(abs(r.d_acpl_w), abs(r.d_acpl_b)) for r in rows):.0f}|",
        f"{nodes_a / nodes_u:.1%}", f"{time_a / time_u:.1%}", ""))
    print_table(f"Adaptive vs uniform at N = {args.nodes:,}", table)
    print("\ntargets: same judgement >= 98% of plies, every uniform blunder found, "
          "accuracy within ±1.0 and ACPL within ±2 per side, nodes <= 30%, time <= 35%")
    print(f"totals: uniform {nodes_u:,} nodes in {time_u:.1f} s; adaptive {nodes_a:,} nodes "
          f"in {time_a:.1f} s")
    budgets: Counter[int] = Counter()
    reasons: Counter[str] = Counter()
    for r in rows:
        budgets.update(r.budgets)
        reasons.update(r.reasons)
    print("final budget per position: " + ", ".join(
        f"{b:,}: {n}" for b, n in sorted(budgets.items())))
    print("plies deepened, by reason (a ply may have several): " + ", ".join(
        f"{k}: {v}" for k, v in reasons.most_common()))
    for r in rows:
        d = [abs(r.d_acc_w), abs(r.d_acc_b)]
        if max(d) > 1.0 or max(abs(r.d_acpl_w), abs(r.d_acpl_b)) > 2:
            print(f"outside ±1.0 / ±2: {r.name} (Δacc {r.d_acc_w:+.2f}/{r.d_acc_b:+.2f}, "
                  f"ΔACPL {r.d_acpl_w:+.1f}/{r.d_acpl_b:+.1f})")


if __name__ == "__main__":
    main()
