"""Release-time configuration: the Tauri overlay, the macOS minimum read from Mach-O files, and
the updater key check (with keys made by the real Tauri CLI)."""

import importlib.util
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1]
ROOT = SCRIPTS.parent
TAURI = ROOT / "web" / "node_modules" / ".bin" / "tauri"
sys.path.insert(0, str(SCRIPTS))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


config = _load("release_config")
macho = _load("macho")
updater_key = _load("updater_key")

PUB = "dW50cnVzdGVkIGNvbW1lbnQ6IG1pbmlzaWduIHB1YmxpYyBrZXk6IDYz"


# --- the overlay -------------------------------------------------------------------------------


def test_a_build_without_release_secrets_has_no_feed_and_no_updater_artifacts():
    result = config.overlay({}, "linux", "1.2.3")
    assert "plugins" not in result
    assert result["bundle"]["createUpdaterArtifacts"] is False


def test_the_public_key_and_feed_come_from_the_environment():
    env = {
        "SAGE_UPDATER_PUBKEY": PUB,
        "TAURI_SIGNING_PRIVATE_KEY": "secret",
        "GITHUB_REPOSITORY": "o/r",
    }
    result = config.overlay(env, "linux", "1.2.3")
    assert result["plugins"]["updater"] == {
        "pubkey": PUB,
        "endpoints": ["https://github.com/o/r/releases/latest/download/latest.json"],
    }
    assert result["bundle"]["createUpdaterArtifacts"] is True
    env["SAGE_UPDATER_ENDPOINT"] = "https://a.example/latest.json, https://b.example/latest.json"
    assert len(config.overlay(env, "linux", "1.2.3")["plugins"]["updater"]["endpoints"]) == 2


@pytest.mark.parametrize(
    "env",
    [
        {"TAURI_SIGNING_PRIVATE_KEY": "secret"},  # signs updates no build could verify
        {"SAGE_UPDATER_PUBKEY": PUB},  # no feed URL and no repository to derive one from
        {"SAGE_UPDATER_PUBKEY": PUB, "SAGE_UPDATER_ENDPOINT": "http://plain.example/latest.json"},
    ],
)
def test_an_updater_that_could_never_work_is_refused(env):
    with pytest.raises(config.ConfigError):
        config.overlay(env, "linux", "1.2.3")


@pytest.mark.parametrize(
    ("version", "wix"),
    [
        ("1.2.3", None),
        ("1.2.3-beta.4", "1.2.3.4"),
        ("0.3.0-rc", "0.3.0"),
        ("2.0.0-7", "2.0.0.7"),
        ("1.0.0-beta.70000", "1.0.0"),
    ],
)
def test_pre_releases_get_a_numeric_msi_version(version, wix):
    assert config.msi_version(version) == wix
    windows = config.overlay({}, "windows", version, "nsis")["bundle"]["windows"]
    assert windows.get("wix") == ({"version": wix} if wix else None)


def test_msi_range_and_non_semver_versions_fail_early():
    for version in ("256.0.0", "1.2", "v1.2.3"):
        with pytest.raises(config.ConfigError):
            config.msi_version(version)


def test_windows_signing_and_webview_mode_per_bundle():
    env = {"SAGE_WINDOWS_CERT_THUMBPRINT": "ABC"}
    msi = config.overlay(env, "windows", "1.0.0", "msi")["bundle"]["windows"]
    nsis = config.overlay(env, "windows", "1.0.0", "nsis")["bundle"]["windows"]
    assert msi["certificateThumbprint"] == "ABC" and msi["digestAlgorithm"] == "sha256"
    assert msi["webviewInstallMode"]["type"] == "offlineInstaller"
    assert nsis["webviewInstallMode"]["type"] == "embedBootstrapper"
    with pytest.raises(config.ConfigError):
        config.overlay(env, "windows", "1.0.0", "msi,nsis")


def test_macos_signs_ad_hoc_without_an_identity_and_declares_the_sidecars_minimum():
    mac = config.overlay({}, "darwin", "1.0.0", min_macos="14.0")["bundle"]["macOS"]
    assert mac == {"signingIdentity": "-", "minimumSystemVersion": "14.0"}
    identity = "Developer ID Application: Sage (TEAM)"
    mac = config.overlay({"APPLE_SIGNING_IDENTITY": identity}, "darwin", "1.0.0")["bundle"]["macOS"]
    assert mac["signingIdentity"] == identity


def test_the_cli_writes_a_file_and_never_prints_the_private_key(tmp_path):
    out = tmp_path / "release.conf.json"
    env = {
        **os.environ,
        "SAGE_UPDATER_PUBKEY": PUB,
        "SAGE_UPDATER_ENDPOINT": "https://x.example/l.json",
    }
    env["TAURI_SIGNING_PRIVATE_KEY"] = "very-secret-private-key"
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPTS / "release_config.py"),
            "--os",
            "windows",
            "--out",
            str(out),
            "--bundle",
            "msi",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(out)
    assert "very-secret" not in run.stdout + run.stderr + out.read_text()
    assert '"pubkey"' in out.read_text()


# --- Mach-O minimum versions -------------------------------------------------------------------


