"""Opening an OPC UA session from the options: endpoint, security, user, timeouts.

asyncua's own reconnect is off: the connector host owns reconnecting, so a
lost link surfaces as ``ConnectionLostError`` naming the endpoint, and the
next attempt is a brand-new client and session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from asyncua import ua
from asyncua.client.client import Client
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.ua.uaerrors import UaError

from omp.connectors.base import ConnectionLostError
from omp.connectors.opcua.options import OpcUaOptions

_MODES = {
    "Sign": ua.MessageSecurityMode.Sign,
    "SignAndEncrypt": ua.MessageSecurityMode.SignAndEncrypt,
}
DISCONNECT_TIMEOUT_S = 2.0

log = logging.getLogger("omp.connectors.opcua")


def endpoint_name(options: OpcUaOptions) -> str:
    """The endpoint as errors name it (user info, if any, stripped)."""
    scheme, _, rest = options.endpoint.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


async def open_client(options: OpcUaOptions, *, name: str = "omp") -> Client:
    """A connected client with an active session; ``ConnectionLostError`` names the endpoint.

    ``name`` (the connector's) names the self-signed certificate made when security is on
    and the options give none.
    """
    client = Client(options.endpoint, timeout=options.request_timeout / 1_000_000)
    client.session_timeout = options.session_timeout // 1000
    client.name = client.description = "omp"
    client.application_uri = "urn:omp:connector:opcua"
    if options.username is not None:
        client.set_user(options.username)
    if options.password is not None:
        client.set_password(options.password)
    where = endpoint_name(options)
    try:
        await _secure(client, options, name)
        await client.connect(auto_reconnect=False)
    except (OSError, TimeoutError, UaError) as exc:
        _drop(client)
        raise ConnectionLostError(f"OPC UA server {where}: {_describe(exc)}") from exc
    except BaseException:  # cancelled while connecting (the host stopping): no socket left open
        _drop(client)
        raise
    return client


def _drop(client: Client) -> None:
    """Never connected: drop the socket only (a polite close would log its own complaints)."""
    with contextlib.suppress(Exception):
        client.disconnect_socket()


async def _secure(client: Client, options: OpcUaOptions, name: str) -> None:
    if options.security_policy == "None":
        return
    certificate, private_key = options.certificate, options.private_key
    if certificate is None or private_key is None:
        certificate, private_key = await own_certificate(client, options.pki_dir, name)
    await client.set_security(
        SecurityPolicyBasic256Sha256,
        certificate=str(certificate),
        private_key=str(private_key),
        server_certificate=(
            str(options.server_certificate) if options.server_certificate is not None else None
        ),
        mode=_MODES[options.security_mode],
    )


async def own_certificate(client: Client, pki_dir: Path, name: str) -> tuple[Path, Path]:
    """The connector's self-signed certificate and key under ``pki_dir``, made on first use.

    Kept on disk, so a server that was told to trust it keeps trusting it after a restart.
    """
    directory = pki_dir.expanduser()
    cert, key = directory / f"{name}.der", directory / f"{name}.pem"
    if not (cert.exists() and key.exists()):
        log.warning(
            "connector %r: made a self-signed client certificate %s; "
            "the OPC UA server must trust it before a secure session can open",
            name,
            cert,
        )
    return await client.setup_self_signed_certificate(key, cert)


async def close_client(client: Client) -> None:
    """Close the session politely if the server still answers; never raises."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.disconnect(), DISCONNECT_TIMEOUT_S)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listening)"
    if isinstance(exc, TimeoutError):
        return "no answer (timed out)"
    return str(exc) or type(exc).__name__
