"""The embedded historian backend: one DuckDB file in the data directory."""

from omp.historian.backends.duckdb.backend import DuckDBBackend

__all__ = ["DuckDBBackend"]
