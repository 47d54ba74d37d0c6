"""Sage Desktop sidecar: the local agent platform the Tauri shell spawns."""


def _version() -> str:
    # The version's one source is the workspace Cargo.toml; scripts/version.py stamps it into
    # _version.py before installs and freezes. A bare checkout reads Cargo.toml directly.
    try:
        from sage_sidecar._version import __version__ as stamped

        return stamped
    except ImportError:
        import re
        from pathlib import Path

        cargo = Path(__file__).resolve().parents[2] / "Cargo.toml"
        found = cargo.exists() and re.search(
            r'^\[workspace\.package\][^\[]*?^version = "([^"]+)"', cargo.read_text(), re.M | re.S
        )
        return found.group(1) if found else "0.0.0+unknown"


__version__ = _version()
