"""A game's narration: the story-track format, its checkable claims, and the engine's notes.

* :mod:`chessapp.story.track`: the format (``games/*.story.toml``), parsing and validation;
* :mod:`chessapp.story.claims`: the claims a narration stands on, checked with python-chess
  and an analysis (one :data:`~chessapp.story.claims.CLAIM_SPECS` table);
* :mod:`chessapp.story.notes`: the engine's honest reading, templates filled with numbers;
* :mod:`chessapp.story.readable`: the claim table in plain English.

Everything here is pure: no engine is started.
"""

from __future__ import annotations

from chessapp.story.claims import (
    CLAIM_SPECS,
    DANGER_CP,
    DECISIVE_CP,
    OPENINGS,
    PIECE_VALUES,
    ArgKind,
    Claim,
    ClaimKind,
    ClaimResult,
    ClaimSpec,
    centre_distance,
    check_claim,
    check_track,
    hero_color,
    material,
    misplaced_arrows,
)
from chessapp.story.notes import engine_reading, fill_template, segment_engine_note
from chessapp.story.readable import ClaimTable, ReadableClaim, Verdict, claim_in_words, claim_table
from chessapp.story.track import (
    FACT_FIELDS,
    NOTE_FIELDS,
    Act,
    Episode,
    Fact,
    Segment,
    StoryTrack,
    TimelineEvent,
    load_track,
    narration_by_ply,
    parse_track,
    segment_for_ply,
    shapes_by_ply,
    untagged_mentions,
)

__all__ = [
    "CLAIM_SPECS",
    "DANGER_CP",
    "DECISIVE_CP",
    "FACT_FIELDS",
    "NOTE_FIELDS",
    "OPENINGS",
    "PIECE_VALUES",
    "Act",
    "ArgKind",
    "Claim",
    "ClaimKind",
    "ClaimResult",
    "ClaimSpec",
    "ClaimTable",
    "Episode",
    "Fact",
    "ReadableClaim",
    "Segment",
    "StoryTrack",
    "TimelineEvent",
    "Verdict",
    "centre_distance",
    "check_claim",
    "check_track",
    "claim_in_words",
    "claim_table",
    "engine_reading",
    "fill_template",
    "hero_color",
    "load_track",
    "material",
    "misplaced_arrows",
    "narration_by_ply",
    "parse_track",
    "segment_engine_note",
    "segment_for_ply",
    "shapes_by_ply",
    "untagged_mentions",
]
