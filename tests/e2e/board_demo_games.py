"""The games of the board demo page (tests/e2e/board_demo_page.py), by ``?game=`` name."""

from __future__ import annotations

GAMES = {
    "main": """[Event "Board demo"]
[White "Lev"]
[Black "Regular"]

{The café game's opening, with side lines.} 1. e4 {The king's pawn.} e6 2. d4 d5
3. exd5 (3. e5 c5 4. c3 {The advance.}) (3. Nc3 Nf6) 3... exd5 4. Nc3 Nf6 $5 5. Bg5
Qe7+ $6 6. Be2 c6 7. Nf3 Bg4 8. O-O Nbd7 9. h3 Bf5 10. Re1 g6 $2 11. Nxd5 $1 Qxe2
12. Rxe2+ 1-0
""",
    "promotion": """[FEN "8/P6k/8/8/8/8/6pK/8 w - - 0 1"]
[SetUp "1"]

1. a8=Q g1=Q+ *
""",
}
