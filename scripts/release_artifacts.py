#!/usr/bin/env python3
"""Gather the installers of one release build and assemble the updater's `latest.json`.

    release_artifacts.py collect --platform darwin-aarch64 --bundle-dir <target>/release/bundle --out release/
        Copy the installers (and updater archives with their .sig files) of this platform into
        `out/`, with names that cannot collide across the matrix, and write
        `out/<platform>.updater.json` describing the updater archive, if one was signed.

    release_artifacts.py latest-json --version 1.2.3 --repo owner/name --tag v1.2.3 release/
        Merge every `*.updater.json` in the folder into a Tauri updater manifest on stdout.

Used by .github/workflows/release.yml; tested by scripts/tests/test_release_artifacts.py.
"""

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PLATFORMS = ("linux-x86_64", "darwin-aarch64", "darwin-x86_64", "windows-x86_64")


@dataclass(frozen=True)
class Kind:
    """One bundle format: where Tauri writes it, its file suffix, and its updater key suffix."""

    folder: str
    suffix: str
    updater_key: str | None  # None: the updater cannot install this format


# Tauri's updater looks up "<os>-<arch>-<installer>" first, then "<os>-<arch>"; since
# tauri-plugin-updater 2.10 it installs .deb and .rpm updates too.
KINDS = (
    Kind("deb", ".deb", "-deb"),
    Kind("rpm", ".rpm", "-rpm"),
    Kind("appimage", ".AppImage", "-appimage"),
    Kind("dmg", ".dmg", None),
    Kind("macos", ".app.tar.gz", ""),
    Kind("msi", ".msi", "-msi"),
    Kind("nsis", ".exe", ""),
)


def _release_name(path: Path, platform: str) -> str:
    # macOS names its updater archive "Sage.app.tar.gz" on both architectures: add the platform.
    if path.name.endswith(".app.tar.gz"):
        return path.name.removesuffix(".app.tar.gz") + f"_{platform}.app.tar.gz"
    return path.name


def collect(platform: str, bundle_dir: Path, out: Path) -> list[Path]:
    if platform not in PLATFORMS:
        raise SystemExit(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    out.mkdir(parents=True, exist_ok=True)
    copied: list[Path] = []
    updaters: dict[str, dict[str, str]] = {}
    for kind in KINDS:
        for found in sorted((bundle_dir / kind.folder).glob(f"*{kind.suffix}")):
            target = out / _release_name(found, platform)
            shutil.copy2(found, target)
            copied.append(target)
            signature = found.with_name(found.name + ".sig")
            if kind.updater_key is not None and signature.exists():
                shutil.copy2(signature, target.with_name(target.name + ".sig"))
                entry = {
                    "file": target.name,
                    "signature": signature.read_text().strip(),
                }
                updaters[platform + kind.updater_key] = entry
                # AppImage also answers the plain key, for clients that send no bundle type.
                if kind.folder == "appimage":
                    updaters[platform] = entry
    if not copied:
        raise SystemExit(f"no installers found under {bundle_dir}")
    if updaters:
        (out / f"{platform}.updater.json").write_text(json.dumps(updaters, indent=2))
    return copied


def latest_json(
    folder: Path,
    version: str,
    repo: str,
    tag: str,
    notes: str = "",
    now: datetime | None = None,
) -> dict:
    platforms: dict[str, dict[str, str]] = {}
    for manifest in sorted(folder.glob("*.updater.json")):
        for key, entry in json.loads(manifest.read_text()).items():
            url = f"https://github.com/{repo}/releases/download/{tag}/{entry['file']}"
            platforms[key] = {"signature": entry["signature"], "url": url}
    if not platforms:
        raise SystemExit(
            f"no signed updater artifacts in {folder}: is TAURI_SIGNING_PRIVATE_KEY set?"
        )
    return {
        "version": version,
        "notes": notes,
        "pub_date": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "platforms": platforms,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("collect")
    c.add_argument("--platform", required=True)
    c.add_argument("--bundle-dir", type=Path, required=True)
    c.add_argument("--out", type=Path, required=True)
    j = commands.add_parser("latest-json")
    j.add_argument("folder", type=Path)
    j.add_argument("--version", required=True)
    j.add_argument("--repo", required=True)
    j.add_argument("--tag", required=True)
    j.add_argument("--notes", default="")
    args = parser.parse_args(argv)
    if args.command == "collect":
        for path in collect(args.platform, args.bundle_dir, args.out):
            print(path)
    else:
        manifest = latest_json(args.folder, args.version, args.repo, args.tag, args.notes)
        print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
