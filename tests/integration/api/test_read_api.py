"""The read API, served on a free loopback port, over a real platform on an embedded historian."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from omp.api import ApiServer, create_app
from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.rejects import RejectReason
from omp.core.time import US_PER_SECOND, parse_rfc3339
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "factory.yaml"
MILL = "acme/munich/machining/line_1/milling/mill_01"
T0 = parse_rfc3339("2026-01-01T00:00:00Z")
NOW = T0 + 3_600 * US_PER_SECOND


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(data_dir=tmp_path)
    with Platform.open(settings, model_file=EXAMPLE, clock=lambda: NOW) as running:
        temp = running.registry.signal(f"{MILL}/spindle_temp").id
        power = running.registry.signal(f"{MILL}/spindle_power").id
        order = running.registry.signal(f"{MILL}/current_order").id
        ts = [T0 + i * US_PER_SECOND for i in range(120)]
        running.ingest.submit(PointBatch.of([temp] * 120, ts, [float(i) for i in range(120)]))
        running.ingest.submit(PointBatch.of([power] * 120, ts, [2.0] * 120))
        running.ingest.submit(TextBatch.of([order], [T0], ["PO-1"]))
        state = running.registry.signal(f"{MILL}/state").id
        steps = [T0, T0 + 30 * US_PER_SECOND, T0 + 90 * US_PER_SECOND]
        running.ingest.submit(PointBatch.of([state] * 3, steps, [1.0, 2.0, 1.0]))
        running.ingest.submit(PointBatch.of([temp], [T0 + 1], [float("nan")]))
        running.historian.flush(10)
        yield running


@pytest.fixture
def client(platform: Platform) -> Iterator[httpx.Client]:
    server = ApiServer(create_app(platform), host="127.0.0.1", port=0)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield http
    finally:
        server.stop()


def _q(**params: object) -> dict[str, object]:
    return {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T01:00:00Z", **params}


def test_health_reports_model_historian_and_rejects(
    client: httpx.Client, platform: Platform
) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["model_version"] == platform.registry.version
    assert body["historian"]["points_written"] == 243
    assert body["historian"]["text_written"] == 1
    assert body["ingest"] == {"accepted": 244, "rejected": {"not_finite": 1}}


def test_signals_by_glob_carry_kind_unit_and_datatype(client: httpx.Client) -> None:
    body = client.get("/signals", params={"pattern": f"{MILL}/spindle_*"}).json()
    by_path = {s["path"]: s for s in body["signals"]}
    assert set(by_path) == {
        f"{MILL}/spindle_speed",
        f"{MILL}/spindle_speed_setpoint",
        f"{MILL}/spindle_temp",
        f"{MILL}/spindle_power",
    }
    assert by_path[f"{MILL}/spindle_temp"]["unit"] == "Cel"
    assert by_path[f"{MILL}/spindle_temp"]["kind"] == "measurement"
    assert by_path[f"{MILL}/spindle_temp"]["datatype"] == "float"


def test_a_pattern_matching_nothing_is_404_naming_it(client: httpx.Client) -> None:
    response = client.get("/signals", params={"pattern": "acme/**/nothing_*"})
    assert response.status_code == 404
    assert "acme/**/nothing_*" in response.json()["detail"]
    response = client.get("/query", params=_q(pattern="acme/**/nothing_*"))
    assert response.status_code == 404


def test_raw_json_pages_follow_the_cursor(client: httpx.Client) -> None:
    seen: list[float] = []
    params = _q(pattern=f"{MILL}/spindle_temp", limit=50)
    pages = 0
    while True:
        body = client.get("/query", params=params).json()
        pages += 1
        seen += [row["value"] for row in body["rows"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert pages == 3
    assert seen == [float(i) for i in range(120)]


def test_raw_rows_have_paths_and_rfc3339_times(client: httpx.Client) -> None:
    body = client.get("/query", params=_q(pattern=f"{MILL}/current_order")).json()
    assert body["rows"] == [
        {
            "path": f"{MILL}/current_order",
            "ts": "2026-01-01T00:00:00.000000Z",
            "value": None,
            "text": "PO-1",
            "quality": "good",
        }
    ]


def test_aggregates_as_arrow(client: httpx.Client) -> None:
    response = client.get(
        "/query",
        params=_q(pattern=f"{MILL}/spindle_*", every="1m", agg="avg,max,count", format="arrow"),
    )
    assert response.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(response.content).read_all()
    assert table.column_names == ["path", "bucket", "avg", "max", "count"]
    rows = {(r["path"], r["bucket"].minute): r for r in table.to_pylist()}
    assert rows[(f"{MILL}/spindle_temp", 0)]["avg"] == pytest.approx(29.5)
    assert rows[(f"{MILL}/spindle_temp", 1)]["max"] == 119.0
    assert rows[(f"{MILL}/spindle_power", 1)]["count"] == 60


def test_csv_with_the_cursor_in_a_header(client: httpx.Client) -> None:
    response = client.get(
        "/query", params=_q(pattern=f"{MILL}/spindle_temp", limit=100, format="csv")
    )
    assert response.headers["x-omp-next-cursor"]
    table = pacsv.read_csv(io.BytesIO(response.content))
    assert table.num_rows == 100


def test_relative_times_count_from_the_platform_clock(client: httpx.Client) -> None:
    body = client.get(
        "/query", params={"pattern": f"{MILL}/spindle_temp", "from": "-1h", "to": "now"}
    ).json()
    assert len(body["rows"]) == 120


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"agg": "median", "every": "1m"}, "median"),
        ({"agg": "avg"}, "agg needs every"),
        ({"from": "2026-01-01T00:00:00"}, "no UTC offset"),
        ({"to": "2025-01-01T00:00:00Z"}, "empty"),
        ({"cursor": "garbage"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"every": "1us", "from": "2025-01-01T00:00:00Z"}, "wider bucket"),
    ],
)
def test_bad_queries_are_400_and_say_why(
    client: httpx.Client, params: dict[str, object], message: str
) -> None:
    response = client.get("/query", params={**_q(pattern=f"{MILL}/spindle_temp"), **params})
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_aggregating_only_text_signals_is_refused(client: httpx.Client) -> None:
    response = client.get("/query", params=_q(pattern=f"{MILL}/current_order", every="1m"))
    assert response.status_code == 400
    assert "text" in response.json()["detail"]


def test_latest_gives_the_newest_point_per_signal(client: httpx.Client) -> None:
    body = client.get("/latest", params={"pattern": f"{MILL}/*"}).json()
    by_path = {row["path"]: row for row in body["rows"]}
    assert set(by_path) == {
        f"{MILL}/spindle_temp",
        f"{MILL}/spindle_power",
        f"{MILL}/current_order",
        f"{MILL}/state",
    }
    assert by_path[f"{MILL}/spindle_temp"]["value"] == 119.0
    assert by_path[f"{MILL}/spindle_temp"]["ts"] == "2026-01-01T00:01:59.000000Z"
    assert by_path[f"{MILL}/current_order"]["text"] == "PO-1"


def test_time_in_state_with_the_model_state_names(client: httpx.Client) -> None:
    body = client.get(
        "/query",
        params={
            "pattern": "acme/**/mill_01/*",
            "from": "2026-01-01T00:00:00Z",
            "to": "2026-01-01T00:02:00Z",
            "every": "1m",
            "agg": "time_in_state",
        },
    ).json()
    rows = [(r["bucket"][14:16], r["label"], r["seconds"]) for r in body["rows"]]
    assert rows == [
        ("00", "producing", 30.0),
        ("00", "down", 30.0),
        ("01", "producing", 30.0),
        ("01", "down", 30.0),
    ]
    assert {r["path"] for r in body["rows"]} == {f"{MILL}/state"}


def test_time_in_state_stands_alone(client: httpx.Client) -> None:
    response = client.get(
        "/query", params=_q(pattern=f"{MILL}/state", every="1m", agg="avg,time_in_state")
    )
    assert response.status_code == 400
    assert "cannot be combined" in response.json()["detail"]
    response = client.get(
        "/query", params=_q(pattern=f"{MILL}/spindle_temp", every="1m", agg="time_in_state")
    )
    assert response.status_code == 400
    assert "no state signal" in response.json()["detail"]


def test_a_bound_out_of_range_is_a_400_naming_the_parameter(client: httpx.Client) -> None:
    response = client.get("/query", params={"pattern": "acme/**", "from": "-9999999999999d"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("from '-9999999999999d' is before 1970")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8476", "10.0.0.5"])
def test_a_foreign_host_header_is_refused(client: httpx.Client, host: str) -> None:
    response = client.get("/health", headers={"Host": host})
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:8476", "localhost", "LOCALHOST:1", "[::1]:8476"])
def test_loopback_host_headers_are_served(client: httpx.Client, host: str) -> None:
    assert client.get("/health", headers={"Host": host}).status_code == 200


def test_sources_list_unmapped_addresses_and_refused_input(
    platform: Platform, client: httpx.Client
) -> None:
    batch = SourceBatch.of("mqtt_packaging", ["plant/x/unknown"], [0, 0], [T0, T0 + 1], [1.0, 2.0])
    platform.ingest.submit(batch)
    platform.ingest.record_rejects(
        RejectReason.MALFORMED, connector="mqtt_packaging", source="plant/x/raw"
    )
    body = client.get("/sources").json()
    assert body["unmapped"] == [
        {"connector": "mqtt_packaging", "address": "plant/x/unknown", "points": 2}
    ]
    assert body["rejected"] == [
        {"connector": "mqtt_packaging", "source": "plant/x/raw", "reason": "malformed", "count": 1}
    ]
