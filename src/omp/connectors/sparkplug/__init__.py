"""The sparkplug connector (under construction for issue 3)."""
