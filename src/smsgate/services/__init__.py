"""smsgate.services."""
