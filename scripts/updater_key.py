#!/usr/bin/env python3
"""Check updater signatures against the public key a release embeds (minisign, as Tauri uses it).

    updater_key.py verify --pubkey KEY FILE [FILE...]
        Every FILE must have FILE.sig, made by the private half of KEY. Run on each release leg's
        updater artifacts after the build: an app built with KEY can install them.

    updater_key.py check-key --pubkey KEY --tauri PATH
        Sign a probe file with TAURI_SIGNING_PRIVATE_KEY (+ _PASSWORD) through `tauri signer sign`
        and verify it with KEY: fails before any build when the signing secret and the
        SAGE_UPDATER_PUBKEY variable are not one key pair.

KEY is the base64 text `tauri signer generate` writes to <name>.pub (what tauri.conf.json's
plugins.updater.pubkey holds), or a path to that file. Needs `cryptography` (the project venv
has it). Tested by scripts/tests/test_updater_key.py with keys made by the real Tauri CLI.
"""

import argparse
import base64
import hashlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class KeyMismatch(Exception):
    """The signature was not made by the private half of this public key."""


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes
    key: Ed25519PublicKey


def _minisign_lines(text: str) -> list[str]:
    """Tauri stores minisign's text files base64-encoded once more: undo that when present."""
    text = text.strip()
    if not text.startswith("untrusted comment:"):
        text = base64.b64decode(text).decode()
    return [line for line in text.splitlines() if line.strip()]


def load_public_key(value: str) -> PublicKey:
    path = Path(value)
    if len(value) < 4096 and path.is_file():
        value = path.read_text()
    if not value.strip():
        raise ValueError("the updater public key is empty (is SAGE_UPDATER_PUBKEY set?)")
    raw = base64.b64decode(_minisign_lines(value)[1])
    if len(raw) != 42 or raw[:2] != b"Ed":
        raise ValueError("not a minisign Ed25519 public key")
    return PublicKey(raw[2:10], Ed25519PublicKey.from_public_bytes(raw[10:]))


def verify(public: PublicKey, data: bytes, signature_text: str) -> None:
    """Raise KeyMismatch unless `signature_text` (a .sig file's content) signs `data`."""
    lines = _minisign_lines(signature_text)
    raw = base64.b64decode(lines[1])
    algorithm, key_id, signature = raw[:2], raw[2:10], raw[10:74]
    if key_id != public.key_id:
        raise KeyMismatch(
            f"signed by key {key_id[::-1].hex().upper()}, "
            f"but the embedded public key is {public.key_id[::-1].hex().upper()}"
        )
    # "ED": the file's BLAKE2b-512 is signed (what Tauri writes); "Ed": the file itself.
    message = hashlib.blake2b(data).digest() if algorithm == b"ED" else data
    trusted = lines[2].removeprefix("trusted comment: ").encode()
    try:
        public.key.verify(signature, message)
        public.key.verify(base64.b64decode(lines[3]), signature + trusted)
    except InvalidSignature as error:
        raise KeyMismatch("the signature does not verify with the embedded public key") from error


def verify_files(pubkey: str, files: list[Path]) -> None:
    public = load_public_key(pubkey)
    for file in files:
        verify(public, file.read_bytes(), file.with_name(file.name + ".sig").read_text())
        print(f"updater signature OK: {file.name}")


def check_key(pubkey: str, tauri: Path) -> None:
    """Sign a probe with the configured private key and verify it with `pubkey`."""
    if not os.environ.get("TAURI_SIGNING_PRIVATE_KEY"):
        raise SystemExit("TAURI_SIGNING_PRIVATE_KEY is not set: nothing to check")
    with tempfile.TemporaryDirectory() as work:
        probe = Path(work) / "probe.txt"
        probe.write_text("Sage updater key check\n")
        env = dict(os.environ)
        env.setdefault("TAURI_SIGNING_PRIVATE_KEY_PASSWORD", "")
        signed = subprocess.run(
            [str(tauri), "signer", "sign", str(probe)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if signed.returncode != 0:
            raise SystemExit(f"tauri signer sign failed: {signed.stderr.strip()[-500:]}")
        verify_files(pubkey, [probe])
    print("the signing key matches the public key the release embeds")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    v = commands.add_parser("verify")
    v.add_argument("--pubkey", required=True)
    v.add_argument("files", type=Path, nargs="+")
    c = commands.add_parser("check-key")
    c.add_argument("--pubkey", required=True)
    c.add_argument("--tauri", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "verify":
            verify_files(args.pubkey, args.files)
        else:
            check_key(args.pubkey, args.tauri)
    except (KeyMismatch, ValueError) as error:
        raise SystemExit(f"updater key check failed: {error}") from None


if __name__ == "__main__":
    main(sys.argv[1:])
