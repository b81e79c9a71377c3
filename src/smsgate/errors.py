"""Errors of the gateway's own wiring (configuration, start-up)."""

from __future__ import annotations


class SmsgateError(Exception):
    """Base of errors raised outside the pure layers."""


class ConfigError(SmsgateError):
    """The configuration is wrong; the message says what and where."""
