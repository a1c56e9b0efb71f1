"""What each kind of simulated machine is: its signals, states and nominal figures.

The catalog is data, not behaviour: ``omp.sim.machine`` reads it to drive a
machine, the protocol servers read it to lay out their address spaces, and
``omp.sim.model`` reads it to write the factory model that binds them. Every
machine kind has 20 signals (the figure the scale benchmark is quoted at).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class MachineState(IntEnum):
    """The state code every simulated machine reports on its ``state`` signal."""

    IDLE = 0
    """No order to work on."""
    PRODUCING = 1
    STARVED = 2
    """Waiting for parts from upstream."""
    BLOCKED = 3
    """Its output buffer is full: downstream is not taking parts."""
    CHANGEOVER = 4
    """Switching to the next order's product."""
    PLANNED_STOP = 5
    """Outside shift hours or in a break, from the site's shift calendar."""
    DOWN = 6
    """A breakdown; the reason says which."""

    @property
    def label(self) -> str:
        return self.name.lower()


STATE_LABELS: dict[int, str] = {int(s): s.label for s in MachineState}


class SignalKind(StrEnum):
    """The model's signal kinds the simulator emits (see ``omp.model``)."""

    MEASUREMENT = "measurement"
    COUNTER = "counter"
    STATE = "state"
    SETPOINT = "setpoint"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """One signal of a machine kind.

    ``nominal`` is the value while producing, ``idle`` while not; process
    values move between them with the state, plus noise of ``noise``
    (standard deviation, in the signal's unit).
    """

    name: str
    datatype: str
    """``float``, ``int``, ``bool`` or ``string`` (the model's datatypes)."""
    kind: SignalKind
    unit: str | None = None
    """UCUM code; None for unitless signals and text."""
    nominal: float = 0.0
    idle: float = 0.0
    noise: float = 0.0
    description: str = ""


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A failure mode: its reason code, mean time between failures and repair time."""

    reason: str
    mtbf_hours: float
    repair_minutes: tuple[float, float]
    """Uniform range of the repair time."""


@dataclass(frozen=True, slots=True)
class MachineKind:
    """A kind of machine: what it makes, how fast, how it fails and what it reports."""

    name: str
    description: str
    ideal_cycle_s: float
    """Ideal cycle time of one part (ISO 22400)."""
    cycle_cv: float
    """Coefficient of variation of the actual cycle time."""
    scrap_rate: float
    changeover_minutes: tuple[float, float]
    breakdowns: tuple[Breakdown, ...]
    signals: tuple[SignalSpec, ...]
    quality: str
    """The signal holding the per-part quality measurement (SPC)."""
    quality_spec: tuple[float, float, float]
    """(lower spec limit, target, upper spec limit) of that measurement."""
    degrading: str
    """The process value that drifts as the machine wears before a wear breakdown."""
    vendor: str = ""
    model: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    def signal(self, name: str) -> SignalSpec:
        for signal in self.signals:
            if signal.name == name:
                return signal
        raise KeyError(f"machine kind {self.name!r} has no signal {name!r}")

    @property
    def signal_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.signals)


def _common() -> tuple[SignalSpec, ...]:
    """The signals every kind has: state, counters, order and the machine's power."""
    return (
        SignalSpec("state", "int", SignalKind.STATE, description="Machine state code"),
        SignalSpec("good_count", "int", SignalKind.COUNTER, "{parts}", description="Good parts"),
        SignalSpec("scrap_count", "int", SignalKind.COUNTER, "{parts}", description="Scrap"),
        SignalSpec("current_order", "string", SignalKind.TEXT, description="Production order"),
        SignalSpec("product", "string", SignalKind.TEXT, description="Product being made"),
        SignalSpec("power", "float", SignalKind.MEASUREMENT, "kW", 0.0, 0.0, 0.0, "Power"),
    )


def _m(
    name: str, unit: str, nominal: float, idle: float, noise: float, description: str = ""
) -> SignalSpec:
    return SignalSpec(
        name, "float", SignalKind.MEASUREMENT, unit, nominal, idle, noise, description
    )


# Power's nominal and idle figures live on the kind (see ``_with_power``) so _common stays shared.
def _with_power(kind: MachineKind, producing_kw: float, idle_kw: float) -> MachineKind:
    signals = tuple(
        _m("power", "kW", producing_kw, idle_kw, producing_kw * 0.03, "Electrical power")
        if s.name == "power"
        else s
        for s in kind.signals
    )
    return MachineKind(
        kind.name,
        kind.description,
        kind.ideal_cycle_s,
        kind.cycle_cv,
        kind.scrap_rate,
        kind.changeover_minutes,
        kind.breakdowns,
        signals,
        kind.quality,
        kind.quality_spec,
        kind.degrading,
        kind.vendor,
        kind.model,
        kind.attributes,
    )


