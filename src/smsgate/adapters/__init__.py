"""smsgate.adapters."""
