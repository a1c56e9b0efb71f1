"""Small network facts shared by settings and services.

>>> [is_loopback(h) for h in ("127.0.0.1", "[::1]", "localhost", "10.0.0.1")]
[True, True, True, False]
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IP literal, IPv6 maybe in brackets, or ``localhost``) is loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
