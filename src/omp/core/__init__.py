"""Core types shared by every layer: time, quality, batches, events, errors, the sink interface.

Depends on nothing else in omp.
"""
