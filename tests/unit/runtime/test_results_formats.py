from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from omp.core.errors import OmpError
from omp.core.time import parse_rfc3339
from omp.historian.types import Agg
from omp.runtime.formats import OutputFormat, open_writer, to_bytes
from omp.runtime.results import RAW_SCHEMA, present_aggregate, present_raw

T0 = parse_rfc3339("2026-01-01T00:00:00Z")


def _raw() -> pa.Table:
    return pa.table(
        {
            "signal_id": pa.array([7, 3, 7], pa.int32()),
            "ts": pa.array([T0, T0 + 1, T0 + 1_500_000], pa.int64()),
            "value": [1.5, 2.0, None],
            "text": [None, None, "P-100"],
            "quality": pa.array([0, 2, 1], pa.uint8()),
        }
    )


def test_raw_gets_paths_utc_times_and_quality_labels() -> None:
    shown = present_raw(_raw(), {3: "a/x", 7: "a/y"})
    assert shown.schema == RAW_SCHEMA
    assert shown.column("path").to_pylist() == ["a/y", "a/x", "a/y"]
    assert shown.column("quality").to_pylist() == ["good", "bad", "uncertain"]
    assert shown.column("ts")[0].as_py().isoformat() == "2026-01-01T00:00:00+00:00"
    assert shown.column("text").to_pylist() == [None, None, "P-100"]


def test_empty_results_keep_their_schema() -> None:
    assert present_raw(_raw().slice(0, 0), {}).schema == RAW_SCHEMA
    table = present_aggregate(pa.table({"signal_id": pa.array([], pa.int32())}), {}, [Agg.MAX])
    assert table.column_names == ["path", "bucket", "max"]


def test_aggregates_get_paths_and_buckets() -> None:
    table = pa.table(
        {
            "signal_id": pa.array([3, 3], pa.int32()),
            "bucket": pa.array([T0, T0 + 60_000_000], pa.int64()),
            "avg": [1.0, 2.0],
            "max": [3.0, 4.0],
        }
    )
    shown = present_aggregate(table, {3: "a/x"}, [Agg.AVG, Agg.MAX])
    assert shown.column_names == ["path", "bucket", "avg", "max"]
    assert shown.column("path").to_pylist() == ["a/x", "a/x"]
    assert shown.column("max").to_pylist() == [3.0, 4.0]


def test_csv_spells_times_as_rfc3339() -> None:
    text = to_bytes(OutputFormat.CSV, present_raw(_raw(), {3: "a/x", 7: "a/y"})).decode()
    lines = text.splitlines()
    assert lines[0] == '"path","ts","value","text","quality"'
    assert lines[1].startswith('"a/y","2026-01-01T00:00:00.000000Z",1.5')
    assert "2026-01-01T00:00:01.500000Z" in lines[3]
    # what export writes, import reads back
    assert parse_rfc3339("2026-01-01T00:00:01.500000Z") == T0 + 1_500_000


def test_parquet_pages_stream_into_one_file(tmp_path: Path) -> None:
    shown = present_raw(_raw(), {3: "a/x", 7: "a/y"})
    target = tmp_path / "out.parquet"
    writer = open_writer(OutputFormat.PARQUET, target, shown.schema)
    writer.write(shown)
    writer.write(shown)
    writer.close()
    back = pq.read_table(target)
    assert back.num_rows == 6
    assert back.schema.field("ts").type == pa.timestamp("us", tz="UTC")


def test_arrow_bytes_read_back() -> None:
    shown = present_raw(_raw(), {3: "a/x", 7: "a/y"})
    data = to_bytes(OutputFormat.ARROW, shown)
    assert pa.ipc.open_stream(data).read_all().equals(shown)


def test_csv_bytes_parse_back() -> None:
    shown = present_raw(_raw(), {3: "a/x", 7: "a/y"})
    back = pacsv.read_csv(io.BytesIO(to_bytes(OutputFormat.CSV, shown)))
    assert back.num_rows == 3


def test_table_format_cannot_go_to_a_file(tmp_path: Path) -> None:
    with pytest.raises(OmpError, match="table"):
        open_writer(OutputFormat.TABLE, tmp_path / "x", RAW_SCHEMA)
