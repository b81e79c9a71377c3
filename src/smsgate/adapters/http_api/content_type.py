"""415 for a body sent to a JSON endpoint in another content type (DESIGN.md §3).

A body the client labelled `text/plain`, a form, or nothing at all is not parsed as JSON
on a guess. `refusal` is the one check: the application's middleware and the fast path
(fast_path.py) both call it, so every route of the REST API answers alike. Form endpoints
(the dialects, the panel) live outside JSON_PREFIX and keep theirs.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from smsgate.adapters.http_api.errors import error_response

JSON_PREFIX = "/api/v1/"
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: str) -> bool:
    """`application/json` (any parameters, such as a charset) or `application/*+json`."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _has_body(headers: dict[bytes, bytes]) -> bool:
    length = headers.get(b"content-length", b"").strip()
    if length:
        return length != b"0"
    return b"transfer-encoding" in headers


def refusal(scope: Scope) -> Response | None:
    """The 415 for an HTTP request to a JSON endpoint whose body is not labelled JSON."""
    if scope["method"] not in WITH_BODY or not scope["path"].startswith(JSON_PREFIX):
        return None
    headers = dict(scope["headers"])
    if not _has_body(headers) or is_json(headers.get(b"content-type", b"").decode("latin-1")):
        return None
    return error_response(
        415,
        "unsupported_media_type",
        "send the body as JSON, with 'Content-Type: application/json'",
        "Content-Type",
    )


class RequireJson:
    """ASGI middleware answering `refusal` where it applies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = refusal(scope) if scope["type"] == "http" else None
        if refused is not None:
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)
