"""The UDP echo the client's network check uses for RTT, jitter and loss: each datagram of at
most 512 bytes goes back unchanged to where it came from; bigger ones are dropped (no echo can
amplify, and a voice packet is far smaller)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast

MAX_DATAGRAM = 512


class EchoProtocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.echoed = 0
        self.dropped = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self.transport is None or len(data) > MAX_DATAGRAM:
            self.dropped += 1
            return
        self.transport.sendto(data, addr)
        self.echoed += 1

    def error_received(self, exc: Exception) -> None:
        # An ICMP "port unreachable" from a client that left: nothing to do, keep serving.
        pass


@dataclass
class UdpEcho:
    transport: asyncio.DatagramTransport
    protocol: EchoProtocol

    @property
    def port(self) -> int:
        port: int = self.transport.get_extra_info("sockname")[1]
        return port

    def close(self) -> None:
        self.transport.close()


async def serve_udp_echo(host: str, port: int) -> UdpEcho:
    """Listening on (host, port) in the running loop when it returns; port 0 picks one."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(EchoProtocol, local_addr=(host, port))
    return UdpEcho(transport, protocol)