PRESS = _with_power(
    MachineKind(
        name="press",
        description="Hydraulic stamping press",
        ideal_cycle_s=6.0,
        cycle_cv=0.04,
        scrap_rate=0.01,
        changeover_minutes=(15.0, 30.0),
        breakdowns=(
            Breakdown("hydraulic_leak", 40.0, (20.0, 60.0)),
            Breakdown("die_crack", 120.0, (45.0, 120.0)),
            Breakdown("sensor_fault", 25.0, (3.0, 10.0)),
        ),
        signals=(
            *_common(),
            _m("ram_force", "kN", 6200.0, 0.0, 60.0, "Peak ram force of the last stroke"),
            _m("hydraulic_pressure", "kPa", 21000.0, 4000.0, 150.0),
            _m("oil_temp", "Cel", 48.0, 35.0, 0.4, "Hydraulic oil temperature"),
            _m("vibration", "mm/s", 3.2, 0.4, 0.15, "Frame vibration velocity, RMS"),
            _m("stroke_rate", "/min", 10.0, 0.0, 0.2),
            _m("die_temp", "Cel", 65.0, 30.0, 0.5),
            _m("cushion_pressure", "kPa", 8000.0, 1000.0, 80.0),
            _m("motor_current", "A", 180.0, 25.0, 3.0),
            _m("lube_pressure", "kPa", 350.0, 300.0, 4.0),
            _m("bed_temp", "Cel", 32.0, 26.0, 0.3),
            _m("panel_depth", "mm", 42.0, 42.0, 0.0, "Drawn depth of the last panel (SPC)"),
            _m("tonnage_margin", "%", 22.0, 100.0, 0.8),
            _m("air_pressure", "kPa", 600.0, 610.0, 3.0),
            _m("ambient_temp", "Cel", 24.0, 24.0, 0.2),
        ),
        quality="panel_depth",
        quality_spec=(41.7, 42.0, 42.3),
        degrading="vibration",
        vendor="Schuler",
        model="MSD 800",
    ),
    95.0,
    12.0,
)

WELDING_ROBOT = _with_power(
    MachineKind(
        name="welding_robot",
        description="Spot welding robot",
        ideal_cycle_s=45.0,
        cycle_cv=0.03,
        scrap_rate=0.005,
        changeover_minutes=(5.0, 12.0),
        breakdowns=(
            Breakdown("electrode_wear", 16.0, (4.0, 10.0)),
            Breakdown("servo_fault", 200.0, (30.0, 90.0)),
            Breakdown("collision", 400.0, (20.0, 60.0)),
        ),
        signals=(
            *_common(),
            _m("weld_current", "kA", 9.5, 0.0, 0.12),
            _m("weld_voltage", "V", 2.1, 0.0, 0.03),
            _m("electrode_force", "kN", 3.2, 0.0, 0.05),
            _m("weld_time", "ms", 240.0, 0.0, 4.0),
            _m("tip_temp", "Cel", 180.0, 35.0, 3.0),
            _m("coolant_flow", "L/min", 6.0, 6.0, 0.1),
            _m("coolant_temp", "Cel", 22.0, 20.0, 0.2),
            _m("axis1_torque", "N.m", 420.0, 80.0, 8.0),
            _m("axis2_torque", "N.m", 610.0, 120.0, 10.0),
            _m("tcp_speed", "mm/s", 850.0, 0.0, 15.0),
            _m("nugget_diameter", "mm", 6.0, 6.0, 0.0, "Weld nugget diameter (SPC)"),
            _m("vibration", "mm/s", 1.8, 0.2, 0.1),
            _m("cabinet_temp", "Cel", 31.0, 27.0, 0.3),
            _m("air_pressure", "kPa", 600.0, 610.0, 3.0),
        ),
        quality="nugget_diameter",
        quality_spec=(5.6, 6.0, 6.4),
        degrading="tip_temp",
        vendor="KUKA",
        model="KR 210 R2700",
    ),
    28.0,
    3.0,
)

