"""Write small image files of every kind, for the loading tests.

Every helper takes a folder and returns the path it wrote. Colours are solid
or in large blocks so that JPEG's losses do not blur what a test checks.
"""

import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def save(im, folder, name, **kwargs):
    path = os.path.join(folder, name)
    im.save(path, **kwargs)
    return path


def solid(folder, name="red.png", size=(20, 10), color=RED, mode="RGB", **kwargs):
    """A ``size=(width, height)`` image of one colour, format from the name."""
    return save(Image.new(mode, size, color), folder, name, **kwargs)


def write_bytes(folder, name, data):
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def jpeg_bytes(size=(32, 24), seed=0, quality=90):
    """A JPEG with some structure (blocks of colour), as bytes."""
    rng = np.random.default_rng(seed)
    w, h = size
    blocks = rng.integers(0, 256, size=(max(1, h // 8), max(1, w // 8), 3), dtype=np.uint8)
    pixels = np.kron(blocks, np.ones((8, 8, 1), dtype=np.uint8))[:h, :w]
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png_bytes(size=(32, 24), seed=0):
    rng = np.random.default_rng(seed)
    w, h = size
    pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def upright_marked(size=(40, 20)):
    """A landscape image, red in the top-left quadrant and blue elsewhere."""
    w, h = size
    im = Image.new("RGB", size, BLUE)
    im.paste(RED, (0, 0, w // 2, h // 2))
    return im


def exif_rotated_jpeg(folder, name="rotated.jpg", orientation=6):
    """A JPEG stored sideways whose EXIF orientation makes it ``upright_marked()``.

    Orientation 6 means "rotate 90 degrees clockwise to display", so the file
    holds the upright picture rotated 90 degrees counter-clockwise.
    """
    stored = {
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
        3: Image.Transpose.ROTATE_180,
    }
    im = upright_marked().transpose(stored[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    return save(im, folder, name, format="JPEG", quality=95, exif=exif.tobytes())


def animated_gif(folder, name="anim.gif"):
    frames = [Image.new("RGB", (12, 12), c) for c in (RED, BLUE, (0, 255, 0))]
    return save(frames[0], folder, name, save_all=True, append_images=frames[1:], duration=50)


def palette_with_transparency(folder, name="palette.png"):
    """Palette image: left half transparent (index 0), right half green."""
    im = Image.new("P", (10, 10), 0)
    im.putpalette([0, 0, 0, 0, 255, 0] + [0] * (256 - 2) * 3)
    im.paste(1, (5, 0, 10, 10))
    return save(im, folder, name, transparency=0)


def rgba(folder, name="rgba.png", color=(255, 0, 0, 128)):
    return save(Image.new("RGBA", (10, 10), color), folder, name)


def sixteen_bit(folder, name="gray16.png", value=30000):
    im = Image.fromarray(np.full((10, 12), value, dtype=np.uint16))
    assert im.mode == "I;16", im.mode
    return save(im, folder, name)


def truncated_jpeg(folder, name="truncated.jpg"):
    data = jpeg_bytes((64, 64))
    return write_bytes(folder, name, data[: len(data) // 2])


def corrupt_but_decodable_jpeg(folder, name="corrupt_data.jpg"):
    """Extraneous bytes before the EOI marker: libjpeg warns "Corrupt JPEG data"."""
    data = jpeg_bytes((32, 32))
    assert data.endswith(b"\xff\xd9")
    return write_bytes(folder, name, data[:-2] + b"\x00\x00\x00\xff\xd9")


def html_page(folder, name="download.jpg"):
    page = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n"
    return write_bytes(folder, name, page)


def png_header_only(folder, name="huge.png", size=(30000, 30000)):
    """A PNG that declares ``size`` but holds no pixel data at all."""

    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", size[0], size[1], 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
    return write_bytes(folder, name, data)


def jpeg_declaring(folder, name="huge.jpg", size=(30000, 30000)):
    """A small JPEG whose frame header is patched to declare ``size``."""
    data = bytearray(jpeg_bytes((16, 16)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", size[1], size[0])  # height, width
    return write_bytes(folder, name, bytes(data))


def foreign_format_bytes(fmt):
    """A small image in a format skcatdog does not decode, as bytes.

    Pillow writes most of them; FITS and PSD, which it only reads, are built
    by hand from their headers.
    """
    if fmt == "FITS":
        cards = ["SIMPLE  =                    T", "BITPIX  =                    8",
                 "NAXIS   =                    2", "NAXIS1  =                    8",
                 "NAXIS2  =                    8", "END"]
        header = "".join(card.ljust(80) for card in cards).ljust(2880).encode("ascii")
        return header + bytes(range(64)).ljust(2880, b"\0")
    if fmt == "PSD":  # version 1, 3 channels of 8x8, 8 bits, RGB, raw data
        head = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 8, 8, 8, 3)
        return head + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + bytes(192)
    buf = io.BytesIO()
    mode = "1" if fmt == "XBM" else "RGB"
    Image.new(mode, (8, 8), 1 if mode == "1" else (200, 40, 10)).save(buf, fmt)
    return buf.getvalue()


def many_scans_jpeg(side=512, n_scans=300):
    """A progressive JPEG whose scan headers repeat ``n_scans`` times, with no data.

    Each scan makes the decoder visit every block again: at 8192x8192 pixels
    3,000 such scans (a 600 KB file) take libjpeg-turbo about 9 s.
    """
    buf = io.BytesIO()
    Image.new("RGB", (side, side), (100, 50, 20)).save(buf, "JPEG", progressive=True)
    data = buf.getvalue()
    headers, i = [], data.find(b"\xff\xda")
    while i >= 0:
        headers.append(data[i : i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")])
        i = data.find(b"\xff\xda", i + 2)
    extra = b"".join(headers[k % len(headers)] for k in range(n_scans))
    return data[:-2] + extra + b"\xff\xd9"
