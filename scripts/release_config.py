#!/usr/bin/env python3
"""Write the release-time Tauri config overlay that scripts/build.sh and build.ps1 pass to
`tauri build --config <file>` (a file, never inline JSON: PowerShell strips the quotes of
arguments to .cmd files such as tauri.cmd).

    release_config.py --os darwin|windows|linux --out FILE [--bundle msi|nsis] [--sidecar DIR]

Everything a release needs that must not be committed, or depends on the build machine, comes
from the environment (the release workflow maps repository secrets and variables to these):

  SAGE_UPDATER_PUBKEY         the updater's public key (`tauri signer generate`'s .pub text);
                              without it the app is built with no update feed
  SAGE_UPDATER_ENDPOINT       the feed URL(s), comma-separated; default with a public key:
                              the latest GitHub release's latest.json of GITHUB_REPOSITORY
  TAURI_SIGNING_PRIVATE_KEY   present: updater artifacts are created (and must match the key)
  SAGE_WINDOWS_CERT_THUMBPRINT  Authenticode certificate in the user's store (Windows)
  APPLE_SIGNING_IDENTITY      Developer ID identity (macOS); absent: ad-hoc signing ("-")

and from the build itself: the MSI version (numeric only, so a pre-release `1.2.0-beta.3`
becomes `1.2.0.3`), the WebView2 install mode per Windows bundle, and the macOS minimum version
the frozen sidecar's libraries need (scripts/macho.py). Tested by
scripts/tests/test_release_config.py.
"""

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))

import macho  # noqa: E402
import version as cargo_version  # noqa: E402

TIMESTAMP_URL = "http://timestamp.digicert.com"
# Offline machines must be able to install the MSI (what administrators deploy): it carries the
# WebView2 offline installer (~127 MB). The NSIS .exe, what most people download, embeds only
# the small bootstrapper; Windows 11 and current Windows 10 already have WebView2.
WEBVIEW_INSTALL_MODE = {
    "msi": {"type": "offlineInstaller", "silent": True},
    "nsis": {"type": "embedBootstrapper", "silent": True},
}


class ConfigError(Exception):
    """The environment asks for something that cannot make a working release."""


def msi_version(version: str) -> str | None:
    """The WiX version for a SemVer pre-release (None for a plain X.Y.Z, which MSI accepts).

    MSI wants up to four numeric fields (255.255.65535.65535) and Tauri refuses any other
    pre-release: `1.2.0-beta.3` -> `1.2.0.3`, `1.2.0-rc` -> `1.2.0`. Windows Installer compares
    only the first three fields, so a pre-release and its final release count as one version
    (Tauri's MSI allows that "downgrade": the final release installs over the pre-release)."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?", version)
    if not match:
        raise ConfigError(f"version {version!r} is not SemVer")
    major, minor, patch, pre = match.groups()
    if int(major) > 255 or int(minor) > 255 or int(patch) > 65535:
        raise ConfigError(f"version {version} is out of MSI's range (255.255.65535)")
    if pre is None:
        return None
    numbers = re.findall(r"\d+", pre)
    build = numbers[-1] if numbers and int(numbers[-1]) <= 65535 else None
    return f"{major}.{minor}.{patch}" + (f".{build}" if build else "")


def updater_section(env: Mapping[str, str]) -> tuple[dict[str, object], bool]:
    """plugins.updater for this release, and whether updater artifacts are signed."""
    pubkey = env.get("SAGE_UPDATER_PUBKEY", "").strip()
    signing = bool(env.get("TAURI_SIGNING_PRIVATE_KEY", "").strip())
    if signing and not pubkey:
        raise ConfigError(
            "TAURI_SIGNING_PRIVATE_KEY is set but SAGE_UPDATER_PUBKEY is not: the app would "
            "embed no key that can verify the updates it signs (docs/release.md)"
        )
    if not pubkey:
        return {}, False
    endpoints = [
        url.strip() for url in env.get("SAGE_UPDATER_ENDPOINT", "").split(",") if url.strip()
    ]
    if not endpoints and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        endpoints = [f"{server}/{env['GITHUB_REPOSITORY']}/releases/latest/download/latest.json"]
    if not endpoints:
        raise ConfigError("SAGE_UPDATER_PUBKEY is set but no SAGE_UPDATER_ENDPOINT (feed URL)")
    for url in endpoints:
        if not url.startswith("https://"):
            raise ConfigError(f"the update feed must be https: {url}")
    return {"pubkey": pubkey, "endpoints": endpoints}, signing


def overlay(
    env: Mapping[str, str],
    os_name: str,
    version: str,
    bundle: str | None = None,
    min_macos: str | None = None,
) -> dict[str, object]:
    bundle_config: dict[str, object] = {}
    config: dict[str, object] = {"bundle": bundle_config}
    updater, signing = updater_section(env)
    if updater:
        config["plugins"] = {"updater": updater}
    bundle_config["createUpdaterArtifacts"] = signing
    if os_name == "windows":
        windows: dict[str, object] = {}
        thumbprint = env.get("SAGE_WINDOWS_CERT_THUMBPRINT", "").strip()
        if thumbprint:
            windows.update(
                certificateThumbprint=thumbprint,
                digestAlgorithm="sha256",
                timestampUrl=TIMESTAMP_URL,
            )
        wix = msi_version(version)
        if wix:
            windows["wix"] = {"version": wix}
        if bundle:
            if bundle not in WEBVIEW_INSTALL_MODE:
                raise ConfigError(
                    f"unknown Windows bundle {bundle!r}: build msi and nsis one by one"
                )
            windows["webviewInstallMode"] = WEBVIEW_INSTALL_MODE[bundle]
        bundle_config["windows"] = windows
    elif os_name == "darwin":
        mac: dict[str, object] = {
            "signingIdentity": env.get("APPLE_SIGNING_IDENTITY", "").strip() or "-"
        }
        if min_macos:
            mac["minimumSystemVersion"] = min_macos
        bundle_config["macOS"] = mac
    elif os_name != "linux":
        raise ConfigError(f"unknown OS {os_name!r}")
    return config


def main(argv: list[str]) -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--os", dest="os_name", required=True, choices=["linux", "darwin", "windows"]
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bundle")
    parser.add_argument("--sidecar", type=Path, help="the frozen onedir folder (macOS minimum)")
    args = parser.parse_args(argv)
    min_macos = None
    if args.os_name == "darwin" and args.sidecar:
        found, needs = macho.folder_min_macos(args.sidecar)
        min_macos = macho.format_version(found)
        if needs:
            print(f"release config: {needs} needs macOS {min_macos}", file=sys.stderr)
    try:
        config = overlay(os.environ, args.os_name, cargo_version.read(), args.bundle, min_macos)
    except ConfigError as error:
        raise SystemExit(f"release config: {error}") from None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(config, indent=2))
    # The key itself is public; print what was decided, not the secrets that led to it.
    updater = config.get("plugins", {}).get("updater", {})  # type: ignore[attr-defined]
    print(
        f"release config: updater feed {updater.get('endpoints') or 'none'}, "
        f"signed updater artifacts {config['bundle']['createUpdaterArtifacts']}",  # type: ignore[index]
        file=sys.stderr,
    )
    print(args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
