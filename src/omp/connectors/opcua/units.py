"""Engineering units of OPC UA variables (EUInformation) as UCUM codes.

OPC UA servers describe units with the UNECE Recommendation 20 common code,
packed into ``UnitId`` (``"CEL"`` is 0x43454C), and a display name. Both are
looked up in one table of common plant units; what is not in it stays
unmapped (None), and the caller says so instead of guessing.

>>> to_ucum(unece_code(0x43454C), "°C")
'Cel'
>>> to_ucum(None, "r/min")
'/min'
>>> to_ucum("XYZ", "furlong") is None
True
"""

from __future__ import annotations

_BY_CODE: dict[str, str] = {
    "CEL": "Cel",
    "FAH": "[degF]",
    "KEL": "K",
    "BAR": "bar",
    "MBR": "mbar",
    "KPA": "kPa",
    "PAL": "Pa",
    "MPA": "MPa",
    "RPM": "/min",
    "MMT": "mm",
    "CMT": "cm",
    "MTR": "m",
    "KWT": "kW",
    "WTT": "W",
    "AMP": "A",
    "VLT": "V",
    "HTZ": "Hz",
    "P1": "%",
    "SEC": "s",
    "MIN": "min",
    "HUR": "h",
    "KGM": "kg",
    "GRM": "g",
    "NEW": "N",
    "B47": "kN",
    "LTR": "L",
    "MLT": "mL",
    "C16": "mm/s",
    "MTS": "m/s",
    "MQH": "m3/h",
    "L2": "L/min",
}
"""UNECE Rec. 20 common code -> UCUM."""

_BY_NAME: dict[str, str] = {
    "°c": "Cel",
    "degc": "Cel",
    "degree celsius": "Cel",
    "celsius": "Cel",
    "°f": "[degF]",
    "degree fahrenheit": "[degF]",
    "k": "K",
    "kelvin": "K",
    "bar": "bar",
    "mbar": "mbar",
    "kpa": "kPa",
    "pa": "Pa",
    "mpa": "MPa",
    "rpm": "/min",
    "r/min": "/min",
    "1/min": "/min",
    "/min": "/min",
    "min-1": "/min",
    "min⁻¹": "/min",
    "revolutions per minute": "/min",
    "mm": "mm",
    "millimetre": "mm",
    "millimeter": "mm",
    "cm": "cm",
    "m": "m",
    "kw": "kW",
    "kilowatt": "kW",
    "w": "W",
    "watt": "W",
    "a": "A",
    "ampere": "A",
    "v": "V",
    "volt": "V",
    "hz": "Hz",
    "hertz": "Hz",
    "%": "%",
    "percent": "%",
    "s": "s",
    "second": "s",
    "min": "min",
    "h": "h",
    "kg": "kg",
    "g": "g",
    "n": "N",
    "kn": "kN",
    "l": "L",
    "ml": "mL",
    "mm/s": "mm/s",
    "m/s": "m/s",
    "m³/h": "m3/h",
    "m3/h": "m3/h",
    "l/min": "L/min",
}
"""Display names (lowercased) -> UCUM, for servers that send no or unusual codes."""


def unece_code(unit_id: int) -> str | None:
    """The UNECE common code packed into an EUInformation ``UnitId`` (None for -1 or junk)."""
    if unit_id <= 0:
        return None
    chars = []
    while unit_id:
        chars.append(chr(unit_id & 0xFF))
        unit_id >>= 8
    code = "".join(reversed(chars))
    return code if code.isascii() and code.isalnum() else None


def to_ucum(code: str | None, display_name: str | None) -> str | None:
    """The UCUM code of a unit given by UNECE code and/or display name; None if unknown."""
    if code is not None and code.upper() in _BY_CODE:
        return _BY_CODE[code.upper()]
    if display_name:
        return _BY_NAME.get(display_name.strip().lower())
    return None
