"""What an agent may see of a response: personal data masked, then watermarked for that agent,
in one decode and one encode. Large bodies are protected in worker processes so that the proxy's
event loop stays free; a body that cannot be protected is never passed on."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import gc
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass, field

from ..core.masking import BodyFormat, Masker, UnmaskableBodyError, format_for
from ..core.policy.loader import LoadedPolicy
from ..core.watermark import BodyKind, Watermarker, WatermarkError

INLINE_BYTES = 16 * 1024
"""Bodies up to this size are protected on the event loop: cheaper than a trip to a worker."""
BINARY_MEDIA = ("image/", "audio/", "video/", "font/")
"""Media that cannot hold personal data as text: passed on unmasked (and audited as such)."""
WATERMARKED_MEDIA = ("text/plain", "text/html", "application/xhtml+xml")


class CannotProtectError(Exception):
    """The body could not be masked or marked: the response must be refused."""


@dataclass(frozen=True, slots=True)
class Job:
    body: bytes
    content_type: str | None
    content_encoding: str | None
    csp: str | None
    role: str
    url: str
    agent: str
    reference: str
    now: dt.datetime


@dataclass(frozen=True, slots=True)
class Protected:
    body: bytes
    counts: dict[str, int] = field(default_factory=dict)
    marks: int = 0
    csp: str | None = None
    """A Content-Security-Policy to send instead of the page's (so the overlay shows)."""
    passed_binary: bool = False


def treatment(content_type: str | None, body: bytes) -> str:
    """`none` (no body), `binary` (passed unmasked), `protect`, or `refuse`."""
    if not body:
        return "none"
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media.startswith(BINARY_MEDIA) and media != "image/svg+xml":
        return "binary"
    if not media or format_for(content_type) is not None:
        return "protect"
    return "refuse"


def protect(masker: Masker, watermarker: Watermarker, job: Job) -> Protected:
    """Mask and watermark one body; CannotProtectError when either cannot be done."""
    kind = treatment(job.content_type, job.body)
    if kind == "none":
        return Protected(job.body)
    if kind == "binary":
        return Protected(job.body, passed_binary=True)
    if kind == "refuse":
        raise CannotProtectError(f"content type {job.content_type!r} cannot be inspected")
    media = (job.content_type or "").split(";", 1)[0].strip().lower()
    outcome: dict[str, object] = {}

    def mark(text: str, fmt: BodyFormat) -> str:
        kinds: dict[BodyFormat, BodyKind] = {
            BodyFormat.JSON: "json",
            BodyFormat.JSONL: "jsonl",
            BodyFormat.HTML: "html",
        }
        body_kind = kinds.get(fmt) or (
            "text" if fmt is BodyFormat.TEXT and media in WATERMARKED_MEDIA else None
        )
        if body_kind is None:
            return text  # scripts, styles, forms: marks could break them, and no one reads them
        marked = watermarker.watermark(
            text,
            kind=body_kind,
            agent=job.agent,
            now=job.now,
            reference=job.reference,
            csp=job.csp,
            # the masker has just parsed a JSON body whole (it refuses one that does not parse)
            parsed=fmt is BodyFormat.JSON,
        )
        outcome["marks"], outcome["csp"] = marked.marks, marked.content_security_policy
        return marked.body

    try:
        result = masker.mask_body(
            job.body,
            content_type=job.content_type,
            content_encoding=job.content_encoding,
            role=job.role,
            url=job.url,
            then=mark,
        )
    except (UnmaskableBodyError, WatermarkError) as err:
        raise CannotProtectError(str(err)) from err
    marks = outcome.get("marks", 0)
    csp = outcome.get("csp")
    return Protected(
        result.body,
        dict(result.counts),
        marks if isinstance(marks, int) else 0,
        csp if isinstance(csp, str) else None,
    )


_worker: tuple[Masker, Watermarker] | None = None


WORKER_GC_THRESHOLD = 50_000
"""Allocations between young-generation collections in a worker (Python's default: 700). A body
makes hundreds of thousands of short-lived objects that reference counting frees; collecting
every 700 of them cost a tenth of a body's time."""


ORPHAN_CHECK_S = 1.0
"""How often a worker looks whether its gateway is still there."""


def _exit_when_orphaned(gateway: int) -> None:
    # A gateway killed outright (SIGKILL, the OOM killer) cannot stop its workers, and a worker
    # holds both ends of its task queue, so it would wait for work forever: it goes itself.
    while os.getppid() == gateway:
        time.sleep(ORPHAN_CHECK_S)
    os._exit(0)


def _start_worker(
    gateway: int, loaded: LoadedPolicy, pseudonym_key: bytes, watermark_key: bytes
) -> None:
    global _worker
    # the gateway's pid comes from the gateway: one that died while this worker was still
    # starting is already gone, and getppid() here would name the process that adopted it
    threading.Thread(
        target=_exit_when_orphaned, args=(gateway,), name="orphan-watch", daemon=True
    ).start()
    _worker = (Masker(loaded.policy, pseudonym_key), Watermarker(loaded.policy, watermark_key))
    # The policy, compiled patterns and tables live as long as the worker: set them aside so
    # that collections do not walk them again and again.
    gc.freeze()
    gc.set_threshold(WORKER_GC_THRESHOLD)


def _protect_in_worker(job: Job) -> Protected:
    assert _worker is not None, "worker started without its policy"
    return protect(*_worker, job)


def _ready() -> None:
    """A worker's first task: nothing, once its initializer has run."""


class ProtectPool:
    """Worker processes holding one policy's masker and watermarker. A new policy gets a new
    pool; the old one finishes the bodies it was given."""

    def __init__(
        self, loaded: LoadedPolicy, pseudonym_key: bytes, watermark_key: bytes, workers: int
    ) -> None:
        self.workers = workers
        self._pool = (
            concurrent.futures.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(os.getpid(), loaded, pseudonym_key, watermark_key),
            )
            if workers > 0
            else None
        )
        # Start every worker now rather than at the first large bodies, which would otherwise
        # wait for a new interpreter to import the masker and build its tables.
        if self._pool is not None:
            for _ in range(workers):
                self._pool.submit(_ready)

    async def run(self, masker: Masker, watermarker: Watermarker, job: Job) -> Protected:
        if self._pool is None or len(job.body) <= INLINE_BYTES:
            return protect(masker, watermarker, job)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, _protect_in_worker, job)
        except concurrent.futures.BrokenExecutor as err:
            raise CannotProtectError(f"masking worker failed: {err}") from err

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=False)
