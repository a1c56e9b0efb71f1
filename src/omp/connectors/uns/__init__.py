"""The uns connector (under construction for issue 3)."""
