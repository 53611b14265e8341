"""The agent's local forwarder: the browser's and softphone's proxy on 127.0.0.1, which adds the
session token and carries their traffic over TLS to the gateway, and serves the PAC file."""

from .gateway import GatewayTarget, gateway_target
from .pac import pac_file
from .server import Forwarder, Limits
from .session_watch import SessionWatch

__all__ = ["Forwarder", "GatewayTarget", "Limits", "SessionWatch", "gateway_target", "pac_file"]
