"""Images attached to a message: recognised by their content (not their name), checked, reduced to
at most MAX_SIDE pixels on the longest side, and stored beside the other attachments. They are
never parsed for text; models that take images get them as they are stored.

Pillow reads only the header to decide what a file is and how large it would be in memory, so a
decompression bomb (a tiny file of a huge image) is refused before it is decoded."""

import base64
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from sage_sidecar.core.errors import InvalidError

MAX_SIDE = 2048
MAX_PIXELS = 50_000_000  # width × height before downscaling; beyond it the file is refused
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif"})
# What Pillow calls a format → how it is stored (a GIF keeps its first frame, as PNG; WebP stays).
_STORED = {"PNG": ("PNG", "image/png", ".png"), "JPEG": ("JPEG", "image/jpeg", ".jpg"),
           "WEBP": ("WEBP", "image/webp", ".webp"), "GIF": ("PNG", "image/png", ".png")}  # fmt: skip


@dataclass(frozen=True)
class StoredImage:
    mime: str
    suffix: str
    width: int
    height: int


def is_image_name(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_SUFFIXES


def _unreadable(name: str, reason: str) -> InvalidError:
    return InvalidError(f"{name}: {reason}", code="attachment.bad_image", name=name, reason=reason)


def normalise(source: Path, target_stem: Path, name: str) -> StoredImage:
    """Check `source` is a PNG, JPEG, WebP or GIF image, downscale it and write it to
    `target_stem` + its suffix. Blocking: call it in a thread."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_PIXELS decides
            image = Image.open(source)
        with image:
            if image.format not in _STORED:
                raise _unreadable(name, f"not a PNG, JPEG, WebP or GIF image ({image.format})")
            if image.width * image.height > MAX_PIXELS:
                raise _unreadable(name, f"too large ({image.width}×{image.height} pixels)")
            fmt, mime, suffix = _STORED[image.format]
            image.seek(0)  # an animation's first frame
            frame = image.convert("RGBA" if fmt != "JPEG" else "RGB")
    except UnidentifiedImageError:
        raise _unreadable(name, "not an image Sage can read") from None
    except Image.DecompressionBombError:
        raise _unreadable(name, "too large (pixels)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise _unreadable(name, f"damaged image ({error})") from None
    frame.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    frame.save(target_stem.with_suffix(suffix), fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return StoredImage(mime, suffix, frame.width, frame.height)


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def suffix_of(mime: str) -> str:
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}.get(mime, ".png")
