"""Serving the API with uvicorn on a background thread of the ``omp run`` process."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from omp.core.errors import OmpError

STARTUP_TIMEOUT_S = 10.0


class ApiServer:
    """Runs ``app`` on ``host:port`` (port 0 picks a free one) until ``stop``.

    A platform ``Service``: ``omp run`` plugs it in with ``Platform.add_service``.
    """

    name = "api"

    def __init__(self, app: FastAPI, *, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._socket: socket.socket | None = None
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host  # IPv6 literal
        return f"http://{host}:{self._port}"

    def start(self) -> None:
        """Bind and serve; ``OmpError`` naming the address when it cannot bind."""
        # Binding here, before the thread, turns "address in use" into an error
        # the caller sees, and resolves port 0 to the real port.
        where = f"{self._host}:{self._port}"
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                self._host, self._port, type=socket.SOCK_STREAM
            )[0]
            sock = socket.socket(family, kind, proto)
        except OSError as exc:
            raise OmpError(f"cannot serve the API on {where}: {exc.strerror}") from None
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            sock.close()
            raise OmpError(f"cannot serve the API on {where}: {exc.strerror}") from None
        self._port = sock.getsockname()[1]
        self._socket = sock
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="omp-api", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OmpError(f"the API on {self.url} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and wait for in-flight requests to finish."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT_S)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
