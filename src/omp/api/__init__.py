"""The HTTP API. For now a minimal read API (health, signals, query) on loopback only.

Authentication and the access layer come later; until then ``omp run`` binds
to 127.0.0.1 and settings refuse any other address.
"""

from omp.api.app import create_app
from omp.api.server import ApiServer

__all__ = ["ApiServer", "create_app"]
