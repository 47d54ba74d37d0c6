"""Skill archives for the tests, honest and hostile, built in memory."""

import io
import stat
import zipfile
from collections.abc import Mapping

SKILL_MD = """---
name: {name}
description: {description}
---

# {name}

Step one: {secret}.
"""


def skill_md(name: str = "pdf-helper", description: str = "Helps with PDFs.",
             secret: str = "say the magic word PINEAPPLE") -> str:  # fmt: skip
    return SKILL_MD.format(name=name, description=description, secret=secret)


def make_zip(files: Mapping[str, bytes | str], *, top: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(f"{top}/{path}" if top else path, data)
    return buffer.getvalue()


def symlink_zip(target: str = "/etc/passwd") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("SKILL.md", skill_md())
        link = zipfile.ZipInfo("secret.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, target)
    return buffer.getvalue()


def bomb_zip(size: int) -> bytes:
    """One entry of `size` zero bytes: tiny compressed, huge inflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("SKILL.md", skill_md())
        with archive.open("zeros.bin", "w", force_zip64=True) as out:
            chunk = bytes(1024 * 1024)
            for _ in range(size // len(chunk)):
                out.write(chunk)
    return buffer.getvalue()


def lying_zip(real_size: int) -> bytes:
    """An entry whose header claims 10 bytes but inflates to `real_size`."""
    honest = io.BytesIO()
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("SKILL.md", skill_md())
        archive.writestr("big.txt", b"a" * real_size)
    data = bytearray(honest.getvalue())
    # Patch the uncompressed size (4 bytes) in both the local header and the central directory.
    real = real_size.to_bytes(4, "little")
    fake = (10).to_bytes(4, "little")
    data = bytearray(bytes(data).replace(real, fake))
    return bytes(data)
