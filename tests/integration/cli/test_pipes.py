"""``omp query ... --format csv | head -2``: the reader leaving early is not an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.cli.conftest import EXAMPLE, TEMP, omp

ROWS = 50_000  # several MB of CSV: far more than a pipe buffer holds


def test_a_reader_that_stops_early_ends_the_query_quietly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    wide = tmp_path / "wide.csv"
    lines = [f"ts,{TEMP}"] + [f"2026-01-01T00:00:00.{i:06d}Z,{i}" for i in range(ROWS)]
    wide.write_text("\n".join(lines) + "\n")
    imported = omp("import", str(wide), "--data-dir", str(data), "--model", str(EXAMPLE))
    assert imported.exit_code == 0, imported.output
    command = [
        sys.executable, "-c", "from omp.cli import main; main()",
        "query", TEMP, "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T00:00:01Z",
        "--format", "csv", "--data-dir", str(data),
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        head = [process.stdout.readline() for _ in range(2)]
        process.stdout.close()  # what `head -2` does after two lines
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert head[0].startswith(b'"path"')
    assert code == 141
    assert stderr == ""
