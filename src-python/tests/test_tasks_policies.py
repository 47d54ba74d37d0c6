"""When scheduled tasks fire: cron read in the task's zone, intervals, one-offs, the DST rules
(no double or skipped run, Europe/Berlin and America/New_York, both ways) and the missed/grace
decision. Pure functions of the schedule and given instants: no clock, no sleeping."""

from datetime import UTC, datetime, timedelta

import pytest

from sage_sidecar.core.errors import InvalidError
from sage_sidecar.services.tasks import policies

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def fires(schedule, zone, start, end):
    """Every fire time in [start, end), walked one after the other as the scheduler does."""
    out, when = [], start - timedelta(microseconds=1)
    while True:
        when = policies.next_fire(schedule, zone, ANCHOR, when)
        if when is None or when >= end:
            return out
        out.append(when)


def local(times, zone):
    tz = policies.zone(zone)
    return [t.astimezone(tz).strftime("%m-%d %H:%M %Z") for t in times]


def cron(expression):
    return {"kind": "cron", "expression": expression}


def test_cron_is_read_in_the_tasks_zone():
    weekdays_8 = cron("0 8 * * 1-5")
    # Friday 2026-01-09 09:00 UTC: next is Monday 08:00 in New York (EST, UTC-5) = 13:00 UTC.
    assert policies.next_fire(weekdays_8, "America/New_York", ANCHOR, at(2026, 1, 9, 14)) == at(
        2026, 1, 12, 13
    )
    # The same expression in Shanghai (UTC+8) is 00:00 UTC; and in summer New York is UTC-4.
    assert policies.next_fire(weekdays_8, "Asia/Shanghai", ANCHOR, at(2026, 1, 9, 0)) == at(
        2026, 1, 12, 0
    )
    assert policies.next_fire(weekdays_8, "America/New_York", ANCHOR, at(2026, 7, 1)) == at(
        2026, 7, 1, 12
    )


def test_interval_keeps_fixed_spacing_from_its_anchor_across_dst():
    every_90 = {"kind": "interval", "every": 90, "unit": "minutes"}
    assert policies.next_fire(every_90, "UTC", ANCHOR, ANCHOR) == at(2026, 1, 1, 1, 30)
    assert policies.next_fire(every_90, "UTC", ANCHOR, at(2026, 1, 1, 1, 30)) == at(2026, 1, 1, 3)
    assert policies.next_fire(every_90, "UTC", ANCHOR, at(2026, 1, 1, 2, 59)) == at(2026, 1, 1, 3)
    hourly = {"kind": "interval", "every": 1, "unit": "hours"}
    night = fires(hourly, "Europe/Berlin", at(2026, 10, 24, 22), at(2026, 10, 25, 4))
    assert [b - a for a, b in zip(night, night[1:], strict=False)] == [timedelta(hours=1)] * 5


def test_once_fires_at_its_local_time_then_never():
    once = {"kind": "once", "at": "2026-12-01T08:00"}
    when = policies.next_fire(once, "Europe/Berlin", ANCHOR, at(2026, 11, 30))
    assert when == at(2026, 12, 1, 7)  # 08:00 CET
    assert policies.next_fire(once, "Europe/Berlin", ANCHOR, when) is None


@pytest.mark.parametrize(
    ("zone", "expression", "day", "expected"),
    [
        # Spring forward: 02:30 does not exist that night; it fires once, an hour later in
        # wall-clock terms (the offset from before the gap), and the days around are untouched.
        ("Europe/Berlin", "30 2 * * *", (2026, 3, 29), ["03-28 02:30 CET", "03-29 03:30 CEST",
                                                        "03-30 02:30 CEST"]),
        ("America/New_York", "30 2 * * *", (2026, 3, 8), ["03-07 02:30 EST", "03-08 03:30 EDT",
                                                          "03-09 02:30 EDT"]),
        # Fall back: 02:30 (Berlin) and 01:30 (New York) happen twice; each fires once, first.
        ("Europe/Berlin", "30 2 * * *", (2026, 10, 25), ["10-24 02:30 CEST", "10-25 02:30 CEST",
                                                         "10-26 02:30 CET"]),
        ("America/New_York", "30 1 * * *", (2026, 11, 1), ["10-31 01:30 EDT", "11-01 01:30 EDT",
                                                           "11-02 01:30 EST"]),
    ],
)  # fmt: skip
def test_dst_neither_doubles_nor_skips_a_daily_run(zone, expression, day, expected):
    start = datetime(*day, tzinfo=UTC) - timedelta(days=1, hours=12)
    times = fires(cron(expression), zone, start, start + timedelta(days=3))
    assert local(times, zone) == expected


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("day", [(2026, 3, 29), (2026, 10, 25), (2026, 3, 8), (2026, 11, 1)])
def test_an_hourly_cron_never_fires_twice_at_one_instant_around_a_change(zone, day):
    start = datetime(*day, tzinfo=UTC) - timedelta(hours=6)
    times = fires(cron("0 * * * *"), zone, start, start + timedelta(hours=18))
    assert times == sorted(set(times))  # strictly increasing: nothing doubled
    assert all(b - a <= timedelta(hours=2) for a, b in zip(times, times[1:], strict=False))


