"""The embedded MQTT broker: amqtt on loopback, for installs with no broker of their own.

``EmbeddedBroker(host, port).start()`` serves MQTT 3.1.1 on its own thread;
``url`` is what MQTT-based connectors and the UNS publisher connect to.
See docs/connectors/broker.md for what it does not do and when to move to
Mosquitto or a cluster.
"""

from omp.connectors.broker.embedded import BrokerStartError, EmbeddedBroker

__all__ = ["BrokerStartError", "EmbeddedBroker"]
