"""Uploaded photos (sign-ins, help logs, household visits): an image by its
content (JPEG, PNG or WebP; the name and the declared type are not trusted),
at most 5 MB, stored without the metadata where cameras write the position
(行踪轨迹 is sensitive personal information)."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


# --- checking --------------------------------------------------------------------------


def image_kind(upload) -> str | None:
    """ "jpg", "png" or "webp" by the file's first bytes, or None. The name and
    the declared content type are not trusted."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass(frozen=True)
class CheckedPhoto:
    kind: str
    data: bytes  # the image without location metadata


def check_photo(upload) -> CheckedPhoto:
    """An uploaded photo, checked (an image by its content, at most 5 MB) and
    with its GPS metadata removed. Raises ValidationError with a message."""
    name = (getattr(upload, "name", "") or "")[:80]
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError(_("%(name)s is larger than 5 MB.") % {"name": name})
    kind = image_kind(upload)
    if kind is None:
        raise ValidationError(_("%(name)s is not a JPEG, PNG or WebP image.") % {"name": name})
    upload.seek(0)
    data = upload.read(MAX_PHOTO_BYTES + 1)
    upload.seek(0)
    try:
        data = strip_location(data, kind)
    except (ValueError, IndexError, struct.error) as exc:
        raise ValidationError(
            _("%(name)s is not a JPEG, PNG or WebP image.") % {"name": name}
        ) from exc
    return CheckedPhoto(kind=kind, data=data)


def strip_location(data: bytes, kind: str) -> bytes:
    """The image without the metadata where cameras write the position.

    JPEG: the GPS directory of the EXIF block is blanked (the rest of EXIF,
    such as the orientation, stays), XMP and Photoshop blocks are dropped.
    PNG: eXIf and text chunks are dropped. WebP: EXIF and XMP chunks are dropped."""
    if kind == "jpg":
        return _strip_jpeg(data)
    if kind == "png":
        return _strip_png(data)
    return _strip_webp(data)


def _strip_jpeg(data: bytes) -> bytes:
    out = io.BytesIO()
    out.write(data[:2])
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("not a JPEG segment")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan / end: the rest is image data
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            out.write(data[pos : pos + 2])
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segment = data[pos : pos + 2 + length]
        if len(segment) < 2 + length or length < 2:
            raise ValueError("truncated JPEG segment")
        body = segment[4:]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            segment = segment[:4] + b"Exif\x00\x00" + _blank_gps(bytearray(body[6:]))
        elif marker == 0xE1 or marker == 0xED:  # XMP and other APP1, Photoshop IRB (IPTC)
            segment = b""
        out.write(segment)
        pos += 2 + length
    out.write(data[pos:])
    return out.getvalue()


_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def _blank_gps(tiff: bytearray) -> bytes:
    """The TIFF structure of an EXIF block with its GPS directory emptied and
    the values it pointed to overwritten with zeros."""
    if tiff[:2] == b"II":
        end = "<"
    elif tiff[:2] == b"MM":
        end = ">"
    else:
        raise ValueError("bad TIFF header")
    (ifd0,) = struct.unpack(end + "I", tiff[4:8])
    (count,) = struct.unpack(end + "H", tiff[ifd0 : ifd0 + 2])
    for i in range(count):
        entry = ifd0 + 2 + 12 * i
        tag, _type, _n, value = struct.unpack(end + "HHII", tiff[entry : entry + 12])
        if tag != 0x8825:  # GPSInfo
            continue
        gps = value
        (gps_count,) = struct.unpack(end + "H", tiff[gps : gps + 2])
        for j in range(gps_count):
            gentry = gps + 2 + 12 * j
            _gtag, gtype, gn, gvalue = struct.unpack(end + "HHII", tiff[gentry : gentry + 12])
            size = _TIFF_SIZES.get(gtype, 1) * gn
            if size > 4 and gvalue + size <= len(tiff):
                tiff[gvalue : gvalue + size] = bytes(size)
            tiff[gentry : gentry + 12] = bytes(12)
        tiff[gps : gps + 2] = struct.pack(end + "H", 0)
    return bytes(tiff)


def _strip_png(data: bytes) -> bytes:
    out = io.BytesIO()
    out.write(data[:8])
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        chunk = data[pos : pos + 12 + length]
        if len(chunk) < 12 + length:
            raise ValueError("truncated PNG chunk")
        if ctype not in (b"eXIf", b"tEXt", b"iTXt", b"zTXt"):
            out.write(chunk)
        pos += 12 + length
        if ctype == b"IEND":
            break
    return out.getvalue()


def _strip_webp(data: bytes) -> bytes:
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        ctype = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        padded = length + (length & 1)
        chunk = bytearray(data[pos : pos + 8 + padded])
        if len(chunk) < 8 + length:
            raise ValueError("truncated WebP chunk")
        if ctype == b"VP8X":
            chunk[8] &= ~0x0C & 0xFF  # clear the EXIF and XMP flags
        if ctype not in (b"EXIF", b"XMP "):
            chunks.append(bytes(chunk))
        pos += 8 + padded
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
