"""The same 20 games on a Dask LocalCluster(2) and on the local pool of 2 engines.

Both runs go through the batch code of ``analyze --all`` with no cache, to
files, in one process, back to back; the cluster's start (scheduler, two
worker processes, one Stockfish each) is timed on its own and also counted in
its total. Target: cluster total / pool <= 1.10. The outputs are compared
byte for byte as well.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/cluster_vs_pool.py [--nodes 20000]
"""

from __future__ import annotations

import argparse
import io
import logging
import time
from contextlib import ExitStack
from pathlib import Path

from _common import OUT, machine, print_table
from batch_scaling import make_games

from chessapp import batch, sources
from chessapp.engine import EngineConfig, EnginePool
from chessapp.evals import SearchLimit

GAMES = 20


def options(folder: Path, nodes: int, cluster: str | None) -> batch.BatchOptions:
    folder.mkdir(parents=True, exist_ok=True)
    return batch.BatchOptions(source="-", limit=SearchLimit(nodes=nodes),
                              output=str(folder / "out.pgn"),
                              json_lines=str(folder / "out.jsonl"), cluster=cluster)


def on_pool(text: str, nodes: int, folder: Path) -> float:
    opts = options(folder, nodes, None)
    start = time.perf_counter()
    with EnginePool(EngineConfig(workers=2, threads=1, hash_mb=16)) as pool:
        batch.run_batch(opts, batch.local_analyses(
            sources.iter_batch(io.StringIO(text)), pool, opts, cache=None, progress=None,
            notice=lambda _: None))
    return time.perf_counter() - start


def on_cluster(text: str, nodes: int, folder: Path) -> tuple[float, float, int]:
    from chessapp import cluster

    opts = options(folder, nodes, "local:2")
    start = time.perf_counter()
    with ExitStack() as stack:
        run = stack.enter_context(cluster.ClusterRun(
            "local:2", EngineConfig(workers=1, threads=1, hash_mb=16), opts, cache=None,
            notice=lambda _: None))
        started = time.perf_counter() - start
        batch.run_batch(opts, run.analyses(sources.iter_batch(io.StringIO(text))))
        sent = run.stats.positions_sent
    return time.perf_counter() - start, started, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20_000)
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    text = make_games(GAMES)
    positions = GAMES * 61
    pool_s = on_pool(text, args.nodes, OUT / "cluster-bench" / "pool")
    cluster_s, start_s, sent = on_cluster(text, args.nodes, OUT / "cluster-bench" / "cluster")
    same = all((OUT / "cluster-bench" / "pool" / n).read_bytes()
               == (OUT / "cluster-bench" / "cluster" / n).read_bytes()
               for n in ("out.pgn", "out.jsonl"))
    print(f"machine: {machine()}")
    print(f"{GAMES} games, {positions} positions, {args.nodes:,} nodes a position; "
          f"the cluster sent {sent} distinct positions")
    print_table("cluster vs pool", [
        ("run", "seconds", "positions/s"),
        ("local pool, 2 engines", f"{pool_s:.1f}", f"{positions / pool_s:.1f}"),
        ("LocalCluster(2), total", f"{cluster_s:.1f}", f"{positions / cluster_s:.1f}"),
        ("  of which cluster start", f"{start_s:.1f}", ""),
        ("LocalCluster(2), after start", f"{cluster_s - start_s:.1f}",
         f"{positions / (cluster_s - start_s):.1f}"),
    ])
    print(f"ratio cluster/pool: {cluster_s / pool_s:.3f} total, "
          f"{(cluster_s - start_s) / pool_s:.3f} after start (target <= 1.10)")
    print(f"outputs identical: {same}")


if __name__ == "__main__":
    main()
