"""smsgate.codec."""
