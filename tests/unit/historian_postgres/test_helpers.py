"""Pure helpers of the PostgreSQL backend: URL masking, layout choice, DDL, partitions, dedupe."""

from __future__ import annotations

import numpy as np

from omp.core.time import US_PER_DAY, US_PER_HOUR
from omp.historian.backends.postgres.algebra import floor_int
from omp.historian.backends.postgres.connection import mask_url
from omp.historian.backends.postgres.partitions import partition_name, partition_starts
from omp.historian.backends.postgres.schema import (
    Layout,
    choose_layout,
    hypertable_sql,
    schema_ddl,
)
from omp.historian.backends.postgres.sqltext import ts_literal
from omp.historian.numpy_partials import first_occurrences


def test_password_is_masked_and_everything_else_kept() -> None:
    assert mask_url("postgresql://omp:s3cret@db.plant:6432/hist?sslmode=require") == (
        "postgresql://omp:***@db.plant:6432/hist?sslmode=require"
    )
    assert (
        mask_url("postgresql://postgres@127.0.0.1/test") == "postgresql://postgres@127.0.0.1/test"
    )


def test_timescale_only_when_created_in_the_database() -> None:
    assert choose_layout(installed_extensions={"plpgsql"}) is Layout.NATIVE
    assert choose_layout(installed_extensions={"timescaledb"}) is Layout.TIMESCALE
    assert choose_layout(installed_extensions={"timescaledb"}, prefer_native=True) is Layout.NATIVE


def test_hypertable_statement() -> None:
    text = hypertable_sql('plant "A"', partition_width=US_PER_DAY).as_string()
    assert text == (
        'SELECT create_hypertable(\'"plant ""A"""."points"\', \'ts\','
        f" chunk_time_interval => {US_PER_DAY} * interval '1 microsecond',"
        " if_not_exists => true, migrate_data => true)"
    )


def test_native_ddl_partitions_points_and_timescale_ddl_makes_a_hypertable() -> None:
    native = [s.as_string() for s in schema_ddl("omp", Layout.NATIVE)]
    timescale = [s.as_string() for s in schema_ddl("omp", Layout.TIMESCALE)]
    points_native = next(s for s in native if '"omp".points (' in s)
    points_timescale = next(s for s in timescale if '"omp".points (' in s)
    assert "PARTITION BY RANGE (ts)" in points_native
    assert "PARTITION BY" not in points_timescale
    assert not any("create_hypertable" in s for s in native)
    assert sum("create_hypertable" in s for s in timescale) == 1


def test_partition_starts_and_names() -> None:
    ts = np.array([5, US_PER_HOUR + 1, US_PER_HOUR * 3, -1], dtype=np.int64)
    assert partition_starts(ts, US_PER_HOUR) == [-US_PER_HOUR, 0, US_PER_HOUR, 3 * US_PER_HOUR]
    assert partition_name(-US_PER_HOUR) == f"points_m{US_PER_HOUR}"
    assert partition_name(0) == "points_0"


def test_first_occurrence_of_each_identity_wins() -> None:
    sid = np.array([2, 1, 2, 1, 2], np.int32)
    ts = np.array([5, 9, 5, 9, 1], np.int64)
    assert first_occurrences(sid, ts).tolist() == [1, 4, 0]


def test_sql_time_helpers() -> None:
    assert ts_literal(1) == "'1970-01-01T00:00:00.000001+00:00'::timestamptz"
    assert ts_literal(-(2**63)).startswith("('epoch'::timestamptz + (")
    assert floor_int("x", 10) == "(x - (((x) % 10) + 10) % 10)"
