"""What code run by an agent writes counts against the workspace's size limit (tools/run_quota.py):
a file cannot grow past the room left (RLIMIT_FSIZE), files that add up past the limit are an error
for the model and a notice for the user, a full workspace refuses the run, and appending to a big
file within the room is not refused. Real contained processes; the last test goes through a chat
with the scripted provider."""

import sys
from pathlib import Path

import pytest
from test_workspace_api import reply_approving_everything

from sage_sidecar.tools import python_runner
from sage_sidecar.tools.base import ToolContext, ToolNotice, WorkspaceHooks
from sage_sidecar.tools.python_runner import RUN_PYTHON

from chat_client import ChatSocket, add_scripted_provider

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux rlimits")

QUOTA = 100_000


def context(workspace: Path, quota: int | None = QUOTA) -> ToolContext:
    return ToolContext(agent_id="a1", workspace=workspace, hooks=WorkspaceHooks(quota_bytes=quota))


def size_of(workspace: Path) -> int:
    return sum(p.stat().st_size for p in workspace.rglob("*") if p.is_file())


async def test_one_file_cannot_grow_past_the_room_left(tmp_path):
    code = (
        "try:\n    open('big.bin', 'wb').write(b'z' * 500_000)\n"
        "except OSError as e:\n    print('file refused', e.errno)\n"
    )
    result = await RUN_PYTHON.run({"code": code}, context(tmp_path))
    assert "file refused 27" in result  # EFBIG: Python ignores SIGXFSZ
    assert size_of(tmp_path) == QUOTA  # written up to the room left, and no further
    # Without a limit, only the runner's own per-file cap applies.
    result = await RUN_PYTHON.run({"code": code}, context(tmp_path / "free", quota=None))
    assert result == "exit code 0\n" and (tmp_path / "free" / "big.bin").stat().st_size == 500_000


async def test_files_that_add_up_past_the_limit_are_reported_and_kept(tmp_path):
    code = (
        "for i in range(4):\n    open(f'part{i}.bin', 'wb').write(b'p' * 40_000)\nprint('wrote 4')"
    )
    with pytest.raises(ToolNotice) as caught:
        await RUN_PYTHON.run({"code": code}, context(tmp_path))
    error = caught.value
    assert error.code == "workspace_over_quota"
    assert error.params == {"used": "156.2 KB", "limit": "97.7 KB"}
    assert "past its 97.7 KB limit" in str(error) and error.output == "exit code 0\nwrote 4\n"
    assert size_of(tmp_path) == 160_000  # kept: the user decides what goes


async def test_a_full_workspace_refuses_the_run(tmp_path):
    (tmp_path / "full.bin").write_bytes(b"f" * QUOTA)
    with pytest.raises(ToolNotice) as caught:
        await RUN_PYTHON.run({"code": "open('ran.txt', 'w').write('x')"}, context(tmp_path))
    assert caught.value.code == "workspace_full"
    assert caught.value.params == {"used": "97.7 KB", "limit": "97.7 KB"}
    assert not (tmp_path / "ran.txt").exists()


async def test_appending_to_a_big_file_within_the_room_is_not_refused(tmp_path):
    (tmp_path / "log.txt").write_bytes(b"l" * 80_000)  # RLIMIT_FSIZE of the room alone: 20,000
    code = "open('log.txt', 'ab').write(b'm' * 15_000)\nprint('appended')"
    assert await RUN_PYTHON.run({"code": code}, context(tmp_path)) == "exit code 0\nappended\n"
    assert (tmp_path / "log.txt").stat().st_size == 95_000


async def test_a_skill_script_counts_too(tmp_path, monkeypatch):
    """run_skill_script goes through the same run_code: the quota is passed on."""
    seen: list[int | None] = []

    async def fake_run(code: str, workspace: Path, support=None, quota=None) -> str:
        seen.append(quota)
        return "exit code 0\n"

    monkeypatch.setattr(python_runner, "run_code", fake_run)
    from sage_sidecar.tools import skills

    script = skills.FileText(text="print(1)", size=8, binary=False, truncated=False)
    skill = skills.EnabledSkill(name="s", folder=tmp_path, instructions=lambda: "",
                                files=list, read=lambda _path, _limit: script)  # fmt: skip
    tool = next(t for t in skills.skill_tools([skill]) if t.name == "run_skill_script")
    await tool.run({"name": "s", "path": "go.py"}, context(tmp_path / "ws"))
    assert seen == [QUOTA]


@pytest.mark.settings(workspace_quota_mb=0.01)  # 10,485 bytes
def test_the_user_hears_of_it_in_the_reply(client, auth, api_key, scripted, settings):
    provider = add_scripted_provider(client, auth, scripted)
    agent = client.post("/api/agents", json={"name": "Coder", "provider_id": provider["id"],
                        "tools": ["run_python"]}, headers=auth).json()  # fmt: skip
    code = "for i in range(3):\\n    open(f'part{i}.bin', 'wb').write(b'p' * 5000)\\nprint('done')"
    scripted.load([{"tool_calls": [{"id": "r1", "name": "run_python",
                                    "arguments": '{"code": "' + code + '"}'}]},
                   {"text": "I wrote the parts."}])  # fmt: skip
    with ChatSocket(client, api_key) as chat:
        frames = reply_approving_everything(chat, agent, "write three parts")
    result = next(f for f in frames if f["type"] == "tool.result" and f["callId"] == "r1")
    assert result["isError"] and "past its 10.2 KB limit" in result["content"]
    assert result["content"].endswith("exit code 0\ndone\n")  # the model still sees the output
    notice = next(f for f in frames if f["type"] == "notice")
    assert (notice["code"], notice["params"]) == (
        "workspace_over_quota", {"used": "14.6 KB", "limit": "10.2 KB"})  # fmt: skip
    message_id = frames[-1]["messageId"]
    root = settings.storage_dir / "workspaces" / agent["id"]
    assert size_of(root) == 15_000
    conversation = next(f for f in frames if "conversationId" in f)["conversationId"]
    messages = client.get(f"/api/conversations/{conversation}/messages", headers=auth).json()
    reply = next(m for m in messages if m["id"] == message_id)
    assert any(
        p["type"] == "notice" and p["code"] == "workspace_over_quota" for p in reply["parts"]
    )
