"""Every error leaves the API as `{"error": {"code", "message", "field"}}` (DESIGN.md §3)."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from smsgate.domain.errors import DomainError, SenderNotAllowed
from smsgate.services.errors import Conflict, NotFound

log = logging.getLogger(__name__)


class JsonResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class ApiError(Exception):
    """Raised by handlers for HTTP-level refusals (auth, limits)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "field": field}},
        status_code=status,
        headers=headers,
    )


def _field(loc: tuple[Any, ...]) -> str | None:
    # ("body", "to") → "to"; ("body", "recipients", 3, "to") → "recipients[3].to"
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    if not parts:
        return "body" if loc and loc[0] == "body" else None
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


_STATUS = {NotFound: 404, Conflict: 409, SenderNotAllowed: 403}


def validation_response(exc: RequestValidationError) -> Response:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    loc = tuple(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        return error_response(400, "invalid_json", "the body is not valid JSON", "body")
    field = _field(loc)
    if field == "from_":
        field = "from"
    message = str(first.get("msg", "invalid value"))
    return error_response(422, "invalid_request", message, field)


def domain_response(exc: DomainError) -> Response:
    return error_response(_STATUS.get(type(exc), 422), exc.code, exc.message, exc.field)


def api_response(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)


def unexpected_response(exc: Exception) -> Response:
    log.error("unhandled error in the API: %s", type(exc).__name__, exc_info=exc)
    return error_response(500, "internal", "internal error")


def response_for(exc: Exception) -> Response:
    """What the API answers for an exception a handler raised."""
    if isinstance(exc, RequestValidationError):
        return validation_response(exc)
    if isinstance(exc, DomainError):
        return domain_response(exc)
    if isinstance(exc, ApiError):
        return api_response(exc)
    return unexpected_response(exc)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        return validation_response(exc)

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> Response:
        return domain_response(exc)

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> Response:
        return api_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(
            exc.status_code, code, str(exc.detail), None, dict(exc.headers or {}) or None
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> Response:
        return unexpected_response(exc)
