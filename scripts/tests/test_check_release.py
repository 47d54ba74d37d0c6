"""scripts/check_release.py: each check passes on the repository and fails on the mistake it
exists for (a retired runner, a launcher name the build does not produce, a config the Tauri
schema refuses, an Intel leg on an Apple Silicon runner)."""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1]
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))
_spec = importlib.util.spec_from_file_location("check_release", SCRIPTS / "check_release.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)

LABELS = (SCRIPTS / "runner-labels.txt").read_text()


def test_the_repository_passes_every_check():
    workflows = {p.name: p.read_text() for p in (ROOT / ".github" / "workflows").glob("*.yml")}
    assert check.check_labels(workflows, LABELS) == []
    assert check.check_bundle_paths() == []
    assert check.check_matrix((ROOT / ".github" / "workflows" / "release.yml").read_text()) == []


def test_retired_and_unpinned_runner_labels_fail_by_name():
    workflow = (
        "jobs:\n  a:\n    runs-on: macos-14\n  b:\n    runs-on: windows-latest\n"
        "  c:\n    runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n        include:\n"
        "          - os: macos-13\n          - os: macos-15-intel\n"
    )
    problems = check.check_labels({"release.yml": workflow}, LABELS)
    assert len(problems) == 3
    assert "release.yml:3: runner 'macos-14' is retired 2026-11-02" in problems[0]
    assert "'windows-latest' is not a current" in problems[1]
    assert "release.yml:11: runner 'macos-13' is retired 2025-12-04" in problems[2]


def copy_tree(tmp_path: Path) -> Path:
    for relative in (
        "src-tauri/tauri.conf.json",
        "src-tauri/src/sidecar/launch.rs",
        "src-tauri/windows/installer-hooks.nsh",
        "src-tauri/windows/stop-sidecar.wxs",
        "src-python/sage_sidecar.spec",
        "scripts/build-sidecar.sh",
        "scripts/build.ps1",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    return tmp_path


def test_a_launcher_the_windows_build_does_not_produce_is_found(tmp_path):
    root = copy_tree(tmp_path)
    assert check.check_bundle_paths(root) == []
    ps1 = root / "scripts" / "build.ps1"
    ps1.write_text(ps1.read_text().replace("sage-sidecar-$triple.exe", "sidecar-$triple.exe"))
    problems = check.check_bundle_paths(root)
    assert problems == [
        "scripts/build.ps1 does not build src-tauri/binaries/sage-sidecar-x86_64-pc-windows-msvc.exe "
        "(the windows-x86_64 leg's externalBin)"
    ]


def test_a_missing_installer_hook_or_msi_fragment_is_found(tmp_path):
    root = copy_tree(tmp_path)
    (root / "src-tauri" / "windows" / "stop-sidecar.wxs").unlink()
    assert check.check_bundle_paths(root) == [
        "bundle.windows.wix.fragmentPaths names windows/stop-sidecar.wxs, which does not exist"
    ]


def test_a_resource_folder_the_shell_does_not_look_for_is_found(tmp_path):
    root = copy_tree(tmp_path)
    conf = root / "src-tauri" / "tauri.conf.json"
    conf.write_text(conf.read_text().replace('"sidecar/"', '"python/"'))
    assert any("launch.rs looks for" in problem for problem in check.check_bundle_paths(root))


@pytest.mark.skipif(
    not (ROOT / "web/node_modules/@tauri-apps/cli/config.schema.json").exists(),
    reason="no Tauri CLI schema",
)
def test_the_schema_check_refuses_an_overlay_tauri_would_refuse(monkeypatch):
    pytest.importorskip("jsonschema")
    assert check.check_schema() == []
    import release_config

    monkeypatch.setitem(release_config.WEBVIEW_INSTALL_MODE, "msi", {"type": "offline"})
    problems = check.check_schema()
    assert problems and all("windows msi overlay" in problem for problem in problems)


def test_an_intel_leg_on_an_apple_silicon_runner_fails():
    release = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    broken = release.replace("os: macos-15-intel", "os: macos-15")
    assert check.check_matrix(broken) == [
        "release.yml: darwin-x86_64 runs on macos-15, not a native x86_64 runner"
    ]
