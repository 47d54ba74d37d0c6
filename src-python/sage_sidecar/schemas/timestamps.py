"""Timestamps at the API boundary: always UTC with an offset, an RFC 3339 `date-time`
("2026-11-29T22:32:35.740312Z"), so a client in any time zone reads the same instant.

SQLite has no time zones: storage keeps naive UTC and hands it back naive. Every schema's
timestamp is a `UtcDateTime`, which reads a naive value as UTC and converts an aware one to UTC
(an import's "+08:00" is stored as the UTC instant it means)."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 at +01:00, year 9999 at -01:00: not a UTC instant
        raise ValueError("the timestamp is out of range in UTC") from None


UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
