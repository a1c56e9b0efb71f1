"""``GET /query``: raw points (paged) or time-bucket aggregates of a path or glob.

``from``/``to`` take RFC 3339 or relative times (``-2h``, ``now``). With
``every`` (and optionally ``agg``, default ``avg``) the answer is aggregates,
otherwise raw points, at most ``limit`` per page; the next page's cursor is in
``next_cursor`` (JSON) or the ``X-OMP-Next-Cursor`` header (Arrow, CSV).
"""

from __future__ import annotations

from typing import Annotated

import orjson
import pyarrow as pa
from fastapi import APIRouter, Query, Response

from omp.api.deps import PlatformDep
from omp.core.time import parse_duration
from omp.runtime.formats import OutputFormat, csv_ready, to_bytes
from omp.runtime.query import DEFAULT_PAGE, QueryError
from omp.runtime.timerange import parse_range

router = APIRouter(tags=["query"])

CURSOR_HEADER = "X-OMP-Next-Cursor"
_MEDIA = {
    OutputFormat.JSON: "application/json",
    OutputFormat.ARROW: "application/vnd.apache.arrow.stream",
    OutputFormat.CSV: "text/csv; charset=utf-8",
}


def _json_body(table: pa.Table, *, pattern: str, version: str, cursor: str | None) -> bytes:
    return orjson.dumps(
        {
            "pattern": pattern,
            "model_version": version,
            "next_cursor": cursor,
            "columns": table.column_names,
            "rows": csv_ready(table).to_pylist(),
        }
    )


@router.get("/query")
def query(
    platform: PlatformDep,
    pattern: str,
    start: Annotated[str, Query(alias="from")] = "-1h",
    end: Annotated[str, Query(alias="to")] = "now",
    every: str | None = None,
    agg: str | None = None,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    fmt: Annotated[OutputFormat, Query(alias="format")] = OutputFormat.JSON,
) -> Response:
    if fmt not in _MEDIA:
        raise QueryError(f"format {fmt.value!r} is not served; use json, arrow or csv")
    now = platform.clock()
    first, last = parse_range(start, end, now=now, names=("from", "to"))
    queries = platform.queries
    next_cursor: str | None = None
    if every is not None:
        width = parse_duration(every)
        table = queries.buckets(pattern, start=first, end=last, every=width, agg=agg or "avg")
    elif agg is not None:
        raise QueryError("agg needs every (the bucket width, e.g. every=1m)")
    else:
        page = queries.raw(pattern, start=first, end=last, limit=limit, cursor=cursor)
        table, next_cursor = page.table, page.next_cursor
    if fmt is OutputFormat.JSON:
        body = _json_body(table, pattern=pattern, version=queries.model_version, cursor=next_cursor)
        return Response(body, media_type=_MEDIA[fmt])
    headers = {CURSOR_HEADER: next_cursor} if next_cursor else {}
    return Response(to_bytes(fmt, table), media_type=_MEDIA[fmt], headers=headers)
