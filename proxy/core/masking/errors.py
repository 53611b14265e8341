"""What the gateway turns into a block: a body the masker cannot read safely."""

from __future__ import annotations


class UnmaskableBodyError(ValueError):
    """The body cannot be decoded, parsed or re-encoded; it must be blocked, never passed on."""


class BodyTooLargeError(UnmaskableBodyError):
    """The body (compressed or decompressed) is over the policy's `max_body_bytes`."""
