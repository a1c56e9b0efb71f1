"""The simulator's OPC UA address space, laid out like OPC UA for Machinery (OPC 40001-1).

::

    Objects/
      Machines/                                  ns=2;s=Machines (FolderType)
        <site>.<line>.<machine>/                 ns=2;s=<m>
          Identification/                        Manufacturer, Model, SerialNumber,
                                                 ProductInstanceUri, YearOfConstruction,
                                                 ComponentName, Location
          MachineryItemState/
            CurrentState                         LocalizedText: the state label ("producing")
            state                                ns=2;s=<m>.state (Int32): the state code
          Monitoring/
            <measurement>                        ns=2;s=<m>.<signal> (Double, AnalogItemType)
              EngineeringUnits, EURange          properties
          Production/
            good_count, scrap_count              UInt32 (wrap at 2^32, like a PLC counter)
            current_order, product               String

Browse names are in the simulator's own namespace (``NAMESPACE``, index 2): the
Machinery and DI nodesets are not loaded, so the layout follows the companion
model by name, not by type. Nodes are added in bulk through the server's
internal session, which keeps start-up to seconds at thousands of machines.
"""

from __future__ import annotations

from dataclasses import dataclass

from asyncua import ua
from asyncua.ua.object_ids import ObjectIds

from omp.sim.catalog import STATE_LABELS, SignalKind, SignalSpec
from omp.sim.plant import MachineSpec

NAMESPACE = "urn:omp:sim:machines"
UNITS_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"

# UCUM code -> UNECE Rec. 20 common code, for the units the catalog uses; others get UnitId -1.
_UNECE: dict[str, str] = {
    "Cel": "CEL",
    "kPa": "KPA",
    "kN": "B47",
    "N": "NEW",
    "kW": "KWT",
    "A": "AMP",
    "kA": "B22",
    "V": "VLT",
    "mm": "MMT",
    "mm/s": "C16",
    "/min": "RPM",
    "%": "P1",
    "ms": "C26",
    "mL": "MLT",
    "L/min": "L2",
    "kg": "KGM",
    "N.m": "NU",
    "m/min": "2X",
}


@dataclass(frozen=True, slots=True)
class ServedVariable:
    """One signal's variable: which value of the frame row it shows, and how it is typed."""

    signal: int
    """Index into ``machine.kind.signals`` (and the frame's value row)."""
    node_id: ua.NodeId
    variant: ua.VariantType


def _node(identifier: str, ns: int) -> ua.NodeId:
    return ua.NodeId(ua.String(identifier), ua.Int16(ns))


def _std(object_id: int) -> ua.NodeId:
    """A node of the standard namespace (0), by its numeric id."""
    return ua.NodeId(ua.Int32(object_id))


def folder_name(machine: MachineSpec) -> str:
    """The machine's object name, unique across the plant: ``<site>.<line>.<machine>``."""
    return f"{machine.site}.{machine.line}.{machine.name}"


def signal_node_id(machine: MachineSpec, signal: str, ns: int) -> ua.NodeId:
    return _node(f"{folder_name(machine)}.{signal}", ns)


def current_state_node_id(machine: MachineSpec, ns: int) -> ua.NodeId:
    return _node(f"{folder_name(machine)}.MachineryItemState.CurrentState", ns)


def variant_of(signal: SignalSpec) -> ua.VariantType:
    """The OPC UA type a signal is served as: counters UInt32, states Int32, floats Double."""
    if signal.datatype == "float":
        return ua.VariantType.Double
    if signal.datatype == "string":
        return ua.VariantType.String
    if signal.datatype == "bool":
        return ua.VariantType.Boolean
    return ua.VariantType.UInt32 if signal.kind is SignalKind.COUNTER else ua.VariantType.Int32


def initial_value(variant: ua.VariantType) -> object:
    if variant is ua.VariantType.String:
        return ""
    if variant is ua.VariantType.Boolean:
        return False
    return 0.0 if variant is ua.VariantType.Double else 0