CNC_MILL = _with_power(
    MachineKind(
        name="cnc_mill",
        description="5-axis CNC machining centre",
        ideal_cycle_s=240.0,
        cycle_cv=0.02,
        scrap_rate=0.02,
        changeover_minutes=(30.0, 60.0),
        breakdowns=(
            Breakdown("tool_breakage", 30.0, (10.0, 25.0)),
            Breakdown("spindle_bearing", 500.0, (120.0, 240.0)),
            Breakdown("coolant_pump", 300.0, (30.0, 60.0)),
        ),
        signals=(
            *_common(),
            _m("spindle_speed", "/min", 12000.0, 0.0, 40.0),
            _m("spindle_temp", "Cel", 42.0, 28.0, 0.3, "Spindle bearing temperature"),
            _m("spindle_load", "%", 55.0, 0.0, 2.0),
            _m("vibration", "mm/s", 1.2, 0.1, 0.05, "Spindle vibration velocity, RMS"),
            _m("coolant_pressure", "kPa", 700.0, 0.0, 10.0),
            _m("coolant_temp", "Cel", 24.0, 22.0, 0.2),
            _m("feed_rate", "mm/min", 2400.0, 0.0, 30.0),
            _m("axis_x_temp", "Cel", 30.0, 26.0, 0.2),
            _m("axis_z_temp", "Cel", 31.0, 26.0, 0.2),
            _m("tool_wear", "%", 40.0, 40.0, 0.0),
            _m("bore_diameter", "mm", 25.0, 25.0, 0.0, "Bore diameter of the last part (SPC)"),
            _m("air_pressure", "kPa", 600.0, 610.0, 3.0),
            _m("cabinet_temp", "Cel", 33.0, 28.0, 0.3),
            _m("hydraulic_pressure", "kPa", 5000.0, 4800.0, 40.0),
        ),
        quality="bore_diameter",
        quality_spec=(24.98, 25.0, 25.02),
        degrading="vibration",
        vendor="DMG Mori",
        model="DMU 65 monoBLOCK",
    ),
    22.0,
    2.5,
)


def _packaging(
    name: str,
    description: str,
    ideal_cycle_s: float,
    process: tuple[SignalSpec, ...],
    quality: str,
    quality_spec: tuple[float, float, float],
    degrading: str,
    breakdowns: tuple[Breakdown, ...],
    vendor: str,
    model: str,
    power: tuple[float, float],
) -> MachineKind:
    return _with_power(
        MachineKind(
            name=name,
            description=description,
            ideal_cycle_s=ideal_cycle_s,
            cycle_cv=0.05,
            scrap_rate=0.004,
            changeover_minutes=(10.0, 25.0),
            breakdowns=breakdowns,
            signals=(*_common(), *process),
            quality=quality,
            quality_spec=quality_spec,
            degrading=degrading,
            vendor=vendor,
            model=model,
        ),
        *power,
    )


FILLER = _packaging(
    "filler",
    "Rotary liquid filler",
    0.5,
    (
        _m("fill_volume", "mL", 500.0, 500.0, 0.0, "Fill volume of the last bottle (SPC)"),
        _m("product_temp", "Cel", 8.0, 8.0, 0.1),
        _m("tank_level", "%", 62.0, 70.0, 1.0),
        _m("bowl_pressure", "kPa", 180.0, 150.0, 2.0),
        _m("valve_flow", "mL/s", 120.0, 0.0, 2.0),
        _m("carousel_speed", "/min", 8.0, 0.0, 0.1),
        _m("co2_pressure", "kPa", 320.0, 320.0, 3.0),
        _m("vibration", "mm/s", 2.4, 0.3, 0.1),
        _m("motor_temp", "Cel", 55.0, 30.0, 0.4),
        _m("rinse_flow", "L/min", 30.0, 0.0, 0.5),
        _m("output_rate", "/min", 120.0, 0.0, 2.0),
        _m("air_pressure", "kPa", 600.0, 610.0, 3.0),
        _m("ambient_temp", "Cel", 21.0, 21.0, 0.2),
        _m("cip_temp", "Cel", 25.0, 25.0, 0.2),
    ),
    "fill_volume",
    (497.0, 500.0, 503.0),
    "vibration",
    (
        Breakdown("valve_jam", 20.0, (5.0, 15.0)),
        Breakdown("bottle_burst", 10.0, (2.0, 6.0)),
        Breakdown("drive_fault", 300.0, (30.0, 90.0)),
    ),
    "Krones",
    "Modulfill VFS",
    (45.0, 6.0),
)

