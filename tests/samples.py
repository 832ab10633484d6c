"""Small, valid supporting documents made in code (no files in the repository), each different
for a different ``text``: the demo's receipts (api/demo_documents.py), and a JPEG."""

from __future__ import annotations

import struct

from api.demo_documents import receipt_pdf, receipt_png


def pdf(text: str = "Receipt") -> bytes:
    """A one-page PDF showing ``text``."""
    return receipt_pdf(text, [])


def png(text: str = "receipt") -> bytes:
    """A small greyscale PNG whose pixels depend on ``text``."""
    return receipt_png(text)


def jpeg(text: str = "receipt") -> bytes:
    """The start of a JPEG (SOI, a JFIF APP0 segment, a comment) and its end marker."""
    comment = text.encode()
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + b"\xff\xd9"
