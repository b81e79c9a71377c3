"""Southbound connectors: links to SMSCs and providers (implementations of `Connector`)."""