def thin(minos: tuple[int, int, int] | None, *, old_style: bool = False) -> bytes:
    """A 64-bit Mach-O header with one version load command (plus an unrelated one first)."""
    commands = struct.pack("<II", 0x19, 16) + b"\0" * 8  # LC_SEGMENT_64 stand-in
    if minos:
        encoded = (minos[0] << 16) | (minos[1] << 8) | minos[2]
        if old_style:
            commands += struct.pack("<IIII", 0x24, 16, encoded, encoded)
        else:
            commands += struct.pack("<IIIIII", 0x32, 24, 1, encoded, encoded, 0)
    ncmds = 2 if minos else 1
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x0100000C, 0, 6, ncmds, len(commands), 0, 0)
    return header + commands


def fat(*slices: bytes) -> bytes:
    offset = 4096
    table, body = b"", b""
    for part in slices:
        table += struct.pack(">iiIII", 0, 0, offset + len(body), len(part), 12)
        body += part + b"\0" * (-len(part) % 16)
    head = struct.pack(">II", 0xCAFEBABE, len(slices)) + table
    return head + b"\0" * (offset - len(head)) + body


def test_min_macos_reads_build_version_old_style_and_fat_files():
    assert macho.min_macos(thin((14, 0, 0))) == (14, 0, 0)
    assert macho.min_macos(thin((10, 9, 0), old_style=True)) == (10, 9, 0)
    assert macho.min_macos(fat(thin((11, 0, 0)), thin((10, 13, 0)))) == (11, 0, 0)
    assert macho.min_macos(thin(None)) is None
    assert macho.min_macos(b"\x7fELF" + b"\0" * 60) is None
    assert macho.min_macos(b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\0" * 40) is None  # a Java class


def test_the_folder_minimum_is_its_most_demanding_library(tmp_path):
    (tmp_path / "_internal" / "numpy").mkdir(parents=True)
    (tmp_path / "sage-sidecar").write_bytes(thin((10, 13, 0)))
    (tmp_path / "_internal" / "Python").write_bytes(thin((10, 9, 0)))
    (tmp_path / "_internal" / "numpy" / "_core.so").write_bytes(thin((14, 0, 0)))
    (tmp_path / "_internal" / "data.txt").write_text("not a binary")
    version, needs = macho.folder_min_macos(tmp_path)
    assert macho.format_version(version) == "14.0"
    assert needs == tmp_path / "_internal" / "numpy" / "_core.so"
    (tmp_path / "_internal" / "numpy" / "_core.so").unlink()
    assert macho.folder_min_macos(tmp_path) == ((10, 13, 0), None)  # Tauri's floor


def test_macho_files_are_listed_inside_out_without_symlinks(tmp_path):
    (tmp_path / "_internal" / "numpy" / ".dylibs").mkdir(parents=True)
    for name in ("sage-sidecar", "_internal/Python", "_internal/numpy/.dylibs/libopenblas.dylib"):
        (tmp_path / name).write_bytes(thin((11, 0, 0)))
    (tmp_path / "_internal" / "libopenblas.dylib").symlink_to("numpy/.dylibs/libopenblas.dylib")
    (tmp_path / "_internal" / "base_library.zip").write_bytes(b"PK\3\4")
    listed = [path.relative_to(tmp_path).as_posix() for path in macho.macho_files(tmp_path)]
    assert listed == [
        "_internal/numpy/.dylibs/libopenblas.dylib",
        "_internal/Python",
        "sage-sidecar",
    ]


# --- the updater key ---------------------------------------------------------------------------

needs_tauri = pytest.mark.skipif(not TAURI.exists(), reason="web/node_modules has no Tauri CLI")


def generate(tmp_path: Path, name: str) -> tuple[str, str]:
    subprocess.run(
        [str(TAURI), "signer", "generate", "--ci", "-p", "pw", "-w", str(tmp_path / name), "-f"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return (tmp_path / name).read_text(), (tmp_path / f"{name}.pub").read_text()


def check_key(private: str, public: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAURI_SIGNING_PRIVATE_KEY": private,
        "TAURI_SIGNING_PRIVATE_KEY_PASSWORD": "pw",
    }
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPTS / "updater_key.py"),
            "check-key",
            "--pubkey",
            public,
            "--tauri",
            str(TAURI),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_tauri
def test_check_key_passes_for_a_key_pair_and_fails_for_a_foreign_public_key(tmp_path):
    private, public = generate(tmp_path, "release.key")
    _, other_public = generate(tmp_path, "other.key")
    assert check_key(private, public).returncode == 0
    failed = check_key(private, other_public)
    assert failed.returncode != 0
    assert "embedded public key" in failed.stderr


@needs_tauri
def test_verify_refuses_a_changed_artifact(tmp_path):
    private, public = generate(tmp_path, "release.key")
    artifact = tmp_path / "Sage_1.0.0_x64-setup.exe"
    artifact.write_bytes(b"installer bytes")
    env = {
        **os.environ,
        "TAURI_SIGNING_PRIVATE_KEY": private,
        "TAURI_SIGNING_PRIVATE_KEY_PASSWORD": "pw",
    }
    subprocess.run(
        [str(TAURI), "signer", "sign", str(artifact)],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    pubkey = updater_key.load_public_key(public)
    updater_key.verify(
        pubkey, artifact.read_bytes(), (tmp_path / f"{artifact.name}.sig").read_text()
    )
    with pytest.raises(updater_key.KeyMismatch):
        updater_key.verify(
            pubkey, b"installer bytes!", (tmp_path / f"{artifact.name}.sig").read_text()
        )
