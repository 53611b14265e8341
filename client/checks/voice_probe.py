"""A voice-like UDP stream to the gateway's echo (the control API's port number): 50 packets a
second of 200 bytes, like G.711 in 20 ms frames, timing each echo. The figures come from
voice_stats.py; this module only sends, receives and keeps the time."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import time
from collections.abc import Callable

from .voice_stats import VoiceStats, voice_stats

PACKETS_PER_SECOND = 50
PAYLOAD_BYTES = 200
"""G.711's 160 bytes of a 20 ms frame with RTP and a little more; the echo takes up to 512."""
LATE_SECONDS = 1.0
"""An echo later than this after the last packet left counts as lost: a call could not use
it either."""
_HEADER = struct.Struct("!4s8sI")
_MAGIC = b"HAVP"
_READS_PER_WAKE = 64

ProbeProgress = Callable[[float, float | None], None]
"""(share of the packets sent, mean round trip so far in ms)."""


def _packet(nonce: bytes, seq: int) -> bytes:
    header = _HEADER.pack(_MAGIC, nonce, seq)
    return header + bytes(PAYLOAD_BYTES - len(header))


def _sequence(data: bytes, nonce: bytes) -> int | None:
    """The packet's number when it is an echo of this probe's packet (not a stray)."""
    if len(data) != PAYLOAD_BYTES:
        return None
    magic, their_nonce, seq = _HEADER.unpack_from(data)
    return int(seq) if magic == _MAGIC and their_nonce == nonce else None


def probe_voice_path(
    host: str, port: int, seconds: float, progress: ProbeProgress | None = None
) -> VoiceStats:
    """Sends `seconds` worth of packets on a steady 20 ms clock and collects their echoes
    until all are back or LATE_SECONDS after the last one left. OSError when the address
    cannot be resolved or the socket cannot be opened."""
    count = max(2, round(seconds * PACKETS_PER_SECOND))
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    nonce = os.urandom(8)
    sent_at: list[float] = []
    echoed_at: dict[int, float] = {}
    interval = 1 / PACKETS_PER_SECOND
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.setblocking(False)
        start = time.perf_counter()
        deadline = start + count * interval + LATE_SECONDS
        # Each pass sends a packet or waits (at most until the next is due): bounded by time,
        # and by a count well above what the time allows.
        for _ in range(count * 4 + 1000):
            now = time.perf_counter()
            if now >= deadline or (len(sent_at) == count and len(echoed_at) == count):
                break
            if len(sent_at) < count and now >= start + len(sent_at) * interval:
                # An ICMP error from an earlier packet may surface here: this one is lost.
                with contextlib.suppress(OSError):
                    sock.send(_packet(nonce, len(sent_at)))
                sent_at.append(time.perf_counter() - start)
                if progress is not None and len(sent_at) % 10 == 0:
                    rtts = [echoed_at[s] - sent_at[s] for s in echoed_at]
                    mean = 1000 * sum(rtts) / len(rtts) if rtts else None
                    progress(len(sent_at) / count, mean)
                continue
            due = start + len(sent_at) * interval if len(sent_at) < count else deadline
            readable, _, _ = select.select([sock], [], [], max(0.0, min(due, deadline) - now))
            if readable:
                _read_echoes(sock, nonce, start, echoed_at, count)
    return voice_stats(sent_at, echoed_at)


def _read_echoes(
    sock: socket.socket, nonce: bytes, start: float, echoed_at: dict[int, float], count: int
) -> None:
    for _ in range(_READS_PER_WAKE):
        try:
            data = sock.recv(2048)
        except BlockingIOError:
            return
        except OSError:
            continue  # an ICMP error reported on this socket; the echoes may still come
        at = time.perf_counter() - start
        seq = _sequence(data, nonce)
        if seq is not None and seq < count and seq not in echoed_at:
            echoed_at[seq] = at
