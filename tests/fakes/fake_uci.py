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
wrapper shell script that does so).
"""

from __future__ import annotations

import argparse
import os
import sys

import chess


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["ok", "hang", "crash-on", "crash-once"], default="ok")
    parser.add_argument("--fen", default="")
    parser.add_argument("--marker", default="")
    parser.add_argument("--name", default="Fake UCI 1.0")
    args = parser.parse_args()

    board = chess.Board()

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    for raw in sys.stdin:
        line = raw.strip()
        if line == "uci":
            say(f"id name {args.name}")
            say("id author chessapp tests")
            say("option name Hash type spin default 16 min 1 max 1024")
            say("option name Threads type spin default 1 min 1 max 8")
            say("uciok")
        elif line == "isready":
            say("readyok")
        elif line.startswith("position"):
            board = parse_position(line)
        elif line.startswith("go"):
            if args.mode == "hang":
                continue
            if args.mode == "crash-on" and board.fen() == args.fen:
                return 3
            if args.mode == "crash-once" and not os.path.exists(args.marker):
                with open(args.marker, "w") as marker:
                    marker.write("crashed\n")
                return 3
            move = next(iter(board.legal_moves), None)
            pv = move.uci() if move else ""
            say(f"info depth 1 seldepth 1 multipv 1 score cp 0 nodes 1 pv {pv}".rstrip())
            say(f"bestmove {pv or '(none)'}")
        elif line == "quit":
            return 0
        # ucinewgame, setoption, stop (ignored even when hung): nothing to say
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
