from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omp.core.errors import ConfigError
from omp.runtime.instance import (
    INSTANCE_FILE,
    InstanceInfo,
    read_instance,
    record_model,
    recorded_model,
    remove_instance,
    write_instance,
)


def _info(pid: int) -> InstanceInfo:
    return InstanceInfo(pid=pid, api_url="http://127.0.0.1:1234", historian="h", model_version="v")


def test_a_live_instance_is_read_back(tmp_path: Path) -> None:
    write_instance(tmp_path, _info(os.getpid()))
    assert read_instance(tmp_path) == _info(os.getpid())


def test_no_file_means_no_instance(tmp_path: Path) -> None:
    assert read_instance(tmp_path) is None


def test_a_dead_pid_is_stale(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    write_instance(tmp_path, _info(int(finished.stdout)))
    assert read_instance(tmp_path) is None


def test_a_garbled_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / INSTANCE_FILE).write_text("{not json")
    assert read_instance(tmp_path) is None


def test_remove_only_removes_our_own_announcement(tmp_path: Path) -> None:
    write_instance(tmp_path, _info(os.getpid()))
    remove_instance(tmp_path, pid=os.getpid() + 1_000_000)
    assert (tmp_path / INSTANCE_FILE).exists()
    remove_instance(tmp_path, pid=os.getpid())
    assert not (tmp_path / INSTANCE_FILE).exists()


def test_instance_file_is_plain_json(tmp_path: Path) -> None:
    path = write_instance(tmp_path, _info(42))
    assert json.loads(path.read_text())["api_url"] == "http://127.0.0.1:1234"


def test_recorded_model_round_trips_as_an_absolute_path(tmp_path: Path) -> None:
    model = tmp_path / "factory.yaml"
    record_model(tmp_path / "data", model)
    assert recorded_model(tmp_path / "data") == model.resolve()


def test_no_recorded_model_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--model"):
        recorded_model(tmp_path)


def test_an_unwritable_data_directory_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(ConfigError, match="cannot write"):
        write_instance(blocker, _info(1))
