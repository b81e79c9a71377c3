"""Helpers for the Kannel interoperability test."""
