"""Storage engines behind ``omp.historian.backend.HistorianBackend``.

Each backend is its own package and never imports another; only
``omp.runtime`` names a concrete backend.
"""
