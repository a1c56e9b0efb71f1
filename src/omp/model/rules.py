"""Rules between the fields of one signal, and between KPI parameters and signals.

Each function returns ``(sub_path, message)`` pairs, so the caller can report
every broken rule at the exact key it concerns.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from omp.model.kinds import ALLOWED_DATATYPES, UNIT_KINDS, Datatype, Kind
from omp.model.names import did_you_mean

if TYPE_CHECKING:
    from omp.model.schema import KpiParams, SignalSpec

RuleErrors = list[tuple[tuple[str | int, ...], str]]

_COUNTER_FIELDS = ("good_count", "scrap_count", "total_count")


def signal_rule_errors(spec: SignalSpec) -> RuleErrors:
    """Kind vs datatype, unit only on quantities, state labels only on state signals."""
    errors: RuleErrors = []
    allowed = ALLOWED_DATATYPES[spec.kind]
    if spec.datatype not in allowed:
        names = " or ".join(d.value for d in allowed)
        errors.append(
            (
                ("datatype",),
                f"{spec.kind.with_article} signal needs datatype {names}, not {spec.datatype}",
            )
        )
    if spec.unit is not None and (spec.kind not in UNIT_KINDS or not spec.datatype.is_numeric):
        errors.append(
            (
                ("unit",),
                f"{spec.kind.with_article} signal of datatype {spec.datatype} has no unit",
            )
        )
    if spec.states is not None:
        errors.extend(_state_label_errors(spec))
    return errors


def _state_label_errors(spec: SignalSpec) -> RuleErrors:
    assert spec.states is not None  # checked by the caller
    if spec.kind is not Kind.STATE:
        return [
            (
                ("states",),
                f"state labels belong on state signals, not on {spec.kind.with_article} signal",
            )
        ]
    errors: RuleErrors = []
    if spec.datatype is Datatype.BOOL:
        errors.extend(
            (("states", code), f"a bool state has codes 0 and 1 only, not {code}")
            for code in spec.states
            if code not in (0, 1)
        )
    seen: dict[str, int] = {}
    for code, label in spec.states.items():
        if label in seen:
            errors.append((("states", code), f"label {label!r} is also code {seen[label]}"))
        seen.setdefault(label, code)
    return errors


def kpi_rule_errors(
    kpi: KpiParams, fields: Collection[str], signals: Mapping[str, SignalSpec]
) -> RuleErrors:
    """Errors in the KPI fields named in ``fields``; ``kpi`` holds the effective values."""
    errors: RuleErrors = []
    for field in _COUNTER_FIELDS:
        name = getattr(kpi, field)
        if field in fields and name is not None:
            errors.extend(_reference_errors(field, name, Kind.COUNTER, signals))
    if "state" in fields and kpi.state is not None:
        errors.extend(_reference_errors("state", kpi.state, Kind.STATE, signals))
    if "producing_states" in fields and kpi.producing_states is not None:
        errors.extend(_producing_state_errors(kpi, signals))
    return errors


def _reference_errors(
    field: str, name: str, kind: Kind, signals: Mapping[str, SignalSpec]
) -> RuleErrors:
    spec = signals.get(name)
    if spec is None:
        return [((field,), f"no signal {name!r} in this type{did_you_mean(name, signals)}")]
    if spec.kind is not kind:
        return [
            (
                (field,),
                f"signal {name!r} is {spec.kind.with_article}, {field} needs a {kind.value}",
            )
        ]
    return []


def _producing_state_errors(kpi: KpiParams, signals: Mapping[str, SignalSpec]) -> RuleErrors:
    assert kpi.producing_states is not None  # checked by the caller
    if kpi.state is None:
        return [(("producing_states",), "producing_states needs kpi.state, the state signal")]
    spec = signals.get(kpi.state)
    if spec is None or spec.states is None:
        return []
    return [
        (("producing_states", index), f"state {kpi.state!r} has no code {code}")
        for index, code in enumerate(kpi.producing_states)
        if code not in spec.states
    ]
