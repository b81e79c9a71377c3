"""smsgate.smpp."""
