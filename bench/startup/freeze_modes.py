"""onedir vs onefile for the frozen sidecar: start-up, size, and what a SIGKILL leaves behind.

Builds the onefile variant into a temporary folder (same spec, SAGE_FREEZE_ONEFILE=1) and compares
it with the onedir build scripts/build-sidecar.sh made. Usage: freeze_modes.py ROOT OUT_JSON [RUNS]
"""

import glob
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sidecar_ready import READY, time_to_ready


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def serves(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1)
    except urllib.error.HTTPError:
        return True  # 401: something still answers on that port
    except OSError:
        return False
    return True


def kill_parent_and_look(cmd: list[str], env: dict[str, str]) -> dict:
    """SIGKILL the process we spawned (as if the shell killed it) and see what remains."""
    before = set(glob.glob("/tmp/_MEI*"))
    env = {**env, "SAGE_API_KEY": secrets.token_hex(32)}
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    port = next(
        json.loads(line[len(READY) :])["port"] for line in proc.stdout if line.startswith(READY)
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)
    still_serving = serves(port)
    leftovers = sorted(set(glob.glob("/tmp/_MEI*")) - before)
    # Clean up after the experiment: whatever still listens is an orphan we made.
    subprocess.run(["pkill", "-f", "sage-sidecar-onefile"], check=False)
    return {"still_serving_after_parent_sigkill": still_serving, "tmp_dirs_left": len(leftovers)}


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    python = root / ".venv/bin/python"
    onedir = root / "src-python/dist/sage-sidecar"
    with tempfile.TemporaryDirectory() as dist, tempfile.TemporaryDirectory() as data:
        subprocess.run(
            [
                str(python),
                "-m",
                "PyInstaller",
                "--noconfirm",
                "--log-level",
                "WARN",
                "--distpath",
                dist,
                "--workpath",
                str(Path.home() / ".cache/sage-desktop/pyinstaller-onefile"),
                "sage_sidecar.spec",
            ],
            cwd=root / "src-python",
            env={**os.environ, "SAGE_FREEZE_ONEFILE": "1"},
            check=True,
        )
        onefile = Path(dist) / "sage-sidecar-onefile"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
        env["SAGE_DATA_DIR"] = data
        result = {"benchmark": "freeze modes", "runs": runs}
        for name, cmd, size_path in (
            ("onedir", [str(onedir / "sage-sidecar")], onedir),
            ("onefile", [str(onefile)], onefile),
        ):
            time_to_ready(cmd, env)  # warm-up
            samples = [time_to_ready(cmd, env) for _ in range(runs)]
            result[name] = {
                "ready_median_s": round(statistics.median(samples), 4),
                "size_mb": round(du(size_path) / 1e6, 1),
                **kill_parent_and_look(cmd, env),
            }
    result["ratio_onefile_to_onedir_ready"] = round(
        result["onefile"]["ready_median_s"] / result["onedir"]["ready_median_s"], 2
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for name in ("onedir", "onefile"):
        r = result[name]
        print(
            f"{name:8} READY median {r['ready_median_s']:.3f} s, {r['size_mb']} MB, after parent "
            f"SIGKILL: serving={r['still_serving_after_parent_sigkill']} /tmp dirs left={r['tmp_dirs_left']}"
        )
    print(f"onefile/onedir start-up = {result['ratio_onefile_to_onedir_ready']}x")


if __name__ == "__main__":
    main()
