"""smsgate.runtime."""
