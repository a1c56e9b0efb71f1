"""Connectors: protocol glue from shop-floor devices into omp.

``host`` runs them (lifecycle, reconnect with backoff, health); ``base``
defines what a connector is; ``feed`` turns decoded values into columnar
batches for the ``ConnectorSink`` (ingest, or a recording fake in tests).
One package per protocol: ``opcua``, ``mqtt``, ``sparkplug``, ``modbus``;
``uns`` publishes the unified namespace northbound and ``broker`` is the
embedded MQTT broker. Protocol packages never import one another.
"""
