"""smsgate.domain."""
