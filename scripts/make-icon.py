"""Draw Sage's source icon (a sage leaf on a rounded square) as a 1024 px PNG, with no
dependencies. `npx tauri icon` turns it into every platform's icon set in src-tauri/icons/."""

import math
import struct
import sys
import zlib

SIZE = 1024
BG = (47, 111, 94)
LEAF = (233, 245, 236)
VEIN = (47, 111, 94)


def inside_rounded_square(x: float, y: float, radius: float = 220) -> bool:
    dx = max(radius - x, 0, x - (SIZE - 1 - radius))
    dy = max(radius - y, 0, y - (SIZE - 1 - radius))
    return dx * dx + dy * dy <= radius * radius


def leaf_pixel(x: float, y: float) -> tuple[int, int, int] | None:
    # Leaf = intersection of two discs, tilted 45 degrees; a thin vein along its axis.
    cx, cy = SIZE / 2, SIZE / 2
    u = ((x - cx) + (y - cy)) / math.sqrt(2)
    v = ((x - cx) - (y - cy)) / math.sqrt(2)
    r, offset = 430, 250
    if (u * u + (v - offset) ** 2 <= r * r) and (u * u + (v + offset) ** 2 <= r * r):
        return VEIN if abs(v) < 12 and abs(u) < 300 else LEAF
    return None


def render() -> bytes:
    rows = []
    for y in range(SIZE):
        row = bytearray([0])
        for x in range(SIZE):
            if not inside_rounded_square(x, y):
                row += b"\0\0\0\0"
                continue
            color = leaf_pixel(x, y) or BG
            row += bytes(color) + b"\xff"
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as out:
        out.write(render())
