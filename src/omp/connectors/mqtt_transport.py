"""Where and how to reach an MQTT broker: the options the MQTT-based connectors share.

The MQTT JSON connector, the Sparkplug host and the UNS publisher all take
an ``MqttEndpoint`` (URL, credentials, TLS files, client id, keepalive).
This module only describes and validates the endpoint and builds the TLS
context; each package drives its own gmqtt client.

>>> endpoint = MqttEndpoint(url="mqtts://broker.plant:8883", username="omp", password="s3cret")
>>> endpoint.host, endpoint.port, endpoint.uses_tls
('broker.plant', 8883, True)
>>> endpoint.redacted_url
'mqtts://omp:***@broker.plant:8883'
"""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from omp.connectors.base import Options
from omp.core.errors import ConfigError

_SCHEMES = {"mqtt": (1883, False), "tcp": (1883, False), "mqtts": (8883, True), "ssl": (8883, True)}


class MqttEndpoint(Options):
    """A broker and how to log in. ``url`` None means the platform's broker."""

    url: str | None = None
    """``mqtt://host:port`` or ``mqtts://host:port`` (TLS); credentials may be given here too."""
    username: str | None = None
    password: SecretStr | None = None
    client_id: str | None = None
    """Stable id: the broker keeps a persistent session per client id. Default: omp-<connector>."""
    keepalive: int = Field(default=30, ge=5, le=3600)
    ca_file: Path | None = None
    """PEM bundle of the CAs that may sign the broker's certificate (default: the system's)."""
    cert_file: Path | None = None
    """Client certificate (PEM) for brokers that authenticate clients by certificate."""
    key_file: Path | None = None
    tls_insecure: bool = False
    """Skip certificate checks (test brokers, self-signed certificates); never in production."""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ValueError(
                f"broker URL {value!r} must look like mqtt://host:1883 or mqtts://host:8883"
            )
        try:
            parts.port  # noqa: B018  # raises on a bad port
        except ValueError as exc:
            raise ValueError(f"broker URL {value!r}: {exc}") from None
        return value

    def with_default_url(self, url: str | None) -> MqttEndpoint:
        """These options, with ``url`` filled in when they name no broker."""
        return self if self.url is not None or url is None else self.model_copy(update={"url": url})

    @property
    def host(self) -> str:
        return urlsplit(self._url()).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self._url())
        return parts.port or _SCHEMES[parts.scheme][0]

    @property
    def uses_tls(self) -> bool:
        return _SCHEMES[urlsplit(self._url()).scheme][1]

    @property
    def login(self) -> tuple[str, str] | None:
        """(username, password) from the options, else from the URL; None for anonymous."""
        parts = urlsplit(self._url())
        user = self.username or parts.username
        if user is None:
            return None
        password = self.password.get_secret_value() if self.password else parts.password
        return user, password or ""

    @property
    def redacted_url(self) -> str:
        """The URL for logs and errors: the password never appears."""
        parts = urlsplit(self._url())
        login = self.login
        user = f"{login[0]}:***@" if login else ""
        return f"{parts.scheme}://{user}{self.host}:{self.port}"

    def ssl_context(self) -> ssl.SSLContext | bool:
        """TLS context for ``mqtts://`` (False for plain TCP); ``ConfigError`` names a bad file."""
        if not self.uses_tls:
            return False
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            if self.cert_file is not None:
                context.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"TLS files for {self.redacted_url}: {exc}") from None
        if self.tls_insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _url(self) -> str:
        if self.url is None:
            raise ConfigError("no MQTT broker URL: set 'url' or run with the platform's broker")
        return self.url
