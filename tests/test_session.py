"""Analysis sessions: settings, the game tree, saving and resuming, background jobs."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessapp import jobs, tree
from chessapp import session as S
from chessapp import settings as cfg
from chessapp.analysis import Judgement
from chessapp.engine import EnginePool
from chessapp.errors import BadInput, EngineCrashed, SessionNotFound
from chessapp.evals import (
    EngineIdentity,
    EngineLine,
    PositionEval,
    SearchLimit,
    WhiteEval,
    terminal_eval,
)
from chessapp.store import Store
from chessapp.tree import main_line_boards

SCHOLAR = ('[White "Amateur"]\n[Black "Victim"]\n[Date "1913.??.??"]\n\n'
           "1. e4 e5 2. Bc4 Nc6 3. Qh5 Nf6 4. Qxf7# 1-0\n")
IDENTITY = EngineIdentity("Fake 1.0")
LIMIT = SearchLimit(nodes=1000)


def play_san(game: chess.pgn.Game, path: tree.NodePath, text: str) -> tree.NodePath:
    """What the SAN box does: parse the text in the position at ``path``, then play it."""
    return tree.play(game, path, tree.parse_move(tree.node_at(game, path).board(), text))


def game_of(text: str) -> chess.pgn.Game:
    game = chess.pgn.read_game(io.StringIO(text))
    assert game is not None
    return game


def pe(board: chess.Board, cp: int, *, identity: EngineIdentity = IDENTITY,
       limit: SearchLimit = LIMIT, lines: int = 1) -> PositionEval:
    over = terminal_eval(board, identity, limit)
    if over is not None:
        return over
    moves = list(board.legal_moves)[:lines]
    return PositionEval(board.fen(), tuple(EngineLine(WhiteEval(cp=cp - 10 * i), (m,))
                                           for i, m in enumerate(moves)), identity, limit)


def read(text: str) -> chess.pgn.Game:
    return game_of(text)


def san_at(game: chess.pgn.Game, path: tree.NodePath) -> str:
    node = tree.node_at(game, path)
    assert isinstance(node, chess.pgn.ChildNode)
    return node.san()


# --- Settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs", "limit"),
    [
        ("nodes", {"kind": cfg.LimitKind.NODES, "value": 5000}, SearchLimit(nodes=5000)),
        ("depth", {"kind": cfg.LimitKind.DEPTH, "value": 12}, SearchLimit(depth=12)),
        ("movetime", {"kind": cfg.LimitKind.MOVETIME, "value": 250}, SearchLimit(movetime_ms=250)),
    ],
)
def test_settings_give_the_search_limit(name: str, kwargs: dict[str, object],
                                        limit: SearchLimit) -> None:
    settings = cfg.AnalysisSettings(**kwargs)  # type: ignore[arg-type]
    assert settings.limit == limit, name
    assert cfg.AnalysisSettings.from_json(settings.to_json()) == settings


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("too few nodes", {"value": 999}, "at '999': Nodes must be between 1,000 and 5,000,000"),
        ("depth zero", {"kind": cfg.LimitKind.DEPTH, "value": 0},
         "at '0': Depth must be between 1 and 30"),
        ("six lines", {"multipv": 6}, "at '6': engine lines must be between 1 and 5"),
        ("no lines", {"multipv": 0}, "at '0': engine lines must be between 1 and 5"),
        ("no threads", {"threads": 0}, "at '0': threads must be between 1 and "),
    ],
)
def test_settings_out_of_bounds_are_bad_input(name: str, kwargs: dict[str, object],
                                              message: str) -> None:
    with pytest.raises(BadInput) as info:
        cfg.AnalysisSettings(**kwargs)  # type: ignore[arg-type]
    assert str(info.value).startswith(message), name


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("unknown kind", {"kind": "seconds", "value": 3}),
        ("value not a number", {"kind": "nodes", "value": "lots"}),
        ("multipv out of range", {"kind": "nodes", "value": 5000, "multipv": 9}),
    ],
)
def test_settings_from_junk_json_are_bad_input(name: str, data: dict[str, object]) -> None:
    with pytest.raises(BadInput):
        cfg.AnalysisSettings.from_json(data)


def test_engine_choices_are_the_found_engine_plus_the_operator_list(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHESSAPP_ENGINES", "/opt/a:/usr/games/stockfish: :/opt/b")
    assert cfg.engine_choices("/usr/games/stockfish") == [
        "/usr/games/stockfish", "/opt/a", "/opt/b"]
    monkeypatch.delenv("CHESSAPP_ENGINES")
    assert cfg.engine_choices(None) == []


# --- The tree -------------------------------------------------------------------------------------


def test_paths_address_main_line_nodes() -> None:
    game = read(SCHOLAR)
    path = tree.mainline_path(game, 3)
    assert path == ("e2e4", "e7e5", "f1c4")
    assert san_at(game, path) == "Bc4"
    assert tree.path_of(tree.node_at(game, path)) == path
    assert tree.mainline_path(game, 99) == tree.mainline_path(game, 7)
    assert tree.mainline_path(game, -5) == ()
    assert tree.is_mainline(game, path)


@pytest.mark.parametrize(
    ("name", "path", "message"),
    [
        ("not uci", ("e4",), "at 'e4': not a move"),
        ("not in the tree", ("e2e4", "c7c5"), "at 'c7c5': the game has no such line at ply 2"),
    ],
)
def test_unknown_paths_are_bad_input(name: str, path: tree.NodePath, message: str) -> None:
    with pytest.raises(BadInput) as info:
        tree.node_at(read(SCHOLAR), path)
    assert str(info.value) == message, name


def test_a_new_move_becomes_a_variation_and_the_main_line_stays() -> None:
    game = read(SCHOLAR)
    path = tree.play(game, tree.mainline_path(game, 1), chess.Move.from_uci("c7c5"))
    assert path == ("e2e4", "c7c5")
    assert not tree.is_mainline(game, path)
    assert [m.uci() for m in game.mainline_moves()][:2] == ["e2e4", "e7e5"]
    assert tree.game_to_pgn(game).endswith(
        "1. e4 e5 ( 1... c5 ) 2. Bc4 Nc6 3. Qh5 Nf6 4. Qxf7# 1-0")
    # Extending the variation continues it rather than branching again.
    longer = play_san(game, path, "Nf3")
    assert longer == ("e2e4", "c7c5", "g1f3")
    assert tree.game_to_pgn(game).endswith("1. e4 e5 ( 1... c5 2. Nf3 ) 2. Bc4 Nc6 3. Qh5 Nf6 "
                                        "4. Qxf7# 1-0")
    assert tree.current_line(game, path) == longer
    assert tree.branch_ply(game, longer) == 1


def test_playing_an_existing_move_adds_nothing() -> None:
    game = read(SCHOLAR)
    before = tree.game_to_pgn(game)
    assert play_san(game, (), "e4") == ("e2e4",)
    assert tree.play(game, ("e2e4",), chess.Move.from_uci("e7e5")) == ("e2e4", "e7e5")
    assert tree.game_to_pgn(game) == before


@pytest.mark.parametrize(
    ("name", "fen", "text", "uci"),
    [
        ("san", chess.STARTING_FEN, "Nf3", "g1f3"),
        ("uci", chess.STARTING_FEN, "g1f3", "g1f3"),
        ("padded", chess.STARTING_FEN, "  e4 ", "e2e4"),
        ("under-promotion", "8/4P3/8/8/8/8/k7/7K w - - 0 1", "e8=N", "e7e8n"),
        ("capture", "rnbqkbnr/ppp1pppp/8/3p4/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2", "exd5",
         "e4d5"),
    ],
)
def test_parse_move(name: str, fen: str, text: str, uci: str) -> None:
    assert tree.parse_move(chess.Board(fen), text).uci() == uci, name


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty", "  ", "type a move, such as Nf3 or e4"),
        ("illegal", "Ke2", "at 'Ke2': not a legal move for White here"),
        ("garbage", "<script>", "at '<script>': not a legal move for White here"),
        ("too long", "x" * 30, "at '" + "x" * 30 + "': not a move"),
    ],
)
def test_parse_move_errors_name_the_token(name: str, text: str, message: str) -> None:
    with pytest.raises(BadInput) as info:
        tree.parse_move(chess.Board(), text)
    assert str(info.value) == message, name


def test_illegal_played_move_is_bad_input() -> None:
    with pytest.raises(BadInput, match="illegal move in this position"):
        tree.play(read(SCHOLAR), (), chess.Move.from_uci("e2e5"))


def test_delete_variation_keeps_the_main_line() -> None:
    game = read(SCHOLAR)
    side = play_san(game, play_san(game, ("e2e4",), "c5"), "Nf3")
    assert tree.delete_variation(game, side) == ("e2e4",)
    assert tree.game_to_pgn(game).endswith("1. e4 e5 2. Bc4 Nc6 3. Qh5 Nf6 4. Qxf7# 1-0")
    with pytest.raises(BadInput, match="main line cannot be deleted"):
        tree.delete_variation(game, tree.mainline_path(game, 3))


def test_explored_lines_lists_every_side_line_once() -> None:
    session = S.AnalysisSession(read(SCHOLAR))
    a = play_san(session.game, play_san(session.game, ("e2e4",), "c5"), "Nf3")
    b = play_san(session.game, ("e2e4", "e7e5"), "Nf3")
    c = play_san(session.game, ("e2e4", "c7c5"), "Nc3")  # nested: a sibling inside a side line
    assert sorted(session.explored_lines()) == sorted([a, b, c])


def test_variation_boards_start_at_the_branch_point() -> None:
    game = read(SCHOLAR)
    side = play_san(game, play_san(game, ("e2e4", "e7e5"), "Nf3"), "Nc6")
    boards = tree.variation_boards(game, side[:3])
    assert [b.fen() for b in boards] == [b.fen() for b in tree.line_boards(game, side)[2:]]
    assert len(boards) == 3


def test_a_variation_is_judged_from_per_fen_evals() -> None:
    session = S.AnalysisSession(read(SCHOLAR))
    line = play_san(session.game, ("e2e4",), "f6")
    boards = tree.line_boards(session.game, line)
    # Evals for the positions after each move, not yet for the start: no analysis.
    session.variation_evals = {boards[1].fen(): pe(boards[1], 30),
                               boards[2].fen(): pe(boards[2], 130)}
    assert session.line_analysis(line) is None
    session.variation_evals[boards[0].fen()] = pe(boards[0], 20)
    analysis = session.line_analysis(line)
    assert analysis is not None
    moves = analysis.plies
    assert [m.san for m in moves] == ["e4", "f6"]
    # The first move is judged from lichess's fixed start (Cp.initial, +0.15).
    assert moves[0].eval_before == WhiteEval(cp=15) and moves[0].judgement is None
    assert moves[1].eval_before == WhiteEval(cp=30) and moves[1].eval == WhiteEval(cp=130)
    assert moves[1].judgement is Judgement.INACCURACY
    assert moves[1].best_san == chess.Board(boards[1].fen()).san(next(iter(boards[1].legal_moves)))


def test_default_names() -> None:
    assert S.default_name(read(SCHOLAR)) == "Amateur – Victim, 1913"
    assert S.default_name(read("1. e4 *")) == "Game"


# --- Saving and resuming -------------------------------------------------------------------------


@pytest.fixture
def store(isolated_data_dir: Path) -> Store:
    return Store()


def test_session_save_and_load_round_trip(store: Store) -> None:
    session = S.AnalysisSession(read(SCHOLAR),
                                cfg.AnalysisSettings(cfg.LimitKind.DEPTH, 10, multipv=2))
    side = play_san(session.game, ("e2e4",), "c5")
    session_id = session.save(store)
    assert store.load_session(session_id).name == "Amateur – Victim, 1913"
    loaded = S.AnalysisSession.load(store, session_id, read)
    assert loaded.session_id == session_id
    assert loaded.settings == session.settings
    assert tree.game_to_pgn(loaded.game) == tree.game_to_pgn(session.game)
    assert san_at(loaded.game, side) == "c5"
    assert loaded.analysis is None
    # An update keeps the id and changes what is stored.
    play_san(loaded.game, side, "Nf3")
    loaded.name = "Renamed"
    assert loaded.save(store) == session_id
    again = S.AnalysisSession.load(store, session_id, read)
    assert again.name == "Renamed"
    assert san_at(again.game, (*side, "g1f3")) == "Nf3"
    assert [info.id for info in store.list_sessions()] == [session_id]


def test_loading_an_unknown_session_raises(store: Store) -> None:
    with pytest.raises(SessionNotFound):
        S.AnalysisSession.load(store, "nope", read)


def _fake_analysis(game: chess.pgn.Game, lines: int = 2) -> list[PositionEval]:
    return [pe(b, 20 * i, lines=lines) for i, b in enumerate(main_line_boards(game))]


def test_restore_analysis_prefers_the_cache_with_all_lines(store: Store) -> None:
    session = S.AnalysisSession(read(SCHOLAR), cfg.AnalysisSettings(multipv=2))
    positions = _fake_analysis(session.game)
    for p in positions:
        store.put_eval(p, 2)
    analysis = session.adopt_main_line(positions)
    session_id = session.save(store)

    loaded = S.AnalysisSession.load(store, session_id, read)
    assert loaded.analysis is not None
    assert loaded.analysis.to_json() == analysis.to_json()
    assert len(loaded.analysis.plies[0].lines_after) == 2
    assert loaded.identity == IDENTITY


def test_restore_analysis_falls_back_to_the_saved_json(isolated_data_dir: Path) -> None:
    game = read(SCHOLAR)
    session = S.AnalysisSession(game, cfg.AnalysisSettings(multipv=2))
    analysis = session.adopt_main_line(_fake_analysis(game))
    data = analysis.to_json()
    # No cache at all: the JSON alone rebuilds the evals, judgements and summary.
    restored = S.restore_analysis(game, data, None)
    assert restored is not None
    assert restored.to_json() == data
    # An analysis of another game does not fit and is dropped.
    assert S.restore_analysis(read("1. d4 d5 *"), data, None) is None
    assert S.restore_analysis(game, {"engine": {}}, None) is None


def test_variation_evals_come_back_from_the_cache(store: Store) -> None:
    session = S.AnalysisSession(read(SCHOLAR))
    side = play_san(session.game, ("e2e4",), "c5")
    boards = tree.variation_boards(session.game, side)
    positions = [pe(b, 15) for b in boards]
    for p in positions:
        store.put_eval(p, session.settings.multipv)
    session.settings = cfg.AnalysisSettings(cfg.LimitKind.NODES, LIMIT.nodes or 0)
    session.adopt_variation(positions)
    session_id = session.save(store)

    loaded = S.AnalysisSession.load(store, session_id, read)
    assert loaded.identity == IDENTITY
    assert set(loaded.variation_evals) == {b.fen() for b in boards[1:]}  # branch point is main
    assert loaded.position_eval(side) == positions[-1]


# --- Background jobs ------------------------------------------------------------------------------


class GatedEvaluator:
    """A pure in-process evaluator for the job logic; each call waits for a permit."""

    def __init__(self, *, fail_on: str | None = None, fail_all: bool = False,
                 workers: int = 1) -> None:
        self.permits = threading.Semaphore(0)
        self.calls: list[str] = []
        self.fail_on = fail_on
        self.fail_all = fail_all
        self._workers = workers
        self._lock = threading.Lock()

    @property
    def identity(self) -> EngineIdentity:
        return IDENTITY

    @property
    def workers(self) -> int:
        return self._workers

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1
                 ) -> PositionEval:
        assert self.permits.acquire(timeout=30), "test never released the evaluator"
        with self._lock:
            self.calls.append(board.fen())
        if self.fail_all or board.fen() == self.fail_on:
            raise EngineCrashed("the engine died on this position")
        return pe(board, len(board.move_stack) * 7 + board.fullmove_number, limit=limit)


def test_job_reports_progress_and_partial_results_as_they_arrive() -> None:
    boards = main_line_boards(read("1. e4 e5 2. Nf3 *"))
    ev = GatedEvaluator()
    done: list[list[PositionEval]] = []
    job = jobs.AnalysisJob(boards, ev, LIMIT, on_done=done.append).start()
    assert job.progress() == jobs.JobProgress(jobs.JobState.RUNNING, 0, 4)
    ev.permits.release(1)
    # The last position is searched first (fishnet's order).
    while job.progress().done < 1:
        job.join(0.01)
    assert [p is not None for p in job.partial()] == [False, False, False, True]
    ev.permits.release(3)
    assert job.join(30)
    assert job.progress() == jobs.JobProgress(jobs.JobState.DONE, 4, 4)
    result = job.result
    assert result is not None and [p.fen for p in result] == [b.fen() for b in boards]
    assert done == [result]


def test_job_puts_every_result_in_the_cache_and_reuses_it(store: Store) -> None:
    boards = main_line_boards(read("1. e4 e5 *"))
    ev = GatedEvaluator()
    ev.permits.release(3)
    assert jobs.AnalysisJob(boards, ev, LIMIT, cache=store).start().join(30)
    assert store.cached_evals() == 3
    again = jobs.AnalysisJob(boards, ev, LIMIT, cache=store).start()
    assert again.join(30)
    assert len(ev.calls) == 3  # nothing searched twice
    assert again.progress().state is jobs.JobState.DONE
    assert all(p is not None for p in again.partial())


def test_cancel_stops_the_job_and_keeps_what_was_finished(store: Store) -> None:
    boards = main_line_boards(read(SCHOLAR))
    ev = GatedEvaluator()
    job = jobs.AnalysisJob(boards, ev, LIMIT, cache=store).start()
    ev.permits.release(2)
    while job.progress().done < 2:
        job.join(0.01)
    job.cancel()
    ev.permits.release(len(boards))  # an in-flight search may still finish
    assert job.join(30)
    progress = job.progress()
    assert progress.state is jobs.JobState.CANCELLED
    assert job.result is None
    assert store.cached_evals() == progress.done - 1  # the mate at the end needs no engine
    assert len(ev.calls) == progress.done - 1


def test_a_position_the_engine_dies_on_is_skipped_and_the_job_completes() -> None:
    boards = main_line_boards(read("1. e4 e5 *"))
    ev = GatedEvaluator(fail_on=boards[1].fen())
    ev.permits.release(3)
    job = jobs.AnalysisJob(boards, ev, LIMIT).start()
    assert job.join(30)
    assert job.progress().state is jobs.JobState.DONE
    assert job.result is not None
    assert [p.skipped for p in job.result] == [None, "the engine died on this position", None]


def test_engine_failure_everywhere_ends_the_job_with_its_message() -> None:
    boards = main_line_boards(read("1. e4 e5 2. Nf3 Nc6 *"))
    ev = GatedEvaluator(fail_all=True)
    ev.permits.release(len(boards))
    job = jobs.AnalysisJob(boards, ev, LIMIT).start()
    assert job.join(30)
    progress = job.progress()
    assert progress.state is jobs.JobState.FAILED
    assert progress.error == "the engine died on this position"
    assert job.result is None


def test_registry_replaces_and_cancels_a_running_job() -> None:
    registry = jobs.JobRegistry()
    boards = main_line_boards(read("1. e4 *"))
    ev = GatedEvaluator()
    first = registry.start("s1", jobs.AnalysisJob(boards, ev, LIMIT))
    second = registry.start("s1", jobs.AnalysisJob(boards, ev, LIMIT))
    assert registry.get("s1") is second
    ev.permits.release(10)
    assert first.join(30) and second.join(30)
    assert first.progress().state is jobs.JobState.CANCELLED
    assert second.progress().state is jobs.JobState.DONE
    registry.discard("s1")
    assert registry.get("s1") is None and registry.keys() == []


def test_registry_keeps_only_the_newest_finished_jobs() -> None:
    registry = jobs.JobRegistry(max_finished=2)
    boards = main_line_boards(read("1. e4 *"))
    ev = GatedEvaluator()
    ev.permits.release(100)
    for key in ("a", "b", "c"):
        assert registry.start(key, jobs.AnalysisJob(boards, ev, LIMIT)).join(30)
    gate = GatedEvaluator()
    running = registry.start("d", jobs.AnalysisJob(boards, gate, LIMIT))
    assert registry.keys() == ["b", "c", "d"]  # "a" was the oldest finished job
    gate.permits.release(10)
    assert running.join(30)


def test_a_variation_job_records_the_engine_so_a_resumed_session_finds_its_evals(
        store: Store) -> None:
    session = S.AnalysisSession(read(SCHOLAR), cfg.AnalysisSettings(cfg.LimitKind.NODES, 1000))
    side = play_san(session.game, ("e2e4",), "c5")
    session.save(store)
    ev = GatedEvaluator()
    ev.permits.release(10)
    job = jobs.start_variation_job(session, side, ev, store, jobs.JobRegistry())
    assert job.join(30) and job.progress().state is jobs.JobState.DONE
    # The page never took the result in (the tab was closed): nothing is lost.
    assert session.session_id is not None
    resumed = S.AnalysisSession.load(store, session.session_id, read)
    assert resumed.identity == IDENTITY
    assert job.result is not None
    assert resumed.position_eval(side) == job.result[-1]


def test_main_line_job_saves_the_analysis_into_the_session(store: Store) -> None:
    session = S.AnalysisSession(read("1. e4 e5 2. Nf3 *"), cfg.AnalysisSettings(
        cfg.LimitKind.NODES, 1000, multipv=1))
    ev = GatedEvaluator()
    ev.permits.release(10)
    registry = jobs.JobRegistry()
    job = jobs.start_main_line_job(session, ev, store, registry)
    assert session.session_id is not None
    assert registry.get(jobs.main_line_key(session.session_id)) is job
    assert job.join(30)
    saved = store.load_session(session.session_id)
    assert saved.analysis is not None and len(saved.analysis["plies"]) == 3
    assert saved.settings["engine_identity"] == {"name": "Fake 1.0", "threads": 1,
                                                 "hash_mb": 16}
    resumed = S.AnalysisSession.load(store, session.session_id, read)
    assert resumed.analysis is not None
    assert [p.san for p in resumed.analysis.plies] == ["e4", "e5", "Nf3"]


# --- With the real engine ---------------------------------------------------------------------


@pytest.mark.engine
def test_real_stockfish_session_analysis_and_variation(store: Store,
                                                       engine_pool: EnginePool) -> None:
    session = S.AnalysisSession(read(SCHOLAR), cfg.AnalysisSettings(
        cfg.LimitKind.NODES, 3000, multipv=2))
    registry = jobs.JobRegistry()
    job = jobs.start_main_line_job(session, engine_pool, store, registry)
    assert job.join(120)
    assert job.progress().state is jobs.JobState.DONE
    assert job.result is not None
    analysis = session.adopt_main_line(job.result)
    assert analysis.plies[-1].eval == WhiteEval.checkmate(chess.BLACK)
    # 3. Qh5 Nf6?? allows mate in one: a blunder, and Stockfish sees Qxf7#.
    nf6 = analysis.plies[5]
    assert (nf6.san, nf6.judgement) == ("Nf6", Judgement.BLUNDER)
    assert analysis.plies[5].lines_after[0].pv[0] == chess.Move.from_uci("h5f7")
    assert len(analysis.plies[0].lines_after) == 2

    calls = engine_pool.calls
    side = play_san(session.game, tree.mainline_path(session.game, 5), "g6")
    var = jobs.start_variation_job(session, side, engine_pool, store, registry)
    assert var.join(120) and var.result is not None
    assert engine_pool.calls == calls + 1  # only the new position; the branch point is cached
    session.adopt_variation(var.result)
    assert session.position_eval(side) == var.result[-1]
    session.save(store)

    resumed = S.AnalysisSession.load(store, session.session_id or "", read)
    assert resumed.analysis is not None
    assert resumed.analysis.to_json() == analysis.to_json()
    assert resumed.position_eval(side) == var.result[-1]


def test_index_paths_and_uci_paths_convert_both_ways() -> None:
    game = read(SCHOLAR)
    side = play_san(game, ("e2e4", "e7e5"), "Nf3")
    deeper = play_san(game, side, "Nc6")
    assert tree.index_path(game, ()) == ()
    assert tree.index_path(game, tree.mainline_path(game, 3)) == (0, 0, 0)
    assert tree.index_path(game, deeper) == (0, 0, 1, 0)
    assert tree.uci_path(game, (0, 0, 1, 0)) == deeper
    for path in (side, deeper, tree.mainline_path(game)):
        assert tree.uci_path(game, tree.index_path(game, path)) == path
    with pytest.raises(BadInput, match="no such line at ply 3"):
        tree.uci_path(game, (0, 0, 5))
    with pytest.raises(BadInput, match="no such line at ply 1"):
        tree.index_path(game, ("a2a3",))
