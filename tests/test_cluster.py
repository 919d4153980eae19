"""``analyze --all --cluster``: a real Dask LocalCluster of 2 worker processes, real Stockfish.

Ten short games at 2,000 nodes a position. The cluster's output must equal a
local run's byte for byte, survive a worker killed mid-run, and send no work
when the cache already has every position.
"""

from __future__ import annotations

import logging
import os
import random
import signal
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp import batch, cli, sources
from chessapp.engine import EngineConfig
from chessapp.evals import SearchLimit

pytestmark = pytest.mark.engine

NODES = "2000"
GAMES = 10


def random_games(count: int, *, seed: int = 1913, plies: int = 18) -> str:
    """``count`` games of random legal moves, with names, dates and ratings to filter on."""
    rng = random.Random(seed)
    out = []
    for number in range(1, count + 1):
        board = chess.Board()
        for _ in range(plies):
            moves = list(board.legal_moves)
            if not moves:
                break
            board.push(rng.choice(moves))
        game = chess.pgn.Game.from_board(board)
        game.headers.update({
            "Event": "Generated", "Site": "test", "Round": str(number),
            "Date": f"20{10 + number:02d}.0{1 + number % 9}.??" if number % 3 else
                    f"20{10 + number:02d}.??.??",
            "White": "Alice" if number % 2 else f"Player {number}",
            "Black": f"Player {number}" if number % 2 else "Alice",
            "WhiteElo": str(1500 + 50 * number), "BlackElo": str(1600 + 50 * number),
            "ECO": "A00", "Opening": f"Opening {number % 3}",
        })
        out.append(str(game))
    return "\n\n".join(out) + "\n"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "games.pgn"
    path.write_text(random_games(GAMES), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[str]:
    """A LocalCluster of 2 single-threaded worker processes for the module; its address."""
    from distributed import LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as local:
        yield local.scheduler_address


def analyse(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["analyze", *args, "--all", "--nodes", NODES, "-q"])
    return code, capsys.readouterr().err


def outputs(folder: Path) -> list[str]:
    return ["-o", str(folder / "out.pgn"), "--json", str(folder / "out.jsonl"),
            "--report", str(folder / "report.csv")]


def read_outputs(folder: Path) -> tuple[bytes, bytes, bytes]:
    return tuple(  # type: ignore[return-value]
        (folder / name).read_bytes() for name in ("out.pgn", "out.jsonl", "report.csv"))


@pytest.fixture(scope="module")
def local_run(database: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: the same games on the local pool of 2 engines, no cache."""
    folder = tmp_path_factory.mktemp("local")
    code = cli.main(["analyze", str(database), "--all", "--nodes", NODES, "--workers", "2",
                     "--no-cache", "-q", *outputs(folder)])
    assert code == cli.EXIT_OK
    return folder


def test_local_cluster_output_equals_the_local_run(
        database: Path, local_run: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    zst = tmp_path / "games.pgn.zst"
    import zstandard

    zst.write_bytes(zstandard.ZstdCompressor().compress(database.read_bytes()))
    code, err = analyse([str(zst), "--cluster", "local:2", "--no-cache", *outputs(tmp_path)],
                        capsys)
    assert code == cli.EXIT_OK, err
    assert read_outputs(tmp_path) == read_outputs(local_run)
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [int(__import__("json").loads(line)["game"]) for line in lines] == list(
        range(1, GAMES + 1))
    assert "done: 10 games analysed, none skipped" in err


def test_a_rerun_sends_no_work(database: Path, local_run: Path, dask_cluster: str,
                               tmp_path: Path, isolated_data_dir: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "1", tmp_path / "2"
    first.mkdir()
    second.mkdir()
    code, err = analyse([str(database), "--cluster", dask_cluster, *outputs(first)], capsys)
    assert code == cli.EXIT_OK, err
    sent = [line for line in err.splitlines() if "positions sent" in line]
    assert sent and "cluster: 0 positions" not in sent[0], err
    code, err = analyse([str(database), "--cluster", dask_cluster, *outputs(second)], capsys)
    assert code == cli.EXIT_OK, err
    assert "cluster: 0 positions sent in 0 tasks" in err
    assert read_outputs(second) == read_outputs(first) == read_outputs(local_run)


def test_a_worker_killed_mid_run_loses_and_repeats_nothing(
        database: Path, local_run: Path, dask_cluster: str, tmp_path: Path) -> None:
    from chessapp import cluster

    notices: list[str] = []
    options = batch.BatchOptions(source=str(database), limit=SearchLimit(nodes=int(NODES)),
                                 output=str(tmp_path / "out.pgn"),
                                 json_lines=str(tmp_path / "out.jsonl"),
                                 report=str(tmp_path / "report.csv"), cluster=dask_cluster,
                                 chunk_positions=4)
    config = EngineConfig(workers=1, threads=1, hash_mb=16)
    killed: list[str] = []
    with ExitStack() as stack:
        run = stack.enter_context(cluster.ClusterRun(dask_cluster, config, options, cache=None,
                                                     notice=notices.append))
        pids: dict[str, int] = run.client.run(os.getpid)

        def kill_a_busy_worker(games_done: int, games_seen: int, done: int, total: int,
                               label: str) -> None:
            if killed or done == 0:
                return
            busy = [w for w, keys in run.client.processing().items() if keys]
            if busy:
                killed.append(busy[0])
                os.kill(pids[busy[0]], signal.SIGKILL)

        stream = sources.open_pgn_stream(options.source, stack)
        result = batch.run_batch(options, run.analyses(sources.iter_batch(stream),
                                                       progress=kill_a_busy_worker))
        lost = run.stats.workers_lost
    assert killed, "the run ended before a worker could be killed"
    assert result.analysed == GAMES and result.skipped == 0
    assert read_outputs(tmp_path) == read_outputs(local_run)
    assert killed[0] in lost
    assert any(killed[0] in n and "died" in n for n in notices), notices


def test_broken_games_are_skipped_listed_and_exit_4(
        database: Path, dask_cluster: str, tmp_path: Path, isolated_data_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    games = [random_games(1, seed=seed, plies=6).strip() for seed in (7, 8, 9)]
    broken = games[1].replace(" *", " Ka8 *", 1)  # no king reaches a8 in three moves
    mixed = tmp_path / "mixed.pgn.gz"
    import gzip

    text = "\n\n".join([games[0], broken, "[Event \"x\"\n\n1. e4 *", games[2]]) + "\n"
    mixed.write_bytes(gzip.compress(text.encode()))
    errors = tmp_path / "errors.tsv"
    code, err = analyse([str(mixed), "--cluster", dask_cluster, "--errors", str(errors),
                         "-o", str(tmp_path / "out.pgn")], capsys)
    assert code == cli.EXIT_SKIPPED == 4, err
    assert "done: 2 games analysed, 2 skipped as unreadable" in err
    rows = errors.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "game\tline\treason"
    assert [r.split("\t")[0] for r in rows[1:]] == ["2", "3"]
    assert "malformed tag pair" in rows[2]
    assert (tmp_path / "out.pgn").read_text(encoding="utf-8").count("[Event ") == 2
    # One game on its own still fails on bad input, as it always has.
    single = tmp_path / "bad.pgn"
    single.write_text(broken + "\n", encoding="utf-8")
    assert cli.main(["analyze", str(single), "--nodes", NODES, "-q"]) == cli.EXIT_BAD_INPUT


def test_filters_pick_games_before_any_engine_work(
        database: Path, dask_cluster: str, tmp_path: Path, isolated_data_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = analyse([str(database), "--cluster", dask_cluster, "--player", "alice",
                         "--since", "2013", "--until", "2018.06", "--min-elo", "1650",
                         "--max-games", "3", "--json", str(tmp_path / "out.jsonl"),
                         "-o", str(tmp_path / "out.pgn")], capsys)
    assert code == cli.EXIT_OK, err
    import json

    picked = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    # Games 3..8 are dated 2013-2018; game 6 (2016.??.??) passes --until 2018.06 whole.
    assert [g["game"] for g in picked] == [3, 4, 5]
    for game in picked:
        assert "Alice" in (game["headers"]["White"], game["headers"]["Black"])


@pytest.mark.parametrize(("args", "message"), [
    (["--cluster", "mars:2"], "--cluster takes local:N or tcp://HOST:PORT"),
    (["--cluster", "local:0"], "needs 1 <= N <= 512"),
])
def test_a_bad_cluster_address_is_bad_input(
        database: Path, args: list[str], message: str, isolated_data_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = analyse([str(database), *args], capsys)
    assert code == cli.EXIT_BAD_INPUT
    assert message in err


@pytest.mark.parametrize("flag", [["--player", "x"], ["--cluster", "local:2"],
                                  ["--report", "r.csv"], ["--max-games", "2"]])
def test_batch_options_need_all(database: Path, flag: list[str], isolated_data_dir: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["analyze", str(database), *flag, "--nodes", NODES, "-q"]) \
        == cli.EXIT_BAD_INPUT
    assert f"{flag[0]} needs --all" in capsys.readouterr().err


def test_the_worker_plugin_starts_one_engine_and_quits_it_at_teardown(
        stockfish_path: str) -> None:
    from chessapp import cluster

    plugin = cluster.EnginePlugin(EngineConfig(path=stockfish_path, workers=4, threads=1))
    plugin.setup(worker=None)
    assert plugin.pool is not None
    pool = plugin.pool
    assert pool.workers == 1 and len(pool.alive_pids()) == 1  # started at setup, not lazily
    pid = pool.alive_pids()[0]
    plugin.teardown(worker=None)
    assert plugin.pool is None and pool.closed and not pool.alive_pids()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
        f"/proc/{pid}/status").read_text().lower()
