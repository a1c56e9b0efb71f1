"""The broker connector (under construction for issue 3)."""
