"""uvicorn's HTTP/1 protocol with a deadline for each request head: uvicorn times out only an idle
keep-alive connection, so a client that sends its head a byte at a time (slowloris), or nothing at
all after the TLS handshake, would hold a control API connection for ever."""

from __future__ import annotations

import asyncio
import logging

from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

log = logging.getLogger(__name__)
HEAD_TIMEOUT_S = 60.0


def head_deadline_protocol(seconds: float) -> type[H11Protocol]:
    """An H11Protocol class that closes a connection whose next request head is not whole
    `seconds` after the connection opened or the last response ended."""

    class HeadDeadlineProtocol(H11Protocol):
        def __init__(
            self,
            config: Config,
            server_state: ServerState,
            app_state: dict[str, object],
            _loop: asyncio.AbstractEventLoop | None = None,
        ) -> None:
            super().__init__(config, server_state, app_state, _loop)
            self._head_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn narrows it the same way
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.cycle is not None and not self.cycle.response_complete:
                self._disarm()  # a whole head arrived: the request is being served

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()  # the next head on this keep-alive connection is owed from now

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._head_deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _expire(self) -> None:
            self._head_deadline = None
            if not self.transport.is_closing():
                log.warning(
                    "control API client %s sent no whole request head within %g s; closing it",
                    self.client,
                    seconds,
                )
                self.transport.close()

    return HeadDeadlineProtocol
