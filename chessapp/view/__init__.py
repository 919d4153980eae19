"""What a page shows, as plain data.

replay (per-ply records, the cursor), svg (the one board renderer), board (the game
tree the chessground element steps through), charts, cafe (the café view), metaphor
(the game-against-history picture) and analysis (the analysis page's controller).
"""
