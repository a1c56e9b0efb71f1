"""The unified-namespace (UNS) publisher: omp's normalised values and events, northbound on MQTT.

``UnsPublisher(registry, bus, endpoint, UnsOptions(...))`` is a platform
service. Topics are ``<prefix>/<signal path>`` and
``<prefix>/<equipment path>/_events/<kind>``; see docs/connectors/uns.md.
"""

from omp.connectors.uns.options import UnsOptions, UnsRule
from omp.connectors.uns.publisher import UnsPublisher

__all__ = ["UnsOptions", "UnsPublisher", "UnsRule"]
