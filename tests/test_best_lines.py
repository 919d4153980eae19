"""Full best lines (issue 11, section 4): every judged move's line holds at least 8 plies."""

from __future__ import annotations

import chess
import chess.pgn
import pytest

from chessapp import analysis, games
from chessapp.engine import EngineConfig, EnginePool
from chessapp.evals import EngineIdentity, EngineLine, PositionEval, SearchLimit, WhiteEval

GAME = "1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0"


class ShortLines:
    """An engine that always sees one move ahead: the first legal move in UCI order."""

    def __init__(self, evals: dict[str, int]) -> None:
        self.evals = evals
        self.calls: list[tuple[str, SearchLimit]] = []

    @property
    def identity(self) -> EngineIdentity:
        return EngineIdentity("short-sighted 1.0")

    @property
    def workers(self) -> int:
        return 1

    def evaluate(self, board: chess.Board, limit: SearchLimit, *, multipv: int = 1) -> PositionEval:
        self.calls.append((board.fen(), limit))
        first = min(board.legal_moves, key=lambda m: m.uci())
        ev = WhiteEval(cp=self.evals.get(board.fen(), 0))
        return PositionEval(board.fen(), (EngineLine(ev, (first,)),), self.identity, limit)


class DictCache:
    def __init__(self) -> None:
        self.data: dict[tuple[str, str], PositionEval] = {}

    def get_eval(self, fen: str, engine: EngineIdentity, limit: SearchLimit,
                 multipv: int) -> PositionEval | None:
        return self.data.get((fen, limit.key()))

    def put_eval(self, result: PositionEval, multipv: int) -> None:
        self.data[(result.fen, result.limit.key())] = result


def _setup() -> tuple[chess.pgn.Game, ShortLines]:
    game = games.read_game(GAME)
    boards = analysis.main_line_boards(game)
    # 2. Qh5 drops to -1.00 and it stays there: the one judged move
    return game, ShortLines({boards[3].fen(): -100, boards[4].fen(): -100})


def test_a_short_line_is_continued_from_its_end_to_eight_plies() -> None:
    game, engine = _setup()
    limit = SearchLimit(nodes=200_000)
    result = analysis.analyse_game(game, engine, limit)
    judged = [p for p in result.plies if p.judgement is not None]
    assert [p.san for p in judged] == ["Qh5"]
    qh5 = judged[0]
    assert len(qh5.pv) == analysis.MIN_BEST_LINE_PLIES and len(qh5.pv_san) == len(qh5.pv)
    board = analysis.main_line_boards(game)[2]
    for move in qh5.pv:  # every move legal, each the engine's own choice at its position
        assert move == min(board.legal_moves, key=lambda m: m.uci())
        board.push(move)
    # 7 continuation searches at the small budget, after the 7 position searches
    continuations = [c for c in engine.calls if c[1] == SearchLimit(nodes=50_000)]
    assert len(continuations) == 7 and len(engine.calls) == 7 + 7
    # unjudged moves keep the line the search gave
    assert all(len(p.pv) == 1 for p in result.plies if p.judgement is None and p.pv)


def test_the_same_settings_give_the_same_line_and_the_cache_serves_it() -> None:
    game, engine = _setup()
    cache = DictCache()
    first = analysis.analyse_game(game, engine, SearchLimit(nodes=200_000), cache=cache)
    calls = len(engine.calls)
    second = analysis.analyse_game(game, engine, SearchLimit(nodes=200_000), cache=cache)
    assert len(engine.calls) == calls  # every search, continuations too, came from the cache
    assert first.to_json() == second.to_json()


def test_a_line_stops_where_the_game_would_end() -> None:
    # 4. Nc3 misses 4. Qxf7#: a lost mate, judged; its best line is the mate itself.
    game = games.read_game("1. e4 e5 2. Bc4 Nc6 3. Qh5 Nf6 4. Nc3 *")
    engine = ShortLines({})
    identity, limit = engine.identity, SearchLimit(nodes=1)
    positions = []
    for i, board in enumerate(analysis.main_line_boards(game)):
        ev, pv = WhiteEval(cp=0), (min(board.legal_moves, key=lambda m: m.uci()),)
        if i == 6:
            ev, pv = WhiteEval(mate=1), (chess.Move.from_uci("h5f7"),)
        elif i == 7:
            ev = WhiteEval(cp=100)
        positions.append(PositionEval(board.fen(), (EngineLine(ev, pv),), identity, limit))
    built = analysis.build_game_analysis(game, positions)
    assert built.plies[6].judgement is not None
    out = analysis.extend_best_lines(game, positions, engine, limit)
    assert out[6].best.pv == (chess.Move.from_uci("h5f7"),)  # mate: nothing to continue
    assert all(fen != out[6].fen for fen, _ in engine.calls)


@pytest.mark.engine
def test_real_engine_lines_are_long_and_reproducible(stockfish_path: str) -> None:
    game = games.read_game(GAME)
    config = EngineConfig(path=stockfish_path, workers=1, threads=1, hash_mb=16)
    with EnginePool(config) as pool:
        first = analysis.analyse_game(game, pool, SearchLimit(nodes=5_000))
        again = analysis.analyse_game(game, pool, SearchLimit(nodes=5_000))
    boards = analysis.main_line_boards(game)
    for ply in first.plies:
        if ply.judgement is None:
            continue
        end = boards[ply.ply - 1].copy()
        for move in ply.pv:
            assert end.is_legal(move)
            end.push(move)
        assert len(ply.pv) >= analysis.MIN_BEST_LINE_PLIES or end.is_game_over(), ply.san
    assert [p.pv for p in first.plies] == [p.pv for p in again.plies]
