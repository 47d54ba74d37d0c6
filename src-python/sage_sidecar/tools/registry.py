"""The built-in tools by name. An agent's `tools` list names the ones it may use."""

from sage_sidecar.tools.base import Tool
from sage_sidecar.tools.calculator import CALCULATOR
from sage_sidecar.tools.clock import CURRENT_TIME
from sage_sidecar.tools.python_runner import RUN_PYTHON
from sage_sidecar.tools.web_fetch import FETCH_URL
from sage_sidecar.tools.web_search import WEB_SEARCH
from sage_sidecar.tools.workspace import WORKSPACE_TOOLS

BUILTIN_TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (CURRENT_TIME, CALCULATOR, *WORKSPACE_TOOLS, FETCH_URL, WEB_SEARCH, RUN_PYTHON)
}


def tools_for(names: list[str]) -> list[Tool]:
    return [BUILTIN_TOOLS[name] for name in names if name in BUILTIN_TOOLS]
