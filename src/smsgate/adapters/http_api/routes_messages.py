"""/api/v1/messages and /api/v1/batches."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from smsgate import codec
from smsgate.adapters.http_api.auth import Principal, authenticate, check_credentials
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.errors import JsonResponse
from smsgate.adapters.http_api.schemas import (
    BatchIn,
    BatchOut,
    ErrorOut,
    MessageIn,
    MessageList,
    MessageOut,
    PreviewIn,
    PreviewOut,
    StatusEventOut,
)
from smsgate.domain.errors import InvalidNumber, InvalidRequest
from smsgate.domain.numbers import normalize
from smsgate.domain.states import Status
from smsgate.services.errors import NotFound
from smsgate.services.messages import SendRequest
from smsgate.services.records import Batch
from smsgate.services.views import iso, message_view

router = APIRouter(prefix="/api/v1", tags=["messages"])
Auth = Annotated[Principal, Depends(authenticate)]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)
}
M = TypeVar("M", bound=BaseModel)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def _ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _parse_body(raw: bytes, model: type[M]) -> M:
    """Validate a JSON body with pydantic-core directly; errors as FastAPI would report them."""
    if not raw.strip():
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "a JSON body is required"}]
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        for error in errors:
            if error["type"] == "json_invalid":
                error["loc"] = ("body",)
            else:
                error["loc"] = ("body", *error["loc"])
        raise RequestValidationError(errors) from exc


@router.post(
    "/messages",
    status_code=202,
    response_model=MessageOut,
    responses=ERRORS,
    summary="Send one",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": MessageIn.model_json_schema()}},
        },
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
            }
        ],
    },
)
async def send_message(request: Request) -> Response:
    client = request.client.host if request.client else "?"
    return await handle_send(_ctx(request), request.headers, client, await request.body())


async def handle_send(
    ctx: ApiContext, headers: Mapping[str, str], client: str, raw: bytes
) -> Response:
    """POST /api/v1/messages. The hot path: no dependency injection, the body validated
    straight from bytes; `fast_path.FastSend` calls it without the framework around it."""
    principal = await check_credentials(ctx, headers.get("authorization", ""), client)
    body = _parse_body(raw, MessageIn)
    idempotency_key = headers.get("idempotency-key")
    callback_url = body.callback_url
    if callback_url is not None:
        callback_url = await ctx.url_guard.check(callback_url, field="callback_url")
    req = SendRequest(
        to=body.to,
        sender=body.from_,
        text=body.text,
        category=body.category,
        send_at=_ts(body.send_at),
        validity_s=body.validity_s,
        encoding=body.encoding,
        reference=body.reference,
        callback_url=callback_url,
        transliterate=body.transliterate,
    )
    message, created = await ctx.messages.send(
        principal.account, req, idempotency_key=idempotency_key
    )
    return JsonResponse(message_view(message), status_code=202 if created else 200)


@router.post("/messages/preview", response_model=PreviewOut, responses=ERRORS)
async def preview_message(body: PreviewIn, principal: Auth) -> Response:
    try:
        p = codec.preview(body.text, body.encoding, transliterate=body.transliterate)
    except codec.EncodingError as exc:
        raise InvalidRequest(
            "the text has characters that GSM-7 cannot carry: " + "".join(exc.chars),
            field="text",
        ) from exc
    return JsonResponse(
        {
            "encoding": p.encoding.value,
            "parts": p.parts,
            "chars": p.chars,
            "units": p.units,
            "per_part": p.per_part,
            "non_gsm_chars": list(p.non_gsm_chars),
            "price": None,
        }
    )


@router.get("/messages/{message_id}", response_model=MessageOut, responses=ERRORS)
async def get_message(message_id: str, request: Request, principal: Auth) -> Response:
    message = await _ctx(request).store.get_message(message_id, principal.account.id)
    if message is None:
        raise NotFound("no such message", field="id")
    return JsonResponse(message_view(message))


@router.get("/messages/{message_id}/events", response_model=list[StatusEventOut], responses=ERRORS)
async def message_events(message_id: str, request: Request, principal: Auth) -> Response:
    store = _ctx(request).store
    if await store.get_message(message_id, principal.account.id) is None:
        raise NotFound("no such message", field="id")
    events = await store.get_events(message_id)
    return JsonResponse(
        [
            {
                "status": e.status,
                "part": e.seq,
                "error_code": e.error_code,
                "detail": e.detail,
                "at": iso(e.created_at),
            }
            for e in events
        ]
    )


@router.post("/messages/{message_id}/cancel", response_model=MessageOut, responses=ERRORS)
async def cancel_message(message_id: str, request: Request, principal: Auth) -> Response:
    message = await _ctx(request).messages.cancel(principal.account, message_id)
    return JsonResponse(message_view(message))


@router.get("/messages", response_model=MessageList, responses=ERRORS)
async def list_messages(
    request: Request,
    principal: Auth,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    direction: Annotated[str | None, Query(pattern="^(outbound|inbound)$")] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    if status is not None and status not in {s.value for s in Status}:
        raise InvalidRequest("unknown status", field="status")
    account = principal.account
    to_addr = to
    if to is not None:
        try:
            to_addr = normalize(to, account.default_country or None).e164
        except InvalidNumber as exc:
            raise InvalidRequest(exc.message, field="to") from exc
    rows = await _ctx(request).store.list_messages(
        account.id,
        limit=limit + 1,
        before=cursor,
        direction=direction,
        status=status,
        to_addr=to_addr,
        from_addr=from_,
        since=_ts(since),
        until=_ts(until),
        batch_id=batch,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return JsonResponse(
        {
            "data": [message_view(m) for m in rows],
            "next_cursor": rows[-1].id if more and rows else None,
        }
    )


def _render(template: str, fields: dict[str, str], index: int) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in fields:
            raise InvalidRequest(
                f"recipient {index} has no value for {{{name}}}",
                field=f"recipients[{index}].fields.{name}",
            )
        return fields[name]

    return _PLACEHOLDER.sub(sub, template)


@router.post("/batches", status_code=202, response_model=BatchOut, responses=ERRORS)
async def create_batch(body: BatchIn, request: Request, principal: Auth) -> Response:
    ctx = _ctx(request)
    callback_url = body.callback_url
    if callback_url is not None:
        callback_url = await ctx.url_guard.check(callback_url, field="callback_url")
    reqs = [
        SendRequest(
            to=r.to,
            sender=body.from_,
            text=_render(body.text, {**r.fields, "to": r.to}, i),
            category=body.category,
            send_at=_ts(body.send_at),
            validity_s=body.validity_s,
            encoding=body.encoding,
            reference=body.reference,
            callback_url=callback_url,
        )
        for i, r in enumerate(body.recipients)
    ]
    batch, messages = await ctx.messages.send_batch(
        principal.account, reqs, reference=body.reference
    )
    counts: dict[str, int] = {}
    for m in messages:
        counts[m.status] = counts.get(m.status, 0) + 1
    return JsonResponse(_batch_view(batch, counts), status_code=202)


@router.get("/batches/{batch_id}", response_model=BatchOut, responses=ERRORS)
async def get_batch(batch_id: str, request: Request, principal: Auth) -> Response:
    store = _ctx(request).store
    batch = await store.get_batch(batch_id, principal.account.id)
    if batch is None:
        raise NotFound("no such batch", field="id")
    counts = await store.count_by_status(principal.account.id, batch_id=batch_id)
    return JsonResponse(_batch_view(batch, counts))


def _batch_view(batch: Batch, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": batch.id,
        "total": batch.total,
        "reference": batch.reference,
        "created_at": iso(batch.created_at),
        "counts": counts,
    }
