"""The modbus connector (under construction for issue 3)."""
