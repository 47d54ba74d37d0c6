"""Images attached to a message: recognised by their content (not their name), checked, reduced to
at most MAX_SIDE pixels on the longest side, and stored beside the other attachments. They are
never parsed for text; models that take images get them as they are stored.

The sidecar never decodes an image, nor imports Pillow: the checks and the downscaling run in a
parse worker process (`knowledge/image_decode.py`) under its time budget and memory limit, so a
decompression bomb, a damaged file or a slow decode costs that worker, not the event loop. Here
only paths move, and a failure becomes `attachment.bad_image` with a readable reason."""

import base64
from dataclasses import dataclass
from pathlib import Path

from sage_sidecar.core.errors import InvalidError
from sage_sidecar.knowledge.image_decode import MAX_PIXELS, MAX_SIDE
from sage_sidecar.knowledge.parse_worker import ParserPool
from sage_sidecar.knowledge.parsers import ParseError

__all__ = ["MAX_PIXELS", "MAX_SIDE", "StoredImage", "data_url", "is_image_name", "normalise"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif"})


@dataclass(frozen=True)
class StoredImage:
    mime: str
    suffix: str
    width: int
    height: int


def is_image_name(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_SUFFIXES


async def normalise(parser: ParserPool, source: Path, target_stem: Path, name: str) -> StoredImage:
    """Check `source` is a PNG, JPEG, WebP or GIF image, downscale it and write it to
    `target_stem` + its suffix, in a parse worker. A file that is not a readable image, is too
    large, or overruns the worker's budget or memory is refused with the reason."""
    try:
        done = await parser.image(source, target_stem)
    except BaseException as error:  # a worker killed mid-save may leave half a file
        for suffix in (".png", ".jpg", ".webp"):
            target_stem.with_suffix(suffix).unlink(missing_ok=True)
        if not isinstance(error, ParseError):
            raise
        reason = str(error)
        raise InvalidError(
            f"{name}: {reason}", code="attachment.bad_image", name=name, reason=reason
        ) from None
    return StoredImage(str(done["mime"]), str(done["suffix"]), int(done["width"]),
                       int(done["height"]))  # fmt: skip


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def suffix_of(mime: str) -> str:
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}.get(mime, ".png")
