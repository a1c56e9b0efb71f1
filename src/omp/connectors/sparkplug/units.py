"""Engineering units from birth properties, as UCUM codes ingest can convert.

Sparkplug does not name a property for units; edge nodes (Eclipse Tahu's
examples, Ignition) use ``engUnit``. omp reads the first string property whose
key is one of ``UNIT_KEYS`` (any case) and maps common spellings to UCUM.

>>> ucum("°C"), ucum("rpm"), ucum("kWh"), ucum("bar")
('Cel', '/min', 'kW.h', 'bar')
>>> ucum("furlongs per fortnight") is None
True
"""

from __future__ import annotations

import functools

from omp.model.units import UnitError, check_unit

UNIT_KEYS = frozenset(
    {"engunit", "engunits", "engineeringunit", "engineeringunits", "unit", "units"}
)
"""Property keys (lower case) that carry a metric's engineering unit."""

_SPELLINGS: dict[str, str] = {
    "°c": "Cel", "degc": "Cel", "deg c": "Cel", "c": "Cel", "celsius": "Cel",
    "°f": "[degF]", "degf": "[degF]", "deg f": "[degF]", "f": "[degF]", "fahrenheit": "[degF]",
    "k": "K", "kelvin": "K",
    "psi": "[psi]", "psig": "[psi]", "inh2o": "[in_i'H2O]",
    "rpm": "/min", "1/min": "/min", "rps": "/s",
    "kwh": "kW.h", "wh": "W.h", "mwh": "MW.h", "kvah": "kV.A.h", "kva": "kV.A", "va": "V.A",
    "nm": "N.m", "n·m": "N.m", "n*m": "N.m",
    "l": "L", "l/min": "L/min", "lpm": "L/min", "l/h": "L/h", "l/s": "L/s",
    "m³": "m3", "m³/h": "m3/h", "m^3/h": "m3/h", "m3/hr": "m3/h",
    "gal": "[gal_us]", "gpm": "[gal_us]/min",
    "in": "[in_i]", "inch": "[in_i]", "ft": "[ft_i]", "lb": "[lb_av]", "lbs": "[lb_av]",
    "m/s²": "m/s2", "m/s^2": "m/s2", "mm/sec": "mm/s", "ips": "[in_i]/s",
    "sec": "s", "secs": "s", "hr": "h", "hrs": "h", "mins": "min",
    "pct": "%", "percent": "%", "ppm": "[ppm]", "ppb": "[ppb]",
    "µm": "um", "μm": "um", "µs": "us", "μs": "us", "ma": "mA", "kv": "kV", "mv": "mV",
}  # fmt: skip


@functools.cache
def ucum(unit: str) -> str | None:
    """The UCUM code for an edge node's unit text, or None when omp cannot tell."""
    text = unit.strip()
    if not text:
        return None
    mapped = _SPELLINGS.get(text.lower())
    if mapped is not None:
        return mapped
    try:
        check_unit(text)
    except UnitError:
        return None
    return text
