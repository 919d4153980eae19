"""The fake UCI engine in-process: python-chess's own UCI protocol over an asyncio transport.

``EnginePool(config, launch=launch_fake("hang"))`` gives a pool whose engines are
:class:`~tests.fakes.fake_uci.FakeBrain` objects on python-chess's event-loop
thread, exactly where a real engine's pipes would be: the pool's deadlines,
restarts and backoff run unchanged, with no process to start or reap. A
"signal" (the pool's kill of a hung engine) ends the fake as a kill ends a
process: the transport reports an exit code and the connection is lost.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal

import chess.engine

from chessapp.engine import Launch
from tests.fakes.fake_uci import Exit, FakeBrain

#: The thread name starts like python-chess's own, so the thread-leak checks see it.
THREAD_NAME = "SimpleEngine (in-process fake)"


class InProcessTransport(asyncio.SubprocessTransport, asyncio.WriteTransport):
    """Stands where a subprocess's pipes would: lines in go to the brain, answers come back."""

    def __init__(self, protocol: chess.engine.UciProtocol, brain: FakeBrain,
                 loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._protocol = protocol
        self._brain = brain
        self._loop = loop
        self._buffer = bytearray()
        self._returncode: int | None = None
        protocol.connection_made(self)

    # -- stdin --

    def get_pipe_transport(self, fd: int) -> asyncio.WriteTransport:
        assert fd == 0, f"only stdin is written, not fd {fd}"
        return self

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._returncode is not None:
            return  # a dead engine reads nothing
        self._buffer.extend(data)
        while b"\n" in self._buffer:
            raw, _, rest = bytes(self._buffer).partition(b"\n")
            self._buffer = bytearray(rest)
            try:
                lines = self._brain.answer(raw.decode("utf-8").strip())
            except Exit as stop:
                self._exit(stop.code)
                return
            if lines:
                self._loop.call_soon(self._protocol.pipe_data_received, 1,
                                     "".join(line + "\n" for line in lines).encode("utf-8"))

    # -- the "process" --

    def _exit(self, code: int) -> None:
        """End like a process: the exit code is known, then the connection is lost."""
        if self._returncode is not None:
            return
        self._returncode = code
        self._loop.call_soon(self._protocol.connection_lost, None)

    def _exit_threadsafe(self, code: int) -> None:
        self._loop.call_soon_threadsafe(self._exit, code)

    def get_pid(self) -> None:  # type: ignore[override]
        return None  # no process: the pool signals through the transport instead

    def get_returncode(self) -> int | None:
        return self._returncode

    def send_signal(self, signum: int) -> None:
        self._exit_threadsafe(-int(signum))

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def close(self) -> None:
        if self._returncode is None:
            self._exit(0)

    def is_closing(self) -> bool:
        return self._returncode is not None


def launch_fake(mode: str = "ok", **options: str) -> Launch:
    """A launch seam for :class:`chessapp.engine.EnginePool` that starts a fresh fake each time."""

    def launch(path: str, timeout: float) -> chess.engine.SimpleEngine:
        async def background(future: concurrent.futures.Future[chess.engine.SimpleEngine]) -> None:
            loop = asyncio.get_running_loop()
            protocol = chess.engine.UciProtocol()
            transport = InProcessTransport(protocol, FakeBrain(mode, **options), loop)
            engine = chess.engine.SimpleEngine(transport, protocol, timeout=timeout)
            try:
                await asyncio.wait_for(protocol.initialize(), timeout)
                future.set_result(engine)
                engine.returncode.set_result(await protocol.returncode)
            finally:
                engine.close()
            await engine.shutdown_event.wait()

        return chess.engine.run_in_background(background, name=THREAD_NAME)

    return launch