CAPPER = _packaging(
    "capper",
    "Screw capper",
    0.5,
    (
        _m("cap_torque", "N.m", 2.2, 2.2, 0.0, "Application torque of the last cap (SPC)"),
        _m("head_speed", "/min", 240.0, 0.0, 3.0),
        _m("cap_feed_level", "%", 70.0, 75.0, 1.5),
        _m("chuck_temp", "Cel", 35.0, 24.0, 0.3),
        _m("vacuum", "kPa", -60.0, -5.0, 1.0),
        _m("vibration", "mm/s", 1.6, 0.2, 0.08),
        _m("motor_temp", "Cel", 50.0, 28.0, 0.4),
        _m("motor_current", "A", 14.0, 2.0, 0.3),
        _m("reject_gate_rate", "/min", 0.5, 0.0, 0.1),
        _m("output_rate", "/min", 120.0, 0.0, 2.0),
        _m("air_pressure", "kPa", 600.0, 610.0, 3.0),
        _m("ambient_temp", "Cel", 21.0, 21.0, 0.2),
        _m("belt_speed", "m/min", 40.0, 0.0, 0.5),
        _m("cap_height", "mm", 18.0, 18.0, 0.05),
    ),
    "cap_torque",
    (1.9, 2.2, 2.5),
    "motor_temp",
    (
        Breakdown("cap_jam", 12.0, (2.0, 8.0)),
        Breakdown("chuck_wear", 150.0, (20.0, 45.0)),
    ),
    "Krones",
    "Capmatic",
    (12.0, 2.0),
)

LABELER = _packaging(
    "labeler",
    "Wrap-around labeler",
    0.5,
    (
        _m("label_position", "mm", 0.0, 0.0, 0.0, "Label offset from target (SPC)"),
        _m("glue_temp", "Cel", 160.0, 140.0, 0.8),
        _m("web_tension", "N", 45.0, 10.0, 0.8),
        _m("roll_diameter", "mm", 380.0, 380.0, 0.0),
        _m("drum_speed", "/min", 300.0, 0.0, 3.0),
        _m("vibration", "mm/s", 1.1, 0.2, 0.05),
        _m("motor_temp", "Cel", 45.0, 26.0, 0.3),
        _m("vision_score", "%", 98.5, 100.0, 0.3),
        _m("output_rate", "/min", 120.0, 0.0, 2.0),
        _m("air_pressure", "kPa", 600.0, 610.0, 3.0),
        _m("ambient_temp", "Cel", 21.0, 21.0, 0.2),
        _m("belt_speed", "m/min", 40.0, 0.0, 0.5),
        _m("motor_current", "A", 9.0, 1.5, 0.2),
        _m("glue_pressure", "kPa", 250.0, 100.0, 3.0),
    ),
    "label_position",
    (-1.0, 0.0, 1.0),
    "glue_temp",
    (
        Breakdown("label_tear", 8.0, (2.0, 5.0)),
        Breakdown("glue_system", 120.0, (15.0, 40.0)),
    ),
    "Krones",
    "Contiroll",
    (15.0, 3.0),
)

PALLETIZER = _packaging(
    "palletizer",
    "Robotic palletizer",
    0.5,
    (
        _m("layer_count", "{layers}", 3.0, 3.0, 0.0),
        _m("motor_current", "A", 32.0, 4.0, 0.8),
        _m("gripper_vacuum", "kPa", -70.0, -5.0, 1.0),
        _m("axis1_torque", "N.m", 900.0, 150.0, 15.0),
        _m("tcp_speed", "mm/s", 1500.0, 0.0, 20.0),
        _m("vibration", "mm/s", 2.0, 0.2, 0.1),
        _m("motor_temp", "Cel", 52.0, 28.0, 0.4),
        _m("stretch_tension", "N", 120.0, 0.0, 3.0),
        _m("pallet_weight", "kg", 640.0, 640.0, 0.0, "Weight of the last pallet (SPC)"),
        _m("output_rate", "/min", 120.0, 0.0, 2.0),
        _m("air_pressure", "kPa", 600.0, 610.0, 3.0),
        _m("ambient_temp", "Cel", 21.0, 21.0, 0.2),
        _m("conveyor_speed", "m/min", 18.0, 0.0, 0.3),
        _m("cabinet_temp", "Cel", 30.0, 27.0, 0.3),
    ),
    "pallet_weight",
    (630.0, 640.0, 650.0),
    "motor_temp",
    (
        Breakdown("pallet_jam", 10.0, (3.0, 10.0)),
        Breakdown("gripper_fault", 100.0, (15.0, 40.0)),
    ),
    "KUKA",
    "KR 180 PA",
    (18.0, 2.5),
)

KINDS: dict[str, MachineKind] = {
    k.name: k for k in (PRESS, WELDING_ROBOT, CNC_MILL, FILLER, CAPPER, LABELER, PALLETIZER)
}
"""Every machine kind by name."""
