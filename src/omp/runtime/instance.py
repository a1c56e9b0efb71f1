"""Files in the data directory that tell other processes about this instance.

* ``omp.instance.json`` exists while an instance runs: its pid and the URL of
  its read API. ``omp query`` and ``omp export`` use it to go through the
  running instance (DuckDB lets one process open the file for writing), and
  ``omp import`` uses it to refuse. A file left by a process that died is
  recognised as stale (its pid is gone) and ignored.
* ``omp.model.json`` persists: the model file the data directory was last run
  with, so commands on a stopped instance find the model without being told.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from omp.core.errors import ConfigError

INSTANCE_FILE = "omp.instance.json"
MODEL_FILE = "omp.model.json"


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """A running instance as it announces itself."""

    pid: int
    api_url: str
    historian: str
    model_version: str


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it is just not ours
        return True
    return True


def _write_atomically(path: Path, payload: dict[str, object]) -> None:
    # Readers must never see a half-written file, so write aside and rename.
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        scratch.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_instance(data_dir: Path, info: InstanceInfo) -> Path:
    """Announce a running instance; returns the file written."""
    path = data_dir / INSTANCE_FILE
    _write_atomically(path, asdict(info))
    return path


def read_instance(data_dir: Path) -> InstanceInfo | None:
    """The live instance on ``data_dir``, or ``None`` (no file, unreadable, or stale pid)."""
    path = data_dir / INSTANCE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        info = InstanceInfo(
            pid=int(raw["pid"]),
            api_url=str(raw["api_url"]),
            historian=str(raw.get("historian", "")),
            model_version=str(raw.get("model_version", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if _pid_alive(info.pid) else None


def remove_instance(data_dir: Path, *, pid: int) -> None:
    """Remove the announcement if it is still ours (a newer instance may have replaced it)."""
    path = data_dir / INSTANCE_FILE
    current = read_instance(data_dir)
    if current is None or current.pid == pid:
        path.unlink(missing_ok=True)


def record_model(data_dir: Path, model_file: Path) -> None:
    """Remember the model file this data directory runs with."""
    _write_atomically(data_dir / MODEL_FILE, {"model_file": str(model_file.resolve())})


def recorded_model(data_dir: Path) -> Path:
    """The model file last recorded for ``data_dir``; ``ConfigError`` when there is none."""
    path = data_dir / MODEL_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Path(str(raw["model_file"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"no model is recorded in {data_dir} (it has never run with `omp run`); "
            "pass the model with --model factory.yaml"
        ) from None
