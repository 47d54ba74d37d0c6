"""Sidecar start-up: spawn -> READY line, the way the shell does it.

Measures the frozen onedir build (through the externalBin launcher, as shipped) and, as the
baseline in the same run, the same code from the venv (`python -m sage_sidecar`). Prints the
figures and writes JSON. Usage: sidecar_ready.py ROOT OUT_JSON [RUNS]
"""

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READY = "SAGE_SIDECAR_READY "
TARGET_S = 0.6


def time_to_ready(cmd: list[str], env: dict[str, str]) -> float:
    env = {**env, "SAGE_API_KEY": secrets.token_hex(32)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith(READY):
                return time.perf_counter() - started
        raise RuntimeError(f"{cmd[0]} exited without READY (rc={proc.wait()})")
    finally:
        proc.kill()
        proc.wait()


def measure(cmd: list[str], env: dict[str, str], runs: int) -> dict:
    time_to_ready(cmd, env)  # warm-up: page cache, and the data dir gets migrated once
    samples = [time_to_ready(cmd, env) for _ in range(runs)]
    return {
        "median_s": round(statistics.median(samples), 4),
        "min_s": round(min(samples), 4),
        "max_s": round(max(samples), 4),
        "runs": runs,
    }


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    triple = subprocess.run(["rustc", "-vV"], capture_output=True, text=True).stdout
    triple = next(line.split(": ")[1] for line in triple.splitlines() if line.startswith("host: "))
    launcher = root / f"src-tauri/binaries/sage-sidecar-{triple}"
    with tempfile.TemporaryDirectory() as data:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
        base_env["SAGE_DATA_DIR"] = data
        frozen_env = {**base_env, "SAGE_SIDECAR_HOME": str(root / "src-python/dist/sage-sidecar")}
        with tempfile.TemporaryDirectory() as cold:
            first_start = time_to_ready([str(launcher)], {**frozen_env, "SAGE_DATA_DIR": cold})
        frozen = measure([str(launcher)], frozen_env, runs)
        venv = measure([str(root / ".venv/bin/python"), "-m", "sage_sidecar"], base_env, runs)
    result = {
        "benchmark": "sidecar spawn -> READY",
        "frozen_onedir": frozen,
        "frozen_first_start_new_data_dir_s": round(first_start, 4),
        "baseline_venv_python": venv,
        "ratio_frozen_to_venv": round(frozen["median_s"] / venv["median_s"], 3),
        "target_s": TARGET_S,
        "target_met": frozen["median_s"] <= TARGET_S,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"sidecar READY, frozen onedir: median {frozen['median_s']:.3f} s over {runs} runs "
        f"(target {TARGET_S} s: {'met' if result['target_met'] else 'missed'})"
    )
    print(f"  first start on a new data dir (migrations): {first_start:.3f} s")
    print(
        f"  baseline venv python: median {venv['median_s']:.3f} s; frozen/venv = "
        f"{result['ratio_frozen_to_venv']:.2f}x"
    )


if __name__ == "__main__":
    main()
