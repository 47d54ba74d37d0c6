"""What an agent may do, enforced by the tool layer (tools/policy.py), whatever the UI shows.
Which tools and MCP servers it has at all is the agent's `tools` list."""

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

_DOMAIN = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$")


def _domains(values: list[str]) -> list[str]:
    cleaned = [v.strip().lower().rstrip(".") for v in values]
    for value in cleaned:
        if not _DOMAIN.match(value):
            raise ValueError(f"not a domain: {value!r} (e.g. example.com or *.example.com)")
    return list(dict.fromkeys(cleaned))


class Capabilities(BaseModel):
    # Workspace paths write_file may write, as globs relative to the workspace (`notes/**`,
    # `*.md`; `*` stays within a folder, `**` crosses folders). None: anywhere in the workspace.
    write_paths: list[str] | None = Field(default=None, max_length=100)
    # fetch_url: hosts reached without asking, hosts refused (exact, or `*.example.com` for it and
    # its subdomains), and what happens to any other host.
    fetch_allow: list[str] = Field(default=[], max_length=200)
    fetch_deny: list[str] = Field(default=[], max_length=200)
    fetch_default: Literal["ask", "allow", "deny"] = "ask"
    run_code: bool = True  # run_python may run at all

    _check_allow = field_validator("fetch_allow")(classmethod(lambda cls, v: _domains(v)))
    _check_deny = field_validator("fetch_deny")(classmethod(lambda cls, v: _domains(v)))

    @field_validator("write_paths")
    @classmethod
    def _check_globs(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for glob in value:
            if not glob or len(glob) > 500 or glob.startswith("/") or ".." in glob.split("/"):
                raise ValueError(f"not a workspace path pattern: {glob!r}")
        return list(dict.fromkeys(value))
