"""The SQLite side of export and restore (services/backup.py, services/restore.py): secrets kept
in settings rows taken out of an export's database copy, and what a backup's database is."""

import json
import sqlite3
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"


class UnreadableDatabase(Exception):
    """Not SQLite, damaged, or without the tables a Sage database has."""


def scrub_settings(database: Path, secrets: dict[str, tuple[str, ...]], keep_proxy: bool) -> None:
    """In `app_meta`'s JSON rows named in `secrets`, each field set to null — a `proxy_url`
    keeps its host and user but not its password when `keep_proxy`."""
    copy = sqlite3.connect(database)
    try:
        for key, fields in secrets.items():
            row = copy.execute("SELECT value FROM app_meta WHERE key = ?", (key,)).fetchone()
            if row is None:
                continue
            try:
                value = json.loads(row[0])
            except ValueError:
                value = None
            if not isinstance(value, dict):
                copy.execute("DELETE FROM app_meta WHERE key = ?", (key,))
                continue
            for field in fields:
                kept = field == "proxy_url" and keep_proxy
                value[field] = without_password(value.get(field)) if kept else None
            copy.execute("UPDATE app_meta SET value = ? WHERE key = ?", (json.dumps(value), key))
        copy.commit()
        copy.execute("VACUUM")  # the freed pages held the secrets
    finally:
        copy.close()


def without_password(url: object) -> str | None:
    """`http://ann:pw@host:1` → `http://ann@host:1`."""
    if not isinstance(url, str) or "@" not in url:
        return url if isinstance(url, str) else None
    scheme, _, rest = url.partition("://")
    userinfo, _, host = rest.rpartition("@")
    return f"{scheme}://{userinfo.split(':', 1)[0]}@{host}"


def database_facts(path: Path) -> tuple[str | None, int, int]:
    """(schema revision, conversations, agents) of a backup's database, opened read-only."""
    with path.open("rb") as file:
        if file.read(16) != SQLITE_HEADER:
            raise UnreadableDatabase("not an SQLite database")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise UnreadableDatabase("damaged (quick_check)")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            conversations = conn.execute("SELECT count(*) FROM conversations").fetchone()[0]
            agents = conn.execute("SELECT count(*) FROM agents").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise UnreadableDatabase(str(error)) from error
    return (row[0] if row else None), int(conversations), int(agents)
