"""SMPP time strings (§7.1.1): schedule_delivery_time, validity_period, final_date.

Absolute ``YYMMDDhhmmsstnnp``: t = tenths of a second, nn = offset from UTC in quarter
hours (00-48), p = '+' or '-'. Relative ``YYMMDDhhmmss000R``: a period from now.
Years are 2000-2099. The current time is always a parameter; nothing here reads a clock.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone

from smsgate.smpp.errors import InvalidSmppTime


def parse_smpp_time(s: str, now: datetime) -> datetime | None:
    """The instant `s` denotes (aware, UTC for absolute times), None for the empty string.

    Relative times are added to `now` (naive `now` is taken as UTC); years and months move
    the calendar date, clamping the day (Jan 31 + 1 month = Feb 28/29).
    """
    if s == "":
        return None
    if len(s) != 16 or not s[:15].isdigit() or not s.isascii() or s[15] not in "+-R":
        raise InvalidSmppTime(f"{s!r} is not YYMMDDhhmmsstnnp")
    yy, mo, dd, hh, mi, ss = (int(s[i : i + 2]) for i in range(0, 12, 2))
    if s[15] == "R":
        return _add_period(now, yy, mo, dd, hh, mi, ss)
    quarters = int(s[13:15])
    if quarters > 48:
        raise InvalidSmppTime(f"{s!r}: UTC offset above 48 quarter hours")
    offset = timedelta(minutes=15 * quarters) * (-1 if s[15] == "-" else 1)
    try:
        local = datetime(2000 + yy, mo, dd, hh, mi, ss, int(s[12]) * 100_000, timezone(offset))
    except ValueError:
        raise InvalidSmppTime(f"{s!r} is not a valid date and time") from None
    return local.astimezone(UTC)


def _add_period(now: datetime, yy: int, mo: int, dd: int, hh: int, mi: int, ss: int) -> datetime:
    base = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    months = base.month - 1 + mo
    year = base.year + yy + months // 12
    month = months % 12 + 1
    day = min(base.day, calendar.monthrange(year, month)[1])
    moved = base.replace(year=year, month=month, day=day)
    return moved + timedelta(days=dd, hours=hh, minutes=mi, seconds=ss)


def format_smpp_time(dt: datetime) -> str:
    """The absolute SMPP time of `dt` in UTC (``...000+``); naive `dt` is taken as UTC."""
    utc = dt.astimezone(UTC) if dt.tzinfo is not None else dt
    if not 2000 <= utc.year <= 2099:
        raise InvalidSmppTime("SMPP times cover the years 2000-2099")
    # Field by field: about half the cost of strftime (one per submit_sm with a validity).
    return (
        f"{utc.year % 100:02d}{utc.month:02d}{utc.day:02d}"
        f"{utc.hour:02d}{utc.minute:02d}{utc.second:02d}{utc.microsecond // 100_000}00+"
    )


def format_relative_smpp_time(period: timedelta) -> str:
    """A relative SMPP time (``0000DDhhmmss000R``) for a period of up to 99 days."""
    seconds = int(period.total_seconds())
    if seconds < 0 or period.days > 99:
        raise InvalidSmppTime("relative SMPP times cover 0 to 99 days here")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"0000{days:02d}{hours:02d}{minutes:02d}{secs:02d}000R"
