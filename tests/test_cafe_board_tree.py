"""The café view's board payload, and the element's optional per-node fields (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chessapp.ui.board_element import board_data
from chessapp.view.board import EvalBar, main_line_path, path_key, tree_payload
from chessapp.view.board_edits import read_pgn
from chessapp.view.cafe import load_cafe
from chessapp.view.replay import autoplay_delay

ROOT = Path(__file__).resolve().parents[1]


def test_speech_and_bars_are_sent_only_where_given() -> None:
    game = read_pgn("1. e4 e5 *")
    plain = tree_payload(game)
    assert all("speech" not in n and "bar" not in n for n in plain["nodes"].values())
    rich = tree_payload(game, speech={(0,): "The king's pawn."},
                        bars={(): EvalBar(52.14, "+0.20"), (0,): EvalBar(None, "?")})
    assert rich["nodes"]["0"]["speech"] == "The king's pawn."
    assert "speech" not in rich["nodes"][""]
    assert rich["nodes"][""]["bar"] == {"win": 52.1, "text": "+0.20"}
    assert rich["nodes"]["0"]["bar"] == {"win": None, "text": "?"}  # unknown, not 50
    assert rich["id"] != plain["id"]


def test_board_data_sends_the_new_options_only_when_on() -> None:
    tree = tree_payload(read_pgn("1. e4 *"))
    assert not {"readAloud", "evalBar", "moveLabel", "scrollIntoView"} & set(board_data(tree))
    data = board_data(tree, read_aloud=True, eval_bar=True, move_label=True,
                      scroll_into_view=True)
    assert (data["readAloud"], data["evalBar"], data["moveLabel"], data["scrollIntoView"]) == (
        True, True, True, True)


@pytest.fixture(scope="module")
def shipped() -> object:
    return load_cafe(ROOT / "games")


def test_the_cafe_payload_follows_the_story_per_ply(shipped: object) -> None:
    from chessapp import story
    from chessapp.view.cafe import CafeView

    assert isinstance(shipped, CafeView) and shipped.track is not None
    nodes = shipped.board_tree["nodes"]
    by_ply = story.shapes_by_ply(shipped.track)
    narration = story.narration_by_ply(shipped.track)
    for ply in range(shipped.replay.last + 1):
        node = nodes[path_key(main_line_path(ply))]
        assert len(node["autoShapes"]) == len(by_ply.get(ply, ()))  # the ply's own, no fallback
        assert node.get("speech") == narration.get(ply)
        assert node["delayMs"] == round(autoplay_delay(narration.get(ply)) * 1000)
        assert node["best"] == shipped.replay.at(ply).best_next
        win = shipped.replay.at(ply).white_win
        assert node["bar"]["win"] == (None if win is None else round(win, 1))
    # At ply 9 the story's arrow is the pin (Gg5d8), not the passage's later e7-e2 arrow.
    assert {"orig": "g5", "dest": "d8", "brush": "green"} in nodes[path_key(main_line_path(9))][
        "autoShapes"]


def test_shapes_at_has_no_passage_fallback(shipped: object) -> None:
    from chessapp.view.cafe import CafeView

    assert isinstance(shipped, CafeView)
    for beat in shipped.beats:
        for ply in range(beat.first_ply, beat.last_ply + 1):
            assert shipped.shapes_at(ply) == tuple(shipped.shapes.get(ply, ()))
