"""Café 1913: a narrated chess-analysis companion built on python-chess and Stockfish."""

from __future__ import annotations

__version__ = "0.1.0"
