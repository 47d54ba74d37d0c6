"""Scheduled tasks: schedule math in the user's time zone (policies.py), the clock the scheduler
waits on (clock.py), the tables' reads and writes (store.py), one run as a real chat turn
(runner.py) and the asyncio task that fires them (scheduler.py). Rules: docs/tasks.md."""
