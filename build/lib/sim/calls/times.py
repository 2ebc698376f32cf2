"""Times of a calls table: text or typed columns to wall-clock times of one zone.

Zone: the given ``timezone`` (an IANA name) when there is one; else the zone of the table's
first *parseable* time that carries one (``+08:00``, ``Z``, ``+00``, or a Parquet column's
zone); else the times as written. Times without a zone are taken as already in that zone.

Date order: ISO dates (year first) are never ambiguous. For ``03/04/2025`` the order is the
one given (``mdy`` or ``dmy``); else the one every row allows; a table whose every date reads
both ways (and differently) is an error that says how to choose.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Literal

import pandas as pd

from sim.errors import SimInputError

DateOrder = Literal["mdy", "dmy"]
DATE_ORDERS = ("mdy", "dmy")
_AWARE = (
    r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"  # a time, then a zone
)
_DAY_MONTH = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b"


def check_timezone(name: str | None) -> str | None:
    """``name`` if it is a known time zone; a clear error otherwise."""
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SimInputError(
            f"calls.trace_timezone: unknown time zone {name!r} "
            "(an IANA name such as Asia/Shanghai, or UTC)"
        ) from None
    return name


def date_order(text: pd.Series, order: str | None, where: str = "calls table") -> DateOrder:
    """The order of day and month in ``text`` (see the module docstring)."""
    if order is not None:
        if order not in DATE_ORDERS:
            raise SimInputError(f"{where}: date order {order!r}: expected mdy or dmy")
        return order  # type: ignore[return-value]
    parts = text.astype("string").str.extract(_DAY_MONTH).dropna()
    if parts.empty:
        return "mdy"
    first, second = parts[0].astype(int), parts[1].astype(int)
    month_first, day_first = bool((first <= 12).all()), bool((second <= 12).all())
    if month_first and day_first and not (first == second).all():
        i = (first != second).idxmax()
        example = str(text[i]).strip().split()[0]
        year = parts.loc[i, 2]
        raise SimInputError(
            f"{where}: dates such as {example} read both month-first "
            f"({year}-{first[i]:02d}-{second[i]:02d}) and day-first "
            f"({year}-{second[i]:02d}-{first[i]:02d}); month-first would be chosen: "
            "confirm with --date-order mdy or force day-first with --date-order dmy "
            "(a layout's date_order, a scenario's calls.trace_date_order)"
        )
    return "dmy" if day_first and not month_first else "mdy"


def parse_times(
    values: pd.Series, timezone: str | None, order: str | None = None
) -> tuple[pd.Series, str]:
    """Wall-clock times in one zone (NaT where unparseable) and that zone's name."""
    timezone = check_timezone(timezone)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        zone = timezone or str(values.dtype.tz)
        return values.dt.tz_convert(zone).dt.tz_localize(None).astype("datetime64[ns]"), zone
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.astype("datetime64[ns]"), timezone or "wall-clock time as written"
    text = values.astype("string").str.strip().fillna("")
    dayfirst = date_order(text, order) == "dmy"
    aware = text.str.contains(_AWARE, regex=True).fillna(False).to_numpy(bool)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    zone = timezone
    if aware.any():
        parsed = _to_datetime(text[aware], dayfirst, utc=True)
        if zone is None:
            zone = first_zone(text[aware][parsed.notna()], dayfirst)
        if zone is not None:
            local = parsed.dt.tz_convert(zone_info(zone)).dt.tz_localize(None)
            out[aware] = local.astype(out.dtype)
    naive = ~aware & (text != "").to_numpy(bool)
    if naive.any():
        out[naive] = _to_datetime(text[naive], dayfirst).astype(out.dtype)
    return out, zone or "wall-clock time as written"


def _to_datetime(text: pd.Series, dayfirst: bool, utc: bool = False) -> pd.Series:
    """Parsed times, NaT where a text is not a time (impossible dates included)."""
    return pd.to_datetime(text, utc=utc, errors="coerce", format="mixed", dayfirst=dayfirst)


def first_zone(text: pd.Series, dayfirst: bool) -> str | None:
    """The zone (an offset name) of the first text that parses as a zoned time."""
    for item in text:
        try:
            stamp = pd.to_datetime(item, dayfirst=dayfirst)
        except (ValueError, OverflowError):
            continue
        if stamp.tzinfo is not None:
            return _offset_name(stamp)
    return None


def _offset_name(stamp: pd.Timestamp) -> str:
    minutes = int(stamp.utcoffset().total_seconds() // 60)
    return "UTC" if minutes == 0 else f"UTC{minutes // 60:+03d}:{minutes % 60:02d}"


def zone_info(zone: str):
    """A tz for an IANA name or a 'UTC+08:00' offset name."""
    match = re.fullmatch(r"UTC([+-])(\d{2}):(\d{2})", zone)
    if match is None:
        return zone
    sign = 1 if match[1] == "+" else -1
    return dt.timezone(sign * dt.timedelta(hours=int(match[2]), minutes=int(match[3])))
