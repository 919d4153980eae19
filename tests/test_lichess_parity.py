"""Parity with lichess, number for number, on games lichess itself analysed.

lichess's evals (``../shared/data/lichess-analyses``, see its SOURCES.md) are fed
into :func:`chessapp.analysis.build_game_analysis` with no engine, and every
judgement (grade and literate comment), each side's accuracy (±1.0) and ACPL
(±1) must come out as lichess published them. See :mod:`tests.lichess_oracle`
for how lichess's records map onto ours.
"""

from __future__ import annotations

import chess
import pytest

from chessapp import analysis
from tests.lichess_oracle import OracleGame, all_oracle_games, analyses_dir

ACCURACY_TOLERANCE = 1.0  # lichess publishes whole percents
ACPL_TOLERANCE = 1  # lichess publishes a rounded integer (AccuracyCP.mean)


def _ours(og: OracleGame) -> list[tuple[str, str] | None]:
    result = analysis.build_game_analysis(og.game, og.positions)
    return [None if p.judgement is None else (p.judgement.value, p.comment(with_eval=False))
            for p in result.plies]


def test_the_oracle_data_is_all_there() -> None:
    names = [og.name for og in all_oracle_games()]
    assert len(names) == 96 and len(set(names)) == 96, analyses_dir()
    plies = sum(len(og.expected.judgements) for og in all_oracle_games())
    judged = sum(j is not None for og in all_oracle_games() for j in og.expected.judgements)
    assert plies > 6000 and judged > 1000


@pytest.mark.parametrize("og", all_oracle_games(), ids=lambda og: og.name)
def test_every_judgement_matches_lichess(og: OracleGame) -> None:
    ours = _ours(og)
    theirs = list(og.expected.judgements)
    differ = [(ply, a, b)
              for ply, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1) if a != b]
    assert differ == [], f"{og.name}: (ply, ours, lichess's) {differ}"


@pytest.mark.parametrize("og", [g for g in all_oracle_games() if g.expected.accuracy[chess.WHITE]
                                is not None or g.expected.acpl[chess.WHITE] is not None],
                         ids=lambda og: og.name)
def test_accuracy_and_acpl_match_lichess(og: OracleGame) -> None:
    summary = analysis.build_game_analysis(og.game, og.positions).summary()
    for color in (chess.WHITE, chess.BLACK):
        side = summary[color]
        want_accuracy, want_acpl = og.expected.accuracy[color], og.expected.acpl[color]
        if want_accuracy is not None:
            assert side.accuracy is not None
            assert abs(side.accuracy - want_accuracy) <= ACCURACY_TOLERANCE, (og.name, color)
        if want_acpl is not None:
            assert side.acpl is not None
            assert abs(side.acpl - want_acpl) <= ACPL_TOLERANCE, (og.name, color)


def test_agreement_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """The whole sample at once, printed (run with -s to see it)."""
    plies = agree = 0
    accuracy_gaps: list[float] = []
    acpl_gaps: list[float] = []
    for og in all_oracle_games():
        ours = _ours(og)
        plies += len(ours)
        agree += sum(a == b for a, b in zip(ours, og.expected.judgements, strict=True))
        summary = analysis.build_game_analysis(og.game, og.positions).summary()
        for color in (chess.WHITE, chess.BLACK):
            acc, acpl = og.expected.accuracy[color], og.expected.acpl[color]
            our_acc, our_acpl = summary[color].accuracy, summary[color].acpl
            if acc is not None and our_acc is not None:
                accuracy_gaps.append(abs(our_acc - acc))
            if acpl is not None and our_acpl is not None:
                acpl_gaps.append(abs(our_acpl - acpl))
    with capsys.disabled():
        print(f"\nlichess parity: {agree}/{plies} judgements agree ({100 * agree / plies:.2f}%); "
              f"accuracy max gap {max(accuracy_gaps):.2f} over {len(accuracy_gaps)} sides; "
              f"ACPL max gap {max(acpl_gaps):.2f} over {len(acpl_gaps)} sides")
    assert agree == plies
    assert max(accuracy_gaps) <= ACCURACY_TOLERANCE and max(acpl_gaps) <= ACPL_TOLERANCE
