"""Issue 16, step 4: does fishnet's warm hash within chunks help the adaptive passes?

fishnet (``src/queue.rs``) reverses a game's positions and cuts them into chunks
of up to 6 (``Chunk::MAX_POSITIONS``): 5 new positions, preceded by the last one
of the previous chunk as an overlap whose result is thrown away. Within a chunk
the engine keeps its hash, so each search starts with what the search of the
next position in the game (one ply later) left behind.

Here each budget of the ladder's lower steps is searched twice over the same
games: hash cleared before every position (what ``chessapp.engine`` does) and
warm within fishnet chunks (``ucinewgame`` only at each chunk's start). Both are
compared with a uniform N-node analysis: the error of each position's winning
chances, the judgements that differ, and how many moves the adaptive rule would
still call uncertain (the cost of the next passes). The warm run is done twice,
to check that it is deterministic for a given chunking.

    PYTHONPATH=. .venv/bin/python benchmarks/warm_hash.py --nodes 200000 --games 7
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import chess
import chess.engine
from _common import machine, print_table
from adaptive import all_games  # benchmarks/adaptive.py: the same games

from chessapp import adaptive, analysis, engine, store
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval

#: fishnet ``ipc.rs`` ``Chunk::MAX_POSITIONS``.
CHUNK = 6


def _result(board: chess.Board, info: chess.engine.InfoDict, identity: EngineIdentity,
            nodes: int) -> PositionEval:
    score = info["score"]
    line = EngineLine(WhiteEval.from_pov(score), tuple(info.get("pv", ())),
                      depth=info.get("depth"), nodes=info.get("nodes"))
    return PositionEval(board.fen(), (line,), identity, SearchLimit(nodes=nodes))


def search_all(boards: list[chess.Board], nodes: int, identity: EngineIdentity, *,
               warm: bool) -> tuple[list[PositionEval], int]:
    """Every position at ``nodes``, last first; cold (hash cleared each time) or warm
    within fishnet chunks. Returns the results and the nodes searched (overlaps included)."""
    sf = chess.engine.SimpleEngine.popen_uci(engine.find_engine())
    sf.configure({"Threads": 1, "Hash": 16})
    out: list[PositionEval | None] = [None] * len(boards)
    spent = 0
    order = list(range(len(boards)))[::-1]
    try:
        if not warm:
            chunks = [[(i, True)] for i in order]
        else:
            chunks = []
            for start in range(0, len(order), CHUNK - 1):
                part = [(i, True) for i in order[start:start + CHUNK - 1]]
                if start > 0:
                    part.insert(0, (order[start - 1], False))  # the overlap, result unused
                chunks.append(part)
        for chunk in chunks:
            game = object()  # a new token: python-chess sends ucinewgame
            for index, keep in chunk:
                board = boards[index]
                terminal = analysis.terminal_eval(board, identity, SearchLimit(nodes=nodes))
                if terminal is not None:
                    if keep:
                        out[index] = terminal
                    continue
                info = sf.analyse(board, chess.engine.Limit(nodes=nodes), game=game)
                spent += int(info.get("nodes", 0))
                if keep:
                    out[index] = _result(board, info, identity, nodes)
    finally:
        sf.quit()
    assert all(r is not None for r in out)
    return [r for r in out if r is not None], spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=200_000, help="the uniform reference N")
    parser.add_argument("--steps", default="1000,4000", help="ladder budgets to compare")
    parser.add_argument("--games", type=int, default=7)
    parser.add_argument("--cache", type=Path, help="a SQLite cache holding the uniform run")
    args = parser.parse_args()
    cache = store.Store(args.cache) if args.cache else None
    rule = adaptive.AdaptiveRule()
    ladder = rule.ladder(args.nodes)
    print(f"machine: {machine()}; reference: uniform {args.nodes:,} nodes; "
          f"chunks of {CHUNK} with one overlap (fishnet)")
    rows = [("budget", "hash", "mean |Δwc|", "p90 |Δwc|", "judgements ≠ uniform",
             "uncertain plies", "nodes (overlaps incl.)", "deterministic")]
    with engine.EnginePool(engine.EngineConfig(workers=2)) as pool:
        identity = pool.identity
        games = all_games()[:args.games]
        references = [analysis.analyse_game(g, pool, SearchLimit(nodes=args.nodes), cache=cache)
                      for _, _, g in games]
    for budget in (int(b) for b in args.steps.split(",")):
        step = ladder.index(budget)
        for warm in (False, True):
            errors: list[float] = []
            differ = uncertain = spent = plies = 0
            same = True
            for (_, _, game), ref in zip(games, references, strict=True):
                boards = analysis.main_line_boards(game)
                results, nodes = search_all(boards, budget, identity, warm=warm)
                if warm:
                    again, _ = search_all(boards, budget, identity, warm=warm)
                    same = same and [r.lines for r in again] == [r.lines for r in results]
                spent += nodes
                built = analysis.build_game_analysis(game, results)
                plies += len(built.plies)
                differ += sum(a.judgement is not b.judgement
                              for a, b in zip(built.plies, ref.plies, strict=True))
                for mine, theirs in zip(built.plies, ref.plies, strict=True):
                    errors.append(abs(analysis.winning_chances(mine.eval)
                                      - analysis.winning_chances(theirs.eval)))
                moves = list(game.mainline_moves())
                uncertain += len(adaptive.uncertain_plies(
                    boards, moves, results, [step] * len(boards), ladder, rule))
            errors.sort()
            rows.append((f"{budget:,}", "warm (chunks)" if warm else "cleared",
                         f"{statistics.mean(errors):.4f}",
                         f"{errors[int(0.9 * (len(errors) - 1))]:.4f}",
                         f"{differ}/{plies}", f"{uncertain}/{plies}", f"{spent:,}",
                         ("yes" if same else "NO") if warm else "yes (by construction)"))
    print_table("Warm hash within fishnet chunks vs cleared hash", rows)


if __name__ == "__main__":
    main()
