#!/usr/bin/env python3
"""Static checks that the release workflows, build scripts and Tauri config agree, run here on
Linux by scripts/check-release.sh (the `workflows` layer of scripts/test.sh).

    check_release.py labels           every runs-on / matrix `os:` label is a current GitHub-hosted
                                      label (scripts/runner-labels.txt); retired ones fail by name
    check_release.py bundle-paths     every externalBin and resource tauri.conf.json names is what
                                      the build scripts produce for each release target triple,
                                      and what the shell looks for at run time
    check_release.py schema           tauri.conf.json merged with every release overlay
                                      (scripts/release_config.py) validates against the Tauri CLI's
                                      config schema
    check_release.py matrix           release.yml's legs are the platforms release_artifacts.py
                                      knows, each on a native runner of its architecture

Each prints what it checked and exits non-zero with every problem found. Tested by
scripts/tests/test_check_release.py.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
LABELS = ROOT / "scripts" / "runner-labels.txt"
CONF = ROOT / "src-tauri" / "tauri.conf.json"

# Release leg -> (target triple, what builds it, the runner architecture it needs).
TARGETS = {
    "linux-x86_64": ("x86_64-unknown-linux-gnu", "scripts/build-sidecar.sh", "x86_64"),
    "darwin-aarch64": ("aarch64-apple-darwin", "scripts/build-sidecar.sh", "arm64"),
    "darwin-x86_64": ("x86_64-apple-darwin", "scripts/build-sidecar.sh", "x86_64"),
    "windows-x86_64": ("x86_64-pc-windows-msvc", "scripts/build.ps1", "x86_64"),
}
RUNNER_ARCH = {
    "macos-15": "arm64",
    "macos-26": "arm64",
    "macos-15-intel": "x86_64",
    "macos-26-intel": "x86_64",
}


def read_labels(text: str) -> tuple[set[str], dict[str, str]]:
    current: set[str] = set()
    retired: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        state, label, *note = line.split(None, 2)
        if state == "current":
            current.add(label)
        elif state == "retired":
            retired[label] = note[0] if note else "retired"
    return current, retired


def used_labels(workflow: str) -> list[tuple[int, str]]:
    """(line, label) for each literal `runs-on:` value and each matrix `os:` entry."""
    found = []
    for number, line in enumerate(workflow.splitlines(), 1):
        match = re.match(r"\s*(?:-\s+)?(runs-on|os):\s*([^#\s]+)", line)
        if match and "${{" not in match.group(2):
            found.append((number, match.group(2).strip("\"'")))
    return found


def check_labels(workflows: dict[str, str], labels_text: str) -> list[str]:
    current, retired = read_labels(labels_text)
    problems = []
    for name, text in workflows.items():
        for number, label in used_labels(text):
            if label in retired:
                problems.append(f"{name}:{number}: runner {label!r} is {retired[label]}")
            elif label not in current:
                problems.append(
                    f"{name}:{number}: runner {label!r} is not a current GitHub-hosted label "
                    "(pin a version; scripts/runner-labels.txt lists them)"
                )
    return problems


def check_bundle_paths(root: Path = ROOT) -> list[str]:
    conf = json.loads((root / "src-tauri" / "tauri.conf.json").read_text())
    problems: list[str] = []
    bundle = conf["bundle"]
    if len(bundle["externalBin"]) != 1 or len(bundle["resources"]) != 1:
        problems.append(
            "tauri.conf.json: expected one externalBin (the launcher) and one resource (the sidecar)"
        )
        return problems
    external = bundle["externalBin"][0]
    source, target = next(iter(bundle["resources"].items()))
    # What the shell looks for at run time (src-tauri/src/sidecar/launch.rs).
    launch = (root / "src-tauri" / "src" / "sidecar" / "launch.rs").read_text()
    bin_name = re.search(r'SIDECAR_BIN: &str = "([^"]+)"', launch)
    res_dir = re.search(r'SIDECAR_RESOURCE_DIR: &str = "([^"]+)"', launch)
    if not bin_name or Path(external).name != bin_name.group(1):
        problems.append(f"externalBin {external!r} is not the launcher name launch.rs looks for")
    if not res_dir or target.strip("/") != res_dir.group(1):
        problems.append(f"resource target {target!r} is not the folder launch.rs looks for")
    # The PyInstaller output folder: <spec's COLLECT name> under the --distpath the scripts use.
    spec = (root / "src-python" / "sage_sidecar.spec").read_text()
    collect = re.search(r'COLLECT\([^)]*name="([^"]+)"', spec, re.S)
    folder = (Path("src-tauri") / source).as_posix()
    want_folder = Path(folder.replace("src-tauri/../", "")).as_posix()
    if not collect or want_folder != f"src-python/dist/{collect.group(1)}":
        problems.append(
            f"resource {source!r} is not the spec's COLLECT output src-python/dist/<name>"
        )
    scripts = {
        "scripts/build-sidecar.sh": (root / "scripts" / "build-sidecar.sh").read_text(),
        "scripts/build.ps1": (root / "scripts" / "build.ps1").read_text(),
    }
    for script, text in scripts.items():
        if not re.search(r"--distpath\s+\S*dist\b", text):
            problems.append(f"{script}: PyInstaller's --distpath is not src-python/dist")
    for platform, (triple, builder, _) in TARGETS.items():
        ext = ".exe" if "windows" in triple else ""
        want = f"src-tauri/{external}-{triple}{ext}"
        text = scripts[builder]
        made = (
            text.replace("$ROOT/", "")
            .replace("\\", "/")
            .replace("$triple$ext", triple + ext)
            .replace("$triple.exe", triple + ".exe")
        )
        if want not in made:
            problems.append(f"{builder} does not build {want} (the {platform} leg's externalBin)")
        else:
            print(
                f"  {platform}: {builder} builds {want} and src-python/dist/{collect.group(1) if collect else '?'}/"
            )
    windows = bundle.get("windows", {})
    named = [("bundle.windows.nsis.installerHooks", windows.get("nsis", {}).get("installerHooks"))]
    named += [
        ("bundle.windows.wix.fragmentPaths", p)
        for p in windows.get("wix", {}).get("fragmentPaths", [])
    ]
    for key, path in named:
        if path and not (root / "src-tauri" / path).is_file():
            problems.append(f"{key} names {path}, which does not exist")
    return problems


def check_schema(root: Path = ROOT) -> list[str]:
    schema_path = root / "web" / "node_modules" / "@tauri-apps" / "cli" / "config.schema.json"
    try:
        import jsonschema
    except ImportError:
        print("  skipped: the jsonschema module is not installed")
        return []
    if not schema_path.exists():
        print(f"  skipped: no {schema_path.relative_to(root)} (npm ci in web/)")
        return []
    sys.path.insert(0, str(root / "scripts"))
    import release_config

    schema = json.loads(schema_path.read_text())
    base = json.loads((root / "src-tauri" / "tauri.conf.json").read_text())
    env = {
        "SAGE_UPDATER_PUBKEY": "cHVibGljIGtleQ==",
        "SAGE_UPDATER_ENDPOINT": "https://example.invalid/latest.json",
        "TAURI_SIGNING_PRIVATE_KEY": "set",
        "SAGE_WINDOWS_CERT_THUMBPRINT": "0123456789ABCDEF",
        "APPLE_SIGNING_IDENTITY": "Developer ID Application: Example (TEAMID)",
    }
    problems = []
    cases = [("linux", None), ("darwin", None), ("windows", "msi"), ("windows", "nsis")]
    for os_name, bundle in cases:
        overlay = release_config.overlay(env, os_name, "1.2.3-beta.4", bundle, "14.0")
        merged = merge(base, overlay)
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(merged), key=str)
        for error in errors:
            where = "/".join(str(part) for part in error.absolute_path)
            problems.append(f"{os_name} {bundle or ''} overlay: {where}: {error.message}")
        print(
            f"  tauri.conf.json + the {os_name} {bundle or ''} release overlay: {len(errors)} schema errors"
        )
    return problems


def merge(base: object, overlay: object) -> object:
    """JSON merge patch, as `tauri build --config` applies it."""
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return overlay
    merged = dict(base)
    for key, value in overlay.items():
        merged[key] = merge(base.get(key), value) if key in base else value
    return merged


def check_matrix(release_yml: str) -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    import release_artifacts

    legs = re.findall(r"-\s+platform:\s*(\S+)\s*\n\s+os:\s*(\S+)", release_yml)
    problems = []
    if sorted(platform for platform, _ in legs) != sorted(release_artifacts.PLATFORMS):
        problems.append(
            f"release.yml legs {legs} are not release_artifacts.PLATFORMS {release_artifacts.PLATFORMS}"
        )
    for platform, runner in legs:
        arch = TARGETS.get(platform, ("", "", "?"))[2]
        if platform.startswith("darwin") and RUNNER_ARCH.get(runner) != arch:
            problems.append(f"release.yml: {platform} runs on {runner}, not a native {arch} runner")
    print(f"  release.yml legs: {', '.join(f'{p} on {r}' for p, r in legs)}")
    return problems


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in ("labels", "bundle-paths", "schema", "matrix"):
        raise SystemExit(__doc__)
    command = argv[0]
    if command == "labels":
        workflows = {path.name: path.read_text() for path in sorted(WORKFLOWS.glob("*.y*ml"))}
        problems = check_labels(workflows, LABELS.read_text())
        count = sum(len(used_labels(text)) for text in workflows.values())
        print(f"  {count} runner labels in {len(workflows)} workflows")
    elif command == "bundle-paths":
        problems = check_bundle_paths()
    elif command == "schema":
        problems = check_schema()
    else:
        problems = check_matrix((WORKFLOWS / "release.yml").read_text())
    for problem in problems:
        print(f"check-release: {problem}", file=sys.stderr)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
