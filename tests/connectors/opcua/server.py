"""A real asyncua server for connector tests: own thread and loop, free loopback port,
restartable (a restart is a new server object, as after a PLC reboot).

Variables are named ``<Object>.<Variable>`` and live at
``ns=2;s=<Object>.<Variable>`` under ``Objects/2:Machines/2:<Object>``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole

from tests.connectors.support import free_port

NAMESPACE = "urn:omp:test:machines"
T = TypeVar("T")


@dataclass(frozen=True)
class Var:
    """One variable: initial value, its variant type, optional engineering unit (UNECE code)."""

    value: Any
    variant: ua.VariantType = ua.VariantType.Double
    unit: tuple[str, str] | None = None
    """(UNECE common code, display name), e.g. ("CEL", "°C")."""
    writable: bool = True


@dataclass
class Security:
    certificate: Path
    private_key: Path
    policies: list[ua.SecurityPolicyType] = field(
        default_factory=lambda: [
            ua.SecurityPolicyType.Basic256Sha256_Sign,
            ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
        ]
    )


class _Users:
    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is not None and self._users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


class OpcUaTestServer:
    def __init__(
        self,
        variables: Mapping[str, Var],
        *,
        port: int | None = None,
        security: Security | None = None,
        users: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.variables = dict(variables)
        self.security = security
        self.users = users
        self.server: Server | None = None
        self.nodes: dict[str, Any] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/omp/"

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> None:
        self.call(self._start())

    def stop(self) -> None:
        if self.server is not None:
            self.call(self.server.stop())
            self.server = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def freeze(self, seconds: float) -> None:
        """Block the server's loop: connections stay open, nothing is answered."""
        self._loop.call_soon_threadsafe(time.sleep, seconds)

    def set(self, name: str, value: Any, status: ua.StatusCode | None = None) -> None:
        """Set a variable's value (and optionally its status) as the device would."""
        var = self.variables[name]
        data = ua.DataValue(ua.Variant(value, var.variant), StatusCode=status or ua.StatusCode())
        self.call(self.nodes[name].write_value(data))

    def get(self, name: str) -> Any:
        return self.call(self.nodes[name].read_value())

    def subscriptions(self) -> int:
        assert self.server is not None
        return len(self.server.iserver.subscription_service.subscriptions)

    def monitored_items(self) -> int:
        assert self.server is not None
        subs = self.server.iserver.subscription_service.subscriptions.values()
        return sum(len(s.monitored_item_srv._monitored_items) for s in subs)

    async def _start(self) -> None:
        server = Server(user_manager=_Users(self.users) if self.users is not None else None)
        await server.init()
        server.set_endpoint(self.url)
        if self.security is not None:
            await server.load_certificate(str(self.security.certificate))
            await server.load_private_key(str(self.security.private_key))
            server.set_security_policy(self.security.policies)
        if self.users is not None:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        ns = await server.register_namespace(NAMESPACE)
        machines = await server.nodes.objects.add_folder(
            ua.NodeId("Machines", ns), ua.QualifiedName("Machines", ns)
        )
        objects: dict[str, Any] = {}
        self.nodes = {}
        for name, var in self.variables.items():
            owner, _, leaf = name.partition(".")
            if owner not in objects:
                objects[owner] = await machines.add_object(
                    ua.NodeId(owner, ns), ua.QualifiedName(owner, ns)
                )
            node = await objects[owner].add_variable(
                ua.NodeId(name, ns), ua.QualifiedName(leaf, ns), ua.Variant(var.value, var.variant)
            )
            if var.writable:
                await node.set_writable()
            if var.unit is not None:
                await _add_unit(node, ns, var.unit)
            self.nodes[name] = node
        await server.start()
        self.server = server


async def _add_unit(node: Any, ns: int, unit: tuple[str, str]) -> None:
    code, display = unit
    unit_id = 0
    for char in code.ljust(3)[:3] if code else "":
        unit_id = (unit_id << 8) | ord(char)
    info = ua.EUInformation(
        NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact",
        UnitId=unit_id if code else -1,
        DisplayName=ua.LocalizedText(display),
        Description=ua.LocalizedText(display),
    )
    await node.add_property(
        ua.NodeId(f"{node.nodeid.Identifier}.EU", ns),
        ua.QualifiedName("EngineeringUnits", 0),
        ua.Variant(info, ua.VariantType.ExtensionObject),
    )
