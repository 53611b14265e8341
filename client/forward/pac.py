"""The proxy auto-config file the browser loads from the forwarder: everything goes through it."""

from __future__ import annotations

# Only the PC itself is reached directly: any other host, intranet names included, must pass
# the gateway, or the policy would have a hole. There is no `; DIRECT` fallback after the proxy,
# so when the forwarder is down the browser fails instead of going around the gateway.
_TEMPLATE = """\
// homeagent: business traffic goes through the local forwarder to the company gateway.
function FindProxyForURL(url, host) {
  host = host.toLowerCase();
  if (host === "localhost" || host === "127.0.0.1" || host === "::1" || host === "[::1]" ||
      dnsDomainIs(host, ".localhost")) {
    return "DIRECT";
  }
  return "PROXY %(address)s";
}
"""

CONTENT_TYPE = "application/x-ns-proxy-autoconfig"


def pac_file(host: str, port: int) -> str:
    """The PAC script sending every host but loopback through `PROXY host:port`."""
    return _TEMPLATE % {"address": f"{host}:{port}"}
