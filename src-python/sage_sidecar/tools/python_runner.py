"""Run Python code in a separate process: time limit, output cap, the agent's workspace as the
working directory, and an environment without Sage's secrets. Needs the user's approval.

In the frozen app `sys.executable` is the sidecar itself, which runs a script when started with
`--run-python FILE` (see main.py), using the interpreter and standard library it bundles.
"""

import asyncio
import os
import signal
import sys
import tempfile
from typing import Any

from sage_sidecar.tools.base import Tool, ToolContext, ToolError

TIMEOUT_S = 10.0
MAX_OUTPUT = 20_000
MAX_CODE = 100_000
# Only what a Python process needs to run; nothing named SAGE_* (the API key lives there).
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "SYSTEMROOT", "TEMP", "TMP")


def interpreter_command(script: str) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "--run-python", script]
    return [sys.executable, "-I", script]


async def run_code(code: str, cwd: str) -> str:
    env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV}
    env["PYTHONIOENCODING"] = "utf-8"
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as file:
        file.write(code)
    try:
        process = await asyncio.create_subprocess_exec(
            *interpreter_command(file.name),
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=os.name != "nt",  # its own process group, killed as a whole
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
        except TimeoutError:
            if os.name != "nt":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            await process.wait()
            raise ToolError(f"the code ran longer than {TIMEOUT_S:.0f} s and was stopped") from None
    finally:
        os.unlink(file.name)
    text = output.decode("utf-8", errors="replace")
    if len(text) > MAX_OUTPUT:
        text = text[:MAX_OUTPUT] + f"\n… (output cut at {MAX_OUTPUT} characters)"
    return f"exit code {process.returncode}\n{text}"


async def _run(args: dict[str, Any], ctx: ToolContext) -> str:
    code = args.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ToolError("'code' (string) is required")
    if len(code) > MAX_CODE:
        raise ToolError("the code is too long")
    ctx.workspace.mkdir(parents=True, exist_ok=True)
    return await run_code(code, str(ctx.workspace))


RUN_PYTHON = Tool(
    name="run_python",
    description="Run a Python 3 script and return its exit code and output (stdout and stderr). "
    "The working directory is this agent's workspace.",
    parameters={
        "type": "object",
        "properties": {"code": {"type": "string", "description": "The complete script"}},
        "required": ["code"],
    },
    run=_run,
    needs_approval=True,
)
