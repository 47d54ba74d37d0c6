"""An attached image decoded, checked and downscaled: this runs only in a parse worker process
(`parse_worker.py`, op "image"), never in the sidecar, which does not import Pillow at all.

An image is untrusted input handled by a large C decoder: a tiny file can claim a huge picture
(a decompression bomb), a damaged one can send the decoder down odd paths, and decoding costs
real CPU. In the worker it runs under the parse budget and memory limit, and is killed with the
worker. Pillow reads only the header to say what a file is and how large it would be, so a bomb
past MAX_PIXELS is refused before decoding; one below it that still needs more memory than the
worker may have fails with the worker's "needs more than N MB"."""

import warnings
from pathlib import Path
from typing import Any

from sage_sidecar.knowledge.parsers import ParseError

MAX_SIDE = 2048
MAX_PIXELS = 50_000_000  # width × height before downscaling; beyond it the file is refused
# What Pillow calls a format → how it is stored (a GIF keeps its first frame, as PNG; WebP stays).
STORED = {"PNG": ("PNG", "image/png", ".png"), "JPEG": ("JPEG", "image/jpeg", ".jpg"),
          "WEBP": ("WEBP", "image/webp", ".webp"), "GIF": ("PNG", "image/png", ".png")}  # fmt: skip
CODE = "image.unreadable"  # the sidecar turns it into attachment.bad_image with this reason


def normalise(source: Path, target_stem: Path) -> dict[str, Any]:
    """Check `source` is a PNG, JPEG, WebP or GIF image, downscale it and write it to
    `target_stem` + its suffix; its MIME type, suffix and size come back."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_PIXELS decides
            # Only these four decoders: no other format's parser ever sees the bytes.
            image = Image.open(source, formats=list(STORED))
        with image:
            if image.width * image.height > MAX_PIXELS:
                raise ParseError(f"too large ({image.width}×{image.height} pixels)", CODE)
            fmt, mime, suffix = STORED[str(image.format)]
            image.seek(0)  # an animation's first frame; the others are never decoded
            frame = image.convert("RGBA" if fmt != "JPEG" else "RGB")
        frame.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        frame.save(
            target_stem.with_suffix(suffix), fmt, **({"quality": 90} if fmt == "JPEG" else {})
        )
    except UnidentifiedImageError:
        raise ParseError("not a PNG, JPEG, WebP or GIF image Sage can read", CODE) from None
    except Image.DecompressionBombError:
        raise ParseError("too large (pixels)", CODE) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ParseError(f"damaged image ({error})", CODE) from None
    return {"mime": mime, "suffix": suffix, "width": frame.width, "height": frame.height}
