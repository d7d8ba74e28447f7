"""QR codes for tickets: the ticket's secret (never its public ID), error correction M.

Drawn as a 1-bit PNG with one pixel per module; the PDF scales it up with
`image-rendering: pixelated`, so it stays sharp at any size and costs almost nothing
to encode. A fixed version and mask skip qrcode's search, ~0.6 ms instead of ~4 ms
(PERFORMANCE.md). Secrets are 27 characters (`codes.new_secret`): version 3 holds up
to 42 bytes at level M; longer payloads fall back to the automatic version.
"""

from __future__ import annotations

import base64
import struct
import zlib

import qrcode
from qrcode.constants import ERROR_CORRECT_M

_VERSION = 3
_VERSION_CAPACITY = 42  # bytes at error correction M
_MASK = 4
QUIET_ZONE = 4  # modules of white border the QR specification asks for


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR modules (True = dark), quiet zone included."""
    fits = len(payload.encode()) <= _VERSION_CAPACITY
    qr = qrcode.QRCode(
        version=_VERSION if fits else None,
        error_correction=ERROR_CORRECT_M,
        border=QUIET_ZONE,
        mask_pattern=_MASK,
    )
    qr.add_data(payload, optimize=0)
    qr.make(fit=not fits)
    return qr.get_matrix()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def qr_png(payload: str) -> bytes:
    """A 1-bit greyscale PNG, one pixel per module."""
    matrix = qr_matrix(payload)
    size = len(matrix)
    rows = bytearray()
    for row in matrix:
        rows.append(0)  # filter type: none
        bits = 0
        for i, dark in enumerate(row):
            bits = (bits << 1) | (0 if dark else 1)  # 1 = white in greyscale
            if i % 8 == 7:
                rows.append(bits)
                bits = 0
        if size % 8:
            rows.append(bits << (8 - size % 8))
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def qr_data_uri(payload: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(payload)).decode("ascii")
