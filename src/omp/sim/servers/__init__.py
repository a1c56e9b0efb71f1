"""The plant on the wire: one module per protocol, each a real server or publisher.

Every module offers a ``FrameOutput`` (``omp.sim.frame``) that serves the
machines assigned to its protocol, and ``model_section`` that says how the
platform binds them (connectors and per-machine bindings for the factory
model). Modules import their protocol library, ``omp.sim`` and ``omp.core``;
never one another, never ``omp.connectors``.
"""
