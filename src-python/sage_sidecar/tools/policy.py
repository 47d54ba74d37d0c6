"""The agent's capability limits, checked before any tool runs (schemas/capabilities.py).

A refused call raises `Refused`, a ToolError whose text carries a code, so the model reads why
("refused (capability.code_disabled): ...") and the audit log records it. fetch_url to a host
neither allowed nor refused returns an `Ask`: the user is asked, naming the domain.

The taint rule lives here too: once a reply has read untrusted content (a fetched page, an MCP
result, an attached file, a knowledge passage), a tool that writes files or runs code asks
again, even where the user said "always".
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sage_sidecar.schemas.capabilities import Capabilities
from sage_sidecar.schemas.protocol.chat import ApprovalReason
from sage_sidecar.tools import web_search
from sage_sidecar.tools.base import Tool, ToolError

WRITES_FILES = frozenset({"write_file"})
RUNS_CODE = frozenset({"run_python", "run_skill_script"})  # tools/skills.py runs scripts
FETCH = "fetch_url"
SEARCH = "web_search"  # its query goes to the search API's host: limited like a fetch
# Tools whose results are untrusted text from the web (the taint's source: `fetched_page`).
WEB_CONTENT = frozenset({FETCH, SEARCH})
# Tools whose results are untrusted text from outside (MCP tools are added by their scope).
READS_UNTRUSTED = WEB_CONTENT


class Refused(ToolError):
    def __init__(self, code: str, detail: str, **params: str) -> None:
        super().__init__(f"refused ({code}): {detail}")
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Ask:
    """The call needs the user's approval for this reason, with this approval scope."""

    reason: ApprovalReason
    params: dict[str, str]
    scope: str  # what an "always" given to this prompt covers


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def path_allowed(path: str, globs: list[str] | None) -> bool:
    if globs is None:
        return True
    normal = path.replace("\\", "/").lstrip("./")
    return any(_glob(g.lstrip("./")).match(normal) for g in globs)


def host_of(url: Any) -> str:
    try:
        return (urlsplit(str(url)).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def domain_listed(host: str, domains: list[str]) -> bool:
    for domain in domains:
        if domain.startswith("*."):
            if host == domain[2:] or host.endswith(domain[1:]):
                return True
        elif host == domain:
            return True
    return False


def capabilities_of(raw: dict[str, Any] | None) -> Capabilities:
    return Capabilities.model_validate(raw or {})


def check(tool: Tool, args: dict[str, Any], caps: Capabilities) -> Ask | None:
    """Raise Refused for a call the agent's limits forbid; an Ask when fetch_url (or web_search,
    for its search API's host) must ask."""
    if tool.name in RUNS_CODE and not caps.run_code:
        raise Refused("capability.code_disabled", "running code is turned off for this agent")
    if tool.name in WRITES_FILES:
        path = str(args.get("path", ""))
        if not path_allowed(path, caps.write_paths):
            allowed = ", ".join(caps.write_paths or []) or "nowhere"
            raise Refused("capability.path_not_allowed",
                          f"this agent may not write {path!r} (it may write: {allowed})",
                          path=path, allowed=allowed)  # fmt: skip
    if tool.name in (FETCH, SEARCH):
        url = args.get("url", "") if tool.name == FETCH else web_search.current().endpoint()
        host = host_of(url or "")
        if not host:
            return None  # the tool itself says what is wrong with the URL (or the setup)
        if domain_listed(host, caps.fetch_deny):
            raise Refused("capability.domain_blocked", f"this agent may not fetch from {host}",
                          domain=host)  # fmt: skip
        if domain_listed(host, caps.fetch_allow) or caps.fetch_default == "allow":
            return None
        if caps.fetch_default == "deny":
            raise Refused("capability.domain_not_allowed",
                          f"{host} is not among the domains this agent may fetch from",
                          domain=host)  # fmt: skip
        return Ask("domain", {"domain": host}, f"domain:{host}")
    return None


def taint_applies(tool: Tool) -> bool:
    """Tools the taint rule re-asks for: they write files or run code."""
    return tool.name in WRITES_FILES or tool.name in RUNS_CODE


def reads_untrusted(tool: Tool) -> bool:
    return tool.name in READS_UNTRUSTED or tool.scope != "builtin"
