"""The composition root: settings, wiring, start and stop.

The only place that names concrete historian backends (``historian_factory``).
Nothing here imports ``omp.cli`` or ``omp.api``.
"""
