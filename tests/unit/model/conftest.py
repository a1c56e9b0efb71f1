"""Helpers for the model tests: a minimal valid model and an in-memory id source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"

MINIMAL = """\
enterprise: acme
connectors:
  plc:
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:4840
equipment_types:
  mill:
    kpi:
      ideal_cycle_time: 42s
      good_count: good
      state: state
    signals:
      temp: {unit: Cel}
      pressure: {unit: kPa}
      good: {datatype: int, kind: counter}
      state: {datatype: int, kind: state, states: {0: idle, 1: producing, 2: down}}
      order: {datatype: string, kind: text}
sites:
  munich:
    timezone: Europe/Berlin
    areas:
      body:
        lines:
          line_1:
            cells:
              cell_a:
                equipment:
                  mill_01:
                    type: mill
                    connector: plc
                    bindings:
                      temp: {address: "ns=2;s=Mill01.Temp", unit: "[degF]"}
                      pressure: {address: "ns=2;s=Mill01.Pressure", unit: bar}
                      good: "ns=2;s=Mill01.Good"
                      state: "ns=2;s=Mill01.State"
                      order: "ns=2;s=Mill01.Order"
"""


class DictIds:
    """A SignalIdSource like the historian's catalog: new paths get the next id, forever."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        for path in paths:
            self.known.setdefault(path, len(self.known) + 1)
        return {path: self.known[path] for path in paths}


@pytest.fixture
def ids() -> DictIds:
    return DictIds()


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the only line of ``text`` containing ``marker``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) == 1, f"marker {marker!r} found on lines {hits}"
    return hits[0]


def write(tmp_path: Path, text: str, name: str = "factory.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
