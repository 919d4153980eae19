"""What a page shows, as plain data: pure functions of the game, the analysis and the story."""
