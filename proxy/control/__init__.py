"""The control API the agent's client talks to: enrolment, settings, posture, clock-in and out,
status, activity, speed tests and the UDP echo, served inside the gateway's event loop."""

from .app import create_control_app
from .certificate import control_certificate
from .context import ControlContext
from .policy_source import PolicySource
from .server import ControlServer, serve_control
from .udp_echo import UdpEcho, serve_udp_echo

__all__ = [
    "ControlContext",
    "ControlServer",
    "PolicySource",
    "UdpEcho",
    "control_certificate",
    "create_control_app",
    "serve_control",
    "serve_udp_echo",
]
