"""``python -m chessapp``: the command-line interface (see chessapp.cli)."""

from __future__ import annotations

import sys

from chessapp.cli import main

sys.exit(main())
