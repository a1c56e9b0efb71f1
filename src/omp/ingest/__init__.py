"""The one way in: resolve bindings, convert units, validate, apply backpressure, hand on."""

from omp.ingest.pipeline import HistorianSink, Ingest, IngestStats, SubmitReport

__all__ = ["HistorianSink", "Ingest", "IngestStats", "SubmitReport"]
