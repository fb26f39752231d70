"""How uvicorn serves the app: one configuration for `factvault serve` and the tests.

uvicorn times out idle keep-alive connections but not a client that sends its request
headers slowly: a hundred such clients held eighty connections for over a minute in the
probe of issue 29. The HTTP protocol here closes a connection whose request line and
headers have not all arrived within ``header_read_seconds`` (answering 408 first); the
body's own read timeout is the guard's (guard.py), counted between two pieces of a body.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.core.config import Settings
from app.core.serving_address import forget_address, record_address, url_for

log = logging.getLogger("factvault.server")
_LATE = b"request headers sent too slowly\n"
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_LATE), _LATE)
)


def header_deadline_protocol(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing connections whose first request's headers are late."""

    class HeaderDeadline(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._deadline: asyncio.TimerHandle | None = self.loop.call_later(
                seconds, self._headers_late
            )

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and self._deadline is not None:
                self._deadline.cancel()  # the request line and headers are in
                self._deadline = None

        def _headers_late(self) -> None:
            self._deadline = None
            if self.cycle is None and not self.transport.is_closing():
                self.transport.write(TIMEOUT_RESPONSE)
                self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            super().connection_lost(exc)

    return HeaderDeadline


class Server(uvicorn.Server):
    """uvicorn's server, recording where it listens in the data dir it serves (the CLI finds
    it there whatever the port) and telling the service at SIGTERM (not only once the grace
    period is over) that it is stopping: an ingest then ends between two steps at once (its
    files are read again by the next run), while questions being answered get the grace
    period."""

    def __init__(
        self, config: uvicorn.Config, data_dir: Path, on_exit: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self._data_dir = data_dir
        self._on_exit = on_exit

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        listening = [s for server in getattr(self, "servers", []) for s in server.sockets]
        if listening:
            host, port = listening[0].getsockname()[:2]
            problem = record_address(self._data_dir, url_for(host, port))
            if problem:
                log.warning("could not record this server's address: %s", problem)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        forget_address(self._data_dir)
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._on_exit is not None:
            self._on_exit()
        super().handle_exit(sig, frame)


def run(app: FastAPI, settings: Settings) -> None:
    """Serve ``app`` until SIGINT/SIGTERM (`factvault serve`)."""

    def stopping() -> None:
        service = getattr(app.state, "service", None)
        if service is not None:
            service.stopping()

    Server(uvicorn_config(app, settings), settings.data_dir, stopping).run()


def uvicorn_config(app: FastAPI, settings: Settings, **overrides: object) -> uvicorn.Config:
    """The server's configuration from the settings (``overrides``: uvicorn's own)."""
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "http": header_deadline_protocol(settings.header_read_seconds),
        # SIGTERM: requests still running after the grace period are cancelled, then the
        # service closes (its parse worker killed, an ingest stopped between steps).
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
        "timeout_keep_alive": settings.keep_alive_seconds,
        **overrides,
    }
    return uvicorn.Config(app, **options)  # type: ignore[arg-type]
