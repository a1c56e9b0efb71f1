"""UCUM units: validation with suggestions, and affine conversions between units.

Units are UCUM codes (``Cel``, ``kPa``, ``/min``, ``[degF]``). Parsing uses
``ucumvert`` on top of pint. Building its registry takes most of a second, so
it is built lazily, once, on first use. Conversions are computed once per
pair of units and cached: ingest asks for them per batch, not per point.

>>> round(conversion("[degF]", "Cel").apply(212.0), 9)
100.0
>>> conversion("bar", "kPa")
Affine(scale=100.0, offset=0.0)
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import Any

from omp.core.errors import ConfigError

DIMENSIONLESS = "1"

_ANNOTATION = re.compile(r"\{[^{}]*\}")

# Spellings people write that UCUM spells differently.
_COMMON_MISTAKES: dict[str, str] = {
    "degc": "Cel",
    "°c": "Cel",
    "c": "Cel",
    "celsius": "Cel",
    "degf": "[degF]",
    "°f": "[degF]",
    "f": "[degF]",
    "fahrenheit": "[degF]",
    "rpm": "/min",
    "1/min": "/min",
    "psi": "[psi]",
    "sec": "s",
    "secs": "s",
    "hr": "h",
    "hrs": "h",
    "mins": "min",
    "kwh": "kW.h",
    "mm/sec": "mm/s",
    "lpm": "L/min",
    "pct": "%",
    "percent": "%",
    "m^3/h": "m3/h",
    "nm": "N.m",
    "in": "[in_i]",
    "inch": "[in_i]",
    "ft": "[ft_i]",
    "lb": "[lb_av]",
    "gal": "[gal_us]",
    "count": "{count}",
    "pcs": "{pcs}",
}

# Candidates for "did you mean" on other near misses.
_KNOWN_CODES = (
    "Cel", "K", "[degF]", "Pa", "kPa", "MPa", "bar", "mbar", "[psi]", "m", "mm", "um", "s",
    "ms", "min", "h", "d", "/min", "/s", "Hz", "W", "kW", "MW", "kW.h", "J", "kJ", "V", "A",
    "mA", "kg", "g", "t", "L", "L/min", "m3/h", "mm/s", "m/s", "m/s2", "N", "kN", "N.m", "%",
    "1", "{count}", "rad", "deg", "lx", "dB",
)  # fmt: skip


_QUANTITIES: dict[str, str] = {
    "[temperature]": "a temperature",
    "[mass] / [length] / [time] ** 2": "a pressure",
    "[length]": "a length",
    "[time]": "a duration",
    "1 / [time]": "a rate",
    "[length] / [time]": "a speed",
    "[length] / [time] ** 2": "an acceleration",
    "[mass] * [length] / [time] ** 2": "a force",
    "[mass] * [length] ** 2 / [time] ** 2": "an energy or torque",
    "[mass] * [length] ** 2 / [time] ** 3": "a power",
    "[length] ** 3": "a volume",
    "[length] ** 3 / [time]": "a volume flow",
    "[mass]": "a mass",
    "[mass] / [time]": "a mass flow",
    "[current]": "an electric current",
    "[mass] * [length] ** 2 / [current] / [time] ** 3": "a voltage",
    "dimensionless": "a plain number",
}


class UnitError(ConfigError, ValueError):
    """A unit code is not UCUM, or two units cannot be converted into each other."""


@dataclass(frozen=True, slots=True)
class Affine:
    """``target = source * scale + offset``."""

    scale: float
    offset: float

    def apply(self, value: float) -> float:
        return value * self.scale + self.offset

    def then(self, other: Affine) -> Affine:
        """The conversion that applies ``self`` first, then ``other``."""
        return Affine(self.scale * other.scale, self.offset * other.scale + other.offset)

    @property
    def is_identity(self) -> bool:
        return self.scale == 1.0 and self.offset == 0.0


IDENTITY = Affine(1.0, 0.0)
_SPAN = 1e6


@functools.cache
def _registry() -> Any:
    # Imported here: importing ucumvert alone costs time, building its registry most of a second.
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


def _strip_annotations(code: str) -> str:
    """UCUM annotations (``{count}``, ``kg{wet}``) carry no dimension; ``{count}`` alone is 1."""
    stripped = _ANNOTATION.sub("", code)
    return stripped or DIMENSIONLESS


@functools.cache
def _quantity(code: str) -> Any:
    """The pint quantity of one unit of ``code``; raises ``UnitError``."""
    if not code or code != code.strip():
        raise UnitError(f"unit {code!r} is not a UCUM code{_suggestion(code)}")
    try:
        return _registry().from_ucum(_strip_annotations(code))
    except Exception as exc:  # ucumvert raises lark and pint errors of many kinds
        raise UnitError(f"unknown unit {code!r}{_suggestion(code)}") from exc


def _suggestion(code: str) -> str:
    known = _COMMON_MISTAKES.get(code.strip().lower())
    if known is None:
        close = difflib.get_close_matches(code.strip(), _KNOWN_CODES, n=1, cutoff=0.6)
        known = close[0] if close else None
    return f" (did you mean {known!r}?)" if known else "; units are UCUM codes such as Cel, kPa"


def _quantity_name(quantity: Any) -> str:
    dimensionality = str(quantity.units.dimensionality)
    return _QUANTITIES.get(dimensionality, dimensionality)


def check_unit(code: str) -> None:
    """Raise ``UnitError`` (naming the code, with a suggestion) unless ``code`` is valid UCUM."""
    _quantity(code)


@functools.cache
def conversion(from_ucum: str, to_ucum: str) -> Affine:
    """The affine map from values in ``from_ucum`` to values in ``to_ucum``.

    Exact for linear units and for offset units (temperatures). Raises
    ``UnitError`` naming both units when they measure different things.
    """
    if from_ucum == to_ucum:
        return IDENTITY
    source, target = _quantity(from_ucum), _quantity(to_ucum)
    ureg = _registry()
    try:
        at_zero = ureg.Quantity(0.0, source.units).to(target.units).magnitude
        # Measured over a wide span: f(1) - f(0) would lose digits to the offset.
        span = _SPAN * float(source.magnitude)
        at_span = ureg.Quantity(span, source.units).to(target.units).magnitude
    except Exception as exc:  # pint's DimensionalityError and offset-unit errors
        raise UnitError(
            f"unit {from_ucum!r} cannot be converted to {to_ucum!r}: "
            f"{_quantity_name(source)} is not {_quantity_name(target)}"
        ) from exc
    target_size = float(target.magnitude)
    scale = (float(at_span) - float(at_zero)) / _SPAN / target_size
    offset = float(at_zero) / target_size
    return Affine(scale, offset)
