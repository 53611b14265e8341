"""Pure decision code: no mitmproxy, no textual, no I/O."""
