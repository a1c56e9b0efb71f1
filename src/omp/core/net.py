"""Small network facts shared by settings and services.

>>> [is_loopback(h) for h in ("127.0.0.1", "[::1]", "localhost", "10.0.0.1")]
[True, True, True, False]
"""

from __future__ import annotations

import ipaddress
import socket


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IP literal, IPv6 maybe in brackets, or ``localhost``) is loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now (a later bind may still lose a race)."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def any_free_port(host: str) -> int:
    """A port on ``host`` that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
