"""The composition root: builds one gateway process (gateway.py) from its parts
(builders.py)."""

from smsgate.bootstrap.gateway import Gateway, admin_only, admin_service

__all__ = ["Gateway", "admin_only", "admin_service"]
