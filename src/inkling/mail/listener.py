"""An asyncio server on a thread of its own, started and stopped from ordinary code.

``inkling serve`` runs uvicorn in the main thread; the relay runs beside it with its own
event loop, so neither can stall the other. Stopping is orderly: the listening socket
closes, work under way gets a moment to finish, then the open connections are closed and
the loop is shut down with its tasks and executor.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable

#: Builds the protocol for one connection, on the listener's loop.
ProtocolFactory = Callable[[asyncio.AbstractEventLoop], asyncio.Protocol]
READY_TIMEOUT = 10.0


class Listener:
    """Serves ``factory``'s protocol on ``host:port`` (port 0: any free port)."""

    def __init__(
        self,
        factory: ProtocolFactory,
        host: str,
        port: int,
        *,
        on_stop: Callable[[], Awaitable[None]] | None = None,
        name: str = "listener",
    ) -> None:
        self._factory = factory
        self.host = host
        self.port = port
        self._on_stop = on_stop
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._protocols: weakref.WeakSet[asyncio.Protocol] = weakref.WeakSet()

    def start(self) -> None:
        """Bind and start serving; raises OSError if the address cannot be bound."""
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT):
            raise TimeoutError(f"{self._thread.name} did not start in {READY_TIMEOUT} s")
        if self._error is not None:
            self._thread.join()
            raise self._error

    def stop(self) -> None:
        """Stop serving and wait until the thread has finished (idempotent)."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            server = await loop.create_server(self._protocol, self.host, self.port)
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self.port = server.sockets[0].getsockname()[1]
        self._loop = loop
        self._ready.set()
        await self._stopping.wait()
        server.close()
        if self._on_stop is not None:
            await self._on_stop()
        for protocol in list(self._protocols):
            transport = getattr(protocol, "transport", None)
            if transport is not None:
                transport.close()
        await asyncio.sleep(0)  # let connection_lost run
        await server.wait_closed()

    def _protocol(self) -> asyncio.Protocol:
        protocol = self._factory(asyncio.get_running_loop())
        self._protocols.add(protocol)
        return protocol
