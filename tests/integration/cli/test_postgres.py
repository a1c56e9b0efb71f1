"""The CLI against the PostgreSQL historian: same commands, chosen by the historian URL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from tests.integration.cli.conftest import EXAMPLE, RANGE, TEMP, omp
from tests.integration.historian._postgres_factory import drop_schema, server_url, unique_schema


@pytest.fixture
def pg_config(tmp_path: Path) -> Iterator[Path]:
    """A settings file pointing at a fresh schema on the test server; dropped afterwards."""
    schema = unique_schema("omp_cli")
    config = tmp_path / "omp.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'historian_url = "{server_url()}"\npostgres_schema = "{schema}"\n'
    )
    try:
        yield config
    finally:
        drop_schema(server_url(), schema)


@pytest.mark.postgres
def test_import_query_export_on_postgres(pg_config: Path, history: Path, tmp_path: Path) -> None:
    imported = omp("import", str(history), "--config", str(pg_config), "--model", str(EXAMPLE))
    assert imported.exit_code == 3, imported.output
    assert "181 landed, 2 rejected" in imported.stderr
    assert not (tmp_path / "data" / "historian.duckdb").exists()

    queried = omp("query", TEMP, *RANGE, "--format", "csv", "--config", str(pg_config))
    assert queried.exit_code == 0, queried.output
    rows = pacsv.read_csv(io.BytesIO(queried.stdout.encode())).to_pylist()
    assert len(rows) == 90
    assert rows[0]["value"] == 20.0

    target = tmp_path / "out.parquet"
    exported = omp("export", "acme/**", *RANGE, "-o", str(target), "--config", str(pg_config))
    assert exported.exit_code == 0, exported.output
    assert "exported 181 points" in exported.stderr


def test_an_unreachable_postgres_is_named_without_a_traceback(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/test"
    data = tmp_path / "h.csv"
    data.write_text(f"path,ts,value\n{TEMP},2026-01-01T00:00:00Z,1\n")
    result = omp(
        "import", str(data), "--historian", url, "--model", str(EXAMPLE),
        "--data-dir", str(tmp_path / "d"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert url in result.stderr
    assert "Traceback" not in result.output
