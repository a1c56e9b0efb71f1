"""Basic256Sha256 (Sign, SignAndEncrypt) with client certificates, and user/password logins,
each against an asyncua server that offers only that."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from asyncua import ua

from omp.connectors.opcua import PLUGIN
from omp.model.kinds import Protocol
from tests.connectors.opcua.certs import CertPair, make_cert
from tests.connectors.opcua.server import OpcUaTestServer, Security, Var
from tests.connectors.support import registry_of, running_host, wait_for

PLUGINS = {Protocol.OPCUA: PLUGIN}
TEMP = "ns=2;s=Mill01.Temperature"
VARIABLES = {"Mill01.Temperature": Var(20.0)}


def model(url: str, options: str) -> str:
    return f"""
format: 1
enterprise: acme
connectors:
  ua:
    protocol: opcua
    endpoint: {url}
    publishing_interval: 50ms
{options}
equipment_types:
  mill: {{signals: {{temp: {{datatype: float, unit: Cel}}}}}}
sites:
  s:
    timezone: UTC
    areas: {{a: {{lines: {{l: {{cells: {{c: {{equipment: {{m1: {{
      type: mill, connector: ua, bindings: {{
      temp: "{TEMP}"}}}}}}}}}}}}}}}}}}
"""


@pytest.fixture
def certs(tmp_path: Path) -> tuple[CertPair, CertPair]:
    server = make_cert(tmp_path, "server", "urn:freeopcua:python:server", server=True)
    client = make_cert(tmp_path, "client", "urn:omp:connector:opcua", server=False)
    return server, client


def _serve(**kwargs: object) -> Iterator[OpcUaTestServer]:
    server = OpcUaTestServer(VARIABLES, **kwargs)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize(
    ("mode", "policy"),
    [
        ("Sign", ua.SecurityPolicyType.Basic256Sha256_Sign),
        ("SignAndEncrypt", ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt),
    ],
)
def test_basic256sha256_with_a_client_certificate(
    certs: tuple[CertPair, CertPair], mode: str, policy: ua.SecurityPolicyType
) -> None:
    server_cert, client_cert = certs
    security = Security(server_cert.certificate, server_cert.private_key, [policy])
    for server in _serve(security=security):
        options = f"""\
    security_policy: Basic256Sha256
    security_mode: {mode}
    certificate: {client_cert.certificate}
    private_key: {client_cert.private_key}
    server_certificate: {server_cert.certificate}
"""
        with running_host(registry_of(model(server.url, options)), PLUGINS) as (host, sink):
            wait_for(lambda: sink.values(TEMP), what=f"a value over {mode}")
            server.set("Mill01.Temperature", 33.0)
            wait_for(lambda: 33.0 in sink.values(TEMP), what="a change")
            assert host.health()["ua"]["state"] == "connected"


def test_a_client_without_security_is_refused_by_a_secure_only_server(
    certs: tuple[CertPair, CertPair],
) -> None:
    server_cert, _ = certs
    policy = [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
    for server in _serve(
        security=Security(server_cert.certificate, server_cert.private_key, policy)
    ):
        with running_host(registry_of(model(server.url, "")), PLUGINS) as (host, sink):
            wait_for(lambda: host.health()["ua"]["restarts"] >= 1, what="a refused attempt")
            health = host.health()["ua"]
            assert health["state"] == "lost"
            assert "127.0.0.1" in health["last_error"]
            assert not sink.rows


def test_username_and_password() -> None:
    for server in _serve(users={"operator": "s3cret"}):
        good = "    username: operator\n    password: s3cret\n"
        with running_host(registry_of(model(server.url, good)), PLUGINS) as (host, sink):
            wait_for(lambda: sink.values(TEMP), what="a value as operator")
            assert host.health()["ua"]["state"] == "connected"
        bad = "    username: operator\n    password: wrong\n"
        with running_host(registry_of(model(server.url, bad)), PLUGINS) as (host, sink):
            wait_for(lambda: host.health()["ua"]["restarts"] >= 1, what="a refused login")
            health = host.health()["ua"]
            assert health["state"] == "lost"
            assert (
                "BadUserAccessDenied" in health["last_error"] or "Identity" in health["last_error"]
            )
            assert not sink.rows


def test_without_configured_certificate_a_self_signed_one_is_made_once_and_kept(
    certs: tuple[CertPair, CertPair], tmp_path: Path
) -> None:
    """The example model names only policy and mode: that must connect too."""
    server_cert, _ = certs
    policy = [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
    pki = tmp_path / "pki"
    options = f"""\
    security_policy: Basic256Sha256
    security_mode: SignAndEncrypt
    pki_dir: {pki}
"""
    for server in _serve(
        security=Security(server_cert.certificate, server_cert.private_key, policy)
    ):
        for _ in range(2):
            with running_host(registry_of(model(server.url, options)), PLUGINS) as (_, sink):
                wait_for(lambda: sink.values(TEMP), what="a value over an own certificate")
            made = sorted(p.name for p in pki.iterdir())
            assert made == ["ua.der", "ua.pem"]
            first = (pki / "ua.der").read_bytes()
    assert (pki / "ua.der").read_bytes() == first
