"""Every judged move explained (issue 12, part 2): the café game's, in the report and the pages."""

from __future__ import annotations

import pytest

from chessapp.coach import explain_analysis, explanation_json, explanation_texts
from chessapp.view.analysis import move_rows
from chessapp.view.cafe import CafeView, load_cafe
from chessapp.view.replay import build_replay

#: The shipped café analysis (Stockfish 15.1, 200,000 nodes): each sentence was checked
#: against the board by hand. 10... g6 lets the e2 bishop leave the e-file, and Re1 then
#: pins the queen on e7 to its king; 11... Qxe2 puts the queen where White's queen takes it.
CAFE_EXPLANATIONS = {
    10: "(-0.13 → 0.42) Inaccuracy. Be7 was best.",
    20: "g6 allows Ba6: After Ba6, the queen on e7 is pinned to its king.",
    22: "Qxe2 leaves the queen on e2 hanging: Qxe2+. Missed cxd5: cxd5 takes the knight on d5, "
        "which nothing defends.",
}


@pytest.fixture(scope="module")
def cafe() -> CafeView:
    view = load_cafe()
    assert view.analysis is not None
    return view


def test_the_cafe_games_judged_moves_are_explained(cafe: CafeView) -> None:
    assert cafe.analysis is not None
    found = explain_analysis(cafe.analysis)
    assert {ply: e.text for ply, e in found.items()} == CAFE_EXPLANATIONS
    judged = {p.ply for p in cafe.analysis.plies if p.judgement is not None}
    assert set(found) == judged
    # No claim explains 5... Qe7+, so its text is lichess's comment, and no sentence is
    # carried by a claim that failed.
    assert all(not c.held for c in found[10].claims)
    for explanation in found.values():
        assert all(c.sentence == "" for c in explanation.claims if not c.held)


def test_the_report_carries_one_explanation_per_judged_ply(cafe: CafeView) -> None:
    assert cafe.analysis is not None
    report = explanation_json(cafe.analysis)
    assert len(report) == len(cafe.analysis.plies)
    assert [i + 1 for i, e in enumerate(report) if e is not None] == sorted(CAFE_EXPLANATIONS)
    g6 = report[19]
    assert g6 is not None
    assert g6["text"] == CAFE_EXPLANATIONS[20]
    assert {"discoveredAttack", "pin"} <= set(g6["motifs"])
    assert any(c["held"] and c["kind"] == "allows_motif" for c in g6["claims"])


def test_explanations_reach_the_replay_and_the_move_table(cafe: CafeView) -> None:
    assert cafe.analysis is not None
    assert cafe.replay.at(20).explanation == CAFE_EXPLANATIONS[20]
    assert cafe.replay.at(21).explanation is None  # 11. Nxd5 was not judged
    plain = build_replay(cafe.game, cafe.analysis)
    assert plain.at(20).explanation is None  # only when asked for
    rows = move_rows(cafe.analysis)
    assert [r["Why"] for r in rows if r["Why"]] == [CAFE_EXPLANATIONS[p]
                                                   for p in sorted(CAFE_EXPLANATIONS)]


def test_explanations_are_remembered_per_analysis_object(cafe: CafeView) -> None:
    assert cafe.analysis is not None
    first = explanation_texts(cafe.analysis)
    assert explanation_texts(cafe.analysis) is first  # a page step costs no re-tagging
    assert first == CAFE_EXPLANATIONS
