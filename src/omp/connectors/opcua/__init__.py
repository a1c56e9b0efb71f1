"""The opcua connector (under construction for issue 3)."""
