"""``omp import``, ``omp query`` and ``omp export`` on the data directory of a stopped instance."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from omp.runtime.instance import InstanceInfo, recorded_model, write_instance
from tests.integration.cli.conftest import EXAMPLE, ORDER, RANGE, TEMP, omp


def _import(data: Path, file: Path, *extra: str) -> tuple[int, str]:
    result = omp("import", str(file), "--data-dir", str(data), "--model", str(EXAMPLE), *extra)
    return result.exit_code, result.stderr


def test_import_lands_good_rows_and_reports_bad_ones(tmp_path: Path, history: Path) -> None:
    code, text = _import(tmp_path / "data", history)
    assert code == 3  # landed, with rejects
    assert "183 points" in text
    assert "181 landed, 2 rejected" in text
    assert "naive_timestamp" in text
    assert "unknown_signal" in text
    assert "line 183: naive_timestamp" in text
    assert "line 184: unknown_signal" in text
    assert "Traceback" not in text


def test_query_reads_back_what_landed(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    # the model was recorded by the import's platform: no --model needed now
    result = omp("query", TEMP, *RANGE, "--format", "csv", "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    table = pacsv.read_csv(io.BytesIO(result.stdout.encode()))
    assert table.num_rows == 90
    assert table.column("value").to_pylist()[:2] == [20.0, 20.1]
    assert set(table.column("path").to_pylist()) == {TEMP}


def test_aggregates_by_glob(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    result = omp(
        "query", "acme/**/mill_01/spindle_*", *RANGE, "--every", "1m", "--agg", "min,max,count",
        "--format", "csv", "--data-dir", str(data),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = pacsv.read_csv(io.BytesIO(result.stdout.encode())).to_pylist()
    temp = [r for r in rows if r["path"] == TEMP]
    assert [r["count"] for r in temp] == [60, 30]
    assert temp[1]["max"] == 28.9


def test_a_glob_matching_nothing_names_the_pattern(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    result = omp("query", "acme/**/mill_99/*", *RANGE, "--data-dir", str(data))
    assert result.exit_code == 1
    assert "'acme/**/mill_99/*'" in result.stderr
    assert "Traceback" not in result.output


def _csv_query(data: Path, pattern: str) -> list[dict[str, object]]:
    result = omp("query", pattern, *RANGE, "--format", "csv", "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    return pacsv.read_csv(io.BytesIO(result.stdout.encode())).to_pylist()


def test_export_then_import_elsewhere_round_trips(tmp_path: Path, history: Path) -> None:
    first = tmp_path / "first"
    _import(first, history)
    original = _csv_query(first, "acme/**")
    assert len(original) == 181
    for fmt in ("parquet", "csv"):
        exported = tmp_path / f"all.{fmt}"
        result = omp(
            "export", "acme/**", *RANGE, "--format", fmt, "-o", str(exported),
            "--data-dir", str(first),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "exported 181 points" in result.stderr
        again = tmp_path / f"again_{fmt}"
        code, text = _import(again, exported)
        assert code == 0, text
        assert _csv_query(again, "acme/**") == original
    assert pq.read_table(tmp_path / "all.parquet").column_names == [
        "path", "ts", "value", "text", "quality",
    ]  # fmt: skip
    texts = [row["text"] for row in original if row["path"] == ORDER]
    assert texts == ["PO-4711"]


def test_replaying_an_import_does_not_duplicate(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    _import(data, history)
    result = omp("query", TEMP, *RANGE, "--format", "csv", "--data-dir", str(data))
    assert pacsv.read_csv(io.BytesIO(result.stdout.encode())).num_rows == 90


def test_a_file_broken_at_the_end_lands_nothing(tmp_path: Path, history: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_bytes(history.read_bytes() + b"\xff\xfe,2026-01-01T00:00:00Z,1,good\n")
    data = tmp_path / "data"
    code, text = _import(data, broken)
    assert code == 1
    assert str(broken) in text
    assert not (data / "historian.duckdb").exists()


def test_wide_csv_imports(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(
        f"ts,{TEMP},{ORDER}\n2026-01-01T00:00:00Z,20.5,PO-1\n2026-01-01T00:00:01Z,,\n"
        "2026-01-01T00:00:02Z,21.5,\n"
    )
    code, text = _import(tmp_path / "data", wide)
    assert code == 0, text
    assert "3 points (wide layout), 3 landed, 0 rejected" in text


def test_a_locked_historian_without_an_api_says_what_to_do(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "sys.stdin.read()",
            str(data / "historian.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ok"
        result = omp("query", TEMP, *RANGE, "--data-dir", str(data))
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 1
    assert str(data / "historian.duckdb") in result.stderr
    assert "locked" in result.stderr
    assert "--api" in result.stderr


def test_an_announcement_whose_api_is_gone_is_ignored(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    # a live pid (this test process) that serves no API: e.g. a pid reused after a crash
    write_instance(
        data,
        InstanceInfo(pid=os.getpid(), api_url="http://127.0.0.1:9", historian="", model_version=""),
    )
    result = omp("query", TEMP, *RANGE, "--format", "csv", "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    assert pacsv.read_csv(io.BytesIO(result.stdout.encode())).num_rows == 90


def test_run_on_a_busy_port_fails_cleanly(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = omp(
            "run",
            str(EXAMPLE),
            "--data-dir",
            str(data),
            "--api-port",
            str(port),
            "--broker-port",
            "0",
        )
    assert result.exit_code == 1
    assert f"127.0.0.1:{port}" in result.stderr
    assert not (data / "omp.instance.json").exists()
    # the historian was released: import works right away
    code, _ = _import(data, history)
    assert code == 3


def test_rejects_file_lists_every_bad_row(tmp_path: Path, history: Path) -> None:
    target = tmp_path / "rejects.csv"
    code, text = _import(tmp_path / "data", history, "--rejects", str(target))
    assert code == 3
    assert str(target) in text
    rows = pacsv.read_csv(target).to_pylist()
    assert [(r["line"], r["reason"]) for r in rows] == [
        (183, "naive_timestamp"),
        (184, "unknown_signal"),
    ]


def test_a_query_with_another_model_does_not_change_the_recorded_one(
    tmp_path: Path, history: Path
) -> None:
    data = tmp_path / "data"
    _import(data, history)
    assert recorded_model(data) == EXAMPLE.resolve()
    other = tmp_path / "factory.yaml"
    other.write_text(EXAMPLE.read_text())
    result = omp("query", TEMP, *RANGE, "--data-dir", str(data), "--model", str(other))
    assert result.exit_code == 0, result.output
    assert recorded_model(data) == EXAMPLE.resolve()


def test_table_output_says_when_rows_were_left_out(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    cut = omp("query", TEMP, *RANGE, "--limit", "5", "--data-dir", str(data))
    assert cut.exit_code == 0, cut.output
    assert "showing the first 5 rows" in cut.stderr
    assert cut.stdout.count("2026-01-01T00:00:0") == 5
    whole = omp("query", TEMP, *RANGE, "--limit", "90", "--data-dir", str(data))
    assert "showing the first" not in whole.stderr
