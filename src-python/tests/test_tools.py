"""Built-in tools: safe arithmetic, and workspace paths confined to the agent's folder."""

import os

import pytest

from sage_sidecar.tools.base import ToolContext, ToolError
from sage_sidecar.tools.calculator import evaluate
from sage_sidecar.tools.registry import BUILTIN_TOOLS
from sage_sidecar.tools.workspace import confined


@pytest.mark.parametrize(
    ("expression", "expected"),
    [("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ** 10", 1024), ("-3 + 1", -2), ("7 // 2", 3),
     ("7 % 4", 3), ("sqrt(16)", 4.0), ("round(pi, 2)", 3.14), ("abs(-2.5)", 2.5)],
)  # fmt: skip
def test_calculator_evaluates_arithmetic(expression, expected):
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "open('/etc/passwd')", "x", "[1,2]", "(lambda: 1)()",
     "().__class__", "'a' * 3", "9 ** 9 ** 9", "1 / 0", "factorial(100000)", "1 if 1 else 2", ""],
)  # fmt: skip
def test_calculator_refuses_anything_else(expression):
    with pytest.raises(ToolError):
        evaluate(expression)


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../secret.txt",
        "notes/../../x",
        "..",
        "C:\\Windows\\win.ini",
        "\\\\server\\share",
        "",
    ],
)
def test_workspace_refuses_paths_that_leave_it(tmp_path, path):
    with pytest.raises(ToolError):
        confined(tmp_path, path)


def test_workspace_refuses_symlinks_that_lead_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    os.symlink(outside, workspace / "link")
    with pytest.raises(ToolError):
        confined(workspace, "link/secret.txt")


async def test_workspace_write_read_list_round_trip(tmp_path):
    ctx = ToolContext(agent_id="a1", workspace=tmp_path / "ws")
    assert await BUILTIN_TOOLS["list_files"].run({}, ctx) == "(empty workspace)"
    await BUILTIN_TOOLS["write_file"].run({"path": "notes/todo.md", "content": "buy milk"}, ctx)
    assert await BUILTIN_TOOLS["read_file"].run({"path": "notes/todo.md"}, ctx) == "buy milk"
    assert "notes/todo.md (8 bytes)" in await BUILTIN_TOOLS["list_files"].run({}, ctx)
    with pytest.raises(ToolError):
        await BUILTIN_TOOLS["read_file"].run({"path": "missing.txt"}, ctx)


def test_only_writing_tools_need_approval():
    needing = {name for name, tool in BUILTIN_TOOLS.items() if tool.needs_approval}
    assert needing == {"write_file", "run_python"}
