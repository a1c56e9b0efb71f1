"""The mqtt connector (under construction for issue 3)."""
