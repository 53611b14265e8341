"""Content-Encoding (gzip, deflate, br, zstd, stacked) and charsets: bytes on the wire to the
text the maskers read, and back, within the policy's size limit (zip bombs included)."""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib

import brotli
import zstandard

from .errors import BodyTooLargeError, UnmaskableBodyError

_CHUNK = 64 * 1024
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
# Labels browsers treat as a wider superset: decode as the browser would, or data it shows
# could be unreadable to us.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}


def content_encodings(header: str | None) -> list[str]:
    """The codings in the order they were applied, `identity` dropped."""
    if not header:
        return []
    names = [part.strip().lower() for part in header.split(",")]
    return [name for name in names if name and name != "identity"]


def _inflate(data: bytes, wbits: int, limit: int, name: str) -> bytes:
    out = bytearray()
    rest = data
    while True:
        engine = zlib.decompressobj(wbits)
        try:
            out += engine.decompress(rest, limit + 1 - len(out))
            while engine.unconsumed_tail and len(out) <= limit:
                out += engine.decompress(engine.unconsumed_tail, limit + 1 - len(out))
        except zlib.error as err:
            raise UnmaskableBodyError(f"{name} body is corrupt: {err}") from err
        if len(out) > limit:
            raise BodyTooLargeError(f"{name} body inflates to more than {limit} bytes")
        if not engine.eof:
            raise UnmaskableBodyError(f"{name} body is truncated")
        rest = engine.unused_data
        # gzip allows several members one after the other; zlib data does not
        if not rest or wbits != 31:
            break
    if rest.strip(b"\0"):
        raise UnmaskableBodyError(f"{name} body has trailing data after its end")
    return bytes(out)


def _unbrotli(data: bytes, limit: int) -> bytes:
    engine = brotli.Decompressor()
    out = bytearray()
    try:
        out += engine.process(data, output_buffer_limit=_CHUNK)
        while not engine.is_finished() and len(out) <= limit:
            chunk = engine.process(b"", output_buffer_limit=_CHUNK)
            if not chunk:
                break
            out += chunk
    except brotli.error as err:
        raise UnmaskableBodyError(f"br body is corrupt: {err}") from err
    if len(out) > limit:
        raise BodyTooLargeError(f"br body decompresses to more than {limit} bytes")
    if not engine.is_finished():
        raise UnmaskableBodyError("br body is truncated")
    return bytes(out)


def _unzstd(data: bytes, limit: int) -> bytes:
    try:
        # The stream reader bounds the output (zip bombs) but ends quietly on a cut frame, so
        # once the size is known to be safe, the frame-by-frame pass checks every frame ends.
        with zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(data), read_across_frames=True
        ) as reader:
            total = 0
            while total <= limit and (chunk := reader.read(_CHUNK)):
                total += len(chunk)
            if total > limit:
                raise BodyTooLargeError(f"zstd body decompresses to more than {limit} bytes")
        out = bytearray()
        rest = data
        while rest:
            engine = zstandard.ZstdDecompressor().decompressobj()
            out += engine.decompress(rest)
            if not engine.eof:
                raise UnmaskableBodyError("zstd body is truncated")
            rest = engine.unused_data
    except zstandard.ZstdError as err:
        raise UnmaskableBodyError(f"zstd body is corrupt: {err}") from err
    return bytes(out)


def decode_content(data: bytes, encodings: list[str], limit: int) -> bytes:
    """Undo each Content-Encoding, last applied first."""
    if not data:
        return data  # a HEAD or 204 response says gzip and carries nothing
    for name in reversed(encodings):
        if name in ("gzip", "x-gzip"):
            data = _inflate(data, 31, limit, name)
        elif name == "deflate":
            # RFC 9110 deflate is zlib-wrapped; some servers send it raw
            try:
                data = _inflate(data, 15, limit, name)
            except BodyTooLargeError:
                raise
            except UnmaskableBodyError:
                data = _inflate(data, -15, limit, name)
        elif name == "br":
            data = _unbrotli(data, limit)
        elif name == "zstd":
            data = _unzstd(data, limit)
        else:
            raise UnmaskableBodyError(f"unknown Content-Encoding {name!r}")
    return data


def encode_content(data: bytes, encodings: list[str]) -> bytes:
    """Apply the Content-Encodings again, in the order the server applied them."""
    if not data:
        return data
    for name in encodings:
        if name in ("gzip", "x-gzip"):
            data = gzip.compress(data, compresslevel=6, mtime=0)
        elif name == "deflate":
            data = zlib.compress(data, 6)
        elif name == "br":
            data = brotli.compress(data, quality=5)
        elif name == "zstd":
            data = zstandard.ZstdCompressor(level=3).compress(data)
        else:
            raise UnmaskableBodyError(f"unknown Content-Encoding {name!r}")
    return data


def declared_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    return match.group(1).lower() if match else None


def html_meta_charset(data: bytes) -> str | None:
    """A `<meta charset>` in the first 1024 bytes, where the HTML standard looks."""
    match = _META_CHARSET.search(data[:1024])
    return match.group(1).decode("ascii").lower() if match else None


def codec_name(charset: str) -> str:
    """Python's codec for a charset label, or UnmaskableBodyError for a label no codec reads."""
    label = _SUPERSETS.get(charset.lower(), charset.lower())
    try:
        info = codecs.lookup(label)
    except LookupError as err:
        raise UnmaskableBodyError(f"unknown charset {charset!r}") from err
    if not getattr(info, "_is_text_encoding", True):
        raise UnmaskableBodyError(f"{charset!r} is not a text charset")
    return info.name


def decode_text(data: bytes, charset: str) -> str:
    try:
        return data.decode(codec_name(charset))
    except UnicodeDecodeError as err:
        raise UnmaskableBodyError(
            f"body is not valid {charset}: {err.reason} at byte {err.start}"
        ) from err
    except UnicodeError as err:
        # codecs such as `undefined` and `idna` raise the bare base class
        raise UnmaskableBodyError(f"body is not valid {charset}: {err}") from err


def encode_text(text: str, charset: str) -> bytes:
    try:
        return text.encode(codec_name(charset))
    except UnicodeError as err:
        raise UnmaskableBodyError(
            f"masked body cannot be written back as {charset}: {err}"
        ) from err
