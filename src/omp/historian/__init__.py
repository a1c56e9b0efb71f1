"""The historian: one writer, queries, rollups, retention; backends in ``backends/``."""
