"""What the sidecar's child processes inherit. The API key leaves the environment once read, so
no child has it — not what we start (each passes its own environment) and not what libraries
start on their own (croniter runs `file` when imported; keyring's backend scan ran ldconfig, gcc
and ld nine times at every start). And the start itself spawns nothing."""

import json
import subprocess
import sys
from pathlib import Path

from sidecar_process import SRC_PYTHON, api_call, read_ready, sidecar_command, sidecar_env

# Installed in the sidecar through sitecustomize: one line per process it asks Python to start,
# with whether that child's environment holds the key.
HOOK = """
import json, os, sys

def _record(event, args):
    if event == "subprocess.Popen":
        executable, argv, cwd, env = args
        environment = os.environ if env is None else env
        with open({log!r}, "a") as out:
            out.write(json.dumps({{"argv": [str(a) for a in argv],
                                   "key": {key!r} in "".join(map(str, environment.values()))}}) + "\\n")

sys.addaudithook(_record)
"""


def spawns(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_no_child_inherits_the_api_key_and_the_start_spawns_nothing(tmp_path):
    env = sidecar_env(tmp_path / "data", SAGE_TEST_KEYCHAIN_FILE="")  # the real keychain path
    env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={tmp_path / 'no-bus'}"  # …with no keychain
    key = env["SAGE_API_KEY"]
    log = tmp_path / "spawns.jsonl"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(HOOK.format(log=str(log), key=key))
    env["PYTHONPATH"] = f"{hooks}:{SRC_PYTHON}"
    proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        port = read_ready(proc, timeout=60).port
        privacy = api_call(port, key, "GET", "/api/privacy/secrets", timeout=20)
        assert privacy["keychain"]["available"] is False  # looked for, at start and now
        assert spawns(log) == []
        preview = api_call(port, key, "POST", "/api/tasks/preview", {
            "schedule": {"kind": "cron", "expression": "0 8 * * 1-5"}, "timezone": "UTC"})  # fmt: skip
        assert len(preview["times"]) == 5
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    started = spawns(log)
    assert [s["argv"][0] for s in started] == ["file"], started  # croniter's, on first use
    assert not [s for s in started if s["key"]], started
    assert sys.executable  # the hook ran in the sidecar, not here: nothing to undo
