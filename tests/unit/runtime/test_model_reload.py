"""Model reload without a restart: ids kept, unmapped sources bound, bad edits refused."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from omp.core.batch import SourceBatch
from omp.core.time import parse_rfc3339
from omp.model import ModelInvalid
from omp.runtime.model_watch import ModelWatcher
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings
from tests.unit.runtime.conftest import EXAMPLE, MILL

T0 = parse_rfc3339("2026-01-01T00:00:00Z")
RULE = """    map:
      - source: "mills/{eq}/{signal}"
        signal: "acme/munich/machining/line_1/milling/{eq}/{signal}"
"""


def _open(tmp_path: Path) -> tuple[Platform, Path]:
    model = tmp_path / "factory.yaml"
    shutil.copy(EXAMPLE, model)
    settings = Settings(data_dir=tmp_path / "data")
    return Platform.open(settings, model_file=model, clock=lambda: T0 + 10_000_000), model


def _with_rule(text: str) -> str:
    anchor = "    protocol: mqtt\n"
    assert anchor in text
    return text.replace(anchor, anchor + RULE, 1)


def _touch_later(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_an_unmapped_source_is_listed_then_bound_by_a_reload(tmp_path: Path) -> None:
    platform, model = _open(tmp_path)
    with platform:
        batch = SourceBatch.of("mqtt_packaging", ["mills/mill_01/spindle_temp"], [0], [T0], [41.0])
        assert platform.ingest.submit(batch).accepted == 0
        listed = platform.sources()["unmapped"]
        assert listed == [
            {"connector": "mqtt_packaging", "address": "mills/mill_01/spindle_temp", "points": 1}
        ]
        ids_before = platform.registry.ids
        model.write_text(_with_rule(model.read_text()))
        registry = platform.reload_model()
        assert registry.ids.items() >= ids_before.items()  # every signal keeps its id
        assert platform.ingest.submit(batch).accepted == 1
        platform.historian.flush()
        latest = platform.queries.latest(f"{MILL}/spindle_temp")
        assert latest.column("value").to_pylist() == [41.0]


def test_a_bad_edit_keeps_the_running_model(tmp_path: Path) -> None:
    platform, model = _open(tmp_path)
    with platform:
        version = platform.registry.version
        model.write_text(
            model.read_text().replace("timezone: Europe/Berlin", "timezone: Mars/Base")
        )
        with pytest.raises(ModelInvalid, match="unknown time zone 'Mars/Base'"):
            platform.reload_model()
        assert platform.registry.version == version


def test_the_watcher_reloads_on_change_and_reports_a_bad_file(tmp_path: Path) -> None:
    platform, model = _open(tmp_path)
    with platform:
        watcher = ModelWatcher(platform, interval=60)
        assert watcher.check_now() is False
        good = _with_rule(model.read_text())
        model.write_text(good.replace("timezone: Europe/Berlin", "timezone: Mars/Base"))
        _touch_later(model)
        assert watcher.check_now() is False
        assert "Mars/Base" in (watcher.health()["last_error"] or "")
        version = platform.registry.version
        model.write_text(good)
        _touch_later(model)
        assert watcher.check_now() is True
        assert platform.registry.version != version
        assert watcher.health() == {"reloads": 1, "last_error": None}


def test_listeners_see_the_new_model_and_can_refuse_it(tmp_path: Path) -> None:
    platform, model = _open(tmp_path)
    seen: list[str] = []

    def listener(registry: object) -> None:
        seen.append(getattr(registry, "version", ""))
        if len(seen) > 1:
            raise ModelInvalid([])

    platform.on_reload(listener)
    with platform:
        text = _with_rule(model.read_text())
        model.write_text(text)
        first = platform.reload_model()
        assert seen == [first.version]
        model.write_text(text.replace("client_id: omp-munich", "client_id: omp-2"))
        with pytest.raises(ModelInvalid):
            platform.reload_model()
        assert platform.registry.version == first.version
