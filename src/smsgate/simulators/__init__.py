"""smsgate.simulators."""
