"""/api/v1/conversations: two-way threads between an account number and a peer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from smsgate.adapters.http_api.auth import Principal, authenticate
from smsgate.adapters.http_api.errors import JsonResponse
from smsgate.adapters.http_api.routes_messages import ERRORS
from smsgate.adapters.http_api.routes_numbers import manager
from smsgate.adapters.http_api.schemas import MessageOut
from smsgate.services.two_way_records import Conversation
from smsgate.services.views import iso, message_view

router = APIRouter(prefix="/api/v1/conversations", tags=["two-way"])
Auth = Annotated[Principal, Depends(authenticate)]
Number = Annotated[
    str | None, Query(max_length=32, description="the account number, when several have one")
]


class LastMessage(BaseModel):
    id: str
    direction: str
    text: str
    at: str


class ConversationOut(BaseModel):
    id: str
    number: str
    peer: str
    unread: int
    last_message: LastMessage
    created_at: str
    read_at: str | None


class ConversationList(BaseModel):
    data: list[ConversationOut]
    next_cursor: str | None


class ThreadOut(ConversationOut):
    messages: list[MessageOut]
    next_cursor: str | None


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(min_length=1, max_length=10_000)


def conversation_view(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.id,
        "number": c.number,
        "peer": c.peer,
        "unread": c.unread,
        "last_message": {
            "id": c.last_message_id,
            "direction": c.last_direction,
            "text": c.last_text,
            "at": iso(c.last_at),
        },
        "created_at": iso(c.created_at),
        "read_at": iso(c.read_at),
    }


@router.get("", response_model=ConversationList, responses=ERRORS)
async def list_conversations(
    request: Request,
    principal: Auth,
    number: Number = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Threads, the most recently active first, with their unread counts."""
    rows = await manager(request).conversations(
        principal.account, limit=limit + 1, before=cursor, number=number
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return JsonResponse(
        {
            "data": [conversation_view(c) for c in rows],
            "next_cursor": rows[-1].last_message_id if more and rows else None,
        }
    )


@router.get("/{peer}", response_model=ThreadOut, responses=ERRORS)
async def read_conversation(
    peer: str,
    request: Request,
    principal: Auth,
    number: Number = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The thread's messages in both directions, newest first. Reading it marks it read
    (`unread` shows the count from before)."""
    m = manager(request)
    conversation = await m.conversation(principal.account, peer, number=number)
    messages = await m.read_thread(principal.account, conversation, limit=limit + 1, before=cursor)
    more = len(messages) > limit
    messages = messages[:limit]
    return JsonResponse(
        {
            **conversation_view(conversation),
            "messages": [message_view(msg) for msg in messages],
            "next_cursor": messages[-1].id if more and messages else None,
        }
    )


@router.post("/{peer}", status_code=202, response_model=MessageOut, responses=ERRORS)
async def reply(
    peer: str, body: ReplyIn, request: Request, principal: Auth, number: Number = None
) -> Response:
    """Reply from the number the peer wrote to (a transactional message)."""
    m = manager(request)
    conversation = await m.conversation(principal.account, peer, number=number)
    message = await m.reply(principal.account, conversation, body.text)
    return JsonResponse(message_view(message), status_code=202)
