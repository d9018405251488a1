"""Uploaded images: decided by decoding, re-encoded, thumbnailed. Pure functions over bytes;
storage and rows are the services' business.

What an upload must pass (each refusal is a ValidationError on ``image``):
- at most ``MAX_UPLOAD_BYTES``;
- Pillow, offered only the JPEG, PNG and WebP decoders, recognises it (never the file name or the
  Content-Type);
- at most ``MAX_PIXELS``, checked from the header before any pixel is decoded (decompression bombs);
- ``verify()`` and a full ``load()`` succeed (truncated or corrupt files fail here).
What is stored is a fresh encoding of the decoded pixels, turned upright by its EXIF orientation:
no EXIF, no text chunks, nothing appended after the image data survives.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError
from rest_framework.exceptions import ValidationError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
THUMBNAIL_SIZE = (400, 400)
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

# Pillow's own bomb guard, aligned with ours: a warning above MAX_PIXELS (turned into an error
# below), DecompressionBombError above twice that.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class PreparedImage:
    content: bytes
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def _refuse(message: str) -> ValidationError:
    return ValidationError({"image": [message]})


def _open(data: bytes) -> Image.Image:
    """Open with only the allowed decoders, refusing images over the pixel limit before decoding."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(f"The image has more than {MAX_PIXELS:,} pixels.") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise _refuse("Upload a JPEG, PNG or WebP image.") from None
    if image.format not in ALLOWED_FORMATS:  # pragma: no cover - open() was offered no other decoder
        raise _refuse("Upload a JPEG, PNG or WebP image.")
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise _refuse(f"The image has more than {MAX_PIXELS:,} pixels.")
    return image


def image_prepare(*, file: IO[bytes], size: int) -> PreparedImage:
    """Validate an upload and return its clean re-encoding. Raises ValidationError on ``image``."""
    if size > MAX_UPLOAD_BYTES:
        raise _refuse(f"The image is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _refuse(f"The image is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    try:
        _open(data).verify()
        image = _open(data)
        image_format = image.format
        image.load()
        return _encode(image, image_format=image_format)
    except ValidationError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        raise _refuse("The image is corrupt or truncated.") from None


def _encode(image: Image.Image, *, image_format: str) -> PreparedImage:
    upright = ImageOps.exif_transpose(image)
    # Some encoders fall back to ``info`` (ICC profile, EXIF, text): keep only what the pixels need.
    upright.info = {key: value for key, value in upright.info.items() if key == "transparency"}
    if image_format == "JPEG":
        if upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        options = {"quality": 88, "optimize": True}
    elif image_format == "WEBP":
        if upright.mode not in ("RGB", "RGBA"):
            upright = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
        options = {"quality": 88}
    else:
        options = {"compress_level": 6}
    buffer = io.BytesIO()
    # No exif=, icc_profile= or pnginfo=: the new file carries pixels only.
    upright.save(buffer, format=image_format, **options)
    return PreparedImage(content=buffer.getvalue(), format=image_format, width=upright.width, height=upright.height)


def thumbnail_render(*, data: bytes) -> bytes:
    """A WebP of at most THUMBNAIL_SIZE (aspect kept) from a stored, already validated image."""
    image = _open(data)
    image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a reduced scale, much faster
    image = ImageOps.exif_transpose(image)
    image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=80, method=4)
    return buffer.getvalue()
