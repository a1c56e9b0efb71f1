"""Self-signed OPC UA application certificates for tests (DER certificate, PEM key)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from asyncua.crypto.cert_gen import (
    dump_private_key_as_pem,
    generate_private_key,
    generate_self_signed_app_certificate,
)
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID


@dataclass(frozen=True)
class CertPair:
    certificate: Path
    private_key: Path


def make_cert(directory: Path, name: str, uri: str, *, server: bool) -> CertPair:
    key = generate_private_key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    cert = generate_self_signed_app_certificate(
        key,
        name,
        {"organizationName": "omp tests"},
        [
            x509.UniformResourceIdentifier(uri),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ],
        [usage],
    )
    pair = CertPair(directory / f"{name}.der", directory / f"{name}.pem")
    pair.certificate.write_bytes(cert.public_bytes(Encoding.DER))
    pair.private_key.write_bytes(dump_private_key_as_pem(key))
    return pair
