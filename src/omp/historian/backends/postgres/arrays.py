"""numpy arrays as binary PostgreSQL array parameters, for ``unnest($1::float8[], ...)``.

Small per-flush tables (rollup partials, high-water marks) travel as array
parameters of one statement instead of a COPY into a staging table: one
round trip, and no temporary table to truncate at commit. The binary array
format is a 20-byte header and then, like a COPY row, an int32 length and
the big-endian payload per element, so numpy writes it in one assignment.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from psycopg.abc import AdaptContext
from psycopg.adapt import Dumper
from psycopg.pq import Format

from omp.historian.backends.postgres.copy_binary import PgType

# (array type oid, element type oid) per element type.
_OIDS: dict[PgType, tuple[int, int]] = {
    PgType.INT2: (1005, 21),
    PgType.INT4: (1007, 23),
    PgType.INT8: (1016, 20),
    PgType.FLOAT8: (1022, 701),
}


class PgArray:
    """A one-dimensional array parameter without NULLs."""

    __slots__ = ("pg_type", "values")

    def __init__(self, pg_type: PgType, values: npt.NDArray[np.generic]) -> None:
        if pg_type not in _OIDS:
            raise ValueError(f"no array parameter for {pg_type.name}")
        self.pg_type = pg_type
        self.values = values


def encode_array(array: PgArray) -> bytes:
    """The binary wire form of ``array``."""
    _, element_oid = _OIDS[array.pg_type]
    n = len(array.values)
    if n == 0:
        return np.array([0, 0, element_oid], dtype=">i4").tobytes()
    header = np.array([1, 0, element_oid, n, 1], dtype=">i4").tobytes()
    body = np.empty(n, dtype=[("len", ">i4"), ("val", array.pg_type.wire)])
    body["len"] = array.pg_type.width
    body["val"] = array.values
    return header + body.tobytes()


def _dumper(pg_type: PgType) -> type[Dumper]:
    class _ArrayDumper(Dumper):
        format = Format.BINARY
        oid = _OIDS[pg_type][0]

        def dump(self, obj: object) -> bytes:
            assert isinstance(obj, PgArray)  # registered for PgArray only
            return encode_array(obj)

    return _ArrayDumper


class _Int2Array(PgArray):
    __slots__ = ()


class _Int4Array(PgArray):
    __slots__ = ()


class _Int8Array(PgArray):
    __slots__ = ()


class _Float8Array(PgArray):
    __slots__ = ()


_CLASSES: dict[PgType, type[PgArray]] = {
    PgType.INT2: _Int2Array,
    PgType.INT4: _Int4Array,
    PgType.INT8: _Int8Array,
    PgType.FLOAT8: _Float8Array,
}


def array(pg_type: PgType, values: npt.NDArray[np.generic]) -> PgArray:
    """Wrap ``values`` as a parameter of type ``pg_type[]``."""
    return _CLASSES[pg_type](pg_type, values)


def register(context: AdaptContext) -> None:
    """Teach a connection (or cursor) to send ``PgArray`` parameters in binary."""
    for pg_type, cls in _CLASSES.items():
        context.adapters.register_dumper(cls, _dumper(pg_type))