def _parent_of(signal: SignalSpec) -> str:
    if signal.kind is SignalKind.STATE:
        return "MachineryItemState"
    if signal.kind in (SignalKind.COUNTER, SignalKind.TEXT):
        return "Production"
    return "Monitoring"


class SpaceBuilder:
    """Collects the ``AddNodesItem`` rows of a plant's machines, parents before children."""

    def __init__(self, ns: int) -> None:
        self.ns = ns
        self.items: list[ua.AddNodesItem] = []

    def machines_folder(self) -> ua.NodeId:
        node_id = _node("Machines", self.ns)
        self._object(node_id, "Machines", _std(ObjectIds.ObjectsFolder), folder=True)
        return node_id

    def machine(self, machine: MachineSpec, parent: ua.NodeId) -> list[ServedVariable]:
        """Add one machine's objects and variables; the variables its frames update."""
        name = folder_name(machine)
        root = _node(name, self.ns)
        self._object(root, name, parent, organized=True, description=machine.kind.description)
        self._identification(machine, root)
        children = {
            child: _node(f"{name}.{child}", self.ns)
            for child in ("MachineryItemState", "Monitoring", "Production")
        }
        for child, node_id in children.items():
            self._object(node_id, child, root)
        label = STATE_LABELS.get(0, "")
        self._variable(
            current_state_node_id(machine, self.ns),
            "CurrentState",
            children["MachineryItemState"],
            ua.Variant(ua.LocalizedText(label), ua.VariantType.LocalizedText),
            ObjectIds.LocalizedText,
        )
        served = []
        for index, signal in enumerate(machine.kind.signals):
            variant = variant_of(signal)
            node_id = signal_node_id(machine, signal.name, self.ns)
            analog = signal.kind is SignalKind.MEASUREMENT and variant is ua.VariantType.Double
            self._variable(
                node_id,
                signal.name,
                children[_parent_of(signal)],
                ua.Variant(initial_value(variant), variant),
                _DATATYPES[variant],
                description=signal.description or signal.name,
                type_definition=ObjectIds.AnalogItemType if analog else None,
            )
            if signal.unit is not None:
                self._property(node_id, "EngineeringUnits", _eu_information(signal.unit))
            if analog:
                self._property(node_id, "EURange", _eu_range(signal))
            served.append(ServedVariable(index, node_id, variant))
        return served

    def _identification(self, machine: MachineSpec, root: ua.NodeId) -> None:
        kind = machine.kind
        node_id = _node(f"{folder_name(machine)}.Identification", self.ns)
        self._object(node_id, "Identification", root)
        text, string = ua.VariantType.LocalizedText, ua.VariantType.String
        rows: tuple[tuple[str, object, ua.VariantType], ...] = (
            ("Manufacturer", ua.LocalizedText(kind.vendor), text),
            ("Model", ua.LocalizedText(kind.model), text),
            ("SerialNumber", machine.serial, string),
            ("ProductInstanceUri", f"urn:omp-sim:{kind.vendor.lower()}:{machine.serial}", string),
            ("YearOfConstruction", 2015 + machine.index % 10, ua.VariantType.UInt16),
            ("ComponentName", ua.LocalizedText(machine.name), text),
            ("Location", machine.path, string),
        )
        for name, value, variant in rows:
            self._variable(
                _node(f"{folder_name(machine)}.Identification.{name}", self.ns),
                name,
                node_id,
                ua.Variant(value, variant),
                _DATATYPES[variant],
                property_of=True,
            )

    def _object(
        self,
        node_id: ua.NodeId,
        name: str,
        parent: ua.NodeId,
        *,
        folder: bool = False,
        organized: bool = False,
        description: str = "",
    ) -> None:
        attrs = ua.ObjectAttributes()
        attrs.DisplayName = ua.LocalizedText(name)
        attrs.Description = ua.LocalizedText(description or name)
        attrs.EventNotifier = 0
        item = ua.AddNodesItem()
        item.RequestedNewNodeId = node_id
        item.BrowseName = ua.QualifiedName(name, self.ns)
        item.NodeClass = ua.NodeClass.Object
        item.ParentNodeId = parent
        item.ReferenceTypeId = _std(
            ObjectIds.Organizes if folder or organized else ObjectIds.HasComponent
        )
        item.TypeDefinition = _std(ObjectIds.FolderType if folder else ObjectIds.BaseObjectType)
        item.NodeAttributes = attrs
        self.items.append(item)

    def _variable(
        self,
        node_id: ua.NodeId,
        name: str,
        parent: ua.NodeId,
        value: ua.Variant,
        datatype: int,
        *,
        description: str = "",
        type_definition: int | None = None,
        property_of: bool = False,
    ) -> None:
        attrs = ua.VariableAttributes()
        attrs.DisplayName = ua.LocalizedText(name)
        attrs.Description = ua.LocalizedText(description or name)
        attrs.DataType = _std(datatype)
        attrs.Value = value
        attrs.ValueRank = ua.ValueRank.Scalar
        attrs.AccessLevel = ua.AccessLevel.CurrentRead.mask
        attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
        item = ua.AddNodesItem()
        item.RequestedNewNodeId = node_id
        # Properties keep the standard's browse names (namespace 0), as EngineeringUnits must.
        item.BrowseName = ua.QualifiedName(
            name, 0 if property_of and name in _STANDARD else self.ns
        )
        item.NodeClass = ua.NodeClass.Variable
        item.ParentNodeId = parent
        item.ReferenceTypeId = _std(
            ObjectIds.HasProperty if property_of else ObjectIds.HasComponent
        )
        item.TypeDefinition = _std(
            ObjectIds.PropertyType
            if property_of
            else type_definition or ObjectIds.BaseDataVariableType
        )
        item.NodeAttributes = attrs
        self.items.append(item)

    def _property(self, owner: ua.NodeId, name: str, value: object) -> None:
        """A standard property (EngineeringUnits, EURange) of a variable, ``<owner id>.<name>``."""
        datatype = ObjectIds.EUInformation if name == "EngineeringUnits" else ObjectIds.Range
        self._variable(
            _node(f"{owner.Identifier!s}.{name}", self.ns),
            name,
            owner,
            ua.Variant(value, ua.VariantType.ExtensionObject),
            datatype,
            property_of=True,
        )


