"""Username/password and TLS against private Mosquitto brokers configured by the test."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.connectors.mqtt.helpers import PLUGINS, PrivateMosquitto, model, password_file, publisher
from tests.connectors.support import free_port, registry_of, running_host, wait_for

TOPICS = "    topics:\n      - {filter: 'plant/#'}\n"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey]
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer[0]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def write_pki(workdir: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key) PEM files."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        _certificate(f"{name} CA", ca_key, (f"{name} CA", ca_key))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _certificate("127.0.0.1", key, (f"{name} CA", ca_key))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (workdir / f"{name}-ca.pem", workdir / f"{name}-cert.pem", workdir / f"{name}-key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def locked_broker(tmp_path: Path) -> Iterator[PrivateMosquitto]:
    passwords = password_file(tmp_path, "omp", "s3cret")
    broker = PrivateMosquitto(tmp_path, f"allow_anonymous false\npassword_file {passwords}\n")
    broker.start()
    yield broker
    broker.stop()


def test_username_and_password_log_in(locked_broker: PrivateMosquitto) -> None:
    url = f"mqtt://127.0.0.1:{locked_broker.port}"
    body = f"    url: {url}\n    username: omp\n    password: s3cret\n{TOPICS}"
    with running_host(registry_of(model(body)), PLUGINS) as (host, sink):
        wait_for(lambda: host.connector_health("feed").is_connected)
        with publisher(locked_broker.port, login=("omp", "s3cret")) as pub:
            pub.publish("plant/a", b"1.5")
        wait_for(lambda: sink.values("plant/a") == [1.5])


def test_a_wrong_password_is_reported_without_the_password(
    locked_broker: PrivateMosquitto,
) -> None:
    url = f"mqtt://omp:wrong-one@127.0.0.1:{locked_broker.port}"
    with running_host(registry_of(model(f"    url: {url}\n{TOPICS}")), PLUGINS) as (host, _):
        wait_for(lambda: host.health()["feed"]["last_error"] is not None)
        health = host.health()["feed"]
    assert health["state"] != "connected"
    assert f"mqtt://omp:***@127.0.0.1:{locked_broker.port} refused" in health["last_error"]
    assert "wrong-one" not in health["last_error"]


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[PrivateMosquitto, int, Path]]:
    ca, cert, key = write_pki(tmp_path, "plant")
    plain = free_port()
    broker = PrivateMosquitto(
        tmp_path,
        f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
        f"listener {plain} 127.0.0.1\nallow_anonymous true\n",
    )
    broker.start()
    yield broker, plain, ca
    broker.stop()


def test_tls_with_the_plants_ca_file(tls_broker: tuple[PrivateMosquitto, int, Path]) -> None:
    broker, plain_port, ca = tls_broker
    body = f"    url: mqtts://127.0.0.1:{broker.port}\n    ca_file: {ca}\n{TOPICS}"
    with running_host(registry_of(model(body)), PLUGINS) as (host, sink):
        wait_for(lambda: host.connector_health("feed").is_connected, what="TLS connection")
        with publisher(plain_port) as pub:
            pub.publish("plant/a", b"2.5")
        wait_for(lambda: sink.values("plant/a") == [2.5])


def test_tls_refuses_a_broker_certificate_from_another_ca(
    tls_broker: tuple[PrivateMosquitto, int, Path], tmp_path: Path
) -> None:
    broker, _, _ = tls_broker
    stranger_ca, _, _ = write_pki(tmp_path, "stranger")
    body = f"    url: mqtts://127.0.0.1:{broker.port}\n    ca_file: {stranger_ca}\n{TOPICS}"
    with running_host(registry_of(model(body)), PLUGINS) as (host, _):
        wait_for(lambda: host.health()["feed"]["last_error"] is not None)
        health = host.health()["feed"]
    assert health["state"] != "connected"
    assert "CERTIFICATE_VERIFY_FAILED" in health["last_error"]
