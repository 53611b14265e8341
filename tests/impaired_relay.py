"""A bad line on loopback, since this kernel has no netem: a relay in front of the gateway that
delays each voice datagram, each way, by a set time ± a spread, and drops every n-th one from
the client; TCP on the same port number passes through unchanged (the speed tests)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from dataclasses import dataclass, field

MAX_CHUNKS = 1_000_000
"""Reads one TCP direction may make: far above a speed test's, still an end."""
BIND_ATTEMPTS = 5


@dataclass
class Impairment:
    delay_ms: float = 40.0
    spread_ms: float = 10.0
    """Each datagram waits delay_ms ± spread_ms (uniform), on each way."""
    drop_every: int = 20
    """Every n-th datagram from the client is dropped (0: none)."""
    seed: int = 107
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def delay_s(self) -> float:
        return (self.delay_ms + self.rng.uniform(-self.spread_ms, self.spread_ms)) / 1000


class _TowardsGateway(asyncio.DatagramProtocol):
    """Takes the client's datagrams; sends them on, late or never."""

    def __init__(self, relay: ImpairedRelay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        relay = self.relay
        relay.from_client += 1
        relay.client = addr
        every = relay.impairment.drop_every
        if every and relay.from_client % every == 0:
            relay.dropped += 1
            return
        upstream = relay.upstream
        if upstream is not None:
            asyncio.get_running_loop().call_later(relay.impairment.delay_s(), upstream.sendto, data)


class _TowardsClient(asyncio.DatagramProtocol):
    """Takes the gateway's echoes; sends them back to the client, late."""

    def __init__(self, relay: ImpairedRelay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        relay = self.relay
        if relay.downstream is not None and relay.client is not None:
            asyncio.get_running_loop().call_later(
                relay.impairment.delay_s(), relay.downstream.sendto, data, relay.client
            )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        for _ in range(MAX_CHUNKS):
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


class ImpairedRelay:
    """`await start()` in a running loop; then the client talks to 127.0.0.1:`port`."""

    def __init__(self, gateway: tuple[str, int], impairment: Impairment) -> None:
        self.gateway = gateway
        self.impairment = impairment
        self.port = 0
        self.from_client = 0
        self.dropped = 0
        self.client: tuple[str | int, ...] | None = None
        self.downstream: asyncio.DatagramTransport | None = None
        self.upstream: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.gateway)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        upstream, _ = await loop.create_datagram_endpoint(
            lambda: _TowardsClient(self), remote_addr=self.gateway
        )
        self.upstream = upstream
        for attempt in range(BIND_ATTEMPTS):
            downstream, _ = await loop.create_datagram_endpoint(
                lambda: _TowardsGateway(self), local_addr=("127.0.0.1", 0)
            )
            port = downstream.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(
                    self._serve_tcp, "127.0.0.1", port, family=socket.AF_INET
                )
            except OSError:
                downstream.close()
                if attempt + 1 == BIND_ATTEMPTS:
                    raise
                continue
            self.downstream = downstream
            self.port = port
            return

    async def stop(self) -> None:
        for transport in (self.downstream, self.upstream):
            if transport is not None:
                transport.close()
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tcp.wait_closed(), 5)
