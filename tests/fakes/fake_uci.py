"""A deliberately misbehaving UCI engine, for the fault tests in tests/test_engine_faults.py.

It speaks just enough UCI for python-chess: uci/id/uciok, isready/readyok,
ucinewgame, position, go, stop, quit. On ``go`` it answers at once with one
``info`` line (cp 0, a legal first move as the PV) and ``bestmove``, unless
its mode says otherwise:

* ``--mode ok``: always answers;
* ``--mode hang``: never answers ``go`` and ignores ``stop`` (a hung engine);
* ``--mode crash-on --fen FEN``: exits with code 3 on ``go`` for that position;
* ``--mode crash-once --marker FILE``: exits on the first ``go`` of all runs
  that share FILE (it creates FILE), then answers normally.

Run it with an interpreter that has python-chess (the tests write a small
wrapper shell script that does so). :class:`FakeBrain` is the engine itself;
tests/fakes/inprocess.py runs the same brain in-process, through the engine
pool's launch seam, with no subprocess at all.
"""

from __future__ import annotations

import argparse
import os
import sys

import chess


class Exit(Exception):
    """The fake engine ends with this exit code (a crash, or ``quit``)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class FakeBrain:
    """What the fake engine answers to each line: the same for a process and in-process."""

    def __init__(self, mode: str = "ok", *, fen: str = "", marker: str = "",
                 name: str = "Fake UCI 1.0") -> None:
        self.mode, self.fen, self.marker, self.name = mode, fen, marker, name
        self.board = chess.Board()

    def answer(self, line: str) -> list[str]:
        """The lines to write back; raises :class:`Exit` when the engine stops."""
        if line == "uci":
            return [f"id name {self.name}", "id author chessapp tests",
                    "option name Hash type spin default 16 min 1 max 1024",
                    "option name Threads type spin default 1 min 1 max 8", "uciok"]
        if line == "isready":
            return ["readyok"]
        if line.startswith("position"):
            self.board = parse_position(line)
        elif line.startswith("go"):
            if self.mode == "hang":
                return []
            if self.mode == "crash-on" and self.board.fen() == self.fen:
                raise Exit(3)
            if self.mode == "crash-once" and not os.path.exists(self.marker):
                with open(self.marker, "w") as marker:
                    marker.write("crashed\n")
                raise Exit(3)
            move = next(iter(self.board.legal_moves), None)
            pv = move.uci() if move else ""
            return [f"info depth 1 seldepth 1 multipv 1 score cp 0 nodes 1 pv {pv}".rstrip(),
                    f"bestmove {pv or '(none)'}"]
        elif line == "quit":
            raise Exit(0)
        # ucinewgame, setoption, stop (ignored even when hung): nothing to say
        return []


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["ok", "hang", "crash-on", "crash-once"], default="ok")
    parser.add_argument("--fen", default="")
    parser.add_argument("--marker", default="")
    parser.add_argument("--name", default="Fake UCI 1.0")
    args = parser.parse_args()
    brain = FakeBrain(args.mode, fen=args.fen, marker=args.marker, name=args.name)
    for raw in sys.stdin:
        try:
            lines = brain.answer(raw.strip())
        except Exit as stop:
            return stop.code
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    return 0


def parse_position(line: str) -> chess.Board:
    words = line.split()
    rest = words[1:]
    if rest and rest[0] == "startpos":
        board = chess.Board()
        rest = rest[1:]
    else:
        fen_words = []
        rest = rest[1:]  # "fen"
        while rest and rest[0] != "moves":
            fen_words.append(rest.pop(0))
        board = chess.Board(" ".join(fen_words))
    if rest and rest[0] == "moves":
        for uci in rest[1:]:
            board.push_uci(uci)
    return board


if __name__ == "__main__":
    sys.exit(main())
