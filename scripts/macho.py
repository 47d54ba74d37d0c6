#!/usr/bin/env python3
"""The lowest macOS version every Mach-O file in a folder can run on (no Xcode tools needed).

    macho.py min-macos DIR      print e.g. "14.0" (the highest minimum found), and the file
                                that needs it on stderr
    macho.py list DIR           every Mach-O file under DIR, deepest first (the order to sign
                                them in: inside-out), symlinks left out

A frozen sidecar bundles wheels built for some macOS version (numpy's and onnxruntime's arm64
wheels need 14.0); the app must not declare a lower `minimumSystemVersion` than its most
demanding library, or it installs on systems where the sidecar cannot start. Read from each
file's LC_BUILD_VERSION / LC_VERSION_MIN_MACOSX load command; fat files are read per slice.
Used by scripts/release_config.py; tested by scripts/tests/test_macho.py.
"""

import struct
import sys
from pathlib import Path

MH_MAGIC_64 = 0xFEEDFACF
MH_MAGIC = 0xFEEDFACE
FAT_MAGIC = 0xCAFEBABE
FAT_MAGIC_64 = 0xCAFEBABF
LC_VERSION_MIN_MACOSX = 0x24
LC_BUILD_VERSION = 0x32
PLATFORM_MACOS = 1

Version = tuple[int, int, int]


def _decode(encoded: int) -> Version:
    """xxxx.yy.zz nibbles, as Mach-O stores versions."""
    return (encoded >> 16, (encoded >> 8) & 0xFF, encoded & 0xFF)


def _thin_min(data: bytes, offset: int) -> Version | None:
    magic = struct.unpack_from("<I", data, offset)[0]
    if magic not in (MH_MAGIC_64, MH_MAGIC):
        return None
    ncmds = struct.unpack_from("<I", data, offset + 16)[0]
    cursor = offset + (32 if magic == MH_MAGIC_64 else 28)
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, cursor)
        if cmd == LC_BUILD_VERSION:
            platform, minos = struct.unpack_from("<II", data, cursor + 8)
            if platform == PLATFORM_MACOS:
                return _decode(minos)
        elif cmd == LC_VERSION_MIN_MACOSX:
            return _decode(struct.unpack_from("<I", data, cursor + 8)[0])
        if size <= 0:
            break
        cursor += size
    return None


def min_macos(data: bytes) -> Version | None:
    """The file's minimum macOS version (the highest over a fat file's slices); None if it is
    not a Mach-O file or declares none."""
    if len(data) < 32:
        return None
    try:
        return _min_macos(data)
    except struct.error:  # truncated, or not Mach-O after all (Java classes share 0xCAFEBABE)
        return None


def _min_macos(data: bytes) -> Version | None:
    if struct.unpack_from(">I", data, 0)[0] in (FAT_MAGIC, FAT_MAGIC_64):
        wide = struct.unpack_from(">I", data, 0)[0] == FAT_MAGIC_64
        count = struct.unpack_from(">I", data, 4)[0]
        if count > 16:
            return None
        found: list[Version] = []
        for index in range(count):
            if wide:
                slice_offset = struct.unpack_from(">Q", data, 8 + index * 32 + 8)[0]
            else:
                slice_offset = struct.unpack_from(">I", data, 8 + index * 20 + 8)[0]
            version = _thin_min(data, slice_offset)
            if version:
                found.append(version)
        return max(found) if found else None
    return _thin_min(data, 0)


MAGICS = {
    struct.pack("<I", MH_MAGIC_64),
    struct.pack("<I", MH_MAGIC),
    struct.pack(">I", FAT_MAGIC),
    struct.pack(">I", FAT_MAGIC_64),
}


def macho_files(folder: Path) -> list[Path]:
    """Every Mach-O file under `folder` (not following symlinks), deepest path first."""
    found = []
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as handle:
            if handle.read(4) in MAGICS:
                found.append(path)
    return sorted(found, key=lambda path: (-len(path.relative_to(folder).parts), str(path)))


def folder_min_macos(folder: Path) -> tuple[Version, Path | None]:
    """The highest minimum over every Mach-O file under `folder`, and that file."""
    best: Version = (10, 13, 0)  # Tauri's own default: the floor whatever the libraries say
    needs: Path | None = None
    for path in sorted(macho_files(folder)):
        version = min_macos(path.read_bytes())
        if version and version > best:
            best, needs = version, path
    return best, needs


def format_version(version: Version) -> str:
    major, minor, patch = version
    return f"{major}.{minor}" + (f".{patch}" if patch else "")


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("min-macos", "list"):
        raise SystemExit("usage: macho.py min-macos|list DIR")
    if argv[0] == "list":
        for path in macho_files(Path(argv[1])):
            print(path)
        return
    version, needs = folder_min_macos(Path(argv[1]))
    if needs:
        print(f"{needs} needs macOS {format_version(version)}", file=sys.stderr)
    print(format_version(version))


if __name__ == "__main__":
    main(sys.argv[1:])
