"""The release workflow's artifact handling: names that cannot collide, a valid latest.json."""

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "release_artifacts", Path(__file__).resolve().parents[1] / "release_artifacts.py"
)
release = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release)


def bundle(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "bundle"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_macos_archives_from_both_architectures_do_not_collide(tmp_path):
    out = tmp_path / "release"
    for platform in ("darwin-aarch64", "darwin-x86_64"):
        root = bundle(
            tmp_path / platform,
            {
                "macos/Sage.app.tar.gz": f"archive {platform}",
                "macos/Sage.app.tar.gz.sig": f"sig-{platform}\n",
                f"dmg/Sage_1.2.3_{platform}.dmg": "dmg",
            },
        )
        release.collect(platform, root, out)
    names = sorted(p.name for p in out.iterdir())
    assert "Sage_darwin-aarch64.app.tar.gz" in names
    assert "Sage_darwin-x86_64.app.tar.gz" in names
    assert (out / "Sage_darwin-x86_64.app.tar.gz").read_text() == "archive darwin-x86_64"
    manifest = json.loads((out / "darwin-aarch64.updater.json").read_text())
    assert manifest == {
        "darwin-aarch64": {
            "file": "Sage_darwin-aarch64.app.tar.gz",
            "signature": "sig-darwin-aarch64",
        }
    }


def test_latest_json_points_every_platform_at_its_release_asset(tmp_path):
    out = tmp_path / "release"
    release.collect(
        "windows-x86_64",
        bundle(
            tmp_path / "win",
            {
                "msi/Sage_1.2.3_x64_en-US.msi": "msi",
                "msi/Sage_1.2.3_x64_en-US.msi.sig": "sig-msi",
                "nsis/Sage_1.2.3_x64-setup.exe": "exe",
                "nsis/Sage_1.2.3_x64-setup.exe.sig": "sig-exe",
            },
        ),
        out,
    )
    release.collect(
        "linux-x86_64",
        bundle(
            tmp_path / "linux",
            {
                "deb/Sage_1.2.3_amd64.deb": "deb",
                "deb/Sage_1.2.3_amd64.deb.sig": "sig-deb",
                "appimage/Sage_1.2.3_amd64.AppImage": "img",
                "appimage/Sage_1.2.3_amd64.AppImage.sig": "sig-appimage",
            },
        ),
        out,
    )
    when = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    manifest = release.latest_json(out, "1.2.3", "sage/desktop", "v1.2.3", now=when)
    base = "https://github.com/sage/desktop/releases/download/v1.2.3/"
    assert manifest["version"] == "1.2.3"
    assert manifest["pub_date"] == "2026-11-25T12:00:00Z"
    assert manifest["platforms"] == {
        "windows-x86_64": {
            "signature": "sig-exe",
            "url": base + "Sage_1.2.3_x64-setup.exe",
        },
        "windows-x86_64-msi": {
            "signature": "sig-msi",
            "url": base + "Sage_1.2.3_x64_en-US.msi",
        },
        "linux-x86_64": {
            "signature": "sig-appimage",
            "url": base + "Sage_1.2.3_amd64.AppImage",
        },
        "linux-x86_64-appimage": {
            "signature": "sig-appimage",
            "url": base + "Sage_1.2.3_amd64.AppImage",
        },
        "linux-x86_64-deb": {
            "signature": "sig-deb",
            "url": base + "Sage_1.2.3_amd64.deb",
        },
    }
    assert (out / "Sage_1.2.3_amd64.deb.sig").exists()


def test_unsigned_builds_give_a_clear_error_not_an_empty_manifest(tmp_path):
    out = tmp_path / "release"
    release.collect("linux-x86_64", bundle(tmp_path, {"deb/Sage_1.2.3_amd64.deb": "deb"}), out)
    with pytest.raises(SystemExit, match="TAURI_SIGNING_PRIVATE_KEY"):
        release.latest_json(out, "1.2.3", "sage/desktop", "v1.2.3")


def test_unknown_platform_and_empty_bundle_dir_are_refused(tmp_path):
    with pytest.raises(SystemExit, match="unknown platform"):
        release.collect("beos-x86", tmp_path, tmp_path / "out")
    with pytest.raises(SystemExit, match="no installers"):
        release.collect("linux-x86_64", tmp_path, tmp_path / "out")
