"""In-process publish/subscribe of batches and events, and the unified-namespace topic scheme."""

from omp.bus.bus import Bus, Subscription
from omp.bus.topics import UNS_ROOT, event_topic, signal_topic

__all__ = ["UNS_ROOT", "Bus", "Subscription", "event_topic", "signal_topic"]
