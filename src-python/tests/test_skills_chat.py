"""Skills at run time, through the real chat engine and the scripted model: the system prompt
names the enabled skills and describes them (never their instructions), the model loads one with
load_skill and its next request carries the instructions, reads a resource, and a skill's script
runs only with approval and only where the agent may run code."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from skill_zips import make_zip, skill_md

from chat_client import ChatSocket, add_scripted_provider

SECRET = "say the magic word PINEAPPLE"


def call(call_id: str, tool: str, **arguments: object) -> dict:
    return {"id": call_id, "name": tool, "arguments": json.dumps(arguments)}


@pytest.fixture
def chat(client: TestClient, api_key) -> Iterator[ChatSocket]:
    with ChatSocket(client, api_key) as socket:
        yield socket


@pytest.fixture
def skilled_agent(client: TestClient, auth, scripted):
    """An agent with the imported `pdf-helper` skill (a resource and a script) enabled."""
    provider = add_scripted_provider(client, auth, scripted)
    script = "import os, pathlib\nprint(pathlib.Path(os.environ['SKILL_DIR'], 'notes.txt').read_text())\n"
    archive = make_zip({"SKILL.md": skill_md(secret=SECRET), "notes.txt": "resource text",
                        "scripts/show.py": script})  # fmt: skip
    files = {"files": ("pdf-helper.zip", archive, "application/zip")}
    skill = client.post("/api/skills/import", files=files, headers=auth).json()

    def make(**capabilities: object) -> dict:
        body = {"name": "Skilled", "provider_id": provider["id"], "tools": ["calculator"],
                "capabilities": capabilities}  # fmt: skip
        agent = client.post("/api/agents", json=body, headers=auth).json()
        put = client.put(f"/api/agents/{agent['id']}/skills", json={"skill_ids": [skill["id"]]},
                         headers=auth)  # fmt: skip
        assert put.status_code == 200
        return agent

    return make


def system_prompt(request: dict) -> str:
    return "\n".join(m["content"] for m in request["messages"] if m["role"] == "system")


def test_the_prompt_names_the_skills_only_and_load_skill_brings_the_instructions(
    chat, scripted, skilled_agent
):
    agent = skilled_agent()
    scripted.load([{"tool_calls": [call("l1", "load_skill", name="pdf-helper")]},
                   {"tool_calls": [call("r1", "read_skill_file", name="pdf-helper",
                                        path="notes.txt")]},
                   {"text": "PINEAPPLE"}])  # fmt: skip
    _, frames = chat.send("help me with this pdf", agentId=agent["id"])
    assert frames[-1]["type"] == "message.completed", frames[-1]
    first, second, third = scripted.recorded()
    prompt = system_prompt(first)
    assert "- pdf-helper: Helps with PDFs." in prompt
    assert SECRET not in json.dumps(first)  # names and descriptions only, not instructions
    assert {"load_skill", "read_skill_file", "run_skill_script"} <= {
        t["function"]["name"] for t in first["tools"]}  # fmt: skip
    loaded = next(m for m in second["messages"] if m["role"] == "tool")
    assert SECRET in loaded["content"] and "notes.txt" in loaded["content"]
    assert "name: pdf-helper" not in loaded["content"]  # the front matter stays out
    resource = [m for m in third["messages"] if m["role"] == "tool"][-1]
    assert resource["content"] == "resource text"


def test_an_agent_without_skills_gets_neither_the_prompt_nor_the_tools(
    client, auth, chat, scripted
):
    provider = add_scripted_provider(client, auth, scripted)
    agent = client.post("/api/agents", json={"name": "Plain", "provider_id": provider["id"],
                                             "system_prompt": "Be brief."}, headers=auth).json()  # fmt: skip
    scripted.load([{"text": "hi"}])
    chat.send("hello", agentId=agent["id"])
    (request,) = scripted.recorded()
    assert system_prompt(request) == "Be brief."
    assert "load_skill" not in json.dumps(request.get("tools") or [])


def test_skill_files_outside_the_skill_and_skills_not_enabled_are_refused(
    chat, scripted, skilled_agent
):
    agent = skilled_agent()
    scripted.load([{"tool_calls": [call("r1", "read_skill_file", name="pdf-helper",
                                        path="../../../agent_platform.db"),
                                   call("l1", "load_skill", name="code-review")]},
                   {"text": "ok"}])  # fmt: skip
    _, frames = chat.send("read it", agentId=agent["id"])
    results = {f["callId"]: f for f in frames if f["type"] == "tool.result"}
    assert results["r1"]["isError"] and "'..' is not allowed" in results["r1"]["content"]
    assert results["l1"]["isError"] and "no skill named 'code-review'" in results["l1"]["content"]


def test_a_skill_script_runs_after_approval_with_its_files_at_hand(chat, scripted, skilled_agent):
    agent = skilled_agent()
    scripted.load([{"tool_calls": [call("s1", "run_skill_script", name="pdf-helper",
                                        path="scripts/show.py")]}, {"text": "done"}])  # fmt: skip
    accepted = chat.request({"type": "chat.send", "content": "run it", "agentId": agent["id"]})
    pending = chat.until(lambda f: f["type"] == "tool.approval_required")[-1]
    assert pending["name"] == "run_skill_script"
    chat.ws.send_json({"type": "tool.approval", "callId": "s1", "decision": "approve"})
    frames = chat.finish(accepted["messageId"])
    result = next(f for f in frames if f["type"] == "tool.result")
    assert not result["isError"], result
    assert result["content"].startswith("exit code 0") and "resource text" in result["content"]


def test_a_skill_script_is_refused_where_the_agent_may_not_run_code(chat, scripted, skilled_agent):
    agent = skilled_agent(run_code=False)
    scripted.load([{"tool_calls": [call("s1", "run_skill_script", name="pdf-helper",
                                        path="scripts/show.py")]}, {"text": "done"}])  # fmt: skip
    _, frames = chat.send("run it", agentId=agent["id"])
    assert not any(f["type"] == "tool.approval_required" for f in frames)
    result = next(f for f in frames if f["type"] == "tool.result")
    assert result["isError"] and "capability.code_disabled" in result["content"]
