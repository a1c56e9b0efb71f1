"""Factory models with one Modbus connector ``plc`` and one equipment ``press`` bound to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from omp.connectors.modbus import PLUGIN
from omp.model import Registry
from omp.model.kinds import Protocol
from tests.connectors.support import registry_of

PLUGINS: dict[object, Any] = {Protocol.MODBUS: PLUGIN}
EQUIPMENT = "acme/site/area/line/cell/press"


@dataclass(frozen=True)
class Sig:
    """One signal of the test press and its binding."""

    address: str
    datatype: str = "float"
    kind: str = "measurement"
    group: str | None = None
    scale: float = 1.0


def plc_registry(options: dict[str, Any], signals: dict[str, Sig]) -> Registry:
    """A model whose press binds ``signals`` to the Modbus connector ``plc``."""
    bindings: dict[str, Any] = {}
    for name, sig in signals.items():
        binding: dict[str, Any] = {"address": sig.address, "scale": sig.scale}
        if sig.group is not None:
            binding["group"] = sig.group
        bindings[name] = binding
    model = {
        "enterprise": "acme",
        "connectors": {"plc": {"protocol": "modbus", **options}},
        "equipment_types": {
            "press_type": {
                "signals": {
                    name: {"datatype": sig.datatype, "kind": sig.kind}
                    for name, sig in signals.items()
                }
            }
        },
        "sites": {
            "site": {
                "timezone": "UTC",
                "areas": {
                    "area": {
                        "lines": {
                            "line": {
                                "cells": {
                                    "cell": {
                                        "equipment": {
                                            "press": {
                                                "type": "press_type",
                                                "connector": "plc",
                                                "bindings": bindings,
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
            }
        },
    }
    return registry_of(yaml.safe_dump(model))