def test_bad_schedules_and_zones_are_coded():
    with pytest.raises(InvalidError) as bad:
        policies.validate(cron("61 * * * *"), "UTC")
    assert bad.value.code == "task.bad_cron" and bad.value.params == {"expression": "61 * * * *"}
    with pytest.raises(InvalidError) as seconds:
        policies.validate(cron("0 0 * * * *"), "UTC")  # six fields: not offered
    assert seconds.value.code == "task.bad_cron"
    with pytest.raises(InvalidError) as zone:
        policies.validate(cron("0 8 * * *"), "Mars/Olympus_Mons")
    assert zone.value.code == "task.bad_zone"
    with pytest.raises(InvalidError) as when:
        policies.validate({"kind": "once", "at": "soon"}, "UTC")
    assert when.value.code == "task.bad_time"
    assert policies.next_fire(cron("0 0 30 2 *"), "UTC", ANCHOR, ANCHOR) is None  # 30 February
    with pytest.raises(InvalidError) as edge:  # past year 9999 in UTC: a 422, never a 500
        policies.validate({"kind": "once", "at": "9999-12-31T23:59"}, "America/Adak")
    assert edge.value.code == "task.bad_time"


GRACE = timedelta(hours=1)
HOURLY = {"kind": "interval", "every": 1, "unit": "hours"}


def test_due_on_time_runs_and_moves_on():
    due = policies.due(HOURLY, "UTC", ANCHOR, at(2026, 1, 1, 5), at(2026, 1, 1, 5), GRACE)
    assert (due.run_for, due.missed_from, due.next_at) == (
        at(2026, 1, 1, 5),
        None,
        at(2026, 1, 1, 6),
    )


def test_missed_within_the_grace_window_runs_once_and_records_the_older_ones():
    # Closed from 01:00 to 05:20: 05:00 is within the hour of grace, 01:00–04:00 are missed.
    due = policies.due(HOURLY, "UTC", ANCHOR, at(2026, 1, 1, 1), at(2026, 1, 1, 5, 20), GRACE)
    assert due.run_for == at(2026, 1, 1, 5)
    assert due.missed_from == at(2026, 1, 1, 1)
    assert due.next_at == at(2026, 1, 1, 6)


def test_missed_outside_the_grace_window_does_not_run():
    daily = cron("0 8 * * *")
    due = policies.due(daily, "UTC", ANCHOR, at(2026, 1, 1, 8), at(2026, 1, 1, 11), GRACE)
    assert (due.run_for, due.missed_from, due.next_at) == (
        None,
        at(2026, 1, 1, 8),
        at(2026, 1, 2, 8),
    )
    once = {"kind": "once", "at": "2026-01-01T08:00"}
    late = policies.due(once, "UTC", ANCHOR, at(2026, 1, 1, 8), at(2026, 1, 1, 8, 59), GRACE)
    assert (late.run_for, late.missed_from, late.next_at) == (at(2026, 1, 1, 8), None, None)
    missed = policies.due(once, "UTC", ANCHOR, at(2026, 1, 1, 8), at(2026, 1, 1, 9, 1), GRACE)
    assert (missed.run_for, missed.missed_from, missed.next_at) == (None, at(2026, 1, 1, 8), None)
