"""When a task fires: pure functions of its schedule, its time zone and a given instant.

Every instant in and out is an aware UTC datetime; local wall-clock times exist only inside.
Cron expressions are matched by croniter on naive wall-clock times of the task's zone, then each
match is placed on the UTC line with zoneinfo (fold 0), which gives the DST rules of
docs/tasks.md: a wall time that does not exist (spring forward) fires once, shifted forward by
the gap; a wall time that happens twice (fall back) fires once, at its first occurrence.

croniter is imported where a cron schedule is used: on import it runs `file` on the Python
binary (platform.architecture), a process and ~40 ms the start-up of an app without cron tasks
does not need.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sage_sidecar.core.errors import InvalidError

UNIT_MINUTES = {"minutes": 1, "hours": 60}
MIN_INTERVAL_MINUTES = 1
# A cron expression with no match in this many candidates (e.g. "0 0 30 2 *") never fires.
MAX_CANDIDATES = 2000


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise InvalidError(
            f"unknown time zone {name!r}", code="task.bad_zone", zone=name
        ) from error


def validate(schedule: dict[str, Any], zone_name: str) -> None:
    """Raise a coded InvalidError for a schedule that cannot fire as written."""
    zone(zone_name)
    kind = schedule.get("kind")
    if kind == "cron":
        expression = str(schedule.get("expression", ""))
        from croniter import croniter

        # Five fields only: croniter also takes seconds and years, which the UI does not offer.
        if len(expression.split()) != 5 or not croniter.is_valid(expression):
            raise InvalidError(
                f"not a cron expression: {expression!r}",
                code="task.bad_cron",
                expression=expression,
            )
    elif kind == "once":
        next_fire(schedule, zone_name, datetime.now(UTC), datetime.min.replace(tzinfo=UTC))
    elif kind == "interval":
        interval(schedule)


def local_time(schedule: dict[str, Any]) -> datetime:
    """A once-schedule's wall-clock date-time (naive, in the task's zone)."""
    try:
        return datetime.fromisoformat(str(schedule["at"])).replace(tzinfo=None)
    except (KeyError, ValueError) as error:
        raise InvalidError(
            "a one-off task needs a date and time", code="task.bad_time", at=str(schedule.get("at"))
        ) from error


def interval(schedule: dict[str, Any]) -> timedelta:
    minutes = int(schedule.get("every", 0)) * UNIT_MINUTES.get(str(schedule.get("unit")), 0)
    if minutes < MIN_INTERVAL_MINUTES:
        raise InvalidError("the interval must be at least one minute", code="task.bad_interval")
    return timedelta(minutes=minutes)


def to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time of `tz` on the UTC line. fold=0: a repeated time is its first
    occurrence, and a skipped one takes the offset from before the gap (so it lands after it)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def next_fire(
    schedule: dict[str, Any], zone_name: str, anchor: datetime, after: datetime
) -> datetime | None:
    """The first fire time strictly after `after`, or None when the schedule is done."""
    tz = zone(zone_name)
    kind = schedule.get("kind")
    if kind == "once":
        try:
            at = to_utc(local_time(schedule), tz)
        except OverflowError as error:  # year 1 or 9999 at an offset: not a UTC instant
            raise InvalidError("that date cannot be scheduled", code="task.bad_time",
                               at=str(schedule.get("at"))) from error  # fmt: skip
        return at if at > after else None
    if kind == "interval":
        # Fixed spacing on the UTC line from the anchor: DST does not move an interval.
        step = interval(schedule)
        if after < anchor:
            return anchor + step
        return anchor + step * (math.floor((after - anchor) / step) + 1)
    if kind == "cron":
        from croniter import CroniterBadDateError, croniter

        wall = after.astimezone(tz).replace(tzinfo=None, fold=0)
        matches = croniter(str(schedule["expression"]), wall)
        for _ in range(MAX_CANDIDATES):
            try:
                candidate = to_utc(matches.get_next(datetime), tz)
            except CroniterBadDateError:  # no date matches at all (30 February)
                return None
            # A match that maps to or before `after` (the repeated hour's second pass, or two
            # wall times folded onto one instant by a gap) has fired already: never twice.
            if candidate > after:
                return candidate
        return None
    raise InvalidError(f"unknown schedule kind {kind!r}", code="task.bad_schedule")


def upcoming(
    schedule: dict[str, Any], zone_name: str, anchor: datetime, after: datetime, count: int
) -> list[datetime]:
    times: list[datetime] = []
    when: datetime | None = after
    while when is not None and len(times) < count:
        when = next_fire(schedule, zone_name, anchor, when)
        if when is not None:
            times.append(when)
    return times


@dataclass(frozen=True)
class Due:
    """What a task whose fire time has come does now."""

    run_for: datetime | None  # the occurrence to run now, if one is within the grace window
    missed_from: datetime | None  # the first occurrence that will not run (one record for all)
    next_at: datetime | None  # the next fire time after now


def due(schedule: dict[str, Any], zone_name: str, anchor: datetime, next_at: datetime,
        now: datetime, grace: timedelta) -> Due:  # fmt: skip
    """`next_at` <= `now`. The occurrences in (now - grace, now] run once; older ones (Sage was
    closed or the machine asleep) are missed. Either way the task moves on to after `now`."""
    in_window = (
        next_at if next_at > now - grace else next_fire(schedule, zone_name, anchor, now - grace)
    )
    run_for = in_window if in_window is not None and in_window <= now else None
    missed_from = next_at if run_for is None or next_at < run_for else None
    return Due(run_for, missed_from, next_fire(schedule, zone_name, anchor, now))
