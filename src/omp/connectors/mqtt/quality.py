"""Quality in payloads: words (good, uncertain, bad) or OPC UA status code numbers.

Words match by prefix and in any case, so OPC UA names work too
(``GoodNoData``, ``Uncertain_LastUsableValue``, ``BadSensorFailure``). A
number is an OPC UA StatusCode: its two top bits are the severity (00 good,
01 uncertain, 10 or 11 bad), so ``0`` is good and ``0x80000000`` bad.

>>> [to_quality(q) for q in ("good", "Uncertain", "BadSensorFailure", 0, 0x40000000, 0x80000000)]
[0, 1, 2, 0, 1, 2]
>>> to_quality("fine") is None
True
"""

from __future__ import annotations

from omp.core.quality import Quality

_WORDS = (("good", Quality.GOOD), ("uncertain", Quality.UNCERTAIN), ("bad", Quality.BAD))
_SEVERITY = (Quality.GOOD, Quality.UNCERTAIN, Quality.BAD, Quality.BAD)


def to_quality(raw: object) -> int | None:
    """The omp quality code of a payload's quality field, or None when it is not one."""
    if type(raw) is str:
        word = raw.strip().lower()
        for prefix, quality in _WORDS:
            if word.startswith(prefix):
                return int(quality)
        return None
    if type(raw) is int and 0 <= raw <= 0xFFFFFFFF:
        return int(_SEVERITY[raw >> 30])
    return None
