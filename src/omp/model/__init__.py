"""The factory model: load and validate factory.yaml, compile it into a Registry.

>>> from omp.model import check_model
>>> for problem in check_model("examples/broken.yaml")[:2]:
...     print(problem.line, problem.dotted_path)
11 connectors.scale_gateway.protocol
16 equipment_types.mill.signals.spindle_temp.unit

Imports only ``omp.core``; stable ids come in through ``omp.core.sink.SignalIdSource``.
"""

from omp.model.compile import compile_model, model_version
from omp.model.kinds import Datatype, Kind, Protocol
from omp.model.load import check_model, load_model, parse_model
from omp.model.problems import ModelInvalid, Problem
from omp.model.registry import EquipmentNode, Registry, Signal, SourceBinding
from omp.model.schema import FactoryModel, KpiParams
from omp.model.units import Affine, UnitError, conversion

__all__ = [
    "Affine",
    "Datatype",
    "EquipmentNode",
    "FactoryModel",
    "Kind",
    "KpiParams",
    "ModelInvalid",
    "Problem",
    "Protocol",
    "Registry",
    "Signal",
    "SourceBinding",
    "UnitError",
    "check_model",
    "compile_model",
    "conversion",
    "load_model",
    "model_version",
    "parse_model",
]
