"""Checks on the frozen build itself (made by scripts/build-sidecar.sh before the tests run)."""

import subprocess
from pathlib import Path

import pytest

FROZEN = Path(__file__).resolve().parents[1] / "dist" / "sage-sidecar" / "sage-sidecar"
pytestmark = pytest.mark.skipif(
    not FROZEN.exists(), reason="no frozen build: run scripts/build-sidecar.sh"
)


def test_frozen_sidecar_runs_python_scripts_with_common_stdlib(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(
        "import csv, statistics, decimal, json, sqlite3, io\n"
        "print(statistics.mean([1, 2, 3]), decimal.Decimal('0.1') + decimal.Decimal('0.2'))\n"
    )
    result = subprocess.run(
        [str(FROZEN), "--run-python", str(script)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2 0.3"
