"""Delivery receipt text in deliver_sm short_message (SMPP 3.4 Appendix B).

The de-facto format is
``id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
err:E text:...``. SMSCs vary it freely (key case, 12-digit dates, hex ids, missing or
extra fields, `submit_date`), so `parse_receipt` reads keys wherever they appear and only
needs `id` and `stat`. (Matching a receipt id to the id an SMSC returned in submit_sm_resp,
whatever its hex/decimal habit, is a rule for every connector: domain/smsc_ids.py.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smsgate.smpp.constants import MessageState


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """A parsed delivery receipt; dates are the raw YYMMDDhhmm[ss] strings."""

    id: str
    sub: str = "001"
    dlvrd: str = "001"
    submit_date: str | None = None
    done_date: str | None = None
    stat: str
    err: str = "000"
    text: str = ""


def format_receipt(r: Receipt) -> str:
    """The standard receipt text (Appendix B)."""
    return (
        f"id:{r.id} sub:{r.sub} dlvrd:{r.dlvrd} submit date:{r.submit_date or ''}"
        f" done date:{r.done_date or ''} stat:{r.stat} err:{r.err} text:{r.text}"
    )


# The format as Appendix B writes it, with any values: one anchored match, no scanning.
_STANDARD = re.compile(
    r"id:(\S+) sub:(\S+) dlvrd:(\S+) submit date:(\S*) done date:(\S*)"
    r" stat:(\S+) err:(\S+) text:(.*)",
    re.DOTALL,
)
# Anything else: a key is a known word at a word start followed by ':' (spaces around it).
_KEY = re.compile(
    r"(?<![A-Za-z0-9_])(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)[ \t]*:[ \t]*",
    re.IGNORECASE,
)
_FIELDS = {
    "id": "id",
    "sub": "sub",
    "dlvrd": "dlvrd",
    "stat": "stat",
    "err": "err",
    "text": "text",
    **{f"{word}{sep}date": f"{word}_date" for word in ("submit", "done") for sep in ("", " ", "_")},
}


def parse_receipt(text: str | bytes) -> Receipt | None:
    """Parse receipt text leniently; None when there is no `id` and `stat` to read."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("latin-1")
    match = _STANDARD.match(text)
    if match is None:
        return _parse_lenient(text)
    rid, sub, dlvrd, submit_date, done_date, stat, err, body = match.groups()
    return Receipt(
        id=rid,
        sub=sub,
        dlvrd=dlvrd,
        submit_date=submit_date or None,
        done_date=done_date or None,
        stat=stat.upper(),
        err=err,
        text=body,
    )


def _parse_lenient(text: str) -> Receipt | None:
    """Keys in any case and order, missing or extra fields, `submit_date`, ..."""
    values: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for i, match in enumerate(matches):
        key = _FIELDS[match.group(1).lower()]
        if key == "text":
            values["text"] = text[match.end() :]  # free text runs to the end, keys included
            break
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        token = text[match.end() : end].split(None, 1)
        if token and key not in values:
            values[key] = token[0]
    if "id" not in values or "stat" not in values:
        return None
    return Receipt(
        id=values["id"],
        sub=values.get("sub", "001"),
        dlvrd=values.get("dlvrd", "001"),
        submit_date=values.get("submit_date"),
        done_date=values.get("done_date"),
        stat=values["stat"].upper(),
        err=values.get("err", "000"),
        text=values.get("text", ""),
    )


_STATES = {
    "ENROUTE": MessageState.ENROUTE,
    "DELIVRD": MessageState.DELIVERED,
    "DELIVERED": MessageState.DELIVERED,
    "EXPIRED": MessageState.EXPIRED,
    "DELETED": MessageState.DELETED,
    "UNDELIV": MessageState.UNDELIVERABLE,
    "UNDELIVERABLE": MessageState.UNDELIVERABLE,
    "ACCEPTD": MessageState.ACCEPTED,
    "ACCEPTED": MessageState.ACCEPTED,
    "UNKNOWN": MessageState.UNKNOWN,
    "REJECTD": MessageState.REJECTED,
    "REJECTED": MessageState.REJECTED,
}


def stat_to_message_state(stat: str) -> MessageState:
    """The message_state of a receipt `stat` (Appendix B Table B-2); UNKNOWN if unheard of."""
    return _STATES.get(stat.strip().upper(), MessageState.UNKNOWN)