_STANDARD = frozenset({"EngineeringUnits", "EURange"})

_DATATYPES: dict[ua.VariantType, int] = {
    ua.VariantType.Double: ObjectIds.Double,
    ua.VariantType.Int32: ObjectIds.Int32,
    ua.VariantType.UInt32: ObjectIds.UInt32,
    ua.VariantType.UInt16: ObjectIds.UInt16,
    ua.VariantType.String: ObjectIds.String,
    ua.VariantType.Boolean: ObjectIds.Boolean,
    ua.VariantType.LocalizedText: ObjectIds.LocalizedText,
}


def _eu_information(ucum: str) -> ua.EUInformation:
    """The unit as OPC UA describes it: UNECE code when known, the UCUM code as its name."""
    code = _UNECE.get(ucum)
    unit_id = -1
    if code is not None:
        unit_id = 0
        for char in code:
            unit_id = (unit_id << 8) | ord(char)
    return ua.EUInformation(
        NamespaceUri=UNITS_NAMESPACE,
        UnitId=unit_id,
        DisplayName=ua.LocalizedText(ucum),
        Description=ua.LocalizedText(ucum),
    )


def _eu_range(signal: SignalSpec) -> ua.Range:
    """The expected operating range: idle to producing, with half that span again either side
    (never less than 1 unit), so a percent deadband has a sensible base."""
    low, high = min(signal.nominal, signal.idle), max(signal.nominal, signal.idle)
    margin = max((high - low) * 0.5, abs(high) * 0.1, 1.0)
    return ua.Range(Low=low - margin, High=high + margin)
