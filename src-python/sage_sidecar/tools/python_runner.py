"""Run Python code the agent wrote, contained: its own process tree (killed as a whole on Stop,
timeout, shutdown and the sidecar's death, and when the script ends), rlimits, output read with a
byte cap, the agent's workspace as the working directory, an environment without Sage's secrets
and, where Linux has Landlock, no reading of the data dir and no writing outside the workspace.
Needs the user's approval. What is and is not contained per OS: docs/security.md.

In the frozen app `sys.executable` is the sidecar itself, which runs a script when started with
`--run-python FILE` (see main.py), using the interpreter and standard library it bundles.
"""

import asyncio
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from sage_sidecar.core import processes
from sage_sidecar.tools import run_quota
from sage_sidecar.tools.base import Tool, ToolContext, ToolError

TIMEOUT_S = 10.0
MAX_OUTPUT = 19_500  # characters of output the model gets (the chat keeps 20,000 of a result)
MAX_CODE = 100_000
# Bytes of output kept (enough for MAX_OUTPUT characters of UTF-8), and read in all: past that
# the script is stopped, so one printing in a loop costs neither memory nor the event loop's time.
KEEP_OUTPUT_BYTES = 4 * MAX_OUTPUT
STOP_AFTER_OUTPUT_BYTES = 16 * 1024 * 1024
LIMITS = processes.Limits(
    cpu_seconds=int(TIMEOUT_S) + 5,
    memory_bytes=2 * 1024**3,
    file_bytes=256 * 1024**2,
    processes=64,
)
# Only what a Python process needs to run; nothing named SAGE_* (the API key lives there).
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "SYSTEMROOT", "TEMP", "TMP")


def interpreter_command(script: str) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "--run-python", script]
    return [sys.executable, "-I", script]


def data_dir_of(workspace: Path) -> Path | None:
    """The app's data dir, when `workspace` is where the chat engine puts one
    (<data dir>/storage/workspaces/<agent id>)."""
    parents = workspace.resolve().parents
    if len(parents) > 2 and (parents[0].name, parents[1].name) == ("workspaces", "storage"):
        return parents[2]
    return None


def _describe_exit(code: int) -> str:
    if code > 128 and code - 128 in signal.valid_signals():
        name = signal.Signals(code - 128).name
        reason = {"SIGXCPU": "CPU time limit", "SIGKILL": "killed", "SIGXFSZ": "file size limit"}
        return f"exit code {code} ({name}{', ' + reason[name] if name in reason else ''})"
    return f"exit code {code}"


async def run_code(
    code: str, workspace: Path, support: Path | None = None, quota: int | None = None
) -> str:
    """`support`: a folder copied into the run's own folder, its path in $SKILL_DIR (a skill's
    script reads its resources there: the data dir the skill lives in stays hidden). `quota`: the
    workspace's size limit, which the run's files count against (tools/run_quota.py)."""
    cap = await asyncio.to_thread(run_quota.file_size_cap, workspace, quota)
    limits = LIMITS if cap is None else replace(LIMITS, file_bytes=min(LIMITS.file_bytes, cap))
    with tempfile.TemporaryDirectory(prefix="sage-run-", ignore_cleanup_errors=True) as run_dir:
        script = Path(run_dir) / "script.py"
        script.write_text(code, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV}
        env.update(PYTHONIOENCODING="utf-8", TMPDIR=run_dir, TEMP=run_dir, TMP=run_dir)
        if support is not None:
            copy = Path(run_dir) / "skill"
            await asyncio.to_thread(shutil.copytree, support, copy, symlinks=True)
            env["SKILL_DIR"] = str(copy)
        hidden = data_dir_of(workspace)
        sandbox = processes.Sandbox(str(hidden) if hidden else None, (str(workspace), run_dir))
        child = await processes.spawn_contained(
            interpreter_command(str(script)), cwd=str(workspace), env=env, limits=limits,
            sandbox=sandbox,
        )  # fmt: skip
        try:
            async with asyncio.timeout(TIMEOUT_S):
                output = await processes.read_capped(
                    child.stdout, KEEP_OUTPUT_BYTES, STOP_AFTER_OUTPUT_BYTES
                )
                if output.overflowed:
                    await child.stop()
                exit_code = await child.wait()
        except TimeoutError:
            raise ToolError(f"the code ran longer than {TIMEOUT_S:.0f} s and was stopped") from None
        finally:
            await child.stop()  # cancelled (Stop), timed out or failed: the whole tree goes
    result = _result(exit_code, output)
    await asyncio.to_thread(run_quota.check_after_run, workspace, quota, result)
    return result


def _result(exit_code: int, output: processes.CappedOutput) -> str:
    """The exit code and any note on the first line (the chat cuts long tool results at the end),
    then the output."""
    notes = []
    if output.overflowed:
        notes.append(f"the script printed more than {STOP_AFTER_OUTPUT_BYTES // 2**20} MB "
                     "and was stopped")  # fmt: skip
    text = output.head.decode("utf-8", errors="replace")
    if len(text) > MAX_OUTPUT or output.total > len(output.head):
        text = text[:MAX_OUTPUT]
        notes.append(f"output cut at {MAX_OUTPUT} characters")
    header = _describe_exit(exit_code) + (f" ({'; '.join(notes)})" if notes else "")
    return f"{header}\n{text}"


async def _run(args: dict[str, Any], ctx: ToolContext) -> str:
    code = args.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ToolError("'code' (string) is required")
    if len(code) > MAX_CODE:
        raise ToolError("the code is too long")
    ctx.workspace.mkdir(parents=True, exist_ok=True)
    try:
        return await run_code(code, ctx.workspace, quota=ctx.hooks.quota_bytes)
    finally:
        # A script may have written anything in the workspace: the Workspace screen reloads.
        if ctx.hooks.written is not None:
            ctx.hooks.written(ctx.agent_id, None)


RUN_PYTHON = Tool(
    name="run_python",
    description="Run a Python 3 script and return its exit code and output (stdout and stderr). "
    "The working directory is this agent's workspace; files can be written only there, within "
    "its size limit.",
    parameters={
        "type": "object",
        "properties": {"code": {"type": "string", "description": "The complete script"}},
        "required": ["code"],
    },
    run=_run,
    needs_approval=True,
)
